// OIDC login per route → Envoy's oauth2 filter. X keys only (none of ingress-nginx,
// Higress or MSE has OIDC annotations). The issuer's discovery document is fetched by
// the control plane (FamilyContext.external; sources/external-fetcher.ts), never here.
// Anything missing or unusable makes the route fail closed. See docs/auth-external-oidc.md.
import { createHmac } from 'node:crypto';
import type { Ingress, Secret } from '../../sources/k8s-types.js';
import type { AnnotationFamily, ExternalDocument, FamilyContext } from '../family.js';
import type { AnnotationValue } from '../reader.js';
import type { Prefix } from '../prefixes.js';
import { isDnsSubdomain } from '../../model/names.js';
import { checkUrl, urlString, type CheckedUrl } from './url.js';

export interface OidcEndpoint {
  readonly url: string;
  readonly scheme: 'http' | 'https';
  readonly host: string;
  readonly port: number;
}

export interface OidcSpec {
  readonly issuer: string;
  readonly clientId: string;
  /** The Secret holding `client-secret` (and optionally `hmac-secret`), same namespace. */
  readonly secretRef: { readonly namespace: string; readonly name: string };
  readonly authorizationEndpoint: string;
  readonly tokenEndpoint: OidcEndpoint;
  readonly scopes: readonly string[];
  readonly redirectPath: string;
  readonly signoutPath: string;
  readonly passThroughPaths: readonly string[];
  readonly cookiePrefix?: string;
  /** How the client authenticates at the token endpoint. */
  readonly tokenAuth: 'basic' | 'post';
  /** The secret values (delivered by SDS, never in the filter config; redacted in dumps). */
  readonly secrets: { readonly clientSecret: string; readonly hmacSecret: string };
}

declare module '../../model/ir.js' {
  interface RoutePolicy {
    /** OIDC login (oauth2 filter) of every route of the Ingress. */
    readonly oidc?: OidcSpec;
  }
}

const X: readonly Prefix[] = ['X'];
export const DISCOVERY_PATH = '/.well-known/openid-configuration';
export const CLIENT_SECRET_KEY = 'client-secret';
export const HMAC_SECRET_KEY = 'hmac-secret';
/** Fixed label of the derived HMAC secret: HMAC-SHA256(key = client secret, label), base64. */
export const HMAC_LABEL = 'xgate.io/oidc-hmac-secret/v1';

const CLIENT_ID = /^[A-Za-z0-9\-._~:@+]{1,256}$/;
const SCOPE = /^[A-Za-z0-9\-._:/]{1,128}$/;
const PATH = /^\/[A-Za-z0-9\-._~!$&()*+,=:@/]{0,1023}$/;
const COOKIE_PREFIX = /^[A-Za-z0-9_-]{1,32}$/;

