// Diagnostic codes of one feature area (merged into CODES by ../errors.ts): external
// auth (ext_authz) and OIDC (oauth2). See docs/auth-external-oidc.md.
export const AUTH_EXTERNAL_CODES = {
  XG_AUTH_URL_INVALID: 'An external auth annotation (auth-url, auth-signin…) is unusable: the route fails closed',
  XG_AUTH_SNIPPET: 'auth-snippet is never supported (snippets run configuration text): the route fails closed',
  XG_AUTH_NOT_APPLIED: 'An external auth setting cannot be expressed with Envoy and is ignored',
  XG_OIDC_INVALID: 'An OIDC annotation is missing or unusable: the route fails closed',
  XG_OIDC_SECRET: 'The OIDC client Secret is missing or lacks its key: the route fails closed',
  XG_OIDC_DISCOVERY: 'The OIDC issuer\'s discovery document is not fetched, unreachable or invalid: the route fails closed (503) until it is',
  XG_OIDC_NOT_APPLIED: 'An OIDC setting cannot be expressed with Envoy (or is likely unreachable) and is ignored',
} as const satisfies Record<`XG_${string}`, string>;
