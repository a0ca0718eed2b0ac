// RoutePolicy.basicAuth → Envoy's basic_auth filter with the users set per route
// (BasicAuthPerRoute, RDS). The filter is listed with `disabled: true` and an empty
// user list (a comment line: Envoy requires the field to be non-empty), present only
// while some route uses Basic authentication; user changes never touch the listeners.
import type { Route, RoutePolicy } from '../../model/ir.js';
import type { JsonObject } from '../../xds/encode.js';
import { FILTER_ORDER, perFilterConfig, type ResourceContributor } from '../extension.js';

export const BASIC_AUTH_FILTER = 'envoy.filters.http.basic_auth';
const T = 'type.googleapis.com/envoy.extensions.filters.http.basic_auth.v3.';

export function applyBasicAuth(policy: RoutePolicy, route: JsonObject): void {
  if (!policy.basicAuth || policy.failClosed) return;
  perFilterConfig(route, BASIC_AUTH_FILTER, perRoute(policy.basicAuth));
}

/** One BasicAuthPerRoute per user list: the routes of an Ingress share it (and it can move up to their virtual host). */
function perRoute(basicAuth: NonNullable<RoutePolicy['basicAuth']>): JsonObject {
  let config = perRouteConfigs.get(basicAuth);
  if (!config) {
    config = { '@type': `${T}BasicAuthPerRoute`, users: { inline_string: basicAuth.users } };
    perRouteConfigs.set(basicAuth, config);
  }
  return config;
}

const perRouteConfigs = new WeakMap<object, JsonObject>();

export const basicAuthContributor: ResourceContributor = {
  order: FILTER_ORDER.basicAuth,
  httpFilters(ctx) {
    const used = ctx.collect('auth-basic', (r: Route) => (r.policy?.basicAuth && !r.policy.failClosed ? true : undefined));
    if (!used.length) return [];
    return [{ name: BASIC_AUTH_FILTER, disabled: true, typed_config: { '@type': `${T}BasicAuth`, users: { inline_string: '# xgate: users are set per route\n' } } }];
  },
};
