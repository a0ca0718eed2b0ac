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
  // One pass, no copies (every path of every Ingress asks): after an optional "*.",
  // dot-separated labels of [a-z0-9-], each 1–63 long, starting and ending with
  // [a-z0-9] (SUBDOMAIN with a label limit), not only digits and dots (an IP).
  const len = s.length;
  let i = len > 1 && s.charCodeAt(0) === 42 /* * */ && s.charCodeAt(1) === 46 /* . */ ? 2 : 0;
  if (i === len) return false;
  let labelStart = i;
  let last = 46; // the character before the label: a dot
  let letters = false;
  for (; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      // A label ends: not empty, not ending with '-', at most 63 long.
      if (last === 46 || last === 45 || i - labelStart > 63) return false;
      labelStart = i + 1;
    } else if (c === 45) {
      if (last === 46) return false; // starts with '-'
    } else if (c >= 97 && c <= 122) letters = true;
    else if (c < 48 || c > 57) return false;
    last = c;
  }
  if (last === 46 || last === 45 || len - labelStart > 63) return false;
  return letters || hasHyphen(s);
}

/** Whether a name holds a '-' (a name of digits, dots and hyphens is not an IP). */
function hasHyphen(s: string): boolean {
  return s.indexOf('-') >= 0;
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
