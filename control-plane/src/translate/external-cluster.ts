// A cluster for a service Envoy calls by URL on its own (a JWKS URL, an OIDC token
// endpoint, an external auth service): DNS-resolved for a host name, static for an IP
// literal, TLS (SNI = host, verified against the CA bundle) for https. The name is
// built from scheme, host and port and cannot collide with a Service cluster
// (`namespace/service/port` holds no ':').
import { isIP } from 'node:net';
import type { JsonObject } from '../xds/encode.js';
import type { TranslateOptions } from './options.js';

export interface ExternalTarget {
  readonly scheme: 'http' | 'https';
  /** Lowercase host name or IP literal (no brackets). */
  readonly host: string;
  readonly port: number;
}

/** The target of a URL already validated by its annotation family (http/https, host, no credentials). */
export function externalTarget(url: URL): ExternalTarget {
  const scheme = url.protocol === 'https:' ? 'https' : 'http';
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = url.port ? Number(url.port) : scheme === 'https' ? 443 : 80;
  return { scheme, host, port };
}

export function externalClusterName(t: ExternalTarget): string {
  return `external:${t.scheme}:${t.host}:${t.port}`;
}

export function externalCluster(t: ExternalTarget, opts: TranslateOptions): JsonObject {
  const name = externalClusterName(t);
  const ip = isIP(t.host) !== 0;
  const cluster: JsonObject = {
    name,
    type: ip ? 'STATIC' : 'STRICT_DNS',
    connect_timeout: '5s',
    ...(ip ? {} : { dns_lookup_family: 'V4_PREFERRED' }),
    load_assignment: {
      cluster_name: name,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: t.host, port_value: t.port } } } }] }],
    },
  };
  if (t.scheme === 'https') {
    cluster['transport_socket'] = {
      name: 'envoy.transport_sockets.tls',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
        ...(ip ? {} : { sni: t.host }),
        common_tls_context: {
          validation_context: {
            trusted_ca: { filename: opts.caBundle },
            ...(ip ? {} : { match_typed_subject_alt_names: [{ san_type: 'DNS', matcher: { exact: t.host } }] }),
          },
        },
      },
    };
  }
  return cluster;
}
