// Cluster-level policy: what applies to a whole upstream cluster rather than to one
// route: load balancing (the algorithm; what is hashed is per route), the backend
// protocol and upstream TLS, and warmup (Envoy slow start). A cluster (one Service
// port) can be the backend of several Ingresses, so their wishes are merged here,
// deterministically and the same way for every facet: the Service's own annotation
// wins, then the oldest Ingress (the build's priority order); every Ingress that asks
// for something else gets a warning with the facet's conflict code.
import { DiagnosticSink, type Diagnostic, type ObjectRef } from '../diagnostics.js';
import type { Code } from '../errors.js';
import { AnnotationReader } from '../annotations/reader.js';
import { readWarmup, type WarmupSpec } from '../annotations/warmup.js';
import { readLoadBalance, type LbAlgorithm, type LbWish } from '../annotations/load-balance.js';
import { readBackendProtocol, type UpstreamProtocolSpec } from '../annotations/backend-protocol.js';
import type { StoreSnapshot } from '../sources/store.js';
import type { Service } from '../sources/k8s-types.js';
import { readRecord, recordHolds, trackStore, type Read, type ReadRecord } from './tracked-store.js';
import type { Cluster, RoutePolicy, VirtualHost } from './ir.js';

export interface SlowStart {
  /** Whole seconds, > 0. */
  readonly windowSeconds: number;
  readonly aggression?: number;
  readonly minWeightPercent?: number;
  /** The object whose annotation chose it. */
  readonly source: ObjectRef;
}

declare module './ir.js' {
  interface ClusterPolicy {
    /** New endpoints ramp up over this window (round robin / least request only). */
    readonly slowStart?: SlowStart;
    /**
     * Session affinity (consistent hashing or cookie affinity): with it, Envoy's slow
     * start does not apply, and a warmup gets a diagnostic.
     */
    readonly hashAffinity?: { readonly kind: 'hash' | 'cookie'; readonly source: ObjectRef };
    /** Load-balancing algorithm (absent: round robin). */
    readonly lbPolicy?: { readonly algorithm: LbAlgorithm; readonly source: ObjectRef };
    /** Protocol (and TLS) spoken to the endpoints (absent: HTTP/1.1 in plaintext). */
    readonly upstream?: UpstreamProtocolSpec & { readonly source: ObjectRef };
    /**
     * The Service's own annotations ask for something unusable (e.g. a broken upstream
     * TLS setting): the cluster gets no endpoints, so its routes answer 503.
     */
    readonly blocked?: { readonly reason: string; readonly source: ObjectRef };
  }
}

export interface Wish<T> {
  readonly spec: T;
  readonly source: ObjectRef;
}

/** One cluster-level policy: where its wishes come from, how they compare, what it sets. */
interface Facet<T> {
  readonly conflictCode: Code;
  /** What the conflict message calls it. */
  readonly noun: string;
  /** What an Ingress's routes ask for (from their RoutePolicy). */
  fromRoute(p: RoutePolicy): T | undefined;
  /** What a Service's annotations ask for; `blocked` when they ask for something unusable. */
  fromService(r: AnnotationReader, namespace: string, store: StoreSnapshot): T | undefined | { readonly blocked: string };
  same(a: T, b: T): boolean;
  describe(s: T): string;
  annotation(s: T): string;
  /** The cluster with the chosen wish applied (a new object), or the same cluster. */
  apply(c: Cluster, chosen: Wish<T>, sink: DiagnosticSink): Cluster;
}

const loadBalancingFacet: Facet<LbWish> = {
  conflictCode: 'XG_LB_CONFLICT',
  noun: 'load balancing',
  fromRoute: (p) => p.loadBalancing,
  fromService: (r) => readLoadBalance(r),
  same: (a, b) => a.algorithm === b.algorithm && a.affinity === b.affinity,
  describe: (s) => (s.affinity ? `${s.affinity} affinity (${s.algorithm})` : s.algorithm),
  annotation: (s) => s.annotation,
  apply(c, { spec, source }) {
    const policy = {
      ...c.policy,
      ...(spec.algorithm !== 'ROUND_ROBIN' ? { lbPolicy: { algorithm: spec.algorithm, source } } : {}),
      ...(spec.affinity ? { hashAffinity: { kind: spec.affinity, source } } : {}),
    };
    return Object.keys(policy).length ? { ...c, policy } : c;
  },
};

