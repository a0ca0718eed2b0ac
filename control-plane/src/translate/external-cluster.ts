// A cluster for a service Envoy calls by URL on its own (a JWKS URL, an OIDC token
// endpoint, an external auth service): DNS-resolved for a host name (every address an
// endpoint, IPv4 first, re-resolved every 30 s, not Envoy's default 5 s: ingress-nginx's
// resolver keeps answers 30 s, Envoy Gateway refreshes every 30 s), static for an IP
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

/** How often a host name is resolved again. */
const DNS_REFRESH_RATE = '30s';

/** Strict DNS (each address an endpoint) as the `envoy.cluster.dns` extension: the Cluster's own DNS fields are deprecated in Envoy 1.39. */
const DNS_CLUSTER_TYPE: JsonObject = {
  name: 'envoy.cluster.dns',
  typed_config: {
    '@type': 'type.googleapis.com/envoy.extensions.clusters.dns.v3.DnsCluster',
    dns_refresh_rate: DNS_REFRESH_RATE,
    dns_lookup_family: 'V4_PREFERRED',
  },
};

export function externalCluster(t: ExternalTarget, opts: TranslateOptions): JsonObject {
  const name = externalClusterName(t);
  const ip = isIP(t.host) !== 0;
  const cluster: JsonObject = {
    name,
    ...(ip ? { type: 'STATIC' } : { cluster_type: DNS_CLUSTER_TYPE }),
    connect_timeout: '5s',
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
