// ClusterPolicy.slowStart → Cluster.round_robin_lb_config.slow_start_config (Envoy slow
// start: a host added to the cluster gets a weight that ramps from min_weight_percent
// to full over slow_start_window, shaped by aggression; hosts present when the cluster
// is created are not ramped). Only for round robin / least request clusters.
import type { Cluster } from '../../model/ir.js';
import type { JsonObject } from '../../xds/encode.js';

/** Runtime key of the aggression (a RuntimeDouble needs one); not set in our runtime, so the default applies. */
export const SLOW_START_AGGRESSION_RUNTIME_KEY = 'xgate.slow_start.aggression';

export function applySlowStart(c: Cluster, cluster: JsonObject): void {
  const s = c.policy?.slowStart;
  if (!s || c.policy?.hashAffinity) return;
  const slowStart: JsonObject = {
    slow_start_window: `${s.windowSeconds}s`,
    ...(s.aggression !== undefined ? { aggression: { default_value: s.aggression, runtime_key: SLOW_START_AGGRESSION_RUNTIME_KEY } } : {}),
    ...(s.minWeightPercent !== undefined ? { min_weight_percent: { value: s.minWeightPercent } } : {}),
  };
  const lb = cluster['lb_policy'];
  if (lb === 'ROUND_ROBIN' || lb === undefined) cluster['round_robin_lb_config'] = { slow_start_config: slowStart };
  else if (lb === 'LEAST_REQUEST') cluster['least_request_lb_config'] = { slow_start_config: slowStart };
}
