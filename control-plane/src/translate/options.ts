// Options that shape the generated Envoy resources.
export interface TranslateOptions {
  /** Address the gateway listeners bind to inside the Envoy pod. */
  readonly bindAddress: string;
  readonly httpPort: number;
  readonly httpsPort: number;
  /**
   * CA bundle (a file in the Envoy pod) that verifies the certificates of external HTTPS
   * services Envoy calls itself (JWKS URLs, OIDC token endpoints, auth services).
   */
  readonly caBundle: string;
  /**
   * Also serve HTTPS over HTTP/3 (QUIC, UDP on httpsPort) and advertise it with
   * `alt-svc: h3=":<altSvcPort>"` on the TCP HTTPS responses (altSvcPort: the port
   * clients reach, e.g. 443 behind a Service; default httpsPort). See translate/listener.ts.
   */
  readonly http3?: { readonly altSvcPort?: number };
  /** Instance-level IP lists (`address/prefix`, normalised); see translate/access/rbac.ts. */
  readonly sourceRanges?: { readonly allow: readonly string[]; readonly deny: readonly string[] };
  /** X-Forwarded-For hops to trust for the client address (HCM xff_num_trusted_hops); default 0. */
  readonly trustedHops?: number;
  /**
   * Split the plain HTTP listener's virtual hosts over this many route configurations
   * (`http/0` …), chosen per request by scoped routes (translate/route-shards.ts); unset or
   * 1: one route configuration, `http`. A change then sends Envoy one shard.
   */
  readonly routeShards?: number;
  /** The WAF module (.wasm) path in the Envoy pod; unset: routes asking for the WAF answer 403. */
  readonly wafModule?: string;
}

export const DEFAULT_TRANSLATE_OPTIONS: TranslateOptions = {
  bindAddress: '0.0.0.0',
  httpPort: 8080,
  httpsPort: 8443,
  caBundle: '/etc/ssl/certs/ca-certificates.crt',
};
