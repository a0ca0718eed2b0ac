// Custom error pages (N `default-backend` + `custom-http-errors`) on Envoy's
// custom_response filter.
//
// The filter sits first in every connection manager with an empty config (it does
// nothing); a route with custom errors gets a per-route config whose matcher picks the
// statuses to replace. Its action is a redirect policy: Envoy replays the request
// internally as `GET /` with X-Code (and the other ingress-nginx headers) plus
// `x-xgate-error-route: <route name>`, and returns what that request gets. The replayed
// request is matched like any other, so each such route gets a sibling "error route" at
// the front of its virtual host: path `/` and that header → the default-backend
// cluster. The sibling carries the source route's per-filter configs (auth, IP lists,
// WAF…), so sending the header by hand reaches nothing the route itself does not allow.
//
// The siblings are added by a host translator, which only runs for hosts that have a
// policy: the family sets HostPolicy.customErrorRoutes on every host of the Ingress. The
// per-route config is added there too, so a route whose host lacks the marker (an
// Ingress's spec.defaultBackend on the catch-all host) gets no custom errors at all
// rather than a redirect with nowhere to go.
import type { HostPolicy, RoutePolicy } from '../../model/ir.js';
import type { JsonObject } from '../../xds/encode.js';
import type { CustomErrorsSpec } from '../../annotations/traffic/custom-errors.js';
import { perFilterConfig } from '../extension.js';

export const CUSTOM_RESPONSE_FILTER = 'envoy.filters.http.custom_response';
export const CUSTOM_RESPONSE_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.custom_response.v3.CustomResponse';
const REDIRECT_POLICY_TYPE = 'type.googleapis.com/envoy.extensions.http.custom_response.redirect_policy.v3.RedirectPolicy';
const STATUS_INPUT = 'type.googleapis.com/envoy.type.matcher.v3.HttpResponseStatusCodeMatchInput';
const HEADER_INPUT = 'type.googleapis.com/envoy.type.matcher.v3.HttpResponseHeaderMatchInput';
/** The request header that sends a replayed request to its route's error route. */
export const ERROR_ROUTE_HEADER = 'x-xgate-error-route';
/** Envoy's router adds it to every response that came from an upstream: its absence marks Envoy's own replies. */
const UPSTREAM_TIME_HEADER = 'x-envoy-upstream-service-time';

/** Route JSON objects with custom errors, set by the route translator, read by the host translator. */
const pending = new WeakMap<JsonObject, CustomErrorsSpec>();

export function markCustomErrors(policy: RoutePolicy, route: JsonObject): void {
  if (!policy.customErrors || policy.failClosed) return;
  pending.set(route, policy.customErrors);
}

function header(key: string, value: string): JsonObject {
  return { header: { key, value: value.replace(/%/g, '%%') }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' };
}

function redirect(spec: CustomErrorsSpec, routeName: string, code: number): JsonObject {
  return {
    name: 'default-backend',
    typed_config: {
      '@type': REDIRECT_POLICY_TYPE,
      redirect_action: { path_redirect: '/' },
      request_headers_to_add: [
        header(ERROR_ROUTE_HEADER, routeName),
        header('x-code', String(code)),
        { header: { key: 'x-format', value: '%REQ(accept)%' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
        header('x-namespace', spec.namespace),
        header('x-ingress-name', spec.ingress),
        header('x-service-name', spec.service),
        header('x-service-port', String(spec.port)),
      ],
    },
  };
}

function statusIs(code: number): JsonObject {
  return { single_predicate: { input: { name: 'status', typed_config: { '@type': STATUS_INPUT } }, value_match: { exact: String(code) } } };
}

export function customResponseConfig(spec: CustomErrorsSpec, routeName: string): JsonObject {
  const matchers: JsonObject[] = spec.codes.map((code) => ({ predicate: statusIs(code), on_match: { action: redirect(spec, routeName, code) } }));
  if (!spec.codes.includes(503)) {
    // Envoy's own 503 (no endpoints, no Service, connection failures): as ingress-nginx,
    // the default backend answers when the route's backend cannot.
    matchers.push({
      predicate: {
        and_matcher: {
          predicate: [
            statusIs(503),
            { not_matcher: { single_predicate: { input: { name: 'upstream-time', typed_config: { '@type': HEADER_INPUT, header_name: UPSTREAM_TIME_HEADER } }, value_match: { safe_regex: { google_re2: {}, regex: '.*' } } } } },
          ],
        },
      },
      on_match: { action: redirect(spec, routeName, 503) },
    });
  }
  return { '@type': CUSTOM_RESPONSE_TYPE, custom_response_matcher: { matcher_list: { matchers } } };
}

function errorRoute(source: JsonObject, spec: CustomErrorsSpec): JsonObject {
  const name = String(source['name']);
  const match = source['match'] as JsonObject;
  const authority = ((match['headers'] ?? []) as JsonObject[]).filter((h) => h['name'] === ':authority');
  const out: JsonObject = {
    name: `${name}/custom-error`,
    match: { path: '/', headers: [...authority, { name: ERROR_ROUTE_HEADER, string_match: { exact: name } }] },
    route: { cluster: spec.cluster },
  };
  const pfc = source['typed_per_filter_config'] as JsonObject | undefined;
  if (pfc) {
    const copy: JsonObject = {};
    for (const [k, v] of Object.entries(pfc)) if (k !== CUSTOM_RESPONSE_FILTER) copy[k] = v;
    if (Object.keys(copy).length) out['typed_per_filter_config'] = copy;
  }
  return out;
}

export function addErrorRoutes(policy: HostPolicy, vhost: JsonObject): void {
  if (!policy.customErrorRoutes) return;
  const routes = vhost['routes'] as JsonObject[];
  const siblings: JsonObject[] = [];
  const seen = new Set<string>();
  for (const r of routes) {
    const spec = pending.get(r);
    if (!spec) continue;
    const name = String(r['name']);
    if (seen.has(name)) continue;
    seen.add(name);
    siblings.push(errorRoute(r, spec));
    perFilterConfig(r, CUSTOM_RESPONSE_FILTER, customResponseConfig(spec, name));
  }
  if (siblings.length) vhost['routes'] = [...siblings, ...routes];
}
