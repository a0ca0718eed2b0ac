// The readiness gate: a pod whose spec.readinessGates lists `target-health.xgate.io`
// gets that condition set True (pods/status patch, by the leader only) once EVERY
// Envoy connected to this replica (group "envoy") has ACKed an EDS version holding the
// pod's address as a HEALTHY endpoint of some cluster — not before, and never for an
// address that was NACKed or never pushed. Kubernetes then counts the pod Ready, and a
// rolling update moves on only when the gateway really routes to the new pod.
//
// What a proxy holds is followed from the xDS server's observer calls: at `sent`, the
// resource versions of the names sent are read from the cache's current snapshot (the
// server sends from it in the same turn); an ACK makes them held, a NACK drops them.
// The addresses in each (cluster, version) come from the controller's resources when
// a snapshot is published.
import { PatchStrategy, setHeaderOptions, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Pod, WatchedKind, WatchedObject } from '../sources/k8s-types.js';
import { describeError, httpStatus } from '../sources/kube/api-errors.js';
import { KINDS, makeApis, type KubeApis } from '../sources/kube/kinds.js';
import type { KubeLogger } from '../sources/kube/logger.js';
import { trimPod } from '../sources/kube/normalize.js';
import { Reflector, type ReflectorSink } from '../sources/kube/reflector.js';
import type { Store } from '../sources/store.js';
import type { JsonObject } from '../xds/encode.js';
import { ENVOY_GROUP } from '../xds/cache/memory-cache.js';
import type { NodeInfo, Snapshot, XdsObserver } from '../xds/cache/types.js';
import { ENDPOINT, type TypeUrl } from '../xds/type-urls.js';

export { OUR_READINESS_GATE as READINESS_GATE_CONDITION } from '../model/endpoints.js';
import { OUR_READINESS_GATE as READINESS_GATE_CONDITION } from '../model/endpoints.js';

export function declaresGate(pod: Pod): boolean {
  const gates = pod.spec?.readinessGates;
  return Array.isArray(gates) && gates.some((g) => g && g.conditionType === READINESS_GATE_CONDITION);
}

export function gateTrue(pod: Pod): boolean {
  const c = pod.status?.conditions;
  return Array.isArray(c) && c.some((x) => x && x.type === READINESS_GATE_CONDITION && x.status === 'True');
}

function podIps(pod: Pod): string[] {
  const ips = new Set<string>();
  if (typeof pod.status?.podIP === 'string' && pod.status.podIP) ips.add(pod.status.podIP);
  for (const p of Array.isArray(pod.status?.podIPs) ? pod.status!.podIPs! : []) if (p && typeof p.ip === 'string' && p.ip) ips.add(p.ip);
  return [...ips];
}

/** A store sink that keeps only pods declaring our gate, trimmed to what the gate reads. */
export function gatedPodSink(store: Pick<Store, 'upsert' | 'remove'>): ReflectorSink {
  return {
    upsert(obj: WatchedObject) {
      if (obj.kind !== 'Pod') return;
      if (declaresGate(obj)) store.upsert(trimPod(obj));
      else store.remove('Pod', `${obj.metadata.namespace}/${obj.metadata.name}`);
    },
    remove(kind: WatchedKind, key: string) {
      store.remove(kind, key);
    },
  };
}

// ---- what each Envoy holds ---------------------------------------------------------

interface StreamHoldings {
  readonly group: string;
  /** cluster name → ClusterLoadAssignment version the proxy holds (ACKed). */
  held: Map<string, string>;
  /** The response in flight: name → version sent (undefined: not in the current snapshot). */
  pending?: { readonly names: ReadonlyMap<string, string | undefined>; readonly delta: boolean };
  kind: 'sotw' | 'delta';
}

/**
 * Follows, per connected stream, the EDS content its proxy has ACKed, and which
 * addresses every (cluster, version) carries. Register it as an xDS observer and feed
 * it every published "envoy" snapshot with `published`.
 */
