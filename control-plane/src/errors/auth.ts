// Diagnostic codes of one feature area (merged into CODES by ../errors.ts): JWT and
// Basic authentication (docs/auth-jwt-basic.md).
export const AUTH_CODES = {
  XG_AUTH_JWT_INCOMPLETE: 'JWT annotations are set without an issuer or without exactly one JWKS source: the route fails closed',
  XG_AUTH_JWKS_INVALID: 'The JWKS (from a Secret) is not a usable JSON Web Key Set: the route fails closed',
  XG_AUTH_SECRET_NOT_FOUND: 'A Secret named by an auth annotation does not exist or lacks the expected key: the route fails closed',
  XG_AUTH_SECRET_NAMESPACE: 'An auth annotation names a Secret in another namespace (only the Ingress namespace is allowed): the route fails closed',
  XG_AUTH_TYPE_UNSUPPORTED: 'auth-type is not "basic" (digest is not supported by Envoy): the route fails closed',
  XG_AUTH_BASIC_HASH_UNSUPPORTED: 'An htpasswd entry is not in the only format Envoy accepts ({SHA}): that user is dropped',
  XG_AUTH_BASIC_ENTRY_INVALID: 'An htpasswd line or auth-map entry is malformed (user name grammar, missing colon, duplicate user): that entry is dropped',
  XG_AUTH_BASIC_NO_USERS: 'Basic authentication has no usable user left: the route fails closed',
  XG_AUTH_REALM_IGNORED: 'auth-realm has no effect: Envoy\'s basic_auth filter always answers WWW-Authenticate: Basic realm="<request URL>"',
} as const satisfies Record<`XG_${string}`, string>;
