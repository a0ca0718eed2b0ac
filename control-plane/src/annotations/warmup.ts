// M `warmup` (MSE; also read under H and X): seconds during which a newly added
// endpoint's share of requests ramps up (Envoy slow start). X extras:
// `xgate.io/warmup-aggression` and `xgate.io/warmup-min-weight-percent`.
// Read from an Ingress (for every backend of its routes) and from a Service (its own
// annotations); model/cluster-policy.ts decides which one a cluster gets.
import type { AnnotationFamily } from './family.js';
import type { AnnotationReader } from './reader.js';

export interface WarmupSpec {
  /** Slow start window in whole seconds; 0 = explicitly no slow start. */
  readonly windowSeconds: number;
  /** Envoy's aggression (default 1.0: linear). */
  readonly aggression?: number;
  /** Envoy's min_weight_percent (default 10). */
  readonly minWeightPercent?: number;
  /** The annotation the window came from (diagnostics). */
  readonly annotation: string;
}

declare module '../model/ir.js' {
  interface RoutePolicy {
    /** The Ingress's warmup, applied to the clusters its routes forward to (see model/cluster-policy.ts). */
    readonly warmup?: WarmupSpec;
  }
}

export const MAX_WARMUP_SECONDS = 3600;

/**
 * Reads and validates the warmup keys. Any invalid value (window, aggression or
 * minimum weight) drops the whole warmup of this object: the cluster keeps serving
 * without slow start.
 */
export function readWarmup(r: AnnotationReader): WarmupSpec | undefined {
  const w = r.get('warmup', ['H', 'M', 'X']);
  const a = r.get('warmup-aggression', ['X']);
  const m = r.get('warmup-min-weight-percent', ['X']);
  let ok = true;
  let windowSeconds = 0;
  if (w) {
    const v = w.value.trim();
    if (!/^\d{1,4}$/.test(v) || Number(v) > MAX_WARMUP_SECONDS) {
      r.invalid(w, `must be a whole number of seconds (0 to ${MAX_WARMUP_SECONDS}); no slow start is configured`);
      ok = false;
    } else windowSeconds = Number(v);
  }
  let aggression: number | undefined;
  if (a) {
    const v = a.value.trim();
    const n = Number(v);
    if (!/^\d{1,2}(\.\d{1,3})?$/.test(v) || !(n > 0) || n > 10) {
      r.invalid(a, 'must be a decimal number greater than 0 and at most 10 (1.0 = linear); no slow start is configured');
      ok = false;
    } else aggression = n;
  }
  let minWeightPercent: number | undefined;
  if (m) {
    const v = m.value.trim();
    const n = Number(v);
    if (!/^\d{1,3}(\.\d{1,2})?$/.test(v) || n > 100) {
      r.invalid(m, 'must be a percentage from 0 to 100; no slow start is configured');
      ok = false;
    } else minWeightPercent = n;
  }
  if (!w) {
    if (ok && (a || m)) {
      r.sink.warning('XG_WARMUP_INCOMPLETE', r.ref, `${(a ?? m)!.annotation} has no effect without a warmup annotation (e.g. mse.ingress.kubernetes.io/warmup)`, `metadata.annotations["${(a ?? m)!.annotation}"]`);
    }
    return undefined;
  }
  if (!ok) return undefined;
  return {
    windowSeconds,
    ...(aggression !== undefined ? { aggression } : {}),
    ...(minWeightPercent !== undefined ? { minWeightPercent } : {}),
    annotation: w.annotation,
  };
}

export const warmupFamily: AnnotationFamily = {
  name: 'warmup',
  parse(r) {
    const warmup = readWarmup(r);
    return warmup ? { warmup } : undefined;
  },
};
