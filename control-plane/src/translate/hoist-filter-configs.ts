// Per-filter configs moved from a virtual host's routes up to the virtual host, where
// that means the same to Envoy.
//
// An Ingress's annotations (auth-url, whitelist-source-range, auth-type…) apply to every
// path of it, so each of its routes carries the same FilterConfig objects in
// `typed_per_filter_config`. Envoy builds a route-specific config per route that carries
// one (an RBAC engine, an ext_authz check, a custom response matcher…): at 10,000
// Ingresses of the benchmark mix those configs were 43 % of the plain-HTTP
// RouteConfiguration's bytes, and `envoy --mode validate` of that configuration took
// 3.15 s with them per route, 2.14 s with them per virtual host, 1.84 s without any.
//
// Envoy looks a filter's config up route first, then virtual host: a config set on the
// virtual host applies to every route that sets none of its own. So, per filter name not
// already configured on the virtual host, a config object `C` carried by two routes at
// least moves up when every route either carries `C` or carries none for that filter,
// and those that carry none can be made to mean the same:
// - a filter listed `disabled: true` in the chain (offByDefault) does not run on a route
//   without a config: such a route gets `FilterConfig { disabled: true }`, which keeps it
//   off, and this is done only when fewer routes need it than drop `C`;
//   The RBAC filter counts as such while the gateway has no source ranges of its own
//   (`--whitelist-source-range`/`--denylist-source-range` unset): its chain config then
//   has no rules and enforces nothing, as a route where it is off (setNoOpChainFilters);
// - any other filter (CORS, rate limit, RBAC with gateway-wide ranges…) runs on such a
//   route with the chain's config, which no route-level config reproduces in general: not
//   moved unless every route carries `C`.
// When a route carries a different config for the filter, nothing moves: ext_authz
// merges context extensions and header mutation applies every level, so a config on both
// levels is not the same as one on the route; such a filter is left as it is.
//
// Routes are compared by object: translation gives the routes of one Ingress the same
// FilterConfig object (extension.ts filterConfig), so configs equal in content but made
// apart stay on their routes (no harm, no saving). A config with state in Envoy (local
// rate limit's token buckets) must stay one object per route for the same reason: moved
// up, its routes would share one bucket. Deterministic: the same routes give the same
// result.
import type { JsonObject } from '../xds/encode.js';
import { FILTER_CONFIG_TYPE } from './extension.js';

/**
 * The HTTP filters that every gateway chain lists `disabled: true` (a route enables them
 * with a per-route config): ext_authz and OAuth2 instances, the auth sign-in and
 * header-strip filters, JWT, Basic auth and the WAF. test/unit/hoist-filter-configs.test.ts
 * checks this against the chains of every golden case.
 */
export function offByDefault(filterName: string): boolean {
  return OFF_BY_DEFAULT.has(filterName) || OFF_BY_DEFAULT_PREFIXES.some((p) => filterName.startsWith(p));
}

/**
 * Filters that run in every chain with a config that does nothing in this translation
 * (the RBAC filter without gateway-wide source ranges): a route without a config of its
 * own may switch them off. translate() sets this at the start of every build, and
 * forgets what it memoised when it changes (virtual hosts are memoised without options).
 */
let noOpInChain: ReadonlySet<string> = new Set();

/** Sets the filters whose chain config is a no-op; true when that differs from the last call. */
export function setNoOpChainFilters(names: ReadonlySet<string>): boolean {
  if (names.size === noOpInChain.size && [...names].every((n) => noOpInChain.has(n))) return false;
  noOpInChain = names;
  return true;
}

/** Whether a route without a config for this filter may be given one that switches it off. */
function offWithoutConfig(filterName: string): boolean {
  return offByDefault(filterName) || noOpInChain.has(filterName);
}

const OFF_BY_DEFAULT = new Set(['xgate.auth_signin', 'xgate.auth_strip', 'envoy.filters.http.jwt_authn', 'envoy.filters.http.basic_auth']);
const OFF_BY_DEFAULT_PREFIXES = ['xgate.ext_authz.', 'xgate.oauth2.', 'xgate.waf.'];

/**
 * What a route gets for a filter that is off by default when the virtual host enables it.
 * Envoy skips a disabled filter without building its config; the config is there for
 * proxyless gRPC clients (they share the route configuration): @grpc/grpc-js-xds rejects
 * the whole RouteConfiguration for a FilterConfig without one, and ignores (is_optional)
 * a config of a type it has no filter for.
 */
export const KEEP_DISABLED: JsonObject = { '@type': FILTER_CONFIG_TYPE, config: { '@type': 'type.googleapis.com/google.protobuf.Empty' }, disabled: true, is_optional: true };

const TPFC = 'typed_per_filter_config';

/**
 * Moves shared per-filter configs of `vhost`'s routes up to `vhost` (see above). `vhost`
 * and its routes must be objects this translation just made and nothing else holds yet:
 * they are changed in place. A route's `typed_per_filter_config` map is replaced, not
 * changed (its keys in their order, the added ones last), and set to undefined when
 * nothing is left in it (no `delete`: the route keeps its shape; JSON and the encoder
 * leave undefined out).
 */
export function hoistFilterConfigs(vhost: JsonObject): void {
  const routes = vhost['routes'] as JsonObject[] | undefined;
  if (!routes || routes.length < 2) return;
  // The filter names the routes configure, in the order first met.
  let names: string[] | undefined;
  for (const r of routes) {
    const m = r[TPFC] as JsonObject | undefined;
    if (!m) continue;
    for (const name in m) if (!names?.includes(name)) (names ??= []).push(name);
  }
  if (!names) return;
  const own = vhost[TPFC] as JsonObject | undefined;
  let up: JsonObject | undefined;
  for (const name of names) {
    if (own && own[name] !== undefined) continue;
    const shared = sharedConfig(routes, name);
    if (shared) (up ??= {})[name] = shared;
  }
  if (!up) return;
  vhost[TPFC] = own ? { ...own, ...up } : up;
  for (const r of routes) {
    const m = r[TPFC] as JsonObject | undefined;
    let next: JsonObject | undefined;
    if (m) for (const k in m) if (up[k] !== m[k]) (next ??= {})[k] = m[k]!;
    for (const k in up) if (!m || m[k] === undefined) (next ??= {})[k] = KEEP_DISABLED;
    // JsonObject has no undefined values in its type; the encoder, JSON and YAML skip them.
    r[TPFC] = next as JsonObject;
  }
}

/** The config of `name` that may move up to the virtual host, if any (see the rules above). */
function sharedConfig(routes: readonly JsonObject[], name: string): JsonObject | undefined {
  let config: JsonObject | undefined;
  let carrying = 0;
  let without = 0;
  for (const r of routes) {
    const c = (r[TPFC] as JsonObject | undefined)?.[name] as JsonObject | undefined;
    if (c === undefined) {
      without++;
      continue;
    }
    if (config === undefined) config = c;
    else if (c !== config) return undefined;
    carrying++;
  }
  if (!config || carrying < 2 || config['disabled'] === true) return undefined;
  if (without === 0) return config;
  return offWithoutConfig(name) && without < carrying ? config : undefined;
}

