// Cluster → CDS Cluster (endpoints by EDS over ADS), then the cluster policies: the
// load-balancing algorithm first (slow start depends on it), slow start, the upstream
// protocol and TLS, a Service that blocks its cluster, then other areas' translators.
import type { Cluster } from '../model/ir.js';
import type { JsonObject } from '../xds/encode.js';
import { applyClusterPolicies } from './policies.js';
import { applyLbPolicy } from './policies/load-balancing.js';
import { applySlowStart } from './policies/slow-start.js';
import { applyBlocked, applyUpstreamProtocol } from './policies/upstream-protocol.js';
import { adsSource } from './well-known.js';

/** Parts every EDS cluster has: shared, frozen (policies set other fields of the cluster, never these). */
const EDS_CLUSTER_CONFIG: JsonObject = Object.freeze({ eds_config: adsSource() }) as JsonObject;
const COMMON_LB_CONFIG: JsonObject = Object.freeze({ update_merge_window: '0s' }) as JsonObject;

export function translateCluster(c: Cluster): JsonObject {
  const cluster: JsonObject = {
    name: c.name,
    type: 'EDS',
    eds_cluster_config: EDS_CLUSTER_CONFIG,
    connect_timeout: '5s',
    lb_policy: 'ROUND_ROBIN',
    // Requests in flight to a host that leaves EDS finish; new ones go elsewhere.
    ignore_health_on_host_removal: false,
    // Envoy merges health-only EDS updates (HEALTHY → DRAINING) for 1 s by default, so a
    // draining host kept getting new requests for up to a second: apply them at once.
    common_lb_config: COMMON_LB_CONFIG,
  };
  applyLbPolicy(c, cluster);
  applySlowStart(c, cluster);
  applyUpstreamProtocol(c, cluster);
  applyBlocked(c, cluster);
  applyClusterPolicies(c, cluster);
  return cluster;
}

/**
 * The cluster as proxyless gRPC clients get it: they know round robin and ring hash
 * only (grpc-js-xds NACKs any other lb_policy), so least request and random become
 * round robin and Maglev becomes ring hash. Unchanged clusters are returned as they
 * are. An upstream TLS cluster is left as it is: gRPC accepts only certificate
 * providers, not SDS, so such a cluster is refused by the client (never used in
 * plaintext).
 */
export function proxylessCluster(cluster: JsonObject): JsonObject {
  const lb = cluster['lb_policy'];
  if (lb === 'LEAST_REQUEST' || lb === 'RANDOM') {
    const { least_request_lb_config: _lr, ...rest } = cluster;
    return { ...rest, lb_policy: 'ROUND_ROBIN' };
  }
  if (lb === 'MAGLEV') return { ...cluster, lb_policy: 'RING_HASH' };
  return cluster;
}
