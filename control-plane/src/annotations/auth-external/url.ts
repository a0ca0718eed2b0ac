// Strict grammar for the URLs of the external-auth and OIDC keys (auth-url,
// auth-signin, oidc-issuer, and the endpoints of a discovery document): an absolute
// http(s) URL with a DNS name or IP literal host, no credentials, no fragment, and
// none of the characters that config injection uses (whitespace, control characters,
// `;`, `{`, `}`, quotes, backslash, `<`, `>`, non-ASCII).
import { isIP } from 'node:net';

export interface CheckedUrl {
  readonly url: URL;
  readonly scheme: 'http' | 'https';
  /** Lowercase DNS name, or an IP literal without brackets. */
  readonly host: string;
  readonly port: number;
  /** The path, percent-encoded as given ('/' when empty). */
  readonly path: string;
  /** The query with its '?', or ''. */
  readonly query: string;
}

export type UrlCheck = { readonly ok: true; readonly value: CheckedUrl } | { readonly ok: false; readonly why: string };

const FORBIDDEN = /[^\x21-\x7e]|[;{}"'`\\<>|^]/;
const SHAPE = /^(https?):\/\/([^/?#@]+)(\/[^?#]*)?(\?[^#]*)?$/i;
const NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*\.?$/;
const PATH = /^\/[A-Za-z0-9\-._~!$&'()*+,=:@/%]*$/;
const QUERY = /^\?[A-Za-z0-9\-._~!$&'()*+,=:@/?%]*$/;

export function checkUrl(raw: string, opts: { maxLength?: number } = {}): UrlCheck {
  // Not trimmed: a newline or space anywhere, even at the end, is refused.
  const v = raw;
  if (v === '') return { ok: false, why: 'is empty' };
  if (v.length > (opts.maxLength ?? 2048)) return { ok: false, why: `is longer than ${opts.maxLength ?? 2048} characters` };
  const bad = FORBIDDEN.exec(v);
  if (bad) return { ok: false, why: `holds a forbidden character ${JSON.stringify(bad[0])} (whitespace, control characters, ; { } quotes \\ < > | ^ and non-ASCII are refused)` };
  if (v.includes('$')) return { ok: false, why: 'holds "$": nginx variables ($host, $escaped_request_uri…) are not supported' };
  if (v.includes('#')) return { ok: false, why: 'must not hold a fragment (#…)' };
  const m = SHAPE.exec(v);
  if (!m) {
    if (/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(v)) return { ok: false, why: 'must not carry credentials (user:password@)' };
    return { ok: false, why: 'is not an absolute http:// or https:// URL' };
  }
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return { ok: false, why: 'is not a valid URL' };
  }
  if (url.username || url.password) return { ok: false, why: 'must not carry credentials (user:password@)' };
  const scheme = url.protocol === 'https:' ? 'https' : 'http';
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (isIP(host) === 0 && (!NAME.test(host) || host.length > 253)) return { ok: false, why: `host ${JSON.stringify(host)} is not a DNS name or an IP address` };
  const port = url.port ? Number(url.port) : scheme === 'https' ? 443 : 80;
  const path = m[3] ?? '/';
  const query = m[4] ?? '';
  if (!PATH.test(path) || /%(?![0-9A-Fa-f]{2})/.test(path)) return { ok: false, why: 'has a path with characters outside RFC 3986' };
  if (query && (!QUERY.test(query) || /%(?![0-9A-Fa-f]{2})/.test(query))) return { ok: false, why: 'has a query with characters outside RFC 3986' };
  return { ok: true, value: { url, scheme, host, port, path, query } };
}

/** The URL without a default port, as written back into Envoy config (validated parts only). */
export function urlString(u: CheckedUrl): string {
  const h = isIP(u.host) === 6 ? `[${u.host}]` : u.host;
  const defaultPort = u.scheme === 'https' ? 443 : 80;
  return `${u.scheme}://${h}${u.port === defaultPort ? '' : `:${u.port}`}${u.path}${u.query}`;
}

/** A header name (RFC 9110 token), lowercased. */
export const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,128}$/;

/** Comma-separated header names, lowercased, sorted, unique; undefined when one is invalid. */
export function headerList(value: string): { ok: true; names: string[] } | { ok: false; bad: string } {
  const names = new Set<string>();
  for (const part of value.split(',')) {
    const n = part.trim();
    if (n === '') continue;
    if (!HEADER_NAME.test(n) || n.startsWith(':')) return { ok: false, bad: n };
    names.add(n.toLowerCase());
  }
  return { ok: true, names: [...names].sort() };
}
