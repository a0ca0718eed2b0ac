// RoutePolicy.extAuth → one `envoy.filters.http.ext_authz` instance per distinct auth
// service config (listed `disabled: true` in the connection managers, enabled per route
// by a FilterConfig in typed_per_filter_config), the cluster of the auth service, and
// for auth-signin a `custom_response` instance that turns the auth service's 401 into
// a 302 to the sign-in URL on that route.
import type { RoutePolicy } from '../../model/ir.js';
import type { ExtAuthSpec } from '../../annotations/auth-external/ext-auth.js';
import type { JsonObject } from '../../xds/encode.js';
import { FILTER_ORDER, perFilterConfig, type FilterContext, type ResourceContributor, type RoutePolicyTranslator } from '../extension.js';
import { externalCluster, externalClusterName } from '../external-cluster.js';
import { specHash } from './names.js';

const T = 'type.googleapis.com/';
export const EXT_AUTHZ_TYPE = `${T}envoy.extensions.filters.http.ext_authz.v3.ExtAuthz`;
const EXT_AUTHZ_PER_ROUTE_TYPE = `${T}envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute`;
export const CUSTOM_RESPONSE_TYPE = `${T}envoy.extensions.filters.http.custom_response.v3.CustomResponse`;
const LOCAL_RESPONSE_POLICY_TYPE = `${T}envoy.extensions.http.custom_response.local_response_policy.v3.LocalResponsePolicy`;
const HEADER_MUTATION_TYPE = `${T}envoy.extensions.filters.http.header_mutation.v3.HeaderMutation`;
const HEADER_MUTATION_PER_ROUTE_TYPE = `${T}envoy.extensions.filters.http.header_mutation.v3.HeaderMutationPerRoute`;
const STATUS_CODE_INPUT_TYPE = `${T}envoy.type.matcher.v3.HttpResponseStatusCodeMatchInput`;

/** The custom_response instance that serves auth-signin redirects (one for all routes). */
export const SIGNIN_FILTER = 'xgate.auth_signin';
/**
 * The header_mutation instance that removes the client's own copies of the
 * auth-response-headers before ext_authz runs, so a header the auth service does not
 * set can never be supplied by the client (ingress-nginx overwrites them, too).
 */
export const STRIP_FILTER = 'xgate.auth_strip';

export function extAuthzFilterName(spec: ExtAuthSpec): string {
  return `xgate.ext_authz.${specHash(spec)}`;
}

/** Hop-by-hop and body-framing headers never go to the auth service (its request has no body). */
const NEVER_SENT = ['connection', 'expect', 'keep-alive', 'proxy-connection', 'te', 'transfer-encoding', 'upgrade'];

function exact(name: string): JsonObject {
  return { exact: name, ignore_case: true };
}

function secondsDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(3)}s`;
}

/** The ExtAuthz filter config of one auth service config. */
export function extAuthzConfig(spec: ExtAuthSpec): JsonObject {
  const cluster = externalClusterName(spec);
  const name = extAuthzFilterName(spec);
  // Headers like ingress-nginx sends (X-Original-URI, X-Original-Method, X-Original-URL,
  // X-Auth-Request-Redirect, X-Sent-From); values formatted by Envoy from the request.
  const headersToAdd: JsonObject[] = [
    { key: 'x-original-uri', value: '%REQ(:path)%' },
    { key: 'x-original-method', value: '%REQ(:method)%' },
    { key: 'x-original-url', value: '%REQ(x-forwarded-proto)%://%REQ(:authority)%%REQ(:path)%' },
    { key: 'x-auth-request-redirect', value: spec.requestRedirect ?? '%REQ(:path)%' },
    { key: 'x-sent-from', value: 'xgate' },
  ];
  const http: JsonObject = {
    server_uri: { uri: spec.url, cluster, timeout: secondsDuration(spec.timeoutMs) },
    ...(spec.pathPrefix ? { path_prefix: spec.pathPrefix } : {}),
    authorization_request: { headers_to_add: headersToAdd },
    ...(spec.responseHeaders.length ? { authorization_response: { allowed_upstream_headers: { patterns: spec.responseHeaders.map(exact) } } } : {}),
  };
  return {
    '@type': EXT_AUTHZ_TYPE,
    http_service: http,
    transport_api_version: 'V3',
    // Fail closed: an unreachable, timed-out or 5xx auth service denies with 500 (as ingress-nginx).
    failure_mode_allow: false,
    status_on_error: { code: 'InternalServerError' },
    stat_prefix: name.replace(/\./g, '_'),
    allowed_headers: { patterns: spec.requestHeaders ? spec.requestHeaders.map(exact) : [{ safe_regex: { regex: '.*' } }] },
    disallowed_headers: { patterns: NEVER_SENT.map(exact) },
  };
}

/** The per-route custom_response config: a 401 from the auth service becomes a 302 to auth-signin. */
export function signinConfig(signin: NonNullable<ExtAuthSpec['signin']>): JsonObject {
  const sep = signin.url.includes('?') ? '&' : '?';
  const location = `${signin.url}${sep}${signin.redirectParam}=%REQ(x-forwarded-proto)%://%REQ(:authority)%%REQ(:path)%`;
  return {
    '@type': CUSTOM_RESPONSE_TYPE,
    custom_response_matcher: {
      matcher_list: {
        matchers: [
          {
            predicate: {
              single_predicate: {
                input: { name: 'status', typed_config: { '@type': STATUS_CODE_INPUT_TYPE } },
                value_match: { exact: '401' },
              },
            },
            on_match: {
              action: {
                name: 'auth-signin',
                typed_config: {
                  '@type': LOCAL_RESPONSE_POLICY_TYPE,
                  status_code: 302,
                  response_headers_to_add: [{ header: { key: 'location', value: location }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' }],
                },
              },
            },
          },
        ],
      },
    },
  };
}

const applyExtAuth: RoutePolicyTranslator = (policy: RoutePolicy, route: JsonObject) => {
  const spec = policy.extAuth;
  if (!spec || policy.failClosed) return;
  // An explicit per-route config enables the instance listed `disabled: true` (a FilterConfig without one is refused).
  perFilterConfig(route, extAuthzFilterName(spec), EXT_AUTHZ_PER_ROUTE);
  const configs = routeConfigsOf(spec);
  if (configs.signin) perFilterConfig(route, SIGNIN_FILTER, configs.signin);
  if (configs.strip) perFilterConfig(route, STRIP_FILTER, configs.strip);
};

/** Enables the ext_authz instance on a route (no settings): one object for every route. */
const EXT_AUTHZ_PER_ROUTE: JsonObject = { '@type': EXT_AUTHZ_PER_ROUTE_TYPE, check_settings: {} };

/** The per-route configs a spec gives, made once per spec: the routes of an Ingress share them. */
const routeConfigs = new WeakMap<ExtAuthSpec, { readonly signin?: JsonObject; readonly strip?: JsonObject }>();

function routeConfigsOf(spec: ExtAuthSpec): { readonly signin?: JsonObject; readonly strip?: JsonObject } {
  let c = routeConfigs.get(spec);
  if (!c) {
    c = {
      ...(spec.signin ? { signin: signinConfig(spec.signin) } : {}),
      ...(spec.responseHeaders.length
        ? { strip: { '@type': HEADER_MUTATION_PER_ROUTE_TYPE, mutations: { request_mutations: spec.responseHeaders.map((h) => ({ remove: h })) } } }
        : {}),
    };
    routeConfigs.set(spec, c);
  }
  return c;
}

/** The distinct specs of a collected list, sorted by filter name: four contributors ask per build, and an unchanged list is the same array. */
const specsOf = new WeakMap<readonly ExtAuthSpec[], readonly ExtAuthSpec[]>();

function specs(ctx: FilterContext): readonly ExtAuthSpec[] {
  const collected = ctx.collect('ext-authz', (r) => (r.policy?.failClosed ? undefined : r.policy?.extAuth));
  let out = specsOf.get(collected);
  if (!out) {
    const byName = new Map<string, ExtAuthSpec>();
    for (const s of collected) byName.set(extAuthzFilterName(s), s);
    out = [...byName.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, s]) => s);
    specsOf.set(collected, out);
  }
  return out;
}

const extAuthzContributor: ResourceContributor = {
  order: FILTER_ORDER.extAuthz,
  httpFilters(ctx) {
    return specs(ctx).map((s) => ({ name: extAuthzFilterName(s), typed_config: extAuthzConfig(s), disabled: true }));
  },
  clusters(ctx) {
    const out = new Map<string, JsonObject>();
    for (const s of specs(ctx)) out.set(externalClusterName(s), externalCluster(s, ctx.opts));
    return [...out.values()];
  },
};

/** Just before ext_authz, so its encoder sees ext_authz's local 401 reply. */
const signinContributor: ResourceContributor = {
  order: FILTER_ORDER.extAuthz - 1,
  httpFilters(ctx) {
    const any = specs(ctx).some((s) => s.signin);
    return any ? [{ name: SIGNIN_FILTER, typed_config: { '@type': CUSTOM_RESPONSE_TYPE }, disabled: true }] : [];
  },
};

export const EXT_AUTHZ_ROUTE_TRANSLATORS: readonly RoutePolicyTranslator[] = [applyExtAuth];
/** Before ext_authz (and before the sign-in filter): strips client-sent auth response headers. */
const stripContributor: ResourceContributor = {
  order: FILTER_ORDER.extAuthz - 2,
  httpFilters(ctx) {
    const any = specs(ctx).some((s) => s.responseHeaders.length > 0);
    return any ? [{ name: STRIP_FILTER, typed_config: { '@type': HEADER_MUTATION_TYPE }, disabled: true }] : [];
  },
};

export const EXT_AUTHZ_CONTRIBUTORS: readonly ResourceContributor[] = [stripContributor, signinContributor, extAuthzContributor];
