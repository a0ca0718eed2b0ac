// Traffic route policies: CORS (per-route CorsPolicy), header control, retries and
// mirroring (RouteAction fields). Custom error pages: see custom-errors.ts.
import type { RoutePolicy } from '../../model/ir.js';
import type { JsonObject } from '../../xds/encode.js';
import type { CorsSpec, OriginMatch } from '../../annotations/traffic/cors.js';
import type { HeaderOperations } from '../../annotations/traffic/headers.js';
import { perFilterConfig } from '../extension.js';

export const CORS_FILTER = 'envoy.filters.http.cors';
export const CORS_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors';
export const CORS_POLICY_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy';

function originMatcher(o: OriginMatch): JsonObject {
  switch (o.type) {
    case 'any':
      return { safe_regex: { regex: '.*' } };
    case 'exact':
      return { exact: o.value, ignore_case: true };
    case 'regex':
      return { safe_regex: { regex: o.value } };
  }
}

export function corsPolicy(c: CorsSpec): JsonObject {
  return {
    '@type': CORS_POLICY_TYPE,
    allow_origin_string_match: c.origins.map(originMatcher),
    allow_methods: c.allowMethods,
    allow_headers: c.allowHeaders,
    ...(c.exposeHeaders ? { expose_headers: c.exposeHeaders } : {}),
    max_age: String(c.maxAgeSeconds),
    allow_credentials: c.allowCredentials,
    // A preflight from an origin that is not allowed is answered by Envoy (no CORS
    // headers), not passed to the backend: ingress-nginx answers every preflight itself.
    forward_not_matching_preflights: false,
  };
}

export function applyCors(policy: RoutePolicy, route: JsonObject): void {
  if (!policy.cors || policy.failClosed) return;
  perFilterConfig(route, CORS_FILTER, corsPolicy(policy.cors));
}

function push(route: JsonObject, field: string, items: readonly JsonObject[] | readonly string[]): void {
  if (!items.length) return;
  const list = (route[field] ??= []) as (JsonObject | string)[];
  list.push(...items);
}

function headerOptions(ops: HeaderOperations): JsonObject[] {
  return [
    ...ops.add.map((e): JsonObject => ({ header: { key: e.name, value: e.value }, append_action: 'APPEND_IF_EXISTS_OR_ADD' })),
    ...ops.update.map((e): JsonObject => ({ header: { key: e.name, value: e.value }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' })),
  ];
}

export function applyHeaderControl(policy: RoutePolicy, route: JsonObject): void {
  const hc = policy.headerControl;
  if (!hc || policy.failClosed) return;
  if (hc.request) {
    push(route, 'request_headers_to_add', headerOptions(hc.request));
    push(route, 'request_headers_to_remove', hc.request.remove);
  }
  if (hc.response) {
    push(route, 'response_headers_to_add', headerOptions(hc.response));
    push(route, 'response_headers_to_remove', hc.response.remove);
  }
}

/** nginx never retries these methods without `non_idempotent`. */
const NON_IDEMPOTENT = 'POST|LOCK|PATCH';

export function applyRetry(policy: RoutePolicy, route: JsonObject): void {
  const r = policy.retry;
  const action = route['route'] as JsonObject | undefined;
  if (!r || !action) return;
  action['retry_policy'] = {
    retry_on: r.retryOn.join(','),
    num_retries: r.numRetries,
    ...(r.perTryTimeoutSeconds !== undefined ? { per_try_timeout: `${r.perTryTimeoutSeconds}s` } : {}),
    ...(r.statusCodes.length ? { retriable_status_codes: [...r.statusCodes] } : {}),
    ...(r.nonIdempotent ? {} : { retriable_request_headers: [{ name: ':method', string_match: { safe_regex: { regex: NON_IDEMPOTENT } }, invert_match: true }] }),
  };
}

export function applyMirror(policy: RoutePolicy, route: JsonObject): void {
  const m = policy.mirror;
  const action = route['route'] as JsonObject | undefined;
  if (!m || !action) return;
  const mirror: JsonObject = { cluster: m.cluster };
  if (m.percent < 100) {
    mirror['runtime_fraction'] = { default_value: { numerator: Math.round(m.percent * 10000), denominator: 'MILLION' } };
  }
  const list = (action['request_mirror_policies'] ??= []) as JsonObject[];
  list.push(mirror);
}
