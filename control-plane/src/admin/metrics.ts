// Prometheus metrics of the control plane, on a registry of their own (never the
// prom-client global one, so two control planes in one test process do not collide).
// The composition root feeds translation, resource, diagnostic and snapshot facts in;
// the xDS server feeds stream facts through `xdsObserver()`.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Diagnostic } from '../diagnostics.js';
import type { EnvoyResources } from '../translate/resources.js';
import { defaultGroupOf } from '../xds/cache/memory-cache.js';
import type { NodeInfo, Snapshot, XdsObserver } from '../xds/cache/types.js';
import { SHORT_NAMES, TYPE_URLS, type TypeUrl } from '../xds/type-urls.js';

export const METRIC_PREFIX = 'xgate_';

export type ShortType = (typeof SHORT_NAMES)[TypeUrl];
export const SHORT_TYPES: readonly ShortType[] = ['lds', 'rds', 'cds', 'eds', 'sds'];
export type TranslationScope = 'full' | 'endpoints';
export type ResourceCounts = Readonly<Partial<Record<ShortType, number>>>;

export interface MetricsOptions {
  /** Process metrics (CPU, memory, event loop lag…) with the xgate_ prefix. Default true. */
  defaultMetrics?: boolean;
  /** How a node maps to a group; pass the SnapshotCache's `groupOf`. Default: defaultGroupOf. */
  groupOf?: (node: NodeInfo) => string;
  /** Milliseconds, monotonic; injectable for tests. Default performance.now. */
  now?: () => number;
}

export function countResources(r: EnvoyResources): Record<ShortType, number> {
  return {
    lds: r.listeners.length,
    rds: r.routes.length,
    srds: r.scopedRoutes?.length ?? 0,
    cds: r.clusters.length,
    eds: r.endpoints.length,
    sds: r.secrets.length,
  };
}

interface StreamState {
  readonly group: string;
  readonly kind: 'sotw' | 'delta';
  /** Types this stream has been sent at least once: the ones it must ACK for a push to count as done. */
  readonly types: Set<TypeUrl>;
  readonly acked: Map<TypeUrl, string>;
}

interface PendingPush {
  readonly start: number;
  readonly versions: Readonly<Record<TypeUrl, string>>;
  /** Streams of the group, connected at publish, that do not have the snapshot yet. */
  readonly streams: Set<number>;
  /** When the last stream so far got it (undefined: none yet). */
  lastDone?: number;
}

export class Metrics {
  readonly registry = new Registry();

  private readonly connectedProxies: Gauge<'group' | 'kind'>;
  private readonly pushes: Counter<'type'>;
  private readonly acks: Counter<'type'>;
  private readonly nacks: Counter<'type'>;
  private readonly translationDuration: Histogram<'scope'>;
  private readonly pushDuration: Histogram<'group'>;
  private readonly resources: Gauge<'group' | 'type'>;
  private readonly diagnosticsGauge: Gauge<'code' | 'level'>;
  private readonly diagnosticsTotal: Counter<'code'>;
  private readonly snapshotVersion: Gauge<'group' | 'version'>;
  private readonly snapshotsTotal: Counter<'group'>;

  private readonly groupOf: (node: NodeInfo) => string;
  private readonly now: () => number;
  private readonly streams = new Map<number, StreamState>();
  private readonly pending = new Map<string, PendingPush>();
  private readonly versions = new Map<string, string>();
  private diagnosticKeys = new Set<string>();
  private readonly diagnosticLabels = new Set<string>();
  private observer: XdsObserver | undefined;

