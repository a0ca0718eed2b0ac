// ClusterEndpoints → EDS ClusterLoadAssignment, one locality per zone.
import type { ClusterEndpoints } from '../model/ir.js';
import type { JsonObject } from '../xds/encode.js';

export function translateEndpoints(ce: ClusterEndpoints): JsonObject {
  const zones = new Map<string, JsonObject[]>();
  for (const ep of ce.endpoints) {
    const zone = ep.zone ?? '';
    let list = zones.get(zone);
    if (!list) zones.set(zone, (list = []));
    list.push({
      endpoint: { address: { socket_address: { address: ep.address, port_value: ep.port } } },
      health_status: ep.health,
    });
  }
  return {
    cluster_name: ce.cluster,
    endpoints: [...zones.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([zone, lb]): JsonObject => (zone ? { locality: { zone }, lb_endpoints: lb } : { lb_endpoints: lb })),
  };
}
