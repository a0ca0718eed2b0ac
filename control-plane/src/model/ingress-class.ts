// Which Ingresses are ours: spec.ingressClassName, the legacy annotation, or the
// default IngressClass.
import type { Ingress, IngressClass } from '../sources/k8s-types.js';
import type { ModelOptions } from './options.js';

export const LEGACY_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';
export const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';

export function isOurClass(name: string, classes: ReadonlyMap<string, IngressClass>, opts: ModelOptions): boolean {
  const cls = classes.get(name);
  if (cls) return cls.spec?.controller === opts.controllerName;
  return name === opts.ingressClass;
}

export function hasOurDefaultClass(classes: ReadonlyMap<string, IngressClass>, opts: ModelOptions): boolean {
  for (const cls of classes.values()) {
    if (cls.spec?.controller === opts.controllerName && cls.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true') return true;
  }
  return false;
}

export function isOurIngress(ing: Ingress, classes: ReadonlyMap<string, IngressClass>, opts: ModelOptions, ourDefault: boolean): boolean {
  const className = ing.spec?.ingressClassName;
  if (typeof className === 'string' && className !== '') return isOurClass(className, classes, opts);
  const legacy = ing.metadata.annotations?.[LEGACY_CLASS_ANNOTATION];
  if (typeof legacy === 'string' && legacy !== '') return isOurClass(legacy, classes, opts);
  return ourDefault || opts.watchWithoutClass;
}
