// client-node behind the small interfaces the status parts use: the Lease (get,
// create, update), Events (create, patch) and the Ingress status subresource (update).
// Patches are JSON merge patches.
import { CoordinationV1Api, CoreV1Api, NetworkingV1Api, PatchStrategy, setHeaderOptions, type KubeConfig, type V1Ingress } from '@kubernetes/client-node';
import type { Ingress } from '../sources/k8s-types.js';
import { httpStatus } from '../sources/kube/api-errors.js';
import type { EventApi, EventBody, EventPatch } from './events.js';
import type { IngressStatusApi, LoadBalancerIngress } from './ingress-status.js';
import type { LeaseRecord, LeaseStore } from './leader.js';

const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const FIELD_MANAGER = 'xgate';

export function leaseStore(kc: KubeConfig, namespace: string, name: string): LeaseStore {
  const api = kc.makeApiClient(CoordinationV1Api);
  const body = (record: LeaseRecord, resourceVersion?: string) => ({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, namespace, ...(resourceVersion ? { resourceVersion } : {}) },
    // MicroTime fields pass through the client's serializer as the strings given.
    spec: record as never,
  });
  return {
    async get() {
      try {
        const lease = await api.readNamespacedLease({ name, namespace });
        const s = lease.spec ?? {};
        const str = (v: unknown) => (v instanceof Date ? v.toISOString() : typeof v === 'string' ? v : undefined);
        return {
          resourceVersion: lease.metadata?.resourceVersion ?? '',
          record: {
            holderIdentity: s.holderIdentity,
            leaseDurationSeconds: s.leaseDurationSeconds,
            acquireTime: str(s.acquireTime),
            renewTime: str(s.renewTime),
            leaseTransitions: s.leaseTransitions,
          },
        };
      } catch (err) {
        if (httpStatus(err) === 404) return undefined;
        throw err;
      }
    },
    async create(record) {
      await api.createNamespacedLease({ namespace, body: body(record), fieldManager: FIELD_MANAGER });
    },
    async update(record, resourceVersion) {
      await api.replaceNamespacedLease({ name, namespace, body: body(record, resourceVersion), fieldManager: FIELD_MANAGER });
    },
  };
}

export function eventApi(kc: KubeConfig): EventApi {
  const api = kc.makeApiClient(CoreV1Api);
  return {
    async create(namespace: string, e: EventBody) {
      await api.createNamespacedEvent({
        namespace,
        body: {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { name: e.name, namespace },
          involvedObject: e.involvedObject,
          type: e.type,
          reason: e.reason,
          message: e.message,
          count: e.count,
          // core/v1 Event times are metav1.Time: the client's serializer wants Dates.
          firstTimestamp: new Date(e.firstTimestamp),
          lastTimestamp: new Date(e.lastTimestamp),
          source: e.source,
          reportingComponent: e.reportingComponent,
          reportingInstance: e.reportingInstance,
        },
      });
    },
    async patch(namespace: string, name: string, patch: EventPatch | Record<string, never>) {
      try {
        const e = await api.patchNamespacedEvent({ name, namespace, body: patch }, MERGE_PATCH);
        return { count: e.count ?? 1 };
      } catch (err) {
        if (httpStatus(err) === 404) return undefined;
        throw err;
      }
    },
  };
}

/** The informer's plain Ingress as the typed client serialises it (metav1.Time fields as Dates). */
function clientIngress(ing: Ingress, addresses: readonly LoadBalancerIngress[]): V1Ingress {
  const m = ing.metadata as Ingress['metadata'] & { deletionTimestamp?: string };
  const date = (s: string | undefined) => (s ? new Date(s) : undefined);
  const { ingress: _old, ...lb } = ing.status?.loadBalancer ?? {};
  return {
    ...ing,
    metadata: { ...m, creationTimestamp: date(m.creationTimestamp), deletionTimestamp: date(m.deletionTimestamp) },
    status: { ...ing.status, loadBalancer: { ...lb, ...(addresses.length ? { ingress: addresses.map((a) => ({ ...a })) } : {}) } },
  } as V1Ingress;
}

export function ingressStatusApi(kc: KubeConfig): IngressStatusApi {
  const api = kc.makeApiClient(NetworkingV1Api);
  return {
    async updateStatus(ing: Ingress, addresses: readonly LoadBalancerIngress[]) {
      // The whole object as the informer has it, resourceVersion included: the server
      // takes only the status from it, and refuses (409) if the Ingress changed since.
      await api.replaceNamespacedIngressStatus({ name: ing.metadata.name, namespace: ing.metadata.namespace ?? '', body: clientIngress(ing, addresses), fieldManager: FIELD_MANAGER });
    },
  };
}
