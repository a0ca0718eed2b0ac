// Cluster → CDS Cluster (endpoints by EDS over ADS), then the cluster policies.
import type { Cluster } from '../model/ir.js';
import type { JsonObject } from '../xds/encode.js';
import { applyClusterPolicies } from './policies.js';
import { applySlowStart } from './policies/slow-start.js';
import { adsSource } from './well-known.js';

export function translateCluster(c: Cluster): JsonObject {
  const cluster: JsonObject = {
    name: c.name,
    type: 'EDS',
    eds_cluster_config: { eds_config: adsSource() },
    connect_timeout: '5s',
    lb_policy: 'ROUND_ROBIN',
    // Requests in flight to a host that leaves EDS finish; new ones go elsewhere.
    ignore_health_on_host_removal: false,
    // Envoy merges health-only EDS updates (HEALTHY → DRAINING) for 1 s by default, so a
    // draining host kept getting new requests for up to a second: apply them at once.
    common_lb_config: { update_merge_window: '0s' },
  };
  applySlowStart(c, cluster);
  applyClusterPolicies(c, cluster);
  return cluster;
}
