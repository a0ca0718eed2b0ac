// The Kubernetes source: a Reflector per watched kind (and per namespace when
// --namespaces is set) feeding the Store. `synced()` resolves when every initial list
// is in the Store; the composition root builds the first snapshot only after that.
import type { KubeConfig } from '@kubernetes/client-node';
import type { BackoffOptions } from './backoff.js';
import { KINDS, makeApis, type KindSpec, type KubeApis } from './kinds.js';
import type { KubeLogger } from './logger.js';
import { Reflector, type ReflectorSink, type ReflectorStats } from './reflector.js';

export interface KubeSourceOptions {
  readonly kubeConfig: KubeConfig;
  readonly sink: ReflectorSink;
  /** Watch only these namespaces (empty: all). */
  readonly namespaces: readonly string[];
  readonly logger: KubeLogger;
  readonly backoff?: BackoffOptions;
  readonly apis?: KubeApis;
}

export class KubeSource {
  readonly reflectors: readonly Reflector[];

  constructor(opts: KubeSourceOptions) {
    const apis = opts.apis ?? makeApis(opts.kubeConfig);
    const make = (spec: KindSpec, namespace?: string) =>
      new Reflector({ kubeConfig: opts.kubeConfig, apis, spec, namespace, sink: opts.sink, logger: opts.logger, backoff: opts.backoff });
    const perNamespace = (spec: KindSpec) => (opts.namespaces.length ? opts.namespaces.map((ns) => make(spec, ns)) : [make(spec)]);
    this.reflectors = [make(KINDS.IngressClass), ...perNamespace(KINDS.Ingress), ...perNamespace(KINDS.Service), ...perNamespace(KINDS.EndpointSlice), ...perNamespace(KINDS.Secret)];
  }

  start(): void {
    for (const r of this.reflectors) r.start();
  }

  synced(): Promise<void> {
    return Promise.all(this.reflectors.map((r) => r.synced)).then(() => undefined);
  }

  isSynced(): boolean {
    return this.reflectors.every((r) => r.isSynced());
  }

  /** Not yet synced informers, for logs and readiness reasons. */
  pending(): string[] {
    return this.reflectors.filter((r) => !r.isSynced()).map((r) => r.name);
  }

  stats(): Record<string, ReflectorStats> {
    return Object.fromEntries(this.reflectors.map((r) => [r.name, { ...r.stats }]));
  }

  async stop(): Promise<void> {
    await Promise.all(this.reflectors.map((r) => r.stop()));
  }
}
