// Names and type URLs of the Envoy extensions the translators use.
import type { JsonObject } from '../xds/encode.js';

const T = 'type.googleapis.com/';
export const HCM_TYPE = `${T}envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`;
export const ROUTER_TYPE = `${T}envoy.extensions.filters.http.router.v3.Router`;
export const TLS_INSPECTOR_TYPE = `${T}envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector`;
export const DOWNSTREAM_TLS_TYPE = `${T}envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext`;

/** Every dynamic resource comes over the ADS stream. */
/**
 * The config source "over ADS", in every cluster, RDS and SDS reference: one frozen
 * object shared by all of them (resources are never mutated once built; 16k clusters
 * at 10k Ingresses would otherwise hold 32k copies of it).
 */
const ADS_SOURCE: JsonObject = Object.freeze({ ads: Object.freeze({}), resource_api_version: 'V3' }) as JsonObject;

export function adsSource(): JsonObject {
  return ADS_SOURCE;
}
export const UPSTREAM_TLS_TYPE = `${T}envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext`;
export const HTTP_PROTOCOL_OPTIONS_TYPE = `${T}envoy.extensions.upstreams.http.v3.HttpProtocolOptions`;
export const QUIC_TRANSPORT_TYPE = `${T}envoy.extensions.transport_sockets.quic.v3.QuicDownstreamTransport`;
export const HEADER_MUTATION_TYPE = `${T}envoy.extensions.filters.http.header_mutation.v3.HeaderMutation`;
export const LUA_TYPE = `${T}envoy.extensions.filters.http.lua.v3.Lua`;
