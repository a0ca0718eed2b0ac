// The kinds the Kubernetes source watches: API path and typed list call of each, for
// all namespaces or one. Secrets are limited to kubernetes.io/tls by a field selector.
import { CoreV1Api, DiscoveryV1Api, NetworkingV1Api, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { WatchedKind } from '../k8s-types.js';

export interface KubeApis {
  readonly core: CoreV1Api;
  readonly networking: NetworkingV1Api;
  readonly discovery: DiscoveryV1Api;
}

export function makeApis(kc: KubeConfig): KubeApis {
  return { core: kc.makeApiClient(CoreV1Api), networking: kc.makeApiClient(NetworkingV1Api), discovery: kc.makeApiClient(DiscoveryV1Api) };
}

export interface ListQuery {
  readonly namespace?: string;
  readonly fieldSelector?: string;
  readonly labelSelector?: string;
}

export type ListCall = (apis: KubeApis, q: ListQuery) => Promise<KubernetesListObject<KubernetesObject>>;

export interface KindSpec {
  readonly kind: WatchedKind;
  readonly apiVersion: string;
  readonly namespaced: boolean;
  /** The collection path, for all namespaces (no argument) or one. */
  path(namespace?: string): string;
  readonly list: ListCall;
  /** Always applied, e.g. `type=kubernetes.io/tls` for Secrets. */
  readonly fieldSelector?: string;
}

const sel = (q: ListQuery) => ({
  ...(q.fieldSelector ? { fieldSelector: q.fieldSelector } : {}),
  ...(q.labelSelector ? { labelSelector: q.labelSelector } : {}),
});

const collection = (prefix: string, resource: string) => (ns?: string) => (ns ? `${prefix}/namespaces/${encodeURIComponent(ns)}/${resource}` : `${prefix}/${resource}`);

export const TLS_SECRET_SELECTOR = 'type=kubernetes.io/tls';

export const KINDS: Readonly<Record<'Ingress' | 'IngressClass' | 'Service' | 'EndpointSlice' | 'Secret' | 'Pod', KindSpec>> = {
  Ingress: {
    kind: 'Ingress',
    apiVersion: 'networking.k8s.io/v1',
    namespaced: true,
    path: collection('/apis/networking.k8s.io/v1', 'ingresses'),
    list: (a, q) => (q.namespace ? a.networking.listNamespacedIngress({ namespace: q.namespace, ...sel(q) }) : a.networking.listIngressForAllNamespaces(sel(q))),
  },
  IngressClass: {
    kind: 'IngressClass',
    apiVersion: 'networking.k8s.io/v1',
    namespaced: false,
    path: () => '/apis/networking.k8s.io/v1/ingressclasses',
    list: (a, q) => a.networking.listIngressClass(sel(q)),
  },
  Service: {
    kind: 'Service',
    apiVersion: 'v1',
    namespaced: true,
    path: collection('/api/v1', 'services'),
    list: (a, q) => (q.namespace ? a.core.listNamespacedService({ namespace: q.namespace, ...sel(q) }) : a.core.listServiceForAllNamespaces(sel(q))),
  },
  EndpointSlice: {
    kind: 'EndpointSlice',
    apiVersion: 'discovery.k8s.io/v1',
    namespaced: true,
    path: collection('/apis/discovery.k8s.io/v1', 'endpointslices'),
    list: (a, q) => (q.namespace ? a.discovery.listNamespacedEndpointSlice({ namespace: q.namespace, ...sel(q) }) : a.discovery.listEndpointSliceForAllNamespaces(sel(q))),
  },
  Secret: {
    kind: 'Secret',
    apiVersion: 'v1',
    namespaced: true,
    path: collection('/api/v1', 'secrets'),
    fieldSelector: TLS_SECRET_SELECTOR,
    list: (a, q) => (q.namespace ? a.core.listNamespacedSecret({ namespace: q.namespace, ...sel(q) }) : a.core.listSecretForAllNamespaces(sel(q))),
  },
  // Watched by the readiness gate (status/readiness-gate.ts), not by KubeSource: no
  // selector can pick pods by spec.readinessGates, so all pods of the watched
  // namespaces are listed and those without our condition type are dropped on arrival.
  Pod: {
    kind: 'Pod',
    apiVersion: 'v1',
    namespaced: true,
    path: collection('/api/v1', 'pods'),
    list: (a, q) => (q.namespace ? a.core.listNamespacedPod({ namespace: q.namespace, ...sel(q) }) : a.core.listPodForAllNamespaces(sel(q))),
  },
};

export function joinSelectors(...s: Array<string | undefined>): string | undefined {
  const parts = s.filter((x): x is string => !!x);
  return parts.length ? parts.join(',') : undefined;
}
