// Cluster-level policy: what applies to a whole upstream cluster rather than to one
// route. Today: warmup (Envoy slow start). A cluster (one Service port) can be the
// backend of several Ingresses, so their wishes are merged here, deterministically:
// the Service's own annotation wins, then the oldest Ingress (the build's priority
// order); every Ingress that asks for something else gets a warning.
import type { DiagnosticSink, ObjectRef } from '../diagnostics.js';
import { AnnotationReader } from '../annotations/reader.js';
import { readWarmup, type WarmupSpec } from '../annotations/warmup.js';
import type { StoreSnapshot } from '../sources/store.js';
import type { Cluster, VirtualHost } from './ir.js';

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
     * Hook for session affinity (consistent hashing or cookie affinity, not implemented
     * yet): with it, Envoy's slow start does not apply, and a warmup gets a diagnostic.
     */
    readonly hashAffinity?: { readonly kind: 'hash' | 'cookie'; readonly source: ObjectRef };
  }
}

interface Wish {
  readonly spec: WarmupSpec;
  readonly source: ObjectRef;
}

/**
 * Sets `policy` on the clusters (in place in `clusters`) from the warmup of the
 * Services and of the Ingresses whose served routes forward to them. `served` is the
 * build's Ingress priority order (oldest first).
 */
export function attachClusterPolicies(
  clusters: Map<string, Cluster>,
  virtualHosts: readonly VirtualHost[],
  served: readonly ObjectRef[],
  store: StoreSnapshot,
  sink: DiagnosticSink,
): void {
  const rank = new Map(served.map((r, i) => [`${r.namespace}/${r.name}`, i]));
  // cluster → Ingress key → its wish (one per Ingress: the policy is per Ingress).
  const ingressWishes = new Map<string, Map<string, Wish>>();
  for (const vh of virtualHosts) {
    for (const route of vh.routes) {
      const spec = route.policy?.warmup;
      if (!spec || route.action.kind !== 'forward') continue;
      for (const b of route.action.backends) {
        let m = ingressWishes.get(b.cluster);
        if (!m) ingressWishes.set(b.cluster, (m = new Map()));
        m.set(`${route.source.namespace}/${route.source.name}`, { spec, source: route.source });
      }
    }
  }
  const serviceWishes = new Map<string, Wish | null>();
  const serviceWish = (namespace: string, name: string): Wish | undefined => {
    const key = `${namespace}/${name}`;
    if (!serviceWishes.has(key)) {
      const svc = store.services.get(key);
      const annotations = svc?.metadata.annotations;
      let wish: Wish | null = null;
      if (annotations && typeof annotations === 'object') {
        const source: ObjectRef = { kind: 'Service', namespace, name };
        const spec = readWarmup(new AnnotationReader(annotations, source, sink));
        if (spec) wish = { spec, source };
      }
      serviceWishes.set(key, wish);
    }
    return serviceWishes.get(key) ?? undefined;
  };

  for (const name of [...clusters.keys()].sort()) {
    const c = clusters.get(name)!;
    const fromService = serviceWish(c.namespace, c.service);
    const fromIngresses = [...(ingressWishes.get(name)?.values() ?? [])].sort(
      (a, b) => (rank.get(`${a.source.namespace}/${a.source.name}`) ?? Infinity) - (rank.get(`${b.source.namespace}/${b.source.name}`) ?? Infinity),
    );
    const chosen = fromService ?? fromIngresses[0];
    if (!chosen) continue;
    for (const w of fromIngresses) {
      if (w === chosen || sameSpec(w.spec, chosen.spec)) continue;
      const by = chosen.source.kind === 'Service' ? `the annotation on Service ${c.namespace}/${c.service}` : `Ingress ${chosen.source.namespace}/${chosen.source.name}, which is older`;
      sink.warning(
        'XG_WARMUP_CONFLICT',
        w.source,
        `Service ${c.namespace}/${c.service} port ${c.port} gets the warmup of ${by} (${describeSpec(chosen.spec)}); this Ingress's ${describeSpec(w.spec)} is ignored`,
        `metadata.annotations["${w.spec.annotation}"]`,
      );
    }
    if (chosen.spec.windowSeconds === 0) continue;
    const slowStart: SlowStart = {
      windowSeconds: chosen.spec.windowSeconds,
      ...(chosen.spec.aggression !== undefined ? { aggression: chosen.spec.aggression } : {}),
      ...(chosen.spec.minWeightPercent !== undefined ? { minWeightPercent: chosen.spec.minWeightPercent } : {}),
      source: chosen.source,
    };
    const affinity = c.policy?.hashAffinity;
    if (affinity) {
      sink.warning(
        'XG_WARMUP_NOT_APPLICABLE',
        chosen.source,
        `Service ${c.namespace}/${c.service} port ${c.port} uses ${affinity.kind} affinity: Envoy's slow start applies only to round robin and least request, so the warmup has no effect`,
        `metadata.annotations["${chosen.spec.annotation}"]`,
      );
      continue;
    }
    clusters.set(name, { ...c, policy: { ...c.policy, slowStart } });
  }
}

function sameSpec(a: WarmupSpec, b: WarmupSpec): boolean {
  return a.windowSeconds === b.windowSeconds && a.aggression === b.aggression && a.minWeightPercent === b.minWeightPercent;
}

function describeSpec(s: WarmupSpec): string {
  if (s.windowSeconds === 0) return 'no warmup (0 s)';
  const extras = [s.aggression !== undefined ? `aggression ${s.aggression}` : '', s.minWeightPercent !== undefined ? `min weight ${s.minWeightPercent}%` : ''].filter(Boolean);
  return `warmup ${s.windowSeconds} s${extras.length ? ` (${extras.join(', ')})` : ''}`;
}
