// ingress-nginx Basic authentication (`auth-type: basic`, `auth-secret`, `auth-secret-type`,
// `auth-realm`) on Envoy's basic_auth filter, users set per route (docs/auth-jwt-basic.md).
// Envoy 1.39 accepts only `{SHA}` (unsalted SHA-1, base64) htpasswd hashes and rejects
// the whole configuration on any other line, so every entry is checked here: an entry
// in another format is dropped with a diagnostic; with no usable user the route fails closed.
import type { AnnotationFamily } from './family.js';
import type { Secret } from '../sources/k8s-types.js';
import { parseSecretRef } from './auth-jwt.js';
import { secretKeys, secretValue } from './auth-secret.js';

export interface BasicAuthPolicy {
  /** htpasswd text Envoy accepts: `user:{SHA}…` lines, sorted by user, `\n`-terminated. */
  readonly users: string;
}

declare module '../model/ir.js' {
  interface RoutePolicy {
    /** Basic authentication (N `auth-type: basic`). */
    readonly basicAuth?: BasicAuthPolicy;
  }
}

export const AUTH_FILE_KEY = 'auth';

/** Visible ASCII except ':' (Envoy splits at the first colon), not starting with '#' (a comment). */
const USER = /^[\x21-\x39\x3b-\x7e]{1,256}$/;
/** `{SHA}` and the base64 of a 20-byte SHA-1 digest: the only format Envoy checks passwords against. */
const SHA = /^\{SHA\}[A-Za-z0-9+/]{27}=$/;

export type HashFormat = 'sha' | 'apr1' | 'bcrypt' | 'md5-crypt' | 'sha256-crypt' | 'sha512-crypt' | 'ssha' | 'crypt' | 'plain';

/** Names the format of an htpasswd hash (for the diagnostic). */
export function hashFormat(hash: string): HashFormat {
  if (SHA.test(hash)) return 'sha';
  if (hash.startsWith('$apr1$')) return 'apr1';
  if (/^\$2[abxy]?\$/.test(hash)) return 'bcrypt';
  if (hash.startsWith('$1$')) return 'md5-crypt';
  if (hash.startsWith('$5$')) return 'sha256-crypt';
  if (hash.startsWith('$6$')) return 'sha512-crypt';
  if (hash.startsWith('{SSHA}')) return 'ssha';
  if (/^[./0-9A-Za-z]{13}$/.test(hash)) return 'crypt';
  return 'plain';
}

const FORMAT_NAMES: Record<HashFormat, string> = {
  sha: '{SHA}',
  apr1: 'apr1 (Apache MD5, htpasswd -m)',
  bcrypt: 'bcrypt (htpasswd -B)',
  'md5-crypt': 'MD5-crypt ($1$)',
  'sha256-crypt': 'SHA-256-crypt ($5$)',
  'sha512-crypt': 'SHA-512-crypt ($6$)',
  ssha: 'salted SHA ({SSHA})',
  crypt: 'DES crypt (htpasswd -d)',
  plain: 'plain text or an unknown format',
};

export interface HtpasswdResult {
  /** Usable entries, sorted by user. */
  readonly users: ReadonlyArray<{ user: string; hash: string }>;
  /** One message per dropped entry (no hash in it), with the code to report it under. */
  readonly problems: ReadonlyArray<{ code: 'XG_AUTH_BASIC_HASH_UNSUPPORTED' | 'XG_AUTH_BASIC_ENTRY_INVALID'; message: string }>;
}

function collect(entries: ReadonlyArray<{ user: string; hash: string; where: string }>): HtpasswdResult {
  const seen = new Map<string, string>();
  const problems: Array<HtpasswdResult['problems'][number]> = [];
  for (const { user, hash, where } of entries) {
    if (!USER.test(user) || user.startsWith('#')) {
      problems.push({ code: 'XG_AUTH_BASIC_ENTRY_INVALID', message: `${where}: the user name must be 1 to 256 visible ASCII characters without ':' (not starting with '#'); entry dropped` });
      continue;
    }
    if (seen.has(user)) {
      problems.push({ code: 'XG_AUTH_BASIC_ENTRY_INVALID', message: `${where}: user ${user} appears again; the first entry is used` });
      continue;
    }
    const f = hashFormat(hash);
    if (f !== 'sha') {
      problems.push({ code: 'XG_AUTH_BASIC_HASH_UNSUPPORTED', message: `${where}: user ${user} has a hash in an unsupported format, ${FORMAT_NAMES[f]}; Envoy accepts only {SHA} (htpasswd -s); user dropped` });
      continue;
    }
    seen.set(user, hash);
  }
  const users = [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([user, hash]) => ({ user, hash }));
  return { users, problems };
}

/** An htpasswd file (auth-file): `user:hash` lines; blank lines and `#` comments skipped; CRLF accepted. */
export function parseHtpasswd(text: string): HtpasswdResult {
  const entries: Array<{ user: string; hash: string; where: string }> = [];
  const bad: Array<HtpasswdResult['problems'][number]> = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '' || line.startsWith('#')) return;
    const colon = line.indexOf(':');
    if (colon < 0) {
      bad.push({ code: 'XG_AUTH_BASIC_ENTRY_INVALID', message: `line ${i + 1}: not user:hash; line dropped` });
      return;
    }
    entries.push({ user: line.slice(0, colon), hash: line.slice(colon + 1), where: `line ${i + 1}` });
  });
  const r = collect(entries);
  return { users: r.users, problems: [...bad, ...r.problems] };
}

