// Gateway listeners: plain HTTP (one route configuration for every host), HTTPS
// (a filter chain and a route configuration per SNI host, certificates by SDS), and
// API listeners for proxyless gRPC clients.
import type { TlsHost } from '../model/ir.js';
import type { JsonObject } from '../xds/encode.js';
import type { TranslateOptions } from './options.js';
import { applyTlsPolicies } from './policies.js';
import { DOWNSTREAM_TLS_TYPE, HCM_TYPE, ROUTER_TYPE, TLS_INSPECTOR_TYPE, adsSource } from './well-known.js';

export const HTTP_LISTENER = 'http';
export const HTTPS_LISTENER = 'https';
export const HTTP_ROUTE_CONFIG = 'http';

export function httpsRouteConfigName(host: string): string {
  return `https/${host}`;
}

const ROUTER: JsonObject = { name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER_TYPE } };

/** `filters`: the HTTP filters before the router (from the registered contributors). */
function hcm(statPrefix: string, routeConfigName: string, edge: boolean, filters: readonly JsonObject[] = [], trustedHops = 0): JsonObject {
  const config: JsonObject = {
    '@type': HCM_TYPE,
    stat_prefix: statPrefix,
    rds: { route_config_name: routeConfigName, config_source: adsSource() },
    http_filters: [...filters, ROUTER],
  };
  if (edge) {
    Object.assign(config, {
      codec_type: 'AUTO',
      use_remote_address: true,
      normalize_path: true,
      merge_slashes: true,
      path_with_escaped_slashes_action: 'KEEP_UNCHANGED',
      common_http_protocol_options: { idle_timeout: '3600s', headers_with_underscores_action: 'DROP_HEADER' },
      upgrade_configs: [{ upgrade_type: 'websocket' }],
      stream_idle_timeout: '300s',
      request_headers_timeout: '10s',
    });
    // The client address (RBAC remote_ip, rate-limit remote_address) is the Nth X-Forwarded-For entry from the right.
    if (trustedHops > 0) config['xff_num_trusted_hops'] = trustedHops;
  }
  return { name: 'envoy.filters.network.http_connection_manager', typed_config: config };
}

export function httpListener(opts: TranslateOptions, filters: readonly JsonObject[] = []): JsonObject {
  return {
    name: HTTP_LISTENER,
    address: { socket_address: { address: opts.bindAddress, port_value: opts.httpPort } },
    per_connection_buffer_limit_bytes: 32768,
    filter_chains: [{ filters: [hcm(HTTP_LISTENER, HTTP_ROUTE_CONFIG, true, filters, opts.trustedHops)] }],
  };
}

export function httpsListener(tlsHosts: readonly TlsHost[], opts: TranslateOptions, filters: readonly JsonObject[] = []): JsonObject {
  return {
    name: HTTPS_LISTENER,
    address: { socket_address: { address: opts.bindAddress, port_value: opts.httpsPort } },
    per_connection_buffer_limit_bytes: 32768,
    listener_filters: [{ name: 'envoy.filters.listener.tls_inspector', typed_config: { '@type': TLS_INSPECTOR_TYPE } }],
    filter_chains: tlsHosts.map((t) => httpsFilterChain(t, opts, filters)),
  };
}

function httpsFilterChain(t: TlsHost, opts: TranslateOptions, filters: readonly JsonObject[]): JsonObject {
  const chain: JsonObject = {
    name: httpsRouteConfigName(t.host),
    filter_chain_match: { server_names: [t.host] },
    transport_socket: {
      name: 'envoy.transport_sockets.tls',
      typed_config: {
        '@type': DOWNSTREAM_TLS_TYPE,
        common_tls_context: {
          tls_certificate_sds_secret_configs: [{ name: t.secret, sds_config: adsSource() }],
          alpn_protocols: ['h2', 'http/1.1'],
        },
      },
    },
    filters: [hcm(HTTPS_LISTENER, httpsRouteConfigName(t.host), true, filters, opts.trustedHops)],
  };
  applyTlsPolicies(t, chain, opts);
  return chain;
}

/** A proxyless gRPC client dials `xds:///<host>`: it asks LDS for a listener named after the host. */
export function apiListener(host: string): JsonObject {
  return {
    name: host,
    api_listener: { api_listener: hcm(`grpc.${host}`, HTTP_ROUTE_CONFIG, false)['typed_config']! },
  };
}
