// Kubernetes mode of `xgate serve`: informers, status and Events, the readiness gate.
// Imported lazily by serve.ts, so manifest mode never loads the Kubernetes client.
import type { Logger } from './log.js';
import type { KubeOptions } from './options.js';
import type { ModelOptions } from './model/options.js';
import { loadKubeConfig, serverOf } from './sources/kube/config.js';
import { KubeSource } from './sources/kube/kube-source.js';
import type { Store } from './sources/store.js';
import { EdsHoldings, ReadinessGate, podStatusApi } from './status/readiness-gate.js';
import { StatusRuntime } from './status/runtime.js';
import type { MemoryCache } from './xds/cache/memory-cache.js';

export interface KubeRuntime {
  readonly source: KubeSource;
  readonly status: StatusRuntime;
  /** Pods declaring target-health.xgate.io get it True once every Envoy ACKed their address. */
  readonly gate: ReadinessGate;
  /** What EDS content each connected Envoy holds (an xDS observer). */
  readonly holdings: EdsHoldings;
}

/** Starts the informers (the store fills; nothing is built until they have synced). */
export function startKube(opts: KubeOptions, store: Store, model: ModelOptions, logger: Logger, cache: MemoryCache): KubeRuntime {
  const kubeConfig = loadKubeConfig(opts.kubeconfig);
  logger.info({ server: serverOf(kubeConfig), namespaces: opts.namespaces.length ? opts.namespaces : 'all', identity: opts.identity }, 'reading Kubernetes');
  const source = new KubeSource({ kubeConfig, sink: store, namespaces: opts.namespaces, logger });
  const status = new StatusRuntime({ kubeConfig, store, model, logger, identity: opts.identity, election: opts.election, publish: opts.publish });
  const holdings = new EdsHoldings((g) => cache.current(g), (n) => cache.groupOf(n));
  const gate = new ReadinessGate({ store, holdings, api: podStatusApi(kubeConfig), isLeader: () => status.isLeader(), logger, kubeConfig, namespaces: opts.namespaces });
  source.start();
  return { source, status, gate, holdings };
}

