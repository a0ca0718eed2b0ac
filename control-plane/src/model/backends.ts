// Resolves an Ingress backend to a cluster: Service by name, port by number or name.
import type { IngressBackend, Service } from '../sources/k8s-types.js';
import type { StoreSnapshot } from '../sources/store.js';
import type { Code } from '../errors.js';
import { clusterName, type Cluster } from './ir.js';
import { isDnsLabel, isPort } from './names.js';

export type BackendResult =
  | { readonly ok: true; readonly cluster: Cluster }
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
  const ports = Array.isArray(svc.spec?.ports) ? svc.spec!.ports : [];
  const sp = ports.find((p) => (byNumber !== undefined ? p.port === byNumber : p.name === byName));
  if (!sp || !isPort(sp.port)) {
    const want = byNumber !== undefined ? String(byNumber) : `"${byName}"`;
    return { ok: false, code: 'XG_SERVICE_PORT_NOT_FOUND', message: `Service ${namespace}/${svcRef.name} has no port ${want}`, servable: true };
  }
  return {
    ok: true,
    cluster: { name: clusterName(namespace, svcRef.name, sp.port), namespace, service: svcRef.name, port: sp.port, portName: sp.name ?? '' },
  };
}