export function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/+$/, '')}${DISCOVERY_PATH}`;
}

export function deriveHmacSecret(clientSecret: string): string {
  return createHmac('sha256', clientSecret).update(HMAC_LABEL).digest('base64');
}

type Discovery = { ok: true; authorization: CheckedUrl; token: CheckedUrl } | { ok: false; why: string };
const parsed = new WeakMap<ExternalDocument, Discovery>();

/** Validates a discovery document (memoised per fetched document). */
export function parseDiscovery(doc: ExternalDocument, issuer: string): Discovery {
  const memo = parsed.get(doc);
  if (memo) return memo;
  const result = ((): Discovery => {
    if (!doc.ok) return { ok: false, why: `could not be fetched (${doc.error})` };
    let j: unknown;
    try {
      j = JSON.parse(doc.body);
    } catch {
      return { ok: false, why: 'is not JSON' };
    }
    if (!j || typeof j !== 'object' || Array.isArray(j)) return { ok: false, why: 'is not a JSON object' };
    const o = j as Record<string, unknown>;
    if (typeof o['issuer'] !== 'string' || o['issuer'].replace(/\/+$/, '') !== issuer.replace(/\/+$/, '')) {
      return { ok: false, why: `names issuer ${JSON.stringify(String(o['issuer']).slice(0, 200))}, not ${JSON.stringify(issuer)}` };
    }
    const endpoint = (k: string): CheckedUrl | string => {
      const v = o[k];
      if (typeof v !== 'string') return `has no ${k}`;
      const c = checkUrl(v);
      return c.ok ? c.value : `${k} ${c.why}`;
    };
    const authorization = endpoint('authorization_endpoint');
    if (typeof authorization === 'string') return { ok: false, why: authorization };
    const token = endpoint('token_endpoint');
    if (typeof token === 'string') return { ok: false, why: token };
    return { ok: true, authorization, token };
  })();
  parsed.set(doc, result);
  return result;
}

function secretField(secret: Secret, key: string): string | undefined {
  const plain = secret.stringData?.[key];
  if (typeof plain === 'string') return plain;
  const b64 = secret.data?.[key];
  if (typeof b64 !== 'string') return undefined;
  return Buffer.from(b64, 'base64').toString('utf8');
}

/** Whether some path of the Ingress routes `path` (so the oauth2 filter sees its callback). */
export function ingressCovers(ing: Ingress, path: string): boolean {
  if (ing.spec?.defaultBackend) return true;
  for (const rule of Array.isArray(ing.spec?.rules) ? ing.spec!.rules : []) {
    for (const p of Array.isArray(rule?.http?.paths) ? rule.http!.paths : []) {
      const v = typeof p?.path === 'string' ? p.path : '/';
      if (p?.pathType === 'Exact') {
        if (v === path) return true;
      } else if (p?.pathType === 'Prefix') {
        const base = v.replace(/\/+$/, '');
        if (base === '' || path === base || path.startsWith(`${base}/`)) return true;
      } else if (path.startsWith(v)) return true;
    }
  }
  return false;
}

function splitList(v: string): string[] {
  return v.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);
}

export const oidcFamily: AnnotationFamily = {
  name: 'oidc',
  parse(r, ctx) {
    const get = (k: string) => r.get(k, X);
    const issuer = get('oidc-issuer');
    const clientId = get('oidc-client-id');
    const secretName = get('oidc-client-secret');
    const scopes = get('oidc-scopes');
    const redirect = get('oidc-redirect-path');
    const signout = get('oidc-signout-path');
    const pass = get('oidc-pass-through-paths');
    const cookiePrefix = get('oidc-cookie-prefix');
    const tokenAuth = get('oidc-token-auth');
    const sameSite = get('oidc-cookie-samesite');
    const domain = get('oidc-cookie-domain');
    const all = [issuer, clientId, secretName, scopes, redirect, signout, pass, cookiePrefix, tokenAuth, sameSite, domain];
    if (!all.some(Boolean)) return undefined;

    const field = (v: AnnotationValue) => `metadata.annotations["${v.annotation}"]`;
    const failed = { failClosed: { status: 403, reason: 'OIDC login is misconfigured' } };
    const invalid = (v: AnnotationValue, why: string) => {
      r.sink.error('XG_OIDC_INVALID', ctx.ref, `${v.annotation}=${JSON.stringify(v.value.slice(0, 200))}: ${why}; every route of this Ingress answers 403`, field(v));
      return failed;
    };
    for (const v of [sameSite, domain]) {
      if (v) r.sink.warning('XG_OIDC_NOT_APPLIED', ctx.ref, `${v.annotation} is ignored: the oauth2 filter API xgate encodes has no cookie SameSite or Domain setting (browsers default to SameSite=Lax, host-only cookies)`, field(v));
    }
    if (!issuer || !clientId || !secretName) {
      const missing = [!issuer && 'oidc-issuer', !clientId && 'oidc-client-id', !secretName && 'oidc-client-secret'].filter(Boolean).join(', ');
      r.sink.error('XG_OIDC_INVALID', ctx.ref, `OIDC needs xgate.io/oidc-issuer, oidc-client-id and oidc-client-secret; missing: ${missing}; every route of this Ingress answers 403`, 'metadata.annotations');
      return failed;
    }
    const iss = checkUrl(issuer.value);
    if (!iss.ok) return invalid(issuer, `the issuer ${iss.why}`);
    if (iss.value.query) return invalid(issuer, 'the issuer must not hold a query');
    if (!CLIENT_ID.test(clientId.value.trim())) return invalid(clientId, 'must be 1 to 256 characters of letters, digits and - . _ ~ : @ +');
    const sName = secretName.value.trim();
    if (!isDnsSubdomain(sName)) return invalid(secretName, 'must be the name of a Secret in the same namespace');
    let scopeList = ['openid'];
    if (scopes) {
      const l = splitList(scopes.value);
      const bad = l.find((s) => !SCOPE.test(s));
      if (bad !== undefined || l.length === 0 || l.length > 32) return invalid(scopes, `scopes are up to 32 tokens of letters, digits and - . _ : /${bad ? `; ${JSON.stringify(bad)} is not one` : ''}`);
      scopeList = [...new Set(l.includes('openid') ? l : ['openid', ...l])];
    }
    const path = (v: AnnotationValue | undefined, dflt: string): string | undefined => {
      if (!v) return dflt;
      const p = v.value.trim();
      return PATH.test(p) && !p.includes('//') ? p : undefined;
    };
    const redirectPath = path(redirect, '/oauth2/callback');
    if (!redirectPath) return invalid(redirect!, 'must be an absolute path of RFC 3986 characters without %, ? or //');
    const signoutPath = path(signout, '/oauth2/signout');
    if (!signoutPath) return invalid(signout!, 'must be an absolute path of RFC 3986 characters without %, ? or //');
    if (redirectPath === signoutPath) return invalid((signout ?? redirect)!, 'the redirect and sign-out paths must differ');
    let passThroughPaths: string[] = [];
    if (pass) {
      passThroughPaths = [...new Set(splitList(pass.value))].sort();
      const bad = passThroughPaths.find((p) => !PATH.test(p));
      if (bad !== undefined || passThroughPaths.length > 64) return invalid(pass, `must be up to 64 comma-separated path prefixes${bad ? `; ${JSON.stringify(bad)} is not one` : ''}`);
    }
    let prefix: string | undefined;
    if (cookiePrefix) {
      if (!COOKIE_PREFIX.test(cookiePrefix.value.trim())) return invalid(cookiePrefix, 'must be 1 to 32 letters, digits, _ or -');
      prefix = cookiePrefix.value.trim();
    }
    let auth: 'basic' | 'post' = 'basic';
    if (tokenAuth) {
      const v = tokenAuth.value.trim();
      if (v !== 'basic' && v !== 'post') return invalid(tokenAuth, 'must be basic (client_secret_basic) or post (client_secret_post)');
      auth = v;
    }
    if (!ingressCovers(ctx.ingress, redirectPath)) {
      r.sink.warning('XG_OIDC_NOT_APPLIED', ctx.ref, `the redirect path ${redirectPath} is not under any path of this Ingress: the provider's callback will not reach the oauth2 filter (set xgate.io/oidc-redirect-path under a served path)`, redirect ? field(redirect) : 'metadata.annotations');
    }

    // The client secret, from a Secret in the Ingress's namespace.
    const secret = ctx.store.secrets.get(`${ctx.namespace}/${sName}`);
    const clientSecret = secret ? secretField(secret, CLIENT_SECRET_KEY) : undefined;
    if (!secret || !clientSecret || clientSecret.length > 4096) {
      r.sink.error(
        'XG_OIDC_SECRET',
        ctx.ref,
        secret ? `Secret ${ctx.namespace}/${sName} has no usable "${CLIENT_SECRET_KEY}" key; every route of this Ingress answers 403` : `Secret ${ctx.namespace}/${sName} does not exist (Secrets in other namespaces are never used); every route of this Ingress answers 403`,
        field(secretName),
      );
      return failed;
    }
    const ownHmac = secretField(secret, HMAC_SECRET_KEY);
    if (ownHmac !== undefined && (ownHmac.length < 16 || ownHmac.length > 4096)) {
      r.sink.error('XG_OIDC_SECRET', ctx.ref, `Secret ${ctx.namespace}/${sName}: "${HMAC_SECRET_KEY}" must be 16 to 4096 characters; every route of this Ingress answers 403`, field(secretName));
      return failed;
    }
    const hmacSecret = ownHmac ?? deriveHmacSecret(clientSecret);

    // The discovery document, fetched by the control plane.
    const issuerUrl = urlString(iss.value);
    const url = discoveryUrl(issuerUrl);
    const doc = ctx.external(url);
    if (!doc) {
      r.sink.warning('XG_OIDC_DISCOVERY', ctx.ref, `the discovery document ${url} is not fetched yet; every route of this Ingress answers 503 until it is`, field(issuer));
      return { failClosed: { status: 503, reason: 'OIDC provider discovery pending' } };
    }
    const d = parseDiscovery(doc, issuerUrl);
    if (!d.ok) {
      r.sink.error('XG_OIDC_DISCOVERY', ctx.ref, `the discovery document ${url} ${d.why}; every route of this Ingress answers 503 until it is fetched and valid`, field(issuer));
      return { failClosed: { status: 503, reason: 'OIDC provider unavailable' } };
    }
    return {
      oidc: {
        issuer: issuerUrl,
        clientId: clientId.value.trim(),
        secretRef: { namespace: ctx.namespace, name: sName },
        authorizationEndpoint: urlString(d.authorization),
        tokenEndpoint: { url: urlString(d.token), scheme: d.token.scheme, host: d.token.host, port: d.token.port },
        scopes: scopeList,
        redirectPath,
        signoutPath,
        passThroughPaths,
        ...(prefix ? { cookiePrefix: prefix } : {}),
        tokenAuth: auth,
        secrets: { clientSecret, hmacSecret },
      },
    };
  },
};

export type { FamilyContext };