export class EdsHoldings implements XdsObserver {
  private readonly streams = new Map<number, StreamHoldings>();
  /** `cluster\0version` → HEALTHY addresses (IPs) in it. */
  private readonly content = new Map<string, ReadonlySet<string>>();
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly current: (group: string) => Snapshot | undefined,
    private readonly groupOf: (node: NodeInfo) => string,
  ) {}

  /** Call with each published snapshot of group "envoy" and the resources it was built from. */
  published(snapshot: Snapshot, endpoints: readonly JsonObject[]): void {
    const byName = new Map(endpoints.map((cla) => [String(cla['cluster_name']), cla]));
    const keep = new Set<string>();
    for (const [name, r] of snapshot.types[ENDPOINT].resources) {
      const key = `${name}\u0000${r.version}`;
      keep.add(key);
      if (this.content.has(key)) continue;
      const cla = byName.get(name);
      if (cla) this.content.set(key, healthyAddresses(cla));
    }
    for (const s of this.streams.values()) {
      for (const [n, v] of s.held) keep.add(`${n}\u0000${v}`);
      for (const [n, v] of s.pending?.names ?? []) if (v !== undefined) keep.add(`${n}\u0000${v}`);
    }
    for (const key of this.content.keys()) if (!keep.has(key)) this.content.delete(key);
  }

  /** Connected streams of `group`. */
  connectedCount(group: string): number {
    let n = 0;
    for (const s of this.streams.values()) if (s.group === group) n++;
    return n;
  }

  /** True if at least one proxy of `group` is connected and every one holds `ip` as a HEALTHY endpoint of some cluster. */
  allHold(group: string, ip: string): boolean {
    let any = false;
    for (const s of this.streams.values()) {
      if (s.group !== group) continue;
      any = true;
      let found = false;
      for (const [name, version] of s.held) {
        if (this.content.get(`${name}\u0000${version}`)?.has(ip)) {
          found = true;
          break;
        }
      }
      if (!found) return false;
    }
    return any;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- XdsObserver ----

  connected(streamId: number, node: NodeInfo, kind: 'sotw' | 'delta'): void {
    this.streams.set(streamId, { group: this.groupOf(node), held: new Map(), kind });
  }

  disconnected(streamId: number): void {
    if (this.streams.delete(streamId)) this.changed();
  }

  sent(streamId: number, typeUrl: TypeUrl, _version: string, names: readonly string[]): void {
    if (typeUrl !== ENDPOINT) return;
    const s = this.streams.get(streamId);
    if (!s) return;
    const resources = this.current(s.group)?.types[ENDPOINT].resources;
    s.pending = { names: new Map(names.map((n) => [n, resources?.get(n)?.version])), delta: s.kind === 'delta' };
  }

  acked(streamId: number, typeUrl: TypeUrl, _version: string, names: readonly string[]): void {
    if (typeUrl !== ENDPOINT) return;
    const s = this.streams.get(streamId);
    if (!s) return;
    const pending = s.pending;
    s.pending = undefined;
    let next: Map<string, string>;
    if (!pending) {
      // A reconnecting SotW client already held this exact version: what the snapshot has.
      const resources = this.current(s.group)?.types[ENDPOINT].resources;
      next = new Map();
      for (const n of names) {
        const v = resources?.get(n)?.version;
        if (v !== undefined) next.set(n, v);
      }
    } else {
      next = pending.delta ? new Map(s.held) : new Map();
      for (const [n, v] of pending.names) {
        if (v === undefined) next.delete(n);
        else next.set(n, v);
      }
      // What the proxy holds is exactly `names` (delta: every name it knows).
      const still = new Set(names);
      for (const n of [...next.keys()]) if (!still.has(n)) next.delete(n);
    }
    s.held = next;
    this.changed();
  }

  nacked(streamId: number, typeUrl: TypeUrl): void {
    if (typeUrl !== ENDPOINT) return;
    const s = this.streams.get(streamId);
    if (s) s.pending = undefined;
  }

  private changed(): void {
    for (const l of [...this.listeners]) {
      try {
        l();
      } catch {
        // the listener's problem
      }
    }
  }
}

function healthyAddresses(cla: JsonObject): Set<string> {
  const out = new Set<string>();
  for (const loc of (cla['endpoints'] as JsonObject[] | undefined) ?? []) {
    for (const lb of (loc['lb_endpoints'] as JsonObject[] | undefined) ?? []) {
      if ((lb['health_status'] ?? 'HEALTHY') !== 'HEALTHY') continue;
      const sa = ((lb['endpoint'] as JsonObject | undefined)?.['address'] as JsonObject | undefined)?.['socket_address'] as JsonObject | undefined;
      if (sa && typeof sa['address'] === 'string') out.add(sa['address']);
    }
  }
  return out;
}

// ---- the gate ----------------------------------------------------------------------

export interface PodCondition {
  readonly type: string;
  readonly status: 'True' | 'False';
  readonly reason?: string;
  readonly message?: string;
  readonly lastTransitionTime: string;
  readonly lastProbeTime?: string | null;
}

export interface PodStatusApi {
  /**
   * Writes the pod's status conditions (all of them: a JSON merge patch replaces the
   * list), with `resourceVersion` as a precondition (409 when the pod changed since).
   */
  patchConditions(namespace: string, name: string, resourceVersion: string, conditions: readonly PodCondition[]): Promise<void>;
}

const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export function podStatusApi(kc: KubeConfig): PodStatusApi {
  const api = kc.makeApiClient(CoreV1Api);
  return {
    async patchConditions(namespace, name, resourceVersion, conditions) {
      await api.patchNamespacedPodStatus(
        { name, namespace, body: { metadata: { resourceVersion }, status: { conditions } }, fieldManager: 'xgate' },
        MERGE_PATCH,
      );
    },
  };
}

