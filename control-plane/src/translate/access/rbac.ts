// IP allow/deny lists on Envoy's RBAC filter (envoy.filters.http.rbac), at three levels:
//   instance:     the filter's own config in the connection manager (serve options
//                 --allow-source-range / --deny-source-range); the filter is always in the
//                 chain, with no rules when no instance list is set, so the first list on
//                 any level never changes the listener (no LDS, no drain);
//   domain:       RBACPerRoute on the virtual host;
//   route:        RBACPerRoute on the route.
// Envoy uses the most specific per-filter config (route > virtual host > filter), which is
// exactly "the most specific level that sets a list decides". Inside a level deny wins:
// one ALLOW policy whose principal is (in an allow entry, when there is an allow list) AND
// NOT (in a deny entry). The address matched is `remote_ip`: the trusted client address,
// i.e. the peer, or the Nth X-Forwarded-For entry from the right with
// xff_num_trusted_hops = N (--trusted-hops); never `direct_remote_ip` (always the peer,
// which behind a load balancer is the load balancer) and never the raw header.
import type { HostPolicy, RoutePolicy } from '../../model/ir.js';
import type { IpAccessLists } from '../../annotations/access/ip-access.js';
import type { JsonObject } from '../../xds/encode.js';
import { FILTER_ORDER, perFilterConfig, type ResourceContributor } from '../extension.js';
import type { TranslateOptions } from '../options.js';

export const RBAC_FILTER = 'envoy.filters.http.rbac';
const RBAC_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC';
const RBAC_PER_ROUTE_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBACPerRoute';

function remoteIp(cidr: string): JsonObject {
  const slash = cidr.lastIndexOf('/');
  return { remote_ip: { address_prefix: cidr.slice(0, slash), prefix_len: Number(cidr.slice(slash + 1)) } };
}

function anyOf(cidrs: readonly string[]): JsonObject {
  return cidrs.length === 1 ? remoteIp(cidrs[0]!) : { or_ids: { ids: cidrs.map(remoteIp) } };
}

/** The RBAC rules of one level (an RBAC message: rules only). */
export function rbacRules(lists: IpAccessLists): JsonObject {
  // ALLOW with no policy denies everything: an invalid list fails closed.
  if (lists.invalid) return { rules: { action: 'ALLOW' } };
  const allow = lists.allow ?? [];
  const deny = lists.deny ?? [];
  let principal: JsonObject;
  if (allow.length && deny.length) principal = { and_ids: { ids: [anyOf(allow), { not_id: anyOf(deny) }] } };
  else if (allow.length) principal = anyOf(allow);
  else if (deny.length) principal = { not_id: anyOf(deny) };
  else principal = { any: true };
  return { rules: { action: 'ALLOW', policies: { 'xgate-source-range': { permissions: [{ any: true }], principals: [principal] } } } };
}

/** The RBACPerRoute of a list, one object per list (the routes and hosts of an Ingress share theirs). */
function perRoute(lists: IpAccessLists): JsonObject {
  let config = perRouteConfigs.get(lists);
  if (!config) {
    config = { '@type': RBAC_PER_ROUTE_TYPE, rbac: rbacRules(lists) };
    perRouteConfigs.set(lists, config);
  }
  return config;
}

const perRouteConfigs = new WeakMap<IpAccessLists, JsonObject>();

export function applyRouteIpAccess(policy: RoutePolicy, route: JsonObject): void {
  if (policy.ipAccess) perFilterConfig(route, RBAC_FILTER, perRoute(policy.ipAccess));
}

export function applyHostIpAccess(policy: HostPolicy, vhost: JsonObject): void {
  if (!policy.ipAccess) return;
  perFilterConfig(vhost, RBAC_FILTER, perRoute(policy.ipAccess));
  // An invalid domain list closes every route of the host, even one with its own list.
  if (policy.ipAccess.invalid) {
    for (const route of (vhost['routes'] as JsonObject[] | undefined) ?? []) perFilterConfig(route, RBAC_FILTER, perRoute(policy.ipAccess));
  }
}

/** Whether the chain's RBAC enforces anything: the gateway-wide source ranges (else it has no rules). */
export function chainRbacEnforces(opts: TranslateOptions): boolean {
  const ranges = opts.sourceRanges;
  return !!ranges && (ranges.allow.length > 0 || ranges.deny.length > 0);
}

export const rbacContributor: ResourceContributor = {
  order: FILTER_ORDER.ipAccess,
  httpFilters(ctx) {
    const ranges = ctx.opts.sourceRanges;
    const config: JsonObject = { '@type': RBAC_TYPE };
    if (ranges && chainRbacEnforces(ctx.opts)) {
      Object.assign(config, rbacRules({ ...(ranges.allow.length ? { allow: ranges.allow } : {}), ...(ranges.deny.length ? { deny: ranges.deny } : {}) }));
    }
    return [{ name: RBAC_FILTER, typed_config: config }];
  },
};
