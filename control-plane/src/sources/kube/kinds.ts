// The kinds the Kubernetes source watches: API path and typed list call of each, for
// all namespaces or one. Secrets: a field selector leaves out the big, never-used types
// (Helm releases, service account tokens) and `keep` drops any other type but
// kubernetes.io/tls, Opaque and kubernetes.io/basic-auth on arrival (a field selector
// cannot express "one of"): see docs/kubernetes.md.
import { CoreV1Api, DiscoveryV1Api, NetworkingV1Api, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { WatchedKind, WatchedObject } from '../k8s-types.js';

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
  /** Always applied, e.g. `type!=helm.sh/release.v1` for Secrets. */
  readonly fieldSelector?: string;
  /** Client-side filter: an object it refuses is treated as absent (removed if it was kept before). */
  readonly keep?: (obj: WatchedObject) => boolean;
}

const sel = (q: ListQuery) => ({
  ...(q.fieldSelector ? { fieldSelector: q.fieldSelector } : {}),
  ...(q.labelSelector ? { labelSelector: q.labelSelector } : {}),
});

const collection = (prefix: string, resource: string) => (ns?: string) => (ns ? `${prefix}/namespaces/${encodeURIComponent(ns)}/${resource}` : `${prefix}/${resource}`);

/** Secret types never read, left out by the API server (they are many and large). */
export const SECRET_SELECTOR = 'type!=helm.sh/release.v1,type!=kubernetes.io/service-account-token';
/** Secret types xgate reads: certificates, JWKS / htpasswd / OAuth2 client secrets / CA bundles, basic-auth. */
export const KEPT_SECRET_TYPES: ReadonlySet<string> = new Set(['kubernetes.io/tls', 'Opaque', 'kubernetes.io/basic-auth']);

export function keepSecret(obj: WatchedObject): boolean {
  return obj.kind !== 'Secret' || KEPT_SECRET_TYPES.has(obj.type || 'Opaque');
}

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
    fieldSelector: SECRET_SELECTOR,
    keep: keepSecret,
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
