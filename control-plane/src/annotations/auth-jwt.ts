// X `jwt-*`: JWT authentication per route on Envoy's jwt_authn filter (docs/auth-jwt-basic.md).
// Every value is checked against a strict grammar; a JWT Ingress whose configuration
// cannot be used fails closed (403), it never serves unauthenticated.
import { createPublicKey } from 'node:crypto';
import type { AnnotationFamily, FamilyContext } from './family.js';
import type { AnnotationReader, AnnotationValue } from './reader.js';
import { isDnsSubdomain } from '../model/names.js';
import { secretValue } from './auth-secret.js';
import type { Secret } from '../sources/k8s-types.js';

export interface JwtTokenSource {
  readonly headers: readonly { readonly name: string; readonly prefix: string }[];
  readonly params: readonly string[];
  readonly cookies: readonly string[];
}

export interface JwtPolicy {
  /** Provider and requirement name: `<namespace>/<ingress>` (both DNS names: injective). */
  readonly name: string;
  readonly issuer: string;
  readonly audiences: readonly string[];
  /** Fetched by Envoy (through an external cluster) or inline from a Secret. */
  readonly jwks: { readonly kind: 'uri'; readonly uri: string } | { readonly kind: 'inline'; readonly json: string };
  readonly from: JwtTokenSource;
  readonly claimToHeaders: readonly { readonly claim: string; readonly header: string }[];
  readonly allowMissing: boolean;
  readonly forward: boolean;
}

declare module '../model/ir.js' {
  interface RoutePolicy {
    /** JWT authentication (X `jwt-*`). */
    readonly jwt?: JwtPolicy;
  }
}

/** The Secret key that holds the JWKS JSON. */
export const JWKS_SECRET_KEY = 'jwks.json';

const JWT_KEYS = [
  'jwt-issuer',
  'jwt-audiences',
  'jwt-jwks-uri',
  'jwt-jwks-secret',
  'jwt-from-header',
  'jwt-from-header-prefix',
  'jwt-from-query',
  'jwt-from-cookie',
  'jwt-claim-to-header',
  'jwt-allow-missing',
  'jwt-forward',
] as const;

const FAIL = { status: 403, reason: 'JWT authentication is misconfigured' } as const;

// ---- grammars (exported for unit tests) ----

/** Printable, no control characters (incl. DEL and C1), 1..1024 characters. */
export function isPlainText(s: string, max = 1024): boolean {
  // eslint-disable-next-line no-control-regex
  return s.length > 0 && s.length <= max && !/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(s);
}

/** `jwt-issuer`: any printable string without leading/trailing space. */
export function parseIssuer(v: string): string | { error: string } {
  if (!isPlainText(v) || v.trim() !== v) return { error: 'must be 1 to 1024 printable characters, no control characters, no leading or trailing space' };
  return v;
}

/** `jwt-audiences`: comma list of printable strings (no commas inside), each trimmed, deduplicated, sorted. */
export function parseAudiences(v: string): string[] | { error: string } {
  const out = new Set<string>();
  for (const raw of v.split(',')) {
    const a = raw.trim();
    if (!a) return { error: 'empty audience in the comma list' };
    if (!isPlainText(a, 512)) return { error: `audience ${JSON.stringify(a.slice(0, 64))} must be printable (no control characters), at most 512 characters` };
    out.add(a);
  }
  if (out.size > 32) return { error: 'at most 32 audiences' };
  return [...out].sort();
}

/**
 * `jwt-jwks-uri`: an absolute http(s) URL without credentials, fragment, whitespace or
 * any of `;{}"'<>\\^\`|`; returns the normalised href.
 */
export function parseJwksUri(v: string): string | { error: string } {
  if (v.length === 0 || v.length > 2048) return { error: 'must be an http or https URL of at most 2048 characters' };
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f-\u009f;{}"'<>\\^`|]/.test(v)) return { error: 'must not contain whitespace, control characters or any of ;{}"\'<>\\^`|' };
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return { error: 'is not an absolute URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { error: 'must use http or https' };
  if (url.username || url.password) return { error: 'must not carry credentials' };
  if (!url.hostname) return { error: 'has no host' };
  if (url.hash || v.includes('#')) return { error: 'must not have a fragment' };
  return url.href;
}

