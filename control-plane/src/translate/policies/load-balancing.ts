// Load balancing: RoutePolicy.hashPolicy → RouteAction.hash_policy (what is hashed, per
// route), ClusterPolicy.lbPolicy → Cluster.lb_policy (the algorithm, per cluster).
import type { Cluster, RoutePolicy } from '../../model/ir.js';
import type { HashSource } from '../../annotations/load-balance.js';
import type { JsonObject } from '../../xds/encode.js';

export function hashPolicyJson(h: HashSource): JsonObject {
  switch (h.kind) {
    case 'header':
      return { header: { header_name: h.name } };
    case 'query':
      return { query_parameter: { name: h.name } };
    case 'sourceIp':
      return { connection_properties: { source_ip: true } };
    case 'cookie':
      return {
        cookie: {
          name: h.name,
          ...(h.ttlSeconds !== undefined ? { ttl: `${h.ttlSeconds}s` } : {}),
          ...(h.path ? { path: h.path } : {}),
          ...(h.attributes?.length ? { attributes: h.attributes.map((a) => ({ name: a.name, value: a.value })) } : {}),
        },
      };
  }
}

export function applyHashPolicy(policy: RoutePolicy, route: JsonObject): void {
  const action = route['route'] as JsonObject | undefined;
  if (!action || !policy.hashPolicy?.length) return;
  action['hash_policy'] = policy.hashPolicy.map(hashPolicyJson);
}

/** Before slow start (which looks at lb_policy). */
export function applyLbPolicy(c: Cluster, cluster: JsonObject): void {
  const lb = c.policy?.lbPolicy;
  if (lb) cluster['lb_policy'] = lb.algorithm;
}
