// RoutePolicy.jwt → Envoy's jwt_authn filter. Providers can only live in the filter's
// own config (the listeners, LDS): one provider and one requirement per JWT Ingress,
// both named `<namespace>/<ingress>`. Routes select their requirement by name with a
// per-route PerRouteConfig (RDS). The filter is listed with `disabled: true`, so a route
// without a JWT policy never runs it, and is present only while some route uses JWT:
// a gateway without JWT keeps exactly the listeners it had.
import type { Route, RoutePolicy } from '../../model/ir.js';
import type { JwtPolicy } from '../../annotations/auth-jwt.js';
import type { JsonObject } from '../../xds/encode.js';
import { FILTER_ORDER, perFilterConfig, type FilterContext, type ResourceContributor } from '../extension.js';
import { externalCluster, externalClusterName, externalTarget } from '../external-cluster.js';

export const JWT_FILTER = 'envoy.filters.http.jwt_authn';
const T = 'type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.';
const JWT_TYPE = `${T}JwtAuthentication`;
const JWT_PER_ROUTE_TYPE = `${T}PerRouteConfig`;

/** How long Envoy keeps a JWKS fetched from a URL before fetching it again. */
export const JWKS_CACHE_DURATION = '300s';

export function applyJwt(policy: RoutePolicy, route: JsonObject): void {
  if (!policy.jwt || policy.failClosed) return;
  perFilterConfig(route, JWT_FILTER, perRoute(policy.jwt));
}

/** One PerRouteConfig per policy: the routes of an Ingress share it (and it can move up to their virtual host). */
function perRoute(jwt: JwtPolicy): JsonObject {
  let config = perRouteConfigs.get(jwt);
  if (!config) {
    config = { '@type': JWT_PER_ROUTE_TYPE, requirement_name: jwt.name };
    perRouteConfigs.set(jwt, config);
  }
  return config;
}

const perRouteConfigs = new WeakMap<JwtPolicy, JsonObject>();

function provider(p: JwtPolicy): JsonObject {
  const out: JsonObject = { issuer: p.issuer };
  if (p.audiences.length) out['audiences'] = [...p.audiences];
  if (p.jwks.kind === 'inline') {
    out['local_jwks'] = { inline_string: p.jwks.json };
  } else {
    const url = new URL(p.jwks.uri);
    out['remote_jwks'] = {
      http_uri: { uri: p.jwks.uri, cluster: externalClusterName(externalTarget(url)), timeout: '5s' },
      cache_duration: JWKS_CACHE_DURATION,
      // Fetch when the listener starts, without holding the listener back for it.
      async_fetch: { fast_listener: true },
    };
  }
  if (p.forward) out['forward'] = true;
  if (p.from.headers.length) out['from_headers'] = p.from.headers.map((h) => ({ name: h.name, ...(h.prefix ? { value_prefix: h.prefix } : {}) }));
  if (p.from.params.length) out['from_params'] = [...p.from.params];
  if (p.from.cookies.length) out['from_cookies'] = [...p.from.cookies];
  if (p.claimToHeaders.length) out['claim_to_headers'] = p.claimToHeaders.map((c) => ({ header_name: c.header, claim_name: c.claim }));
  return out;
}

function requirement(p: JwtPolicy): JsonObject {
  return p.allowMissing ? { requires_any: { requirements: [{ provider_name: p.name }, { allow_missing: {} }] } } : { provider_name: p.name };
}

function policies(ctx: FilterContext): JwtPolicy[] {
  const byName = new Map<string, JwtPolicy>();
  for (const p of ctx.collect('auth-jwt', (r: Route) => (r.policy?.jwt && !r.policy.failClosed ? r.policy.jwt : undefined))) byName.set(p.name, p);
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export const jwtContributor: ResourceContributor = {
  order: FILTER_ORDER.jwt,
  httpFilters(ctx) {
    const list = policies(ctx);
    if (!list.length) return [];
    const providers: JsonObject = {};
    const requirements: JsonObject = {};
    for (const p of list) {
      providers[p.name] = provider(p);
      requirements[p.name] = requirement(p);
    }
    return [{ name: JWT_FILTER, disabled: true, typed_config: { '@type': JWT_TYPE, providers, requirement_map: requirements } }];
  },
  clusters(ctx) {
    const out: JsonObject[] = [];
    for (const p of policies(ctx)) if (p.jwks.kind === 'uri') out.push(externalCluster(externalTarget(new URL(p.jwks.uri)), ctx.opts));
    return out;
  },
};