  constructor(opts: MetricsOptions = {}) {
    this.groupOf = opts.groupOf ?? defaultGroupOf;
    this.now = opts.now ?? (() => performance.now());
    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: METRIC_PREFIX });
    const registers = [this.registry];
    const p = METRIC_PREFIX;
    this.connectedProxies = new Gauge({
      name: `${p}connected_proxies`,
      help: 'xDS streams open now, by node group and stream kind (sotw or delta)',
      labelNames: ['group', 'kind'],
      registers,
    });
    this.pushes = new Counter({
      name: `${p}xds_pushes_total`,
      help: 'xDS responses sent to proxies, by type (lds, rds, cds, eds, sds)',
      labelNames: ['type'],
      registers,
    });
    this.acks = new Counter({
      name: `${p}xds_acks_total`,
      help: 'xDS responses proxies accepted, by type',
      labelNames: ['type'],
      registers,
    });
    this.nacks = new Counter({
      name: `${p}xds_nacks_total`,
      help: 'xDS responses proxies rejected, by type',
      labelNames: ['type'],
      registers,
    });
    this.translationDuration = new Histogram({
      name: `${p}translation_duration_seconds`,
      help: 'Time to translate the store into Envoy resources; scope full (everything) or endpoints (EDS only)',
      labelNames: ['scope'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.pushDuration = new Histogram({
      name: `${p}push_duration_seconds`,
      help:
        'Time from a snapshot publish until every proxy of the group connected at publish time has ACKed it ' +
        '(pushes superseded by a newer snapshot, or NACKed, are not observed)',
      labelNames: ['group'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.resources = new Gauge({
      name: `${p}resources`,
      help: 'Resources in the latest translation, by node group and type',
      labelNames: ['group', 'type'],
      registers,
    });
    this.diagnosticsGauge = new Gauge({
      name: `${p}diagnostics`,
      help: 'Diagnostics of the latest translation, by code and level',
      labelNames: ['code', 'level'],
      registers,
    });
    this.diagnosticsTotal = new Counter({
      name: `${p}diagnostics_total`,
      help: 'Diagnostics as they appear, by code (one that persists across translations counts once)',
      labelNames: ['code'],
      registers,
    });
    this.snapshotVersion = new Gauge({
      name: `${p}snapshot_version_info`,
      help: 'Always 1; the version label is the version of the snapshot published now for the group',
      labelNames: ['group', 'version'],
      registers,
    });
    this.snapshotsTotal = new Counter({
      name: `${p}snapshots_total`,
      help: 'Snapshots published, by node group',
      labelNames: ['group'],
      registers,
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  observeTranslation(scope: TranslationScope, seconds: number): void {
    this.translationDuration.observe({ scope }, seconds);
  }

  /** Resource counts of the latest translation for a group; a type left out counts 0. */
  setResources(group: string, counts: ResourceCounts | EnvoyResources): void {
    const c: ResourceCounts = 'listeners' in counts ? countResources(counts as EnvoyResources) : (counts as ResourceCounts);
    for (const type of SHORT_TYPES) this.resources.set({ group, type }, c[type] ?? 0);
  }

  /**
   * The diagnostics of the latest translation. The gauge shows current counts (a code
   * seen before and now gone shows 0); the counter adds only diagnostics that were not
   * in the previous call, so re-translating the same broken Ingress does not inflate it.
   */
  setDiagnostics(diagnostics: readonly Diagnostic[]): void {
    const counts = new Map<string, { code: string; level: string; n: number }>();
    const keys = new Set<string>();
    for (const d of diagnostics) {
      const label = `${d.code}\u0000${d.level}`;
      const c = counts.get(label) ?? { code: d.code, level: d.level, n: 0 };
      c.n++;
      counts.set(label, c);
      const key = [d.code, d.level, d.object.kind, d.object.namespace, d.object.name, d.field ?? '', d.message].join('\u0000');
      if (!keys.has(key) && !this.diagnosticKeys.has(key)) this.diagnosticsTotal.inc({ code: d.code });
      keys.add(key);
    }
    for (const label of this.diagnosticLabels) {
      if (!counts.has(label)) {
        const [code, level] = label.split('\u0000') as [string, string];
        this.diagnosticsGauge.set({ code, level }, 0);
      }
    }
    for (const [label, c] of counts) {
      this.diagnosticsGauge.set({ code: c.code, level: c.level }, c.n);
      this.diagnosticLabels.add(label);
    }
    this.diagnosticKeys = keys;
  }

  /**
   * A snapshot was published for a group. Pass the Snapshot too to measure
   * `xgate_push_duration_seconds` (publish → every proxy of the group ACKed it);
   * with the version alone only the snapshot counters move.
   */
  snapshotPublished(group: string, version: string, snapshot?: Snapshot): void {
    this.snapshotsTotal.inc({ group });
    const previous = this.versions.get(group);
    if (previous !== undefined && previous !== version) this.snapshotVersion.remove({ group, version: previous });
    this.snapshotVersion.set({ group, version }, 1);
    this.versions.set(group, version);

    this.pending.delete(group); // a push still in flight is superseded: not observed
    if (!snapshot) return;
    const versions = {} as Record<TypeUrl, string>;
    for (const t of TYPE_URLS) versions[t] = snapshot.types[t]?.version ?? '';
    const streams = new Set<number>();
    for (const [id, s] of this.streams) if (s.group === group && !this.isDone(s, versions)) streams.add(id);
    if (streams.size === 0) {
      // Either no proxy is connected (nothing to measure) or every one already has it.
      if ([...this.streams.values()].some((s) => s.group === group)) this.pushDuration.observe({ group }, 0);
      return;
    }
    this.pending.set(group, { start: this.now(), versions, streams });
  }

  /** The observer to hand to the xDS server. Always the same object. */
  xdsObserver(): XdsObserver {
    this.observer ??= {
      connected: (streamId, node, kind) => {
        const group = this.groupOf(node);
        this.streams.set(streamId, { group, kind, types: new Set(), acked: new Map() });
        this.connectedProxies.inc({ group, kind });
      },
      disconnected: (streamId) => {
        const s = this.streams.get(streamId);
        if (!s) return;
        this.streams.delete(streamId);
        this.connectedProxies.dec({ group: s.group, kind: s.kind });
        const p = this.pending.get(s.group);
        if (p && p.streams.delete(streamId) && p.streams.size === 0) {
          // Every proxy still connected has it: the push ended with the last of their ACKs.
          this.pending.delete(s.group);
          if (p.lastDone !== undefined) this.pushDuration.observe({ group: s.group }, (p.lastDone - p.start) / 1000);
        }
      },
      sent: (streamId, typeUrl) => {
        this.pushes.inc({ type: SHORT_NAMES[typeUrl] });
        this.streams.get(streamId)?.types.add(typeUrl);
      },
      acked: (streamId, typeUrl, version) => {
        this.acks.inc({ type: SHORT_NAMES[typeUrl] });
        const s = this.streams.get(streamId);
        if (!s) return;
        s.types.add(typeUrl);
        s.acked.set(typeUrl, version);
        const p = this.pending.get(s.group);
        if (!p || !p.streams.has(streamId) || !this.isDone(s, p.versions)) return;
        p.streams.delete(streamId);
        p.lastDone = Math.max(p.start, this.now());
        if (p.streams.size === 0) {
          this.pending.delete(s.group);
          this.pushDuration.observe({ group: s.group }, (p.lastDone - p.start) / 1000);
        }
      },
      nacked: (streamId, typeUrl) => {
        this.nacks.inc({ type: SHORT_NAMES[typeUrl] });
        const s = this.streams.get(streamId);
        // A proxy rejected the push: it will never be "ACKed by all", so stop timing it.
        if (s && this.pending.get(s.group)?.streams.has(streamId)) this.pending.delete(s.group);
      },
    };
    return this.observer;
  }

  /**
   * A stream has a snapshot when, for every type it has been sent, its last ACKed
   * version is that type's version. This assumes the server reports the TypeSnapshot
   * version in sent/acked (SotW `version_info`; for delta, the type version as
   * `system_version_info`). A stream never sent anything is not done yet.
   */
  private isDone(s: StreamState, versions: Readonly<Record<TypeUrl, string>>): boolean {
    if (s.types.size === 0) return false;
    for (const t of s.types) if (s.acked.get(t) !== versions[t]) return false;
    return true;
  }
}
