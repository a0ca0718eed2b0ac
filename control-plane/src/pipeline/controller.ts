// Runs the pipeline when the store changes: debounce (quiet period, with a maximum
// delay so a stream of changes cannot starve pushes), translate, check, encode,
// publish. Endpoint-only changes rebuild only EDS.
import type { Diagnostic } from '../diagnostics.js';
import { formatDiagnostic, sortDiagnostics } from '../diagnostics.js';
import { buildEndpoints } from '../model/endpoints.js';
import type { WatchedKind } from '../sources/k8s-types.js';
import { aroundSnapshot, type Store, type StoreSnapshot } from '../sources/store.js';
import { SERVICE_NAME_LABEL, type EndpointSlice, type Ingress, type Service, type WatchedObject } from '../sources/k8s-types.js';
import type { GroupResources } from '../translate/resources.js';
import { HTTP_ROUTE_CONFIG } from '../translate/listener.js';
import { ALL_GROUPS, translateGroupEndpoints } from '../translate/translate.js';
import { ENVOY_GROUP, type MemoryCache } from '../xds/cache/memory-cache.js';
import { SnapshotEncoder } from '../xds/cache/snapshot.js';
import type { Snapshot } from '../xds/cache/types.js';
import { checkConsistency } from './consistency.js';
import { translateStore, type PipelineOptions, type TranslateResult } from './translate-store.js';

export interface ControllerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface ControllerHooks {
  /** After each build, with its scope and duration. */
  translated?(scope: 'full' | 'endpoints', seconds: number): void;
  published?(group: string, snapshot: Snapshot): void;
  diagnostics?(all: readonly Diagnostic[]): void;
  /** After each full build: the URLs of the documents the model asked for (sorted), for the fetcher. */
  externalUrls?(urls: readonly string[]): void;
}

export interface ControllerOptions {
  readonly store: Store;
  readonly cache: MemoryCache;
  readonly pipeline: PipelineOptions;
  readonly logger: ControllerLogger;
  readonly hooks?: ControllerHooks;
  /** Quiet time after the last change before building (default 20 ms). */
  readonly debounceMs?: number;
  /** A build starts at most this long after the first pending change (default 500 ms). */
  readonly maxDelayMs?: number;
  /** Diagnostics from the source itself (YAML errors and the like). */
  readonly sourceDiagnostics?: () => readonly Diagnostic[];
  /**
   * The node groups built from the start (default: "envoy"). Any other group translation
   * knows ("grpc", for proxyless gRPC clients) is built from the moment a stream of it
   * starts (MemoryCache.demand), and from then on: installs without proxyless clients do
   * not pay for its resources (at 10,000 Ingresses, a quarter of the bytes of a full build).
   */
  readonly groups?: readonly string[];
  /**
   * Quiet time after a full build of at least WARM_UP_MIN_SECONDS before the pipeline is
   * warmed up (see warmUp; default 200 ms, 0: never).
   */
  readonly warmUpMs?: number;
  /**
   * Warm up only with at least this many Ingresses in the store (default 2,000): below,
   * the first change costs little more than the next ones, and a warm-up after the idle
   * GC kept V8's memory reducer from running (B7: idle RSS back at 1k 170 → 204 MiB).
   */
  readonly warmUpMinIngresses?: number;
}

/** Full builds at least this long are followed by a warm-up (smaller ones leave little to warm). */
export const WARM_UP_MIN_SECONDS = 0.2;

/** Plain-HTTP hosts in one route configuration from which route shards are advised (B2: ~1,000 hosts and up). */
export const LARGE_HTTP_HOSTS = 2000;

const ENDPOINT_KINDS: ReadonlySet<WatchedKind> = new Set(['EndpointSlice', 'Pod']);

