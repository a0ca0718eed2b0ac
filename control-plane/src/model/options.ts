// Options that change what the model serves. Validated once at start (options.ts).
export interface ModelOptions {
  /** IngressClass.spec.controller values that are ours. */
  readonly controllerName: string;
  /** The class name served when no IngressClass object names it (and the legacy annotation's value). */
  readonly ingressClass: string;
  /** Serve Ingresses that name no class at all, even when no default IngressClass of ours exists. */
  readonly watchWithoutClass: boolean;
}

export const DEFAULT_MODEL_OPTIONS: ModelOptions = {
  controllerName: 'xgate.io/ingress-controller',
  ingressClass: 'xgate',
  watchWithoutClass: false,
};

/** Whether two option objects ask for the same model (memos keyed on options use this: callers may pass copies). */
export function sameModelOptions(a: ModelOptions, b: ModelOptions): boolean {
  return a === b || (a.controllerName === b.controllerName && a.ingressClass === b.ingressClass && a.watchWithoutClass === b.watchWithoutClass);
}
