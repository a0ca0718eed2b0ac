// client-node behind the small interfaces the status parts use: the Lease, Events and
// the Ingress status subresource. Patches are JSON merge patches.
import { CoordinationV1Api, CoreV1Api, NetworkingV1Api, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
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
    async get(namespace: string, name: string) {
      try {
        const e = await api.readNamespacedEvent({ name, namespace });
        return { count: e.count ?? 1 };
      } catch (err) {
        if (httpStatus(err) === 404) return undefined;
        throw err;
      }
    },
    async patch(namespace: string, name: string, patch: EventPatch) {
      try {
        await api.patchNamespacedEvent({ name, namespace, body: patch }, MERGE_PATCH);
        return true;
      } catch (err) {
        if (httpStatus(err) === 404) return false;
        throw err;
      }
    },
  };
}

export function ingressStatusApi(kc: KubeConfig): IngressStatusApi {
  const api = kc.makeApiClient(NetworkingV1Api);
  return {
    async patchStatus(namespace: string, name: string, ingress: readonly LoadBalancerIngress[]) {
      // An empty list is written as null: the merge patch then removes the field.
      const body = { status: { loadBalancer: { ingress: ingress.length ? ingress : null } } };
      await api.patchNamespacedIngressStatus({ name, namespace, body, fieldManager: FIELD_MANAGER }, MERGE_PATCH);
    },
  };
}
