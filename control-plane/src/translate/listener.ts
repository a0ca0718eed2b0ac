// Gateway listeners: plain HTTP (one route configuration for every host), HTTPS
// (a filter chain and a route configuration per SNI host, certificates by SDS), with
// the `http3` option HTTP/3 over QUIC on the same port number (UDP; a filter chain per
// SNI host sharing the HTTPS route configuration, advertised by `alt-svc` on the TCP
// HTTPS responses), and API listeners for proxyless gRPC clients.
import type { TlsHost } from '../model/ir.js';
import type { JsonObject } from '../xds/encode.js';
import type { TranslateOptions } from './options.js';
import { applyTlsPolicies } from './policies.js';
import { routeShardFilter, scopedRoutes } from './route-shards.js';
import { DOWNSTREAM_TLS_TYPE, HCM_TYPE, HEADER_MUTATION_TYPE, LUA_TYPE, QUIC_TRANSPORT_TYPE, ROUTER_TYPE, TLS_INSPECTOR_TYPE, adsSource } from './well-known.js';

export const HTTP_LISTENER = 'http';
export const HTTPS_LISTENER = 'https';
export const HTTP3_LISTENER = 'https-quic';
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

/** The number of route configurations the plain HTTP listener's hosts are split over (1: one, `http`). */
export function routeShards(opts: TranslateOptions): number {
  return opts.routeShards !== undefined && opts.routeShards > 1 ? opts.routeShards : 1;
}

export function httpListener(opts: TranslateOptions, filters: readonly JsonObject[] = []): JsonObject {
  const shards = routeShards(opts);
  let manager: JsonObject;
  if (shards === 1) manager = hcm(HTTP_LISTENER, HTTP_ROUTE_CONFIG, true, filters, opts.trustedHops);
  else {
    // Scoped routes (translate/route-shards.ts): the shard filter goes first, so every filter after it sees the host's route.
    manager = hcm(HTTP_LISTENER, HTTP_ROUTE_CONFIG, true, [routeShardFilter(shards, LUA_TYPE), ...filters], opts.trustedHops);
    const { rds: _rds, ...config } = manager['typed_config'] as JsonObject;
    manager = { ...manager, typed_config: { ...config, scoped_routes: scopedRoutes(adsSource()) } };
  }
  return {
    name: HTTP_LISTENER,
    address: { socket_address: { address: opts.bindAddress, port_value: opts.httpPort } },
    per_connection_buffer_limit_bytes: 32768,
    filter_chains: [{ filters: [manager] }],
  };
}

/** The HTTPS listener and, with the `http3` option and a host it can serve, the HTTP/3 (QUIC) one. None without TLS hosts. */
/** The HTTP filters of one host's connection manager (hosts have their own route configuration). */
export type HostFilters = readonly JsonObject[] | ((host: string) => readonly JsonObject[]);

function filtersFor(filters: HostFilters, host: string): readonly JsonObject[] {
  return typeof filters === 'function' ? filters(host) : filters;
}

export function httpsListeners(tlsHosts: readonly TlsHost[], opts: TranslateOptions, filters: HostFilters = []): JsonObject[] {
  if (!tlsHosts.length) return [];
  const quic = opts.http3 ? tlsHosts.filter(servedOverHttp3) : [];
  return [httpsListener(tlsHosts, opts, filters), ...(quic.length ? [http3Listener(quic, opts, filters)] : [])];
}

export function httpsListener(tlsHosts: readonly TlsHost[], opts: TranslateOptions, hostFilters: HostFilters = []): JsonObject {
  return {
    name: HTTPS_LISTENER,
    address: { socket_address: { address: opts.bindAddress, port_value: opts.httpsPort } },
    per_connection_buffer_limit_bytes: 32768,
    listener_filters: [{ name: 'envoy.filters.listener.tls_inspector', typed_config: { '@type': TLS_INSPECTOR_TYPE } }],
    filter_chains: tlsHosts.map((t) => {
      const filters = filtersFor(hostFilters, t.host);
      return httpsFilterChain(t, opts, opts.http3 && servedOverHttp3(t) ? [...filters, altSvcFilter(opts)] : filters);
    }),
  };
}

/**
 * QUIC is TLS 1.3 only, and xgate does not check client certificates over QUIC: a host
 * with client mTLS, or limited to TLS 1.2 or lower, is served on TCP only (and gets no
 * alt-svc), so HTTP/3 never bypasses its TLS settings.
 */
export function servedOverHttp3(t: TlsHost): boolean {
  return !t.policy?.clientAuth && (t.policy?.tlsVersions?.max ?? 'TLSv1_3') === 'TLSv1_3';
}

/** `alt-svc: h3=":<port>"; ma=86400` on every TCP HTTPS response of a host served over HTTP/3. */
function altSvcFilter(opts: TranslateOptions): JsonObject {
  const port = opts.http3?.altSvcPort ?? opts.httpsPort;
  return {
    name: 'xgate.alt_svc',
    typed_config: {
      '@type': HEADER_MUTATION_TYPE,
      mutations: {
        response_mutations: [{ append: { header: { key: 'alt-svc', value: `h3=":${port}"; ma=86400` }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' } }],
      },
    },
  };
}

/** UDP listener on the HTTPS port: QUIC transport per SNI host (certificate by SDS), HCM with the HTTP/3 codec. */
export function http3Listener(tlsHosts: readonly TlsHost[], opts: TranslateOptions, filters: HostFilters = []): JsonObject {
  return {
    name: HTTP3_LISTENER,
    address: { socket_address: { protocol: 'UDP', address: opts.bindAddress, port_value: opts.httpsPort } },
    udp_listener_config: { quic_options: {}, downstream_socket_config: { prefer_gro: true } },
    filter_chains: tlsHosts.map((t) => {
      const manager = hcm(HTTP3_LISTENER, httpsRouteConfigName(t.host), true, filtersFor(filters, t.host));
      const config = manager['typed_config'] as JsonObject;
      config['codec_type'] = 'HTTP3';
      config['http3_protocol_options'] = { allow_extended_connect: true };
      return {
        name: `quic/${t.host}`,
        filter_chain_match: { server_names: [t.host] },
        transport_socket: {
          name: 'envoy.transport_sockets.quic',
          typed_config: {
            '@type': QUIC_TRANSPORT_TYPE,
            downstream_tls_context: {
              common_tls_context: {
                tls_certificate_sds_secret_configs: [{ name: t.secret, sds_config: adsSource() }],
                alpn_protocols: ['h3'],
              },
            },
          },
        },
        filters: [manager],
      };
    }),
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
export function apiListener(host: string, routeConfigName: string = HTTP_ROUTE_CONFIG): JsonObject {
  return {
    name: host,
    api_listener: { api_listener: hcm(`grpc.${host}`, routeConfigName, false)['typed_config']! },
  };
}
