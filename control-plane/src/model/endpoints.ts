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
      endpoints: endpointsOf(c, byService.get(`${c.namespace}/${c.service}`) ?? [], store.pods),
    })),
  };
}

/** The readiness gate condition xgate sets (status/readiness-gate.ts). */
export const OUR_READINESS_GATE = 'target-health.xgate.io';

/**
 * Kubernetes marks a pod whose readiness gate is still pending as not ready in its
 * EndpointSlice — but the gate waits for Envoy to have the pod's address. A pod that
 * declares our gate, whose containers are ready, is therefore routed to: that push is
 * what opens the gate.
 */
function awaitsOurGate(ref: { kind?: string; name?: string } | undefined, namespace: string | undefined, pods: StoreSnapshot['pods']): boolean {
  if (!ref || ref.kind !== 'Pod' || !ref.name) return false;
  const pod = pods.get(`${namespace}/${ref.name}`);
  if (!pod) return false;
  const gates = pod.spec?.readinessGates ?? [];
  if (!gates.some((g) => g.conditionType === OUR_READINESS_GATE)) return false;
  return (pod.status?.conditions ?? []).some((c) => c.type === 'ContainersReady' && c.status === 'True');
}

function endpointsOf(cluster: Cluster, slices: readonly EndpointSlice[], pods: StoreSnapshot['pods']): Endpoint[] {
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
      if ((ready || awaitsOurGate(ep.targetRef, slice.metadata.namespace, pods)) && !terminating) health = 'HEALTHY';
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