const backendProtocolFacet: Facet<UpstreamProtocolSpec> = {
  conflictCode: 'XG_BACKEND_PROTOCOL_CONFLICT',
  noun: 'backend protocol',
  fromRoute: (p) => p.backendProtocol,
  fromService(r, namespace, store) {
    const res = readBackendProtocol(r, namespace, store);
    return res.ok ? res.spec : { blocked: res.reason };
  },
  same: (a, b) => JSON.stringify({ ...a, annotation: '' }) === JSON.stringify({ ...b, annotation: '' }),
  describe: (s) => (s.tls ? `${s.protocol} (proxy-ssl-verify ${s.tls.verify ? 'on' : 'off'}${s.tls.ca ? `, CA ${s.tls.ca.source.namespace}/${s.tls.ca.source.name}` : ''})` : s.protocol),
  annotation: (s) => s.annotation,
  apply(c, { spec, source }) {
    if (spec.protocol === 'HTTP') return c;
    return { ...c, policy: { ...c.policy, upstream: { ...spec, source } } };
  },
};

const warmupFacet: Facet<WarmupSpec> = {
  conflictCode: 'XG_WARMUP_CONFLICT',
  noun: 'warmup',
  fromRoute: (p) => p.warmup,
  fromService: (r) => readWarmup(r),
  same: (a, b) => a.windowSeconds === b.windowSeconds && a.aggression === b.aggression && a.minWeightPercent === b.minWeightPercent,
  describe: describeWarmup,
  annotation: (s) => s.annotation,
  apply(c, { spec, source }, sink) {
    if (spec.windowSeconds === 0) return c;
    const slowStart: SlowStart = {
      windowSeconds: spec.windowSeconds,
      ...(spec.aggression !== undefined ? { aggression: spec.aggression } : {}),
      ...(spec.minWeightPercent !== undefined ? { minWeightPercent: spec.minWeightPercent } : {}),
      source,
    };
    const affinity = c.policy?.hashAffinity;
    const random = c.policy?.lbPolicy?.algorithm === 'RANDOM';
    if (affinity || random) {
      const why = affinity ? `uses ${affinity.kind} affinity` : 'uses random load balancing';
      sink.warning(
        'XG_WARMUP_NOT_APPLICABLE',
        source,
        `Service ${c.namespace}/${c.service} port ${c.port} ${why}: Envoy's slow start applies only to round robin and least request, so the warmup has no effect`,
        `metadata.annotations["${spec.annotation}"]`,
      );
      return c;
    }
    return { ...c, policy: { ...c.policy, slowStart } };
  },
};

/** In the order they apply: warmup looks at the load balancing chosen before it. */
const FACETS: readonly Facet<unknown>[] = [loadBalancingFacet, backendProtocolFacet, warmupFacet] as unknown as readonly Facet<unknown>[];

/** A wish an Ingress's route makes for the cluster it forwards to. */
export interface RouteWish {
  readonly facet: number;
  readonly cluster: string;
  /** `namespace/name` of the Ingress (one wish per Ingress: the policy is per Ingress). */
  readonly ingress: string;
  readonly wish: Wish<unknown>;
}

const vhostWishes = new WeakMap<VirtualHost, readonly RouteWish[]>();

/** The cluster-level wishes a virtual host's routes make, in route order (kept per VirtualHost object). */
export function wishesOf(vh: VirtualHost): readonly RouteWish[] {
  let out = vhostWishes.get(vh);
  if (out) return out;
  const list: RouteWish[] = [];
  for (const route of vh.routes) {
    const p = route.policy;
    if (!p || route.action.kind !== 'forward') continue;
    FACETS.forEach((facet, i) => {
      const spec = facet.fromRoute(p);
      if (spec === undefined) return;
      for (const b of (route.action as { backends: readonly { cluster: string }[] }).backends) {
        list.push({ facet: i, cluster: b.cluster, ingress: `${route.source.namespace}/${route.source.name}`, wish: wishOf(route, i, spec) });
      }
    });
  }
  out = list.length ? list : NO_WISHES;
  vhostWishes.set(vh, out);
  return out;
}

const NO_WISHES: readonly RouteWish[] = [];
const routeWishes = new WeakMap<object, Map<number, Wish<unknown>>>();

