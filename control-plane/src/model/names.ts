// Grammars for the names xgate builds resource names and matches from. Everything
// that reaches a resource name passes one of these, so joined names cannot collide.
const LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** DNS-1123 label: namespaces, Service names, port names. */
export function isDnsLabel(s: unknown): s is string {
  return typeof s === 'string' && LABEL.test(s);
}

/** DNS-1123 subdomain: object names such as Ingress and Secret names. */
export function isDnsSubdomain(s: unknown): s is string {
  return typeof s === 'string' && s.length <= 253 && SUBDOMAIN.test(s);
}

/** An Ingress host: a lowercase DNS name, or `*.` followed by one (a one-label wildcard). IPs are not hosts. */
export function isIngressHost(s: unknown): s is string {
  if (typeof s !== 'string' || s.length === 0 || s.length > 253) return false;
  const name = s.startsWith('*.') ? s.slice(2) : s;
  if (!SUBDOMAIN.test(name)) return false;
  if (!name.split('.').every((l) => l.length <= 63)) return false;
  return !/^[0-9.]+$/.test(name);
}

/** Characters an HTTP path may hold (RFC 3986 pchar plus '/'); anything else is refused. */
const PATH_CHARS = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*$/;
const PCT = /%(?![0-9A-Fa-f]{2})/;

export function isHttpPath(s: unknown): s is string {
  return typeof s === 'string' && s.length <= 4096 && PATH_CHARS.test(s) && !PCT.test(s);
}

/** Characters that are regex syntax; in Exact and Prefix paths they match literally. */
export function hasRegexChars(s: string): boolean {
  return /[$()*+]/.test(s);
}

export function isPort(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535;
}