export class Controller {
  private readonly encoder = new SnapshotEncoder();
  private last: TranslateResult | undefined;
  private resourcesNow: GroupResources | undefined;
  private diagnosticsNow: readonly Diagnostic[] = [];
  private pendingKinds = new Set<WatchedKind>();
  /** A fetched document changed since the last build (needs a full build). */
  private pendingExternal = false;
  /** The groups built (see ControllerOptions.groups). */
  private readonly groups: Set<string>;
  /** A group was added since the last build (needs a full build). */
  private pendingGroups = false;
  private unsubscribeDemand: (() => void) | undefined;
  private quietTimer: NodeJS.Timeout | undefined;
  private maxTimer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private published = false;
  /** The one `http` route configuration is past LARGE_HTTP_HOSTS and that was logged. */
  private largeHttpLogged = false;
  private loggedDiagnostics = new Set<string>();
  private readonly waiters: Array<() => void> = [];
  private warmTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: ControllerOptions) {
    this.groups = new Set(opts.groups ?? [ENVOY_GROUP]);
  }

  /** Builds once now (the initial sync is done by the caller), then follows changes. */
  start(): void {
    this.unsubscribe = this.opts.store.onChange((kinds, external) => this.schedule(kinds, external));
    for (const g of this.opts.cache.demandedGroups()) this.addGroup(g, false);
    this.unsubscribeDemand = this.opts.cache.onDemand((g) => this.addGroup(g, true));
    this.rebuild('full');
  }

  stop(): void {
    if (this.warmTimer) clearTimeout(this.warmTimer);
    this.warmTimer = undefined;
    this.unsubscribe?.();
    this.unsubscribeDemand?.();
    this.clearTimers();
  }

  /** The node groups built now. */
  builtGroups(): ReadonlySet<string> {
    return this.groups;
  }

  private addGroup(group: string, build: boolean): void {
    if (this.groups.has(group) || !ALL_GROUPS.has(group)) return;
    this.groups.add(group);
    this.opts.logger.info({ group }, `node group ${group} built from now on (a stream of it started)`);
    if (!build) return;
    this.pendingGroups = true;
    this.schedule(new Set());
  }

  isReady(): boolean {
    return this.published;
  }

  resources(): GroupResources | undefined {
    return this.resourcesNow;
  }

  diagnostics(): readonly Diagnostic[] {
    return this.diagnosticsNow;
  }

  /** Resolves after the next build (for tests and tools). */
  nextBuild(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Builds pending changes now. */
  flush(): void {
    if (!this.pendingKinds.size && !this.pendingExternal && !this.pendingGroups) return;
    this.clearTimers();
    const kinds = this.pendingKinds;
    const full = this.pendingExternal || this.pendingGroups;
    this.pendingKinds = new Set();
    this.pendingExternal = false;
    this.pendingGroups = false;
    const endpointsOnly = this.last !== undefined && !full && [...kinds].every((k) => ENDPOINT_KINDS.has(k));
    this.rebuild(endpointsOnly ? 'endpoints' : 'full');
  }

  private schedule(kinds: ReadonlySet<WatchedKind>, external = false): void {
    for (const k of kinds) this.pendingKinds.add(k);
    if (external) this.pendingExternal = true;
    if (this.quietTimer) clearTimeout(this.quietTimer);
    this.quietTimer = setTimeout(() => this.flush(), this.opts.debounceMs ?? 20);
    if (!this.maxTimer) this.maxTimer = setTimeout(() => this.flush(), this.opts.maxDelayMs ?? 500);
  }

  private clearTimers(): void {
    if (this.quietTimer) clearTimeout(this.quietTimer);
    if (this.maxTimer) clearTimeout(this.maxTimer);
    this.quietTimer = undefined;
    this.maxTimer = undefined;
  }

  private rebuild(scope: 'full' | 'endpoints'): void {
    const started = performance.now();
    try {
      const store = this.opts.store.snapshot();
      let result: TranslateResult;
      if (scope === 'endpoints' && this.last) {
        const endpoints = buildEndpoints(this.last.model.clusters, store);
        const cla = translateGroupEndpoints(endpoints, this.groups);
        const resources: Record<string, GroupResources[string]> = {};
        for (const [group, r] of Object.entries(this.last.resources)) resources[group] = { ...r, endpoints: cla[group] ?? r.endpoints };
        result = { ...this.last, endpoints, resources };
      } else {
        result = translateStore(store, this.opts.pipeline, this.groups);
      }
      const problems = Object.entries(result.resources).flatMap(([g, r]) => checkConsistency(r, g).map((p) => `${g}: ${p}`));
      if (problems.length) {
        this.opts.logger.error({ problems }, 'xgate bug: generated resources are inconsistent; the previous snapshot stays published');
        return;
      }
      const snapshots = this.encoder.buildGroups(result.resources);
      this.last = result;
      this.resourcesNow = result.resources;
      this.opts.hooks?.translated?.(scope, (performance.now() - started) / 1000);
      for (const [group, snap] of Object.entries(snapshots)) {
        if (this.opts.cache.set(group, snap)) this.opts.hooks?.published?.(group, snap);
      }
      this.published = true;
      if (scope === 'full') this.adviseRouteShards(result.resources);
      this.updateDiagnostics(result.diagnostics);
      this.scheduleWarmUp(scope, (performance.now() - started) / 1000);
      if (scope === 'full') this.opts.hooks?.externalUrls?.(result.externalUrls ?? []);
    } catch (e) {
      this.opts.logger.error({ err: e }, 'translation failed; the previous snapshot stays published');
    } finally {
      for (const w of this.waiters.splice(0)) w();
    }
  }

  /**
   * Without route shards every plain-HTTP host is in one route configuration, which every
   * change re-sends whole and Envoy re-applies whole: at 10k hosts 15 MB and over a second
   * (docs/benchmarks.md, B2). Says so once when it grows past LARGE_HTTP_HOSTS (again after
   * it fell below half of that).
   */
  private adviseRouteShards(resources: GroupResources): void {
    if ((this.opts.pipeline.routeShards ?? 1) > 1) return;
    const http = resources[ENVOY_GROUP]?.routes.find((r) => r['name'] === HTTP_ROUTE_CONFIG);
    const vhosts = http?.['virtual_hosts'];
    const hosts = Array.isArray(vhosts) ? vhosts.length : 0;
    if (hosts >= LARGE_HTTP_HOSTS && !this.largeHttpLogged) {
      this.largeHttpLogged = true;
      this.opts.logger.warn(
        { hosts, routeConfiguration: HTTP_ROUTE_CONFIG },
        `${hosts} plain-HTTP hosts share one route configuration: every change re-sends all of it and Envoy re-applies it (seconds at 10,000 hosts); --route-shards 256 (Helm gateway.routeShards) splits it (docs/benchmarks.md#route-shards)`,
      );
    } else if (hosts < LARGE_HTTP_HOSTS / 2) this.largeHttpLogged = false;
  }

  private scheduleWarmUp(scope: 'full' | 'endpoints', seconds: number): void {
    if (this.warmTimer) clearTimeout(this.warmTimer);
    this.warmTimer = undefined;
    const delay = this.opts.warmUpMs ?? 200;
    if (scope !== 'full' || seconds < WARM_UP_MIN_SECONDS || delay <= 0) return;
    this.warmTimer = setTimeout(() => this.warmUp(), delay);
    this.warmTimer.unref();
  }

  /**
   * Runs the pipeline twice more over the store as it is, plus and then minus a
   * synthetic app (a copy of an Ingress of the store on host `xgate-warm-up.invalid`,
   * with a copy of its first backend's Service and EndpointSlices), publishing nothing. The first change after start-up otherwise runs code V8 has not
   * optimised and state no build has set up yet: at 10,000 Ingresses it took 100–180 ms
   * where the next ones take 10–30 (B2's p99 was that first change). The second run ends
   * where the last build was (same content, same versions), so nothing is published and
   * the next change is built from there as it would have been. Skipped while changes are
   * pending. True when it ran.
   */
  warmUp(): boolean {
    if (this.warmTimer) clearTimeout(this.warmTimer);
    this.warmTimer = undefined;
    if (!this.last || this.pendingKinds.size || this.pendingExternal || this.pendingGroups) return false;
    const snap = this.opts.store.snapshot();
    if (snap.ingresses.size < (this.opts.warmUpMinIngresses ?? 2000)) return false;
    const extras = warmUpApp(snap);
    const around = extras && aroundSnapshot(snap, extras);
    if (!around) return false;
    const started = performance.now();
    try {
      let result: TranslateResult | undefined;
      for (const s of around) {
        result = translateStore(s, this.opts.pipeline, this.groups);
        for (const [g, r] of Object.entries(result.resources)) checkConsistency(r, g);
        this.encoder.buildGroups(result.resources);
      }
      // The same content as the last build, in the objects the pipeline now holds.
      this.last = result;
      this.opts.logger.info({ ms: Math.round(performance.now() - started) }, 'pipeline warmed up');
      return true;
    } catch (e) {
      this.opts.logger.warn({ err: e }, 'pipeline warm-up failed (nothing was published)');
      return false;
    }
  }

  /** Re-reads source diagnostics (call after the source reports new ones). */
  refreshDiagnostics(): void {
    if (this.last) this.updateDiagnostics(this.last.diagnostics);
  }

  private updateDiagnostics(model: readonly Diagnostic[]): void {
    const all = sortDiagnostics([...(this.opts.sourceDiagnostics?.() ?? []), ...model]);
    this.diagnosticsNow = all;
    const seen = new Set<string>();
    for (const d of all) {
      const line = formatDiagnostic(d);
      seen.add(line);
      if (this.loggedDiagnostics.has(line)) continue;
      const fields = { code: d.code, object: d.object, field: d.field };
      if (d.level === 'error') this.opts.logger.error(fields, line);
      else this.opts.logger.warn(fields, line);
    }
    this.loggedDiagnostics = seen;
    this.opts.hooks?.diagnostics?.(all);
  }
}

