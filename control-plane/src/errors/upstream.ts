// Diagnostic codes of one feature area (merged into CODES by ../errors.ts): load
// balancing and affinity, backend protocol and upstream TLS, per-domain downstream TLS
// and client mTLS.
export const UPSTREAM_CODES = {
  XG_LB_UNSUPPORTED: 'A load-balancing algorithm Envoy does not offer (e.g. ewma): the cluster keeps round robin',
  XG_LB_CONFLICT: 'Ingresses (or an Ingress and its Service) ask for different load balancing of one Service port: the Service, then the oldest Ingress wins',
  XG_LB_SHADOWED: 'A load-balancing key has no effect: cookie affinity takes precedence over upstream-hash-by, which takes precedence over load-balance',
  XG_AFFINITY_INCOMPLETE: 'A session-cookie or affinity-mode key is set without affinity: cookie',
  XG_AFFINITY_MODE: 'affinity-mode persistent is served as balanced (consistent hashing): a scale event moves about 1/n of the sessions',
  XG_BACKEND_PROTOCOL_UNSUPPORTED: 'A backend protocol xgate cannot speak (AJP, FCGI): the routes of this Ingress answer 503',
  XG_BACKEND_PROTOCOL_CONFLICT: 'Ingresses (or an Ingress and its Service) ask for different backend protocols or upstream TLS of one Service port: the Service, then the oldest Ingress wins',
  XG_UPSTREAM_TLS_INVALID: 'An upstream TLS setting (proxy-ssl-*) or its Secret is invalid: the routes of this Ingress answer 503 rather than talk to the backend with weaker TLS',
  XG_UPSTREAM_TLS_IGNORED: 'A proxy-ssl-* key is set but the backend protocol is not HTTPS or GRPCS: it has no effect',
  XG_DOWNSTREAM_TLS_INVALID: 'A per-domain TLS setting (TLS versions, ciphers, client certificates) or its Secret is invalid: the routes of this Ingress answer 403 (fail closed)',
  XG_DOWNSTREAM_TLS_IGNORED: 'A per-domain TLS setting has no effect (no TLS for the host, or a key that needs another)',
} as const satisfies Record<`XG_${string}`, string>;
