// ClusterEndpoints → EDS ClusterLoadAssignment, one locality per zone.
import type { ClusterEndpoints } from '../model/ir.js';
import type { JsonObject } from '../xds/encode.js';
import { sortInPlace } from '../model/small-sort.js';

export function translateEndpoints(ce: ClusterEndpoints): JsonObject {
  // Zones in sorted order ('' first), endpoints in their order within each: a few
  // endpoints per cluster, so the zones are gathered by a scan (no Map, no sort of entries).
  const zones: string[] = [];
  const lists: JsonObject[][] = [];
  for (const ep of ce.endpoints) {
    const zone = ep.zone ?? '';
    let i = zones.indexOf(zone);
    if (i < 0) {
      i = zones.length;
      zones.push(zone);
      lists.push([]);
    }
    lists[i]!.push({
      endpoint: { address: { socket_address: { address: ep.address, port_value: ep.port } } },
      health_status: ep.health,
    });
  }
  const order = zones.map((_, i) => i);
  if (order.length > 1) sortInPlace(order, (a, b) => (zones[a]! < zones[b]! ? -1 : zones[a]! > zones[b]! ? 1 : 0));
  const endpoints: JsonObject[] = [];
  for (const i of order) {
    const zone = zones[i]!;
    endpoints.push(zone ? { locality: { zone }, lb_endpoints: lists[i]! } : { lb_endpoints: lists[i]! });
  }
  return { cluster_name: ce.cluster, endpoints };
}
