// `xgate serve`: the composition root. Source → store → controller → cache → xDS
// server, with the admin API beside it.
import { sortDiagnostics, type Diagnostic } from './diagnostics.js';
import { startAdmin } from './admin/server.js';
import { Metrics } from './admin/metrics.js';
import type { AdminState } from './admin/state.js';
import { createLogger, type Logger } from './log.js';
import type { ServeOptions } from './options.js';
import type { KubeRuntime } from './serve-kube.js';
import { Controller } from './pipeline/controller.js';
import { IdleCollector } from './pipeline/idle-gc.js';
import { FileSource } from './sources/file-source.js';
import { Store } from './sources/store.js';
import { ExternalFetcher } from './sources/external-fetcher.js';
import { ENVOY_GROUP, MemoryCache } from './xds/cache/memory-cache.js';
import type { Snapshot } from './xds/cache/types.js';
import { authorizeByCertificate, xdsServerCredentials } from './xds/mtls.js';
import { NackReporter } from './xds/nack-reporter.js';
import { ProxyRegistry } from './xds/proxies.js';
import { startXdsServer } from './xds/server/server.js';

export interface RunningControlPlane {
  readonly xdsPort: number;
  readonly adminPort: number;
  readonly controller: Controller;
  readonly store: Store;
  readonly proxies: ProxyRegistry;
  readonly cache: MemoryCache;
  readonly logger: Logger;
  /** With --kube: the informers, and leader election with status and Events. */
  readonly kube?: KubeRuntime;
  close(): Promise<void>;
}

export type { KubeRuntime } from './serve-kube.js';

/** Waits for every initial list; logs what it waits for now and then. */
async function kubeSynced(kube: KubeRuntime, logger: Logger): Promise<void> {
  const t0 = Date.now();
  const waiting = setInterval(() => logger.info({ pending: kube.source.pending() }, 'waiting for the initial lists; xDS answers nothing until they are in'), 5000);
  try {
    await kube.source.synced();
  } finally {
    clearInterval(waiting);
  }
  logger.info({ ms: Date.now() - t0 }, 'informers synced');
}

/** Starts everything and returns once the first snapshot is published. */
export async function startControlPlane(opts: ServeOptions, logger: Logger = createLogger({ level: opts.logLevel })): Promise<RunningControlPlane> {
  // Bad certificate files stop the start here, before anything listens.
  const tls = opts.xdsTls;
  const mtls = tls ? xdsServerCredentials({ caFile: tls.caFile, certFile: tls.certFile, keyFile: tls.keyFile, logger }) : undefined;
  const store = new Store();
  const cache = new MemoryCache();
  const metrics = new Metrics({ groupOf: (n) => cache.groupOf(n) });
  const proxies = new ProxyRegistry({ groupOf: (n) => cache.groupOf(n) });
  let sourceDiagnostics: readonly Diagnostic[] = [];
  let controller: Controller | undefined;
  let kube: KubeRuntime | undefined;
  const nacks = new NackReporter(logger, () => {
    metrics.setDiagnostics(allDiagnostics());
    kube?.status.diagnostics(allDiagnostics());
  });
  const allDiagnostics = (): readonly Diagnostic[] => sortDiagnostics([...(controller?.diagnostics() ?? []), ...nacks.diagnostics()]);

  const source = new FileSource({
    dir: opts.manifests,
    store,
    onDiagnostics: (d) => {
      sourceDiagnostics = d;
      controller?.refreshDiagnostics();
    },
    onError: (err) => logger.error({ err }, 'reading manifests failed'),
  });
  // Documents the annotations ask for (OIDC discovery): fetched into the store, followed after each build.
  const fetcher = new ExternalFetcher({ store, logger });
  // The Kubernetes client (~70 MiB resident) is loaded only in Kubernetes mode.
  if (opts.kube) kube = (await import('./serve-kube.js')).startKube(opts.kube, store, opts.pipeline, logger, cache);
  else await source.start();

  // After the idle collection, the pipeline is warmed up (a full collection undoes a warm-up
  // made before it: the first change after it took 175 ms at 10k Ingresses, 28 ms without).
  const idleGcMs = opts.idleGcMs ?? 1000;
  const idleGc = new IdleCollector(idleGcMs, logger, undefined, undefined, () => controller?.warmUp());
  controller = new Controller({
    store,
    cache,
    pipeline: opts.pipeline,
    logger,
    debounceMs: opts.debounceMs,
    maxDelayMs: opts.maxDelayMs,
    // With the idle collection on, the warm-up follows it; else the controller's own timer.
    ...(idleGcMs > 0 ? { warmUpMs: 0 } : {}),
    sourceDiagnostics: () => sourceDiagnostics,
    hooks: {
      translated: (scope, s) => {
        metrics.observeTranslation(scope, s);
        idleGc.built(s);
      },
      published: (group, snap) => {
        metrics.snapshotPublished(group, snap.version, snap);
        const r = controller?.resources()?.[group];
        if (r) metrics.setResources(group, r);
        if (r && group === ENVOY_GROUP) kube?.holdings.published(snap, r.endpoints);
        logger.info({ group, version: snap.version }, 'snapshot published');
      },
      diagnostics: () => {
        metrics.setDiagnostics(allDiagnostics());
        kube?.status.diagnostics(allDiagnostics());
      },
      externalUrls: (urls) => fetcher.want(urls),
    },
  });
  // With --kube the first build waits for the informers (below); the xDS server answers
  // nothing before the first snapshot.
  if (!kube) controller.start();

  const xds = await startXdsServer({
    host: opts.xds.host,
    port: opts.xds.port,
    cache,
    observers: [proxies, metrics.xdsObserver(), nacks, ...(kube ? [kube.holdings] : [])],
    logger,
    ...(mtls && tls ? { credentials: mtls, authorize: authorizeByCertificate({ trustDomain: tls.trustDomain }) } : {}),
  });

  const state: AdminState = {
    isReady: () => controller!.isReady(),
    resources: () => controller!.resources(),
    snapshots: () => {
      const out: Record<string, Snapshot> = {};
      for (const g of cache.groups()) out[g] = cache.current(g)!;
      return out;
    },
    diagnostics: allDiagnostics,
  };
  const admin = await startAdmin({ host: opts.admin.host, port: opts.admin.port, state, metrics, proxies, logger });
  if (kube) {
    await kubeSynced(kube, logger);
    controller.start();
    kube.status.start();
    kube.gate.start();
  }
  logger.info({ xds: `${opts.xds.host}:${xds.port}`, admin: `${admin.host}:${admin.port}`, ...(kube ? { kube: true } : { manifests: opts.manifests }) }, 'xgate serving');

  return {
    xdsPort: xds.port,
    adminPort: admin.port,
    controller,
    store,
    proxies,
    cache,
    logger,
    kube,
    async close() {
      // A leader releases its Lease first, so another replica takes over at once.
      await kube?.gate.stop();
      await kube?.status.stop();
      await kube?.source.stop();
      source.close();
      fetcher.close();
      controller!.stop();
      idleGc.stop();
      await admin.close();
      await xds.close();
      mtls?.stop();
    },
  };
}

/** Runs until SIGINT or SIGTERM. */
export async function serve(opts: ServeOptions): Promise<void> {
  const cp = await startControlPlane(opts);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  cp.logger.info({}, 'shutting down');
  await cp.close();
}
