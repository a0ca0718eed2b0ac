// Runs the pipeline when the store changes: debounce (quiet period, with a maximum
// delay so a stream of changes cannot starve pushes), translate, check, encode,
// publish. Endpoint-only changes rebuild only EDS.
import type { Diagnostic } from '../diagnostics.js';
import { formatDiagnostic, sortDiagnostics } from '../diagnostics.js';
import { buildEndpoints } from '../model/endpoints.js';
import type { WatchedKind } from '../sources/k8s-types.js';
import type { Store } from '../sources/store.js';
import type { GroupResources } from '../translate/resources.js';
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
}

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
  private loggedDiagnostics = new Set<string>();
  private readonly waiters: Array<() => void> = [];

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
      this.updateDiagnostics(result.diagnostics);
      if (scope === 'full') this.opts.hooks?.externalUrls?.(result.externalUrls ?? []);
    } catch (e) {
      this.opts.logger.error({ err: e }, 'translation failed; the previous snapshot stays published');
    } finally {
      for (const w of this.waiters.splice(0)) w();
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
