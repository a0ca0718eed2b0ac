// ClusterPolicy.upstream → the protocol Envoy speaks to the endpoints: HTTP/2 in
// plaintext (h2c) for HTTP2 and GRPC, TLS (UpstreamTlsContext, CA and client certificate
// by SDS) for HTTPS, both for GRPCS. ClusterPolicy.blocked → a cluster with no endpoints.
import type { Cluster } from '../../model/ir.js';
import type { JsonObject } from '../../xds/encode.js';
import { HTTP_PROTOCOL_OPTIONS_TYPE, UPSTREAM_TLS_TYPE, adsSource } from '../well-known.js';

export function applyUpstreamProtocol(c: Cluster, cluster: JsonObject): void {
  const u = c.policy?.upstream;
  if (!u) return;
  const h2 = u.protocol === 'HTTP2' || u.protocol === 'GRPC' || u.protocol === 'GRPCS';
  if (h2) {
    cluster['typed_extension_protocol_options'] = {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': HTTP_PROTOCOL_OPTIONS_TYPE,
        explicit_http_config: { http2_protocol_options: {} },
      },
    };
  }
  const t = u.tls;
  if (!t || (u.protocol !== 'HTTPS' && u.protocol !== 'GRPCS')) return;
  const common: JsonObject = {};
  if (t.minVersion || t.ciphers) {
    common['tls_params'] = {
      ...(t.minVersion ? { tls_minimum_protocol_version: t.minVersion, tls_maximum_protocol_version: t.maxVersion ?? t.minVersion } : {}),
      ...(t.ciphers ? { cipher_suites: [...t.ciphers] } : {}),
    };
  }
  if (t.client) common['tls_certificate_sds_secret_configs'] = [{ name: t.client.name, sds_config: adsSource() }];
  const sni = t.serverName ? (t.name ?? `${c.service}.${c.namespace}.svc`) : undefined;
  if (t.verify && t.ca) {
    const verifyName = t.name ?? sni;
    common['combined_validation_context'] = {
      default_validation_context: {
        ...(verifyName ? { match_typed_subject_alt_names: [{ san_type: 'DNS', matcher: { exact: verifyName } }] } : {}),
        ...(t.verifyDepth !== undefined ? { max_verify_depth: t.verifyDepth } : {}),
      },
      validation_context_sds_secret_config: { name: t.ca.name, sds_config: adsSource() },
    };
  }
  common['alpn_protocols'] = h2 ? ['h2'] : ['http/1.1'];
  cluster['transport_socket'] = {
    name: 'envoy.transport_sockets.tls',
    typed_config: { '@type': UPSTREAM_TLS_TYPE, ...(sni ? { sni } : {}), common_tls_context: common },
  };
}

/** The Service asks for something unusable: no endpoints, so requests get 503 (fail closed). */
export function applyBlocked(c: Cluster, cluster: JsonObject): void {
  if (!c.policy?.blocked) return;
  delete cluster['eds_cluster_config'];
  cluster['type'] = 'STATIC';
  cluster['load_assignment'] = { cluster_name: c.name, endpoints: [] };
}
