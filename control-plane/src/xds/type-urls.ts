// The resource types xgate serves, by type URL, with the message each carries.
export const LISTENER = 'type.googleapis.com/envoy.config.listener.v3.Listener' as const;
export const ROUTE = 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration' as const;
/** Scoped routes (SRDS): which route configuration serves a request, by a key (translate/route-shards.ts). */
export const SCOPED_ROUTE = 'type.googleapis.com/envoy.config.route.v3.ScopedRouteConfiguration' as const;
export const CLUSTER = 'type.googleapis.com/envoy.config.cluster.v3.Cluster' as const;
export const ENDPOINT = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment' as const;
export const SECRET = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret' as const;

export type TypeUrl = typeof LISTENER | typeof ROUTE | typeof SCOPED_ROUTE | typeof CLUSTER | typeof ENDPOINT | typeof SECRET;

/** Every served type, in make-before-break push order: CDS, EDS, SDS, then LDS, SRDS, RDS. */
export const TYPE_URLS: readonly TypeUrl[] = [CLUSTER, ENDPOINT, SECRET, LISTENER, SCOPED_ROUTE, ROUTE];

export const SHORT_NAMES: Record<TypeUrl, 'lds' | 'rds' | 'srds' | 'cds' | 'eds' | 'sds'> = {
  [LISTENER]: 'lds',
  [ROUTE]: 'rds',
  [SCOPED_ROUTE]: 'srds',
  [CLUSTER]: 'cds',
  [ENDPOINT]: 'eds',
  [SECRET]: 'sds',
};

export function isTypeUrl(s: string): s is TypeUrl {
  return (TYPE_URLS as readonly string[]).includes(s);
}