const WARM_UP = '-xgate-warm-up';

/**
 * A new app to warm the pipeline up with: a copy of the first Ingress with rules, on a
 * host no client asks for, without TLS, its paths sent to a copy of the first path's
 * Service and that Service's EndpointSlices (so the warm-up adds a cluster too, as a new
 * app does). Just the Ingress copy when that Service is not in the store.
 */
function warmUpApp(snap: StoreSnapshot): WatchedObject[] | undefined {
  for (const ing of snap.ingresses.values()) {
    const rules = ing.spec?.rules;
    if (!rules?.length) continue;
    const ns = ing.metadata.namespace;
    const svcName = rules.flatMap((r) => r.http?.paths ?? [])[0]?.backend.service?.name;
    const svc = svcName !== undefined ? snap.services.get(`${ns}/${svcName}`) : undefined;
    const out: WatchedObject[] = [];
    let backendName = svcName;
    if (svc && svcName !== undefined) {
      backendName = svcName + WARM_UP;
      out.push({ ...svc, metadata: { ...svc.metadata, name: backendName, uid: undefined, resourceVersion: undefined } } as Service);
      for (const sl of snap.endpointSlices.values()) {
        if (sl.metadata.namespace !== ns || sl.metadata.labels?.[SERVICE_NAME_LABEL] !== svcName) continue;
        out.push({ ...sl, metadata: { ...sl.metadata, name: sl.metadata.name + WARM_UP, uid: undefined, resourceVersion: undefined, labels: { ...sl.metadata.labels, [SERVICE_NAME_LABEL]: backendName } } } as EndpointSlice);
      }
    }
    const { tls: _tls, ...spec } = ing.spec!;
    const paths = (r: (typeof rules)[number]) =>
      r.http && { ...r.http, paths: r.http.paths.map((p) => (p.backend.service?.name === svcName && backendName !== svcName ? { ...p, backend: { ...p.backend, service: { ...p.backend.service!, name: backendName! } } } : p)) };
    out.push({
      ...ing,
      metadata: { ...ing.metadata, name: ing.metadata.name + WARM_UP, uid: undefined, resourceVersion: undefined },
      spec: { ...spec, rules: rules.map((r) => ({ ...r, host: 'xgate-warm-up.invalid', ...(r.http ? { http: paths(r) } : {}) })) },
    } as Ingress);
    return out;
  }
  return undefined;
}
