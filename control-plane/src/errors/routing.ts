// Diagnostic codes of one feature area (merged into CODES by ../errors.ts): matching,
// rewrites, redirects and the destination split (docs/routing.md).
export const ROUTING_CODES = {
  XG_ROUTING_PATH_REGEX_INVALID: 'A path read as a regex (use-regex, rewrite-target, full-path-regex) is not a usable RE2 regex: that path is not served',
  XG_ROUTING_REWRITE_INVALID: 'A rewrite cannot be applied to one path (regex too complex for Envoy): that path is served without the rewrite',
  XG_ROUTING_REWRITE_GROUP: 'rewrite-target refers to a capture group the path does not have: it is replaced by an empty string, as ingress-nginx does',
  XG_ROUTING_DESTINATION_INVALID: 'The destination split cannot be used (bad line, weights not adding up to 100, unknown Service or port): the Ingress keeps its own backends',
  XG_ROUTING_IGNORED: 'A routing annotation has no effect (shadowed by another key, or nothing to apply it to)',
} as const satisfies Record<`XG_${string}`, string>;