/** An auth-map Secret: keys are user names, values hashes (one trailing newline tolerated). */
export function parseAuthMap(map: ReadonlyArray<[string, string]>): HtpasswdResult {
  return collect(map.map(([user, value]) => ({ user, hash: value.replace(/\r?\n$/, ''), where: `key ${user}` })));
}

export function htpasswdText(users: HtpasswdResult['users']): string {
  return users.map((u) => `${u.user}:${u.hash}\n`).join('');
}

const FAIL = { status: 403, reason: 'Basic authentication is misconfigured' } as const;

// Parsing a Secret is done once per Secret object (and type).
const parsed = new WeakMap<Secret, Map<string, HtpasswdResult | undefined>>();

function readSecret(secret: Secret, type: 'auth-file' | 'auth-map'): HtpasswdResult | undefined {
  let byType = parsed.get(secret);
  if (!byType) parsed.set(secret, (byType = new Map()));
  if (byType.has(type)) return byType.get(type);
  let result: HtpasswdResult | undefined;
  if (type === 'auth-file') {
    const text = secretValue(secret, AUTH_FILE_KEY);
    result = text === undefined ? undefined : parseHtpasswd(text);
  } else {
    result = parseAuthMap(secretKeys(secret).map((k) => [k, secretValue(secret, k) ?? '']));
  }
  byType.set(type, result);
  return result;
}

export const basicAuthFamily: AnnotationFamily = {
  name: 'auth-basic',
  parse(r, ctx) {
    const type = r.get('auth-type');
    const secretV = r.get('auth-secret');
    const secretTypeV = r.get('auth-secret-type');
    const realm = r.get('auth-realm');
    if (!type) return undefined;
    const t = type.value.trim().toLowerCase();
    if (t === 'digest') {
      r.sink.error('XG_AUTH_TYPE_UNSUPPORTED', ctx.ref, `${type.annotation}=digest: Envoy has no Digest authentication; the route fails closed (403)`, `metadata.annotations["${type.annotation}"]`);
      return { failClosed: FAIL };
    }
    if (t !== 'basic') {
      r.invalid(type, 'must be "basic"; the route fails closed (403)');
      return { failClosed: FAIL };
    }
    let secretType: 'auth-file' | 'auth-map' = 'auth-file';
    if (secretTypeV) {
      const st = secretTypeV.value.trim();
      if (st === 'auth-file' || st === 'auth-map') secretType = st;
      else {
        r.invalid(secretTypeV, 'must be auth-file or auth-map; the route fails closed (403)');
        return { failClosed: FAIL };
      }
    }
    if (realm) r.sink.warning('XG_AUTH_REALM_IGNORED', ctx.ref, `${realm.annotation} has no effect: Envoy's basic_auth filter answers WWW-Authenticate: Basic realm="<request URL>" and has no realm setting`, `metadata.annotations["${realm.annotation}"]`);
    if (!secretV) {
      r.sink.error('XG_AUTH_SECRET_NOT_FOUND', ctx.ref, `${type.annotation}=basic needs auth-secret; the route fails closed (403)`, `metadata.annotations["${type.annotation}"]`);
      return { failClosed: FAIL };
    }
    const ref = parseSecretRef(secretV.value, ctx.namespace);
    if ('error' in ref) {
      if (ref.otherNamespace) r.sink.error('XG_AUTH_SECRET_NAMESPACE', ctx.ref, `${secretV.annotation} ${ref.error}; the route fails closed (403)`, `metadata.annotations["${secretV.annotation}"]`);
      else r.invalid(secretV, `${ref.error}; the route fails closed (403)`);
      return { failClosed: FAIL };
    }
    const where = `Secret ${ctx.namespace}/${ref.name}`;
    const field = `metadata.annotations["${secretV.annotation}"]`;
    const secret = ctx.store.secrets.get(`${ctx.namespace}/${ref.name}`);
    const result = secret ? readSecret(secret, secretType) : undefined;
    if (!result) {
      r.sink.error('XG_AUTH_SECRET_NOT_FOUND', ctx.ref, `${secretV.annotation}: ${where} ${secret ? `has no key ${AUTH_FILE_KEY}` : 'does not exist'}; the route fails closed (403)`, field);
      return { failClosed: FAIL };
    }
    for (const p of result.problems) r.sink.error(p.code, ctx.ref, `${where} (${secretType}) ${p.message}`, field);
    if (result.users.length === 0) {
      r.sink.error('XG_AUTH_BASIC_NO_USERS', ctx.ref, `${where} (${secretType}) has no usable {SHA} user; the route fails closed (403)`, field);
      return { failClosed: FAIL };
    }
    return { basicAuth: { users: htpasswdText(result.users) } };
  },
};