export interface ReadinessGateOptions {
  readonly store: Store;
  readonly holdings: EdsHoldings;
  readonly api: PodStatusApi;
  readonly isLeader: () => boolean;
  readonly logger: KubeLogger;
  /** Pod informers: with kubeConfig, one Reflector per namespace (all when empty). */
  readonly kubeConfig?: KubeConfig;
  readonly namespaces?: readonly string[];
  readonly apis?: KubeApis;
  /** Re-check period (leader changes, retries after failures). Default 1000 ms. */
  readonly resyncMs?: number;
  readonly now?: () => Date;
}

export class ReadinessGate {
  readonly reflectors: readonly Reflector[];
  /** `ns/name` → resourceVersion already patched (or being patched). */
  private readonly written = new Map<string, string>();
  private readonly inFlight = new Set<string>();
  private readonly offs: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;
  private scheduled = false;
  private stopped = true;
  /** Pods set True by this process, for tests and metrics. */
  readonly stats = { patched: 0, conflicts: 0, failures: 0 };

  constructor(private readonly opts: ReadinessGateOptions) {
    if (opts.kubeConfig) {
      const kc = opts.kubeConfig;
      const apis = opts.apis ?? makeApis(kc);
      const sink = gatedPodSink(opts.store);
      const make = (namespace?: string) => new Reflector({ kubeConfig: kc, apis, spec: KINDS.Pod, namespace, sink, logger: opts.logger });
      const ns = opts.namespaces ?? [];
      this.reflectors = ns.length ? ns.map((n) => make(n)) : [make()];
    } else this.reflectors = [];
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    for (const r of this.reflectors) r.start();
    this.offs.push(this.opts.holdings.onChange(() => this.kick()));
    this.offs.push(
      this.opts.store.onChange((kinds) => {
        if (kinds.has('Pod')) this.kick();
      }),
    );
    this.timer = setInterval(() => this.kick(), this.opts.resyncMs ?? 1000);
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const off of this.offs.splice(0)) off();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await Promise.all(this.reflectors.map((r) => r.stop()));
  }

  /** Pods whose gate is open now (for tests and debug): `ns/name`. */
  ready(): string[] {
    return [...this.opts.store.snapshot().pods.values()].filter((p) => declaresGate(p) && this.holds(p)).map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
  }

  kick(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.evaluate();
    });
  }

  private holds(pod: Pod): boolean {
    return podIps(pod).some((ip) => this.opts.holdings.allHold(ENVOY_GROUP, ip));
  }

  private evaluate(): void {
    if (this.stopped || !this.opts.isLeader()) return;
    for (const pod of this.opts.store.snapshot().pods.values()) {
      if (!declaresGate(pod) || gateTrue(pod)) continue;
      const meta = pod.metadata as Pod['metadata'] & { deletionTimestamp?: string };
      if (meta.deletionTimestamp) continue;
      const key = `${meta.namespace}/${meta.name}`;
      const rv = meta.resourceVersion ?? '';
      if (this.inFlight.has(key) || this.written.get(key) === rv) continue;
      if (!this.holds(pod)) continue;
      void this.patch(pod, key, rv);
    }
    // Forget pods that are gone.
    const pods = this.opts.store.snapshot().pods;
    for (const key of [...this.written.keys()]) if (!pods.has(key)) this.written.delete(key);
  }

  private async patch(pod: Pod, key: string, rv: string): Promise<void> {
    this.inFlight.add(key);
    const now = (this.opts.now?.() ?? new Date()).toISOString().replace(/\.\d+Z$/, 'Z');
    const others = (pod.status?.conditions ?? []).filter((c) => c && c.type !== READINESS_GATE_CONDITION) as unknown as PodCondition[];
    const ours: PodCondition = {
      type: READINESS_GATE_CONDITION,
      status: 'True',
      reason: 'EnvoyAcked',
      message: `every connected Envoy (${this.opts.holdings.connectedCount(ENVOY_GROUP)}) has ACKed endpoints with this pod's address`,
      lastTransitionTime: now,
      lastProbeTime: null,
    };
    try {
      await this.opts.api.patchConditions(pod.metadata.namespace ?? '', pod.metadata.name, rv, [...others, ours]);
      this.written.set(key, rv);
      this.stats.patched++;
      this.opts.logger.info({ pod: key }, `readiness gate ${READINESS_GATE_CONDITION} set True`);
    } catch (err) {
      const status = httpStatus(err);
      if (status === 409) this.stats.conflicts++;
      else {
        this.stats.failures++;
        this.opts.logger.warn({ pod: key, status, err: describeError(err) }, 'setting the readiness gate failed; retrying');
      }
      if (status === 404) this.written.set(key, rv);
    } finally {
      this.inFlight.delete(key);
    }
  }
}
