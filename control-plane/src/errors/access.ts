// Diagnostic codes of the access area: IP allow/deny lists, WAF, rate limits (issue 7).
export const ACCESS_CODES = {
  XG_IP_RANGE_INVALID: 'An IP allow/deny list is empty or holds an entry that is not an IPv4/IPv6 address or CIDR: the route (or every route of the host) answers 403',
  XG_IP_RANGE_HOST_BITS: 'A CIDR has address bits set past its prefix length; they are ignored (10.0.0.1/8 is read as 10.0.0.0/8)',
  XG_WAF_MODE_INVALID: 'A WAF annotation holds an unknown mode or value: the route answers 403',
  XG_WAF_SHADOWED: 'xgate.io/waf is set, so the ingress-nginx ModSecurity keys are ignored',
  XG_RATE_LIMIT_INVALID: 'A rate-limit annotation value is invalid: that limit is not applied',
  XG_LIMIT_CONNECTIONS_UNSUPPORTED: 'limit-connections (concurrent connections per client) has no per-route equivalent in Envoy: it is not applied',
} as const satisfies Record<`XG_${string}`, string>;
