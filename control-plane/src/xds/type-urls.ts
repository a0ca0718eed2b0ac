// The resource types xgate serves, by type URL, with the message each carries.
export const LISTENER = 'type.googleapis.com/envoy.config.listener.v3.Listener' as const;
export const ROUTE = 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration' as const;
export const CLUSTER = 'type.googleapis.com/envoy.config.cluster.v3.Cluster' as const;
export const ENDPOINT = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment' as const;
export const SECRET = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret' as const;

export type TypeUrl = typeof LISTENER | typeof ROUTE | typeof CLUSTER | typeof ENDPOINT | typeof SECRET;

/** Every served type, in make-before-break push order: CDS, EDS, SDS, then LDS, RDS. */
export const TYPE_URLS: readonly TypeUrl[] = [CLUSTER, ENDPOINT, SECRET, LISTENER, ROUTE];

export const SHORT_NAMES: Record<TypeUrl, 'lds' | 'rds' | 'cds' | 'eds' | 'sds'> = {
  [LISTENER]: 'lds',
  [ROUTE]: 'rds',
  [CLUSTER]: 'cds',
  [ENDPOINT]: 'eds',
  [SECRET]: 'sds',
};

export function isTypeUrl(s: string): s is TypeUrl {
  return (TYPE_URLS as readonly string[]).includes(s);
}
