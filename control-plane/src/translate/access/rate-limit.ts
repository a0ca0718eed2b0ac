// Rate limits on Envoy's local rate limit filter (envoy.filters.http.local_ratelimit). The
// filter sits in every connection manager with no token bucket (a no-op); a route with
// limits gets a per-route LocalRateLimit whose buckets are descriptors, and rate_limits
// actions on its RouteAction that produce them:
//   route (all clients):  [xgate_limit=route_rps]                     a static bucket
//   per client:           [xgate_limit=client_rps, remote_address=*]  a wildcard (dynamic)
//                         descriptor: one bucket per trusted client address
// Every matching descriptor must have a token (any empty one → 429). The default bucket
// (required per route) is never consumed (always_consume_default_token_bucket false).
// Envoy keeps at most 20 dynamic buckets per descriptor (max_dynamic_descriptors default;
// the field is not in the API protos xgate encodes with): past 20 concurrent client
// addresses on one route, the least recently seen lose their bucket (it restarts full).
import type { RateBucket } from '../../annotations/access/rate-limit.js';
import type { RoutePolicy } from '../../model/ir.js';
import type { JsonObject } from '../../xds/encode.js';
import { FILTER_ORDER, perFilterConfig, type ResourceContributor } from '../extension.js';

export const LOCAL_RATE_LIMIT_FILTER = 'envoy.filters.http.local_ratelimit';
const LOCAL_RATE_LIMIT_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit';
const KEY = 'xgate_limit';
const UNLIMITED = 4294967295;

function tokenBucket(b: RateBucket): JsonObject {
  return { max_tokens: b.maxTokens, tokens_per_fill: b.tokensPerFill, fill_interval: `${b.fillSeconds}s` };
}

const always = (key: string): JsonObject => ({ default_value: { numerator: 100, denominator: 'HUNDRED' }, runtime_key: key });

export function applyRouteRateLimit(policy: RoutePolicy, route: JsonObject): void {
  const rl = policy.rateLimit;
  const action = route['route'] as JsonObject | undefined;
  if (!rl || !action) return;
  const rateLimits: JsonObject[] = [];
  const descriptors: JsonObject[] = [];
  const add = (name: string, b: RateBucket | undefined, perClient: boolean) => {
    if (!b) return;
    const actions: JsonObject[] = [{ generic_key: { descriptor_key: KEY, descriptor_value: name } }];
    const entries: JsonObject[] = [{ key: KEY, value: name }];
    if (perClient) {
      actions.push({ remote_address: {} });
      entries.push({ key: 'remote_address', value: '' });
    }
    rateLimits.push({ actions });
    descriptors.push({ entries, token_bucket: tokenBucket(b) });
  };
  add('route_rps', rl.route?.rps, false);
  add('route_rpm', rl.route?.rpm, false);
  add('client_rps', rl.client?.rps, true);
  add('client_rpm', rl.client?.rpm, true);
  if (!descriptors.length) return;
  action['rate_limits'] = rateLimits;
  // A new object per route, on purpose: Envoy keeps token buckets per config, so routes
  // sharing one would share their limits (and hoist-filter-configs.ts would move it up).
  perFilterConfig(route, LOCAL_RATE_LIMIT_FILTER, {
    '@type': LOCAL_RATE_LIMIT_TYPE,
    stat_prefix: 'xgate_rate_limit',
    token_bucket: { max_tokens: UNLIMITED, tokens_per_fill: UNLIMITED, fill_interval: '1s' },
    filter_enabled: always('xgate.local_rate_limit.enabled'),
    filter_enforced: always('xgate.local_rate_limit.enforced'),
    descriptors,
    always_consume_default_token_bucket: false,
  });
}

export const rateLimitContributor: ResourceContributor = {
  order: FILTER_ORDER.rateLimit,
  httpFilters() {
    return [{ name: LOCAL_RATE_LIMIT_FILTER, typed_config: { '@type': LOCAL_RATE_LIMIT_TYPE, stat_prefix: 'xgate_rate_limit' } }];
  },
};