/** One Wish object per route and facet, so an unchanged route gives the same wish from build to build. */
function wishOf(route: VirtualHost['routes'][number], facet: number, spec: unknown): Wish<unknown> {
  let m = routeWishes.get(route);
  if (!m) routeWishes.set(route, (m = new Map()));
  let w = m.get(facet);
  if (!w || w.spec !== spec) m.set(facet, (w = { spec, source: route.source }));
  return w;
}

/** What a Service's own annotations ask for, per facet, and what reading them reported. */
interface ServiceWishes {
  readonly wishes: readonly (Wish<unknown> | { blocked: string } | null)[];
  readonly diagnostics: readonly Diagnostic[];
  readonly reads: ReadRecord;
}

const serviceMemo = new WeakMap<Service, ServiceWishes>();
const NO_SERVICE: ServiceWishes = { wishes: FACETS.map(() => null), diagnostics: [], reads: { reads: [], maps: [] } };

/** The Service's wishes (kept per Service object while what its facets read is unchanged). */
export function serviceWishes(namespace: string, name: string, store: StoreSnapshot): ServiceWishes {
  const svc = store.services.get(`${namespace}/${name}`);
  const annotations = svc?.metadata.annotations;
  if (!svc || !annotations || typeof annotations !== 'object') return NO_SERVICE;
  const e = serviceMemo.get(svc);
  if (e && recordHolds(e.reads, store)) return e;
  const reads: Read[] = [];
  const view = trackStore(store, reads);
  const sink = new DiagnosticSink();
  const r = new AnnotationReader(annotations, { kind: 'Service', namespace, name }, sink);
  const wishes = FACETS.map((facet) => {
    const spec = facet.fromService(r, namespace, view);
    if (spec === undefined) return null;
    return isBlocked(spec) ? spec : { spec, source: r.ref };
  });
  const made: ServiceWishes = { wishes, diagnostics: sink.items, reads: readRecord(reads, store) };
  serviceMemo.set(svc, made);
  return made;
}

/**
 * The cluster with the policies of its Service's annotations and of the Ingresses whose
 * served routes forward to it (`fromIngresses`: per facet, one wish per Ingress, oldest
 * first). The Service's annotation wins, then the oldest Ingress; every Ingress that asks
 * for something else gets a warning with the facet's conflict code.
 */
export function clusterWithPolicies(base: Cluster, service: ServiceWishes, fromIngresses: readonly (readonly Wish<unknown>[])[], sink: DiagnosticSink): Cluster {
  let c = base;
  FACETS.forEach((facet, i) => {
    const fromService = service.wishes[i];
    if (fromService && isBlocked(fromService)) {
      if (!c.policy?.blocked) c = { ...c, policy: { ...c.policy, blocked: { reason: fromService.blocked, source: { kind: 'Service', namespace: c.namespace, name: c.service } } } };
      return;
    }
    const wishes = fromIngresses[i] ?? [];
    const chosen = fromService ?? wishes[0];
    if (!chosen) return;
    for (const w of wishes) {
      if (w === chosen || facet.same(w.spec, chosen.spec)) continue;
      const by = chosen.source.kind === 'Service' ? `the annotation on Service ${c.namespace}/${c.service}` : `Ingress ${chosen.source.namespace}/${chosen.source.name}, which is older`;
      sink.warning(
        facet.conflictCode,
        w.source,
        `Service ${c.namespace}/${c.service} port ${c.port} gets the ${facet.noun} of ${by} (${facet.describe(chosen.spec)}); this Ingress's ${facet.describe(w.spec)} is ignored`,
        `metadata.annotations["${facet.annotation(w.spec)}"]`,
      );
    }
    c = facet.apply(c, chosen, sink);
  });
  return c;
}

export const FACET_COUNT = FACETS.length;

function isBlocked(v: unknown): v is { blocked: string } {
  return typeof v === 'object' && v !== null && 'blocked' in v;
}

function describeWarmup(s: WarmupSpec): string {
  if (s.windowSeconds === 0) return 'no warmup (0 s)';
  const extras = [s.aggression !== undefined ? `aggression ${s.aggression}` : '', s.minWeightPercent !== undefined ? `min weight ${s.minWeightPercent}%` : ''].filter(Boolean);
  return `warmup ${s.windowSeconds} s${extras.length ? ` (${extras.join(', ')})` : ''}`;
}
