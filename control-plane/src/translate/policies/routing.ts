// Routing policies that live in the Envoy RouteAction: the path rewrite computed per route
// (regex_rewrite / prefix_rewrite) and the upstream Host (host_rewrite_literal).
import type { RoutePolicy } from '../../model/ir.js';
import type { JsonObject } from '../../xds/encode.js';

export function applyRoutingRewrites(policy: RoutePolicy, route: JsonObject): void {
  const action = route['route'] as JsonObject | undefined;
  if (!action) return; // redirects and direct responses are not forwarded
  const rw = policy.pathRewrite;
  if (rw?.kind === 'prefix') action['prefix_rewrite'] = rw.value;
  else if (rw?.kind === 'regex') action['regex_rewrite'] = { pattern: { regex: rw.pattern }, substitution: rw.substitution };
  if (policy.hostRewrite !== undefined) action['host_rewrite_literal'] = policy.hostRewrite;
}
