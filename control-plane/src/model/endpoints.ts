// Clusters + EndpointSlices → endpoints per cluster. Built apart from the rest of the
// model so that endpoint churn rebuilds only EDS.
import { isIP } from 'node:net';
import type { EndpointSlice } from '../sources/k8s-types.js';
import { SERVICE_NAME_LABEL } from '../sources/k8s-types.js';
import type { StoreSnapshot } from '../sources/store.js';
import type { Cluster, ClusterEndpoints, Endpoint, EndpointModel } from './ir.js';
import { isPort } from './names.js';

export function buildEndpoints(clusters: readonly Cluster[], store: StoreSnapshot): EndpointModel {
  const byService = new Map<string, EndpointSlice[]>();
  for (const slice of store.endpointSlices.values()) {
    const svc = slice.metadata.labels?.[SERVICE_NAME_LABEL];
    if (typeof svc !== 'string') continue;
    const key = `${slice.metadata.namespace}/${svc}`;
    let list = byService.get(key);
    if (!list) byService.set(key, (list = []));
    list.push(slice);
  }
  return {
    clusters: clusters.map((c) => ({
      cluster: c.name,
      endpoints: endpointsOf(c, byService.get(`${c.namespace}/${c.service}`) ?? []),
    })),
  };
}

function endpointsOf(cluster: Cluster, slices: readonly EndpointSlice[]): Endpoint[] {
  const found = new Map<string, Endpoint>();
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') continue;
    const sp = (Array.isArray(slice.ports) ? slice.ports : []).find((p) => (p.name ?? '') === cluster.portName);
    if (!sp || !isPort(sp.port)) continue;
    for (const ep of Array.isArray(slice.endpoints) ? slice.endpoints : []) {
      const c = ep.conditions ?? {};
      // Kubernetes: a nil ready means ready; a nil serving means the same as ready.
      const ready = c.ready !== false;
      const serving = c.serving === undefined || c.serving === null ? ready : c.serving;
      const terminating = c.terminating === true;
      let health: Endpoint['health'];
      if (ready && !terminating) health = 'HEALTHY';
      else if (serving && terminating) health = 'DRAINING';
      else continue;
      for (const address of Array.isArray(ep.addresses) ? ep.addresses : []) {
        if (typeof address !== 'string' || isIP(address) === 0) continue;
        const key = `${address}\u0000${sp.port}`;
        const prev = found.get(key);
        if (prev && prev.health === 'HEALTHY') continue;
        found.set(key, { address, port: sp.port, health, ...(typeof ep.zone === 'string' ? { zone: ep.zone } : {}) });
      }
    }
  }
  return [...found.values()].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : a.port - b.port));
}

export type { ClusterEndpoints };
