// How a feature area extends translation without editing the core translators:
// policy translators (route, virtual host, HTTPS filter chain, cluster) that add
// fields to the resource being built, and contributors that add HTTP filters to the
// gateway's connection managers plus the clusters and secrets those filters need.
// Each area lists its own in translate/groups/<area>.ts; registry.ts merges them.
import type { Cluster, HostPolicy, Model, Route, RoutePolicy, TlsHost, VirtualHost } from '../model/ir.js';
import type { JsonObject } from '../xds/encode.js';
import type { TranslateOptions } from './options.js';

/** Adds to an Envoy Route (already holding match and route/direct_response/redirect). */
export type RoutePolicyTranslator = (policy: RoutePolicy, route: JsonObject) => void;
/** Adds to an Envoy VirtualHost (name, domains, routes). */
export type HostPolicyTranslator = (policy: HostPolicy, vhost: JsonObject) => void;
/**
 * Adds to a host's HTTPS filter chain: `chain.transport_socket.typed_config` is its
 * DownstreamTlsContext (certificate by SDS). Called for every TLS host, policy or not.
 */
export type TlsHostTranslator = (host: TlsHost, chain: JsonObject, opts: TranslateOptions) => void;
/** Adds to an Envoy Cluster (EDS, round robin, slow start already applied). */
export type ClusterPolicyTranslator = (cluster: Cluster, out: JsonObject) => void;

export interface FilterContext {
  readonly model: Model;
  readonly opts: TranslateOptions;
  /**
   * What `pick` returns for every route of the model that has a policy (undefined results
   * dropped; a route without a policy contributes nothing and is not shown to `pick`), in
   * model order, possibly with repeats. Kept per key with the host list, so a build that
   * changed one host re-reads only that host.
   */
  collect<T>(key: string, pick: (route: Route, vh: VirtualHost) => T | undefined): readonly T[];
}

/**
 * A feature that needs HTTP filters in the gateway listeners' connection managers
 * (`http_filters`, before the router), and possibly clusters (a JWKS or auth service)
 * and secrets (an OAuth2 client secret) of its own.
 *
 * Keep `httpFilters` stable: a change to it changes the listeners (LDS), and Envoy
 * drains connections on a listener change. Prefer a filter that is always present (or
 * `disabled: true`) and configured per route with `perFilterConfig` (RDS only).
 */
export interface ResourceContributor {
  /** Where its filters go in the chain, lowest first (see FILTER_ORDER). */
  readonly order: number;
  httpFilters?(ctx: FilterContext): readonly JsonObject[];
  clusters?(ctx: FilterContext): readonly JsonObject[];
  secrets?(ctx: FilterContext): readonly JsonObject[];
}

/** The order of HTTP filters in the chain: access before CORS, CORS before auth. */
export const FILTER_ORDER = {
  /** custom error pages see upstream responses last when they come first */
  customResponse: 50,
  ipAccess: 100,
  rateLimit: 200,
  cors: 300,
  waf: 400,
  extAuthz: 500,
  basicAuth: 600,
  oauth2: 700,
  jwt: 800,
  headerMutation: 900,
} as const;

export interface AreaTranslators {
  readonly route?: readonly RoutePolicyTranslator[];
  readonly host?: readonly HostPolicyTranslator[];
  readonly tls?: readonly TlsHostTranslator[];
  readonly cluster?: readonly ClusterPolicyTranslator[];
  readonly contributors?: readonly ResourceContributor[];
}

export const FILTER_CONFIG_TYPE = 'type.googleapis.com/envoy.config.route.v3.FilterConfig';

/**
 * Sets the per-route (or per-virtual-host) config of an HTTP filter, wrapped in a
 * FilterConfig: that enables a filter listed with `disabled: true` for this route
 * only, and `is_optional` lets proxyless gRPC clients (which share the route
 * configuration and lack most filters) ignore it instead of rejecting the route.
 * Envoy 1.39 refuses a FilterConfig with neither a config nor `disabled` ("Empty
 * route/virtual host per filter configuration"): to only enable a filter that has no
 * per-route settings, pass `{ '@type': <a per-route type its factory accepts> }`.
 */
export function perFilterConfig(target: JsonObject, filterName: string, config?: JsonObject, disabled = false): void {
  if (!config && !disabled) throw new Error(`perFilterConfig(${filterName}): Envoy refuses a FilterConfig without config unless it disables the filter`);
  const map = (target['typed_per_filter_config'] ??= {}) as JsonObject;
  map[filterName] = filterConfig(config, disabled);
}

/**
 * The FilterConfig wrapping `config`: one object per config object (and one for "disabled"
 * alone), so that routes given the same config object share the whole value (resource
 * objects are never mutated once built) and the encoder writes it once per build.
 */
function filterConfig(config: JsonObject | undefined, disabled: boolean): JsonObject {
  if (!config) return DISABLED_FILTER_CONFIG;
  if (disabled) return { '@type': FILTER_CONFIG_TYPE, config, disabled: true, is_optional: true };
  let wrapped = filterConfigs.get(config);
  if (!wrapped) {
    wrapped = { '@type': FILTER_CONFIG_TYPE, config, is_optional: true };
    filterConfigs.set(config, wrapped);
  }
  return wrapped;
}

const filterConfigs = new WeakMap<JsonObject, JsonObject>();
const DISABLED_FILTER_CONFIG: JsonObject = { '@type': FILTER_CONFIG_TYPE, disabled: true, is_optional: true };
