// The resource types the stand-in API server knows, and how request paths map to them.
export interface ResourceType {
  /** '' for the core group. */
  readonly group: string;
  readonly version: string;
  /** Plural, lowercase: the path segment. */
  readonly resource: string;
  readonly kind: string;
  readonly namespaced: boolean;
  /** Has a `status` subresource (the main resource then ignores status changes). */
  readonly status: boolean;
}

export const RESOURCES: readonly ResourceType[] = [
  { group: '', version: 'v1', resource: 'services', kind: 'Service', namespaced: true, status: true },
  { group: '', version: 'v1', resource: 'secrets', kind: 'Secret', namespaced: true, status: false },
  { group: '', version: 'v1', resource: 'events', kind: 'Event', namespaced: true, status: false },
  { group: '', version: 'v1', resource: 'pods', kind: 'Pod', namespaced: true, status: true },
  { group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespaced: true, status: false },
  { group: 'networking.k8s.io', version: 'v1', resource: 'ingresses', kind: 'Ingress', namespaced: true, status: true },
  { group: 'networking.k8s.io', version: 'v1', resource: 'ingressclasses', kind: 'IngressClass', namespaced: false, status: false },
  { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', kind: 'EndpointSlice', namespaced: true, status: false },
  { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', kind: 'Lease', namespaced: true, status: false },
];

export function apiVersionOf(t: ResourceType): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

export function resourceByKind(apiVersion: string, kind: string): ResourceType | undefined {
  return RESOURCES.find((r) => apiVersionOf(r) === apiVersion && r.kind === kind);
}

export interface ParsedPath {
  readonly type: ResourceType;
  /** The namespace in the path; undefined for cluster-scoped kinds and all-namespace requests. */
  readonly namespace: string | undefined;
  readonly name: string | undefined;
  readonly subresource: string | undefined;
}

/** `/api/v1/namespaces/ns/services/x/status` → parts; undefined when the path names nothing known. */
export function parsePath(pathname: string): ParsedPath | undefined {
  const seg = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (seg[0] === 'api' && seg.length >= 2) {
    group = '';
    version = seg[1]!;
    rest = seg.slice(2);
  } else if (seg[0] === 'apis' && seg.length >= 3) {
    group = seg[1]!;
    version = seg[2]!;
    rest = seg.slice(3);
  } else return undefined;
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const type = RESOURCES.find((r) => r.group === group && r.version === version && r.resource === rest[0]);
  if (!type || rest.length > 3) return undefined;
  if (!type.namespaced && namespace !== undefined) return undefined;
  if (type.namespaced && namespace === undefined && rest.length > 1) return undefined;
  return { type, namespace, name: rest[1], subresource: rest[2] };
}
