// Grammars shared by the routing families (docs/routing.md). Every value is untrusted:
// each function accepts a narrow, documented shape and refuses the rest.
import { RE2JS } from 're2js';
import { MAX_REGEX_PROGRAM_SIZE } from '../canary.js';
import type { AnnotationReader, AnnotationValue } from '../reader.js';
import type { Prefix } from '../prefixes.js';

export const ALL: readonly Prefix[] = ['N', 'H', 'M', 'X'];
/** Keys that Higress and MSE have and ingress-nginx does not. */
export const HIGRESS: readonly Prefix[] = ['H', 'M', 'X'];

const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** A Go ParseBool value (as both controllers read them); anything else → r.invalid and undefined. */
export function readBool(r: AnnotationReader, key: string, prefixes: readonly Prefix[] = ALL): { value: boolean; from: AnnotationValue } | undefined {
  const v = r.get(key, prefixes);
  if (!v) return undefined;
  const t = v.value.trim();
  if (TRUE.has(t)) return { value: true, from: v };
  if (FALSE.has(t)) return { value: false, from: v };
  r.invalid(v, 'must be "true" or "false"; the annotation is ignored');
  return undefined;
}

/** RE2 escape of a literal. */
export function re2Quote(s: string): string {
  return s.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');
}

export type RegexCheck = { readonly ok: true; readonly groups: number } | { readonly ok: false; readonly why: string };

/**
 * Checks a user regex with RE2 semantics, and that `wrapped` (the form Envoy will be
 * given) fits Envoy's program size limit. `wrapped` defaults to the regex itself.
 */
export function checkRegex(pattern: string, wrapped = pattern): RegexCheck {
  if (pattern.length === 0) return { ok: false, why: 'is empty' };
  if (pattern.length > 1024) return { ok: false, why: 'is longer than 1024 characters' };
  if (/[\x00-\x20\x7f]/.test(pattern)) return { ok: false, why: 'holds spaces or control characters' };
  let groups: number;
  try {
    groups = RE2JS.compile(pattern).groupCount();
  } catch (e) {
    return { ok: false, why: `is not a valid RE2 regular expression (${(e as Error).message})` };
  }
  try {
    const size = RE2JS.compile(wrapped).programSize();
    if (size > MAX_REGEX_PROGRAM_SIZE - 10) return { ok: false, why: `is too complex for Envoy (RE2 program size ${size} as used; Envoy accepts at most ${MAX_REGEX_PROGRAM_SIZE})` };
  } catch (e) {
    return { ok: false, why: `cannot be used as ${JSON.stringify(wrapped)} (${(e as Error).message})` };
  }
  return { ok: true, groups };
}

/** An HTTP header name (RFC 9110 token), lowercase; refuses what Envoy could never match. */
export function headerNameProblem(name: string): string | undefined {
  if (!/^[!#$%&'*+\-.^`|~0-9a-z]{1,128}$/.test(name)) return 'is not an HTTP header name (a token of at most 128 characters)';
  if (name.includes('_')) return 'holds "_": the gateway drops request headers with underscores (headers_with_underscores_action: DROP_HEADER), so it could never match';
  if (name === 'host') return 'is "host": Envoy matches the host as ":authority", and the Ingress host already selects it';
  return undefined;
}

/** A header value to match exactly or as a prefix: visible ASCII, spaces inside only. */
export const HEADER_VALUE = /^[\x21-\x7e](?:[\x20-\x7e\t]{0,1022}[\x21-\x7e])?$/;
/** Query parameter names and values: URL query characters without `&`, `=`, `#` and `+`. */
export const QUERY_PART = /^[A-Za-z0-9\-._~!$'()*,;:@/?%]{1,1024}$/;

/** Characters an HTTP path may hold (RFC 3986 pchar plus '/'). */
const PATH = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*$/;
const QUERY = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*$/;
const PCT = /%(?![0-9A-Fa-f]{2})/;

/** A path with an optional query (`/app`, `/app?x=1`); no fragment, spaces or quotes. */
export function isPathAndQuery(s: string): boolean {
  if (s.length > 2048 || PCT.test(s)) return false;
  const q = s.indexOf('?');
  const path = q < 0 ? s : s.slice(0, q);
  return PATH.test(path) && (q < 0 || QUERY.test(s.slice(q + 1)));
}

const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const HOSTNAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);
const IPV4 = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6 = /^\[[0-9A-Fa-f:.]{2,45}\]$/;

export interface HostPort {
  readonly host: string;
  readonly port?: number;
}

/** `host[:port]`: a DNS name, an IPv4 address or a bracketed IPv6 address; port 1-65535. */
export function parseHostPort(s: string): HostPort | undefined {
  if (s.length === 0 || s.length > 260) return undefined;
  let host = s;
  let port: number | undefined;
  const m = /^(.*):(\d{1,5})$/.exec(s);
  if (m && !(m[1]!.includes(':') && !m[1]!.startsWith('['))) {
    host = m[1]!;
    port = Number(m[2]);
    if (port < 1 || port > 65535) return undefined;
  }
  if (host.length > 253) return undefined;
  const ok = IPV4.test(host) || (IPV6.test(host) && ipv6Ok(host.slice(1, -1))) || (HOSTNAME.test(host) && !/^[0-9.]+$/.test(host));
  if (!ok) return undefined;
  return port === undefined ? { host } : { host, port };
}

function ipv6Ok(s: string): boolean {
  try {
    return new URL(`http://[${s}]/`).hostname.length > 2;
  } catch {
    return false;
  }
}

export interface UrlParts {
  readonly scheme?: 'http' | 'https';
  readonly host?: string;
  readonly port?: number;
  /** Path with its query, when the URL has one (`/` for an absolute URL without path). */
  readonly path: string;
}

/**
 * A redirect target: an absolute http(s) URL without user info or fragment, or a path
 * (with an optional query). Undefined for anything else.
 */
export function parseRedirectUrl(s: string): UrlParts | undefined {
  if (s.startsWith('/')) return s.startsWith('//') || !isPathAndQuery(s) ? undefined : { path: s };
  const m = /^(https?):\/\/([^/?#]+)([/?][^#]*)?$/i.exec(s);
  if (!m) return undefined;
  const hp = parseHostPort(m[2]!);
  if (!hp) return undefined;
  let rest = m[3] ?? '/';
  if (rest.startsWith('?')) rest = `/${rest}`;
  if (!isPathAndQuery(rest)) return undefined;
  const scheme = m[1]!.toLowerCase() as 'http' | 'https';
  return { scheme, host: hp.host.toLowerCase(), ...(hp.port !== undefined ? { port: hp.port } : {}), path: rest };
}

/** For diagnostics: a value as JSON, cut at 200 characters. */
export function shown(v: string): string {
  return JSON.stringify(v.length > 200 ? `${v.slice(0, 200)}…` : v);
}

export function field(v: AnnotationValue): string {
  return `metadata.annotations["${v.annotation}"]`;
}
