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
}

export const DEFAULT_TRANSLATE_OPTIONS: TranslateOptions = {
  bindAddress: '0.0.0.0',
  httpPort: 8080,
  httpsPort: 8443,
  caBundle: '/etc/ssl/certs/ca-certificates.crt',
};