/** HTTP header names we let users name: lowercase RFC 7230 token subset, no pseudo-headers. */
const HEADER = /^[a-z0-9]([a-z0-9-]{0,126}[a-z0-9])?$/;
/** Headers a claim must never overwrite (routing, framing, hop-by-hop, Envoy's own). */
const RESERVED_HEADERS = new Set(['host', 'authorization', 'proxy-authorization', 'cookie', 'content-length', 'content-type', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-request-id']);

export function isHeaderName(s: string): boolean {
  return HEADER.test(s);
}

/** Claim names: letters, digits, `_`, `-`, `:`; dots separate nested claims (`realm_access.roles`). */
const CLAIM = /^[A-Za-z0-9_:-]{1,64}(\.[A-Za-z0-9_:-]{1,64}){0,7}$/;

/** `jwt-claim-to-header`: `claim=header,claim=header`. */
export function parseClaimToHeaders(v: string): Array<{ claim: string; header: string }> | { error: string } {
  const out: Array<{ claim: string; header: string }> = [];
  const headers = new Set<string>();
  for (const raw of v.split(',')) {
    const item = raw.trim();
    const eq = item.indexOf('=');
    if (eq <= 0) return { error: `${JSON.stringify(item.slice(0, 64))} is not claim=header` };
    const claim = item.slice(0, eq).trim();
    const header = item.slice(eq + 1).trim().toLowerCase();
    if (!CLAIM.test(claim)) return { error: `claim ${JSON.stringify(claim.slice(0, 64))} must be letters, digits, _, -, : in dot-separated parts` };
    if (!isHeaderName(header)) return { error: `header ${JSON.stringify(header.slice(0, 64))} must be a lowercase header name (letters, digits, -)` };
    if (RESERVED_HEADERS.has(header) || header.startsWith('x-envoy-')) return { error: `header ${header} is reserved` };
    if (headers.has(header)) return { error: `header ${header} is named twice` };
    headers.add(header);
    out.push({ claim, header });
  }
  if (out.length > 32) return { error: 'at most 32 claims' };
  return out;
}

/** Query parameter and cookie names: RFC 6265 token subset. */
const PARAM = /^[A-Za-z0-9_.~-]{1,128}$/;

export function parseBool(v: string): boolean | undefined {
  const s = v.trim().toLowerCase();
  return s === 'true' ? true : s === 'false' ? false : undefined;
}

/** A header value prefix: printable ASCII (spaces allowed), at most 64 characters. */
const PREFIX = /^[\x20-\x7e]{0,64}$/;

/** Allowed JWK members, per key type; anything private (`d`, `p`, `q`, …, `k`) is refused. */
const JWK_MEMBERS: Record<string, readonly string[]> = {
  RSA: ['kty', 'kid', 'alg', 'use', 'n', 'e'],
  EC: ['kty', 'kid', 'alg', 'use', 'crv', 'x', 'y'],
  OKP: ['kty', 'kid', 'alg', 'use', 'crv', 'x'],
};
const JWK_ALGS: Record<string, readonly string[]> = {
  RSA: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'],
  EC: ['ES256', 'ES384', 'ES512'],
  OKP: ['EdDSA'],
};
const EC_CURVES = new Set(['P-256', 'P-384', 'P-521']);
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/**
 * A JWKS document: a JSON object with a non-empty `keys` array of public RSA, EC
 * (P-256/384/521) or Ed25519 keys, each importable as a public key. Returns the set
 * re-serialised with only the known members, in a fixed order (deterministic output,
 * and nothing else reaches the listener).
 */
export function parseJwks(text: string): string | { error: string } {
  if (text.length > 256 * 1024) return { error: 'is larger than 256 KiB' };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return { error: `is not JSON (${(e as Error).message})` };
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return { error: 'is not a JSON object' };
  const keys = (doc as Record<string, unknown>)['keys'];
  if (!Array.isArray(keys) || keys.length === 0) return { error: 'has no non-empty "keys" array' };
  if (keys.length > 64) return { error: 'has more than 64 keys' };
  const out: Record<string, string>[] = [];
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as unknown;
    const where = `keys[${i}]`;
    if (!k || typeof k !== 'object' || Array.isArray(k)) return { error: `${where} is not an object` };
    const key = k as Record<string, unknown>;
    const kty = key['kty'];
    if (kty === 'oct') return { error: `${where} is a symmetric (oct) key: shared secrets are not accepted, since the JWKS is sent to Envoy in its listener configuration` };
    if (typeof kty !== 'string' || !JWK_MEMBERS[kty]) return { error: `${where}.kty must be RSA, EC or OKP` };
    for (const m of PRIVATE_MEMBERS) if (m in key) return { error: `${where} holds private key material ("${m}"): publish only public keys` };
    const clean: Record<string, string> = {};
    for (const m of JWK_MEMBERS[kty]!) {
      const val = key[m];
      if (val === undefined) continue;
      if (typeof val !== 'string' || !isPlainText(val, 8192)) return { error: `${where}.${m} must be a printable string` };
      clean[m] = val;
    }
    if (clean['use'] !== undefined && clean['use'] !== 'sig') return { error: `${where}.use must be "sig"` };
    if (clean['alg'] !== undefined && !JWK_ALGS[kty]!.includes(clean['alg'])) return { error: `${where}.alg ${clean['alg']} does not fit kty ${kty} (${JWK_ALGS[kty]!.join(', ')})` };
    if (kty === 'EC' && !EC_CURVES.has(clean['crv'] ?? '')) return { error: `${where}.crv must be P-256, P-384 or P-521` };
    if (kty === 'OKP' && clean['crv'] !== 'Ed25519') return { error: `${where}.crv must be Ed25519` };
    const b64url = /^[A-Za-z0-9_-]+$/;
    for (const m of ['n', 'e', 'x', 'y']) {
      if (clean[m] !== undefined && !b64url.test(clean[m]!)) return { error: `${where}.${m} is not base64url` };
    }
    try {
      const pk = createPublicKey({ key: clean as unknown as import('node:crypto').JsonWebKey, format: 'jwk' });
      if (kty === 'RSA' && (pk.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) return { error: `${where} is an RSA key shorter than 2048 bits` };
    } catch (e) {
      return { error: `${where} is not a valid ${kty} public key (${(e as Error).message})` };
    }
    out.push(clean);
  }
  return JSON.stringify({ keys: out });
}

/** `name` or `<ingress namespace>/name`. */
export function parseSecretRef(v: string, namespace: string): { name: string } | { error: string; otherNamespace?: boolean } {
  const s = v.trim();
  const parts = s.split('/');
  if (parts.length > 2) return { error: 'must be a Secret name or namespace/name' };
  const [ns, name] = parts.length === 2 ? [parts[0]!, parts[1]!] : [namespace, parts[0]!];
  if (!isDnsSubdomain(name) || (parts.length === 2 && !isDnsSubdomain(ns))) return { error: 'must be a Secret name or namespace/name (DNS-1123 names)' };
  if (ns !== namespace) return { error: `names namespace ${ns}; only Secrets in the Ingress's namespace ${namespace} are used`, otherNamespace: true };
  return { name };
}

// ---- the family ----

// Importing keys is the costly part: a Secret object that did not change is checked once.
const jwksChecked = new WeakMap<Secret, { text: string; result: ReturnType<typeof parseJwks> }>();

function cachedJwks(secret: Secret, text: string): ReturnType<typeof parseJwks> {
  const hit = jwksChecked.get(secret);
  if (hit && hit.text === text) return hit.result;
  const result = parseJwks(text);
  jwksChecked.set(secret, { text, result });
  return result;
}

export const jwtFamily: AnnotationFamily = {
  name: 'auth-jwt',
  parse(r, ctx) {
    const got = new Map<string, AnnotationValue>();
    for (const k of JWT_KEYS) {
      const v = r.get(k, ['X']);
      if (v) got.set(k, v);
    }
    if (got.size === 0) return undefined;
    const jwt = readJwt(r, ctx, got);
    return jwt ? { jwt } : { failClosed: FAIL };
  },
};

function readJwt(r: AnnotationReader, ctx: FamilyContext, got: Map<string, AnnotationValue>): JwtPolicy | undefined {
  let ok = true;
  const bad = (v: AnnotationValue, why: string) => {
    r.invalid(v, `${why}; the route fails closed (403)`);
    ok = false;
  };

  let issuer = '';
  const iss = got.get('jwt-issuer');
  if (iss) {
    const p = parseIssuer(iss.value);
    if (typeof p === 'string') issuer = p;
    else bad(iss, p.error);
  }

  let audiences: string[] = [];
  const aud = got.get('jwt-audiences');
  if (aud) {
    const p = parseAudiences(aud.value);
    if (Array.isArray(p)) audiences = p;
    else bad(aud, p.error);
  }

  const uriV = got.get('jwt-jwks-uri');
  const secV = got.get('jwt-jwks-secret');
  if (!iss || (!uriV && !secV) || (uriV && secV)) {
    const why = !iss ? 'xgate.io/jwt-issuer is required' : uriV && secV ? 'set only one of xgate.io/jwt-jwks-uri and xgate.io/jwt-jwks-secret' : 'one of xgate.io/jwt-jwks-uri or xgate.io/jwt-jwks-secret is required';
    r.sink.error('XG_AUTH_JWT_INCOMPLETE', ctx.ref, `JWT authentication: ${why}; the route fails closed (403)`, 'metadata.annotations');
    ok = false;
  }

  let jwks: JwtPolicy['jwks'] | undefined;
  if (uriV && !secV) {
    const p = parseJwksUri(uriV.value.trim());
    if (typeof p === 'string') jwks = { kind: 'uri', uri: p };
    else bad(uriV, p.error);
  }
  if (secV && !uriV) {
    const ref = parseSecretRef(secV.value, ctx.namespace);
    if ('error' in ref) {
      if (ref.otherNamespace) r.sink.error('XG_AUTH_SECRET_NAMESPACE', ctx.ref, `${secV.annotation} ${ref.error}; the route fails closed (403)`, `metadata.annotations["${secV.annotation}"]`);
      else r.invalid(secV, `${ref.error}; the route fails closed (403)`);
      ok = false;
    } else {
      const secret = ctx.store.secrets.get(`${ctx.namespace}/${ref.name}`);
      const text = secret ? secretValue(secret, JWKS_SECRET_KEY) : undefined;
      if (text === undefined) {
        r.sink.error('XG_AUTH_SECRET_NOT_FOUND', ctx.ref, `${secV.annotation}: Secret ${ctx.namespace}/${ref.name} ${secret ? `has no key ${JWKS_SECRET_KEY}` : 'does not exist'}; the route fails closed (403)`, `metadata.annotations["${secV.annotation}"]`);
        ok = false;
      } else {
        const p = cachedJwks(secret!, text);
        if (typeof p === 'string') jwks = { kind: 'inline', json: p };
        else {
          r.sink.error('XG_AUTH_JWKS_INVALID', ctx.ref, `Secret ${ctx.namespace}/${ref.name} key ${JWKS_SECRET_KEY}: the JWKS ${p.error}; the route fails closed (403)`, `metadata.annotations["${secV.annotation}"]`);
          ok = false;
        }
      }
    }
  }

  const headers: Array<{ name: string; prefix: string }> = [];
  const params: string[] = [];
  const cookies: string[] = [];
  const fh = got.get('jwt-from-header');
  const fhp = got.get('jwt-from-header-prefix');
  if (fh) {
    const name = fh.value.trim().toLowerCase();
    if (!isHeaderName(name)) bad(fh, 'must be a header name (letters, digits, -)');
    else {
      let prefix = name === 'authorization' ? 'Bearer ' : '';
      if (fhp) {
        if (!PREFIX.test(fhp.value)) bad(fhp, 'must be at most 64 printable ASCII characters');
        else prefix = fhp.value;
      }
      headers.push({ name, prefix });
    }
  } else if (fhp) {
    bad(fhp, 'needs xgate.io/jwt-from-header');
  }
  const fq = got.get('jwt-from-query');
  if (fq) {
    if (!PARAM.test(fq.value.trim())) bad(fq, 'must be a query parameter name (letters, digits, _ . ~ -)');
    else params.push(fq.value.trim());
  }
  const fc = got.get('jwt-from-cookie');
  if (fc) {
    if (!PARAM.test(fc.value.trim())) bad(fc, 'must be a cookie name (letters, digits, _ . ~ -)');
    else cookies.push(fc.value.trim());
  }
  if (!fh && !fq && !fc) headers.push({ name: 'authorization', prefix: 'Bearer ' });

  let claimToHeaders: Array<{ claim: string; header: string }> = [];
  const c2h = got.get('jwt-claim-to-header');
  if (c2h) {
    const p = parseClaimToHeaders(c2h.value);
    if (Array.isArray(p)) claimToHeaders = p;
    else bad(c2h, p.error);
  }

  const flag = (key: string): boolean => {
    const v = got.get(key);
    if (!v) return false;
    const b = parseBool(v.value);
    if (b === undefined) {
      bad(v, 'must be "true" or "false"');
      return false;
    }
    return b;
  };
  const allowMissing = flag('jwt-allow-missing');
  const forward = flag('jwt-forward');

  if (!ok || !jwks) return undefined;
  return {
    name: `${ctx.namespace}/${ctx.ingress.metadata.name}`,
    issuer,
    audiences,
    jwks,
    from: { headers, params, cookies },
    claimToHeaders,
    allowMissing,
    forward,
  };
}
