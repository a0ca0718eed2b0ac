// RoutePolicy.oidc → one `envoy.filters.http.oauth2` instance per distinct provider
// config (listed `disabled: true`, enabled per route), the token endpoint's cluster,
// and two SDS generic secrets per client Secret: the client secret and the HMAC secret
// that signs the session cookies.
import type { OidcSpec } from '../../annotations/auth-external/oidc.js';
import type { RoutePolicy } from '../../model/ir.js';
import type { JsonObject } from '../../xds/encode.js';
import { FILTER_ORDER, perFilterConfig, type FilterContext, type ResourceContributor, type RoutePolicyTranslator } from '../extension.js';
import { externalCluster, externalClusterName } from '../external-cluster.js';
import { ROUTER_TYPE, adsSource } from '../well-known.js';
import { specHash } from './names.js';

export const OAUTH2_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.oauth2.v3.OAuth2';

/** The filter instance name: a hash of the provider config without the secret values. */
const names = new WeakMap<OidcSpec, string>();
export function oauth2FilterName(spec: OidcSpec): string {
  let n = names.get(spec);
  if (!n) {
    const { secrets: _s, ...config } = spec;
    n = `xgate.oauth2.${specHash(config)}`;
    names.set(spec, n);
  }
  return n;
}

/** SDS names: namespace and name are DNS names (no '/'), so these are injective. */
export function clientSecretName(spec: OidcSpec): string {
  return `oidc/${spec.secretRef.namespace}/${spec.secretRef.name}/client-secret`;
}
export function hmacSecretName(spec: OidcSpec): string {
  return `oidc/${spec.secretRef.namespace}/${spec.secretRef.name}/hmac-secret`;
}

export function oauth2Config(spec: OidcSpec): JsonObject {
  const p = spec.cookiePrefix;
  const config: JsonObject = {
    token_endpoint: { uri: spec.tokenEndpoint.url, cluster: externalClusterName(spec.tokenEndpoint), timeout: '5s' },
    authorization_endpoint: spec.authorizationEndpoint,
    credentials: {
      client_id: spec.clientId,
      token_secret: { name: clientSecretName(spec), sds_config: adsSource() },
      hmac_secret: { name: hmacSecretName(spec), sds_config: adsSource() },
      ...(p
        ? {
            cookie_names: {
              bearer_token: `${p}BearerToken`,
              oauth_hmac: `${p}OauthHMAC`,
              oauth_expires: `${p}OauthExpires`,
              id_token: `${p}IdToken`,
              refresh_token: `${p}RefreshToken`,
            },
          }
        : {}),
    },
    // The path is validated without '%': only the formatter commands below are interpreted.
    redirect_uri: `%REQ(x-forwarded-proto)%://%REQ(:authority)%${spec.redirectPath}`,
    redirect_path_matcher: { path: { exact: spec.redirectPath } },
    signout_path: { path: { exact: spec.signoutPath } },
    ...(spec.passThroughPaths.length ? { pass_through_matcher: spec.passThroughPaths.map((path) => ({ name: ':path', string_match: { prefix: path } })) } : {}),
    auth_scopes: [...spec.scopes],
    auth_type: spec.tokenAuth === 'basic' ? 'BASIC_AUTH' : 'URL_ENCODED_BODY',
  };
  return { '@type': OAUTH2_TYPE, config };
}

const applyOidc: RoutePolicyTranslator = (policy: RoutePolicy, route: JsonObject) => {
  const spec = policy.oidc;
  if (!spec || policy.failClosed) return;
  // Enables the instance listed `disabled: true` for this route. Envoy refuses a
  // FilterConfig without `config`, the encoder cannot write an empty Any, and the shipped
  // protos lack OAuth2PerRoute (Envoy refuses an OAuth2 in its place). So `config` is an
  // empty Router message: its factory has no per-route config, and with is_optional
  // Envoy ignores it (debug log only) and counts the filter as enabled on this route.
  perFilterConfig(route, oauth2FilterName(spec), ENABLE_OAUTH2);
};

/** Shared by every route (so routes can share their FilterConfig, see hoist-filter-configs.ts). */
const ENABLE_OAUTH2: JsonObject = { '@type': ROUTER_TYPE };

function specs(ctx: FilterContext): OidcSpec[] {
  const byName = new Map<string, OidcSpec>();
  for (const s of ctx.collect('oauth2', (r) => (r.policy?.failClosed ? undefined : r.policy?.oidc))) byName.set(oauth2FilterName(s), s);
  return [...byName.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, s]) => s);
}

const oauth2Contributor: ResourceContributor = {
  order: FILTER_ORDER.oauth2,
  httpFilters(ctx) {
    return specs(ctx).map((s) => ({ name: oauth2FilterName(s), typed_config: oauth2Config(s), disabled: true }));
  },
  clusters(ctx) {
    const out = new Map<string, JsonObject>();
    for (const s of specs(ctx)) out.set(externalClusterName(s.tokenEndpoint), externalCluster(s.tokenEndpoint, ctx.opts));
    return [...out.values()];
  },
  secrets(ctx) {
    const out = new Map<string, JsonObject>();
    for (const s of specs(ctx)) {
      out.set(clientSecretName(s), { name: clientSecretName(s), generic_secret: { secret: { inline_string: s.secrets.clientSecret } } });
      out.set(hmacSecretName(s), { name: hmacSecretName(s), generic_secret: { secret: { inline_string: s.secrets.hmacSecret } } });
    }
    return [...out.values()];
  },
};

export const OAUTH2_ROUTE_TRANSLATORS: readonly RoutePolicyTranslator[] = [applyOidc];
export const OAUTH2_CONTRIBUTORS: readonly ResourceContributor[] = [oauth2Contributor];
