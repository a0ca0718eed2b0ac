// Resolves an Ingress backend to a cluster: Service by name, port by number or name.
import type { IngressBackend, Service } from '../sources/k8s-types.js';
import type { StoreSnapshot } from '../sources/store.js';
import type { Code } from '../errors.js';
import { clusterName, type Cluster, type RouteAction } from './ir.js';
import { isDnsLabel, isPort } from './names.js';

export type BackendResult =
  | {
      readonly ok: true;
      readonly cluster: Cluster;
      /** Forwarding to the cluster (one object per cluster object: shared by its routes). */
      readonly action: RouteAction;
      readonly diagnostics: readonly [];
    }
  | { readonly ok: false; readonly code: Code; readonly message: string; readonly servable: boolean };

export function resolveBackend(namespace: string, backend: IngressBackend | undefined, store: StoreSnapshot): BackendResult {
  if (!backend || typeof backend !== 'object') {
    return { ok: false, code: 'XG_INGRESS_NO_BACKEND', message: 'no backend given', servable: false };
  }
  if (backend.resource) {
    return { ok: false, code: 'XG_INGRESS_RESOURCE_BACKEND', message: `resource backend ${String(backend.resource.kind)}/${String(backend.resource.name)} is not supported`, servable: false };
  }
  const svcRef = backend.service;
  if (!svcRef || !isDnsLabel(svcRef.name)) {
    return { ok: false, code: 'XG_INGRESS_NO_BACKEND', message: `backend service name ${JSON.stringify(svcRef?.name)} is not a valid Service name`, servable: false };
  }
  const port = svcRef.port;
  const byNumber = port?.number;
  const byName = port?.name;
  if (byNumber === undefined && byName === undefined) {
    return { ok: false, code: 'XG_SERVICE_PORT_NOT_FOUND', message: `backend service ${svcRef.name} names no port`, servable: false };
  }
  if (byNumber !== undefined && !isPort(byNumber)) {
    return { ok: false, code: 'XG_SERVICE_PORT_NOT_FOUND', message: `port ${JSON.stringify(byNumber)} is not a port number`, servable: false };
  }
  if (byName !== undefined && !isDnsLabel(byName)) {
    return { ok: false, code: 'XG_SERVICE_PORT_NOT_FOUND', message: `port name ${JSON.stringify(byName)} is not a valid port name`, servable: false };
  }
  const svc: Service | undefined = store.services.get(`${namespace}/${svcRef.name}`);
  if (!svc) {
    return { ok: false, code: 'XG_SERVICE_NOT_FOUND', message: `Service ${namespace}/${svcRef.name} does not exist`, servable: true };
  }
  const known = resolved.get(svc);
  if (known) {
    for (const r of known) if (byNumber !== undefined ? r.cluster.port === byNumber : r.cluster.portName === byName) return r;
  }
  const ports = Array.isArray(svc.spec?.ports) ? svc.spec!.ports : [];
  const sp = ports.find((p) => (byNumber !== undefined ? p.port === byNumber : p.name === byName));
  if (!sp || !isPort(sp.port)) {
    const want = byNumber !== undefined ? String(byNumber) : `"${byName}"`;
    return { ok: false, code: 'XG_SERVICE_PORT_NOT_FOUND', message: `Service ${namespace}/${svcRef.name} has no port ${want}`, servable: true };
  }
  const name = clusterName(namespace, svcRef.name, sp.port);
  const ok: Resolved = {
    ok: true,
    cluster: { name, namespace, service: svcRef.name, port: sp.port, portName: sp.name ?? '' },
    action: { kind: 'forward', backends: [{ cluster: name, weight: 1 }] },
    diagnostics: NO_DIAGNOSTICS,
  };
  if (known) known.push(ok);
  else resolved.set(svc, [ok]);
  return ok;
}

type Resolved = Extract<BackendResult, { ok: true }>;
const NO_DIAGNOSTICS = Object.freeze([]) as readonly [];

/**
 * The clusters resolved per Service object, one per port resolved:
 * every backend naming the same Service port gets the same cluster object (clusters are
 * never mutated), so their routes can share what is derived from it. The store replaces
 * a changed Service with a new object, which starts anew.
 */
const resolved = new WeakMap<Service, Resolved[]>();
