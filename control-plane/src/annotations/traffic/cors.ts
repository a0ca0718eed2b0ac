// N/H CORS: `enable-cors`, `cors-allow-origin`, `cors-allow-methods`, `cors-allow-headers`,
// `cors-expose-headers`, `cors-allow-credentials`, `cors-max-age` (ingress-nginx defaults).
// Any invalid value drops the whole CORS policy of the route (no CORS headers: browsers
// keep their same-origin rule, which is the safe side).
import { RE2JS } from 're2js';
import type { AnnotationFamily } from '../family.js';
import { MAX_REGEX_PROGRAM_SIZE } from '../canary.js';
import type { AnnotationReader, AnnotationValue } from '../reader.js';

export type OriginMatch =
  | { readonly type: 'any' }
  /** lowercase `scheme://host[:port]`, matched ignoring case */
  | { readonly type: 'exact'; readonly value: string }
  /** RE2 over the whole origin (a `*.` wildcard: one DNS label) */
  | { readonly type: 'regex'; readonly value: string };

export interface CorsSpec {
  readonly origins: readonly OriginMatch[];
  /** `GET, PUT` (already joined). */
  readonly allowMethods: string;
  readonly allowHeaders: string;
  /** '' = none. */
  readonly exposeHeaders: string;
  readonly allowCredentials: boolean;
  readonly maxAgeSeconds: number;
}

declare module '../../model/ir.js' {
  interface RoutePolicy {
    readonly cors?: CorsSpec;
  }
}

// ingress-nginx's documented defaults.
export const CORS_DEFAULTS = {
  allowMethods: 'GET, PUT, POST, DELETE, PATCH, OPTIONS',
  allowHeaders: 'DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Range,Authorization',
  exposeHeaders: '',
  allowCredentials: true,
  maxAgeSeconds: 1728000,
} as const;

const KEYS = ['cors-allow-origin', 'cors-allow-methods', 'cors-allow-headers', 'cors-expose-headers', 'cors-allow-credentials', 'cors-max-age'] as const;
const PREFIXES = ['N', 'H', 'X'] as const;
const MAX_ITEMS = 64;
const MAX_AGE = 31536000;

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
/** `http(s)://[*.]host[:port]`: a browser Origin, optionally with a one-label wildcard. */
const ORIGIN = new RegExp(`^(https?)://(\\*\\.)?(${LABEL}(?:\\.${LABEL})*)(?::(\\d{1,5}))?$`);

function items(v: string): string[] {
  return v.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/** One origin of `cors-allow-origin`, or why it is not one. */
export function parseOrigin(raw: string): OriginMatch | string {
  if (raw === '*') return { type: 'any' };
  const o = raw.toLowerCase();
  const m = ORIGIN.exec(o);
  if (!m) return `${JSON.stringify(raw.slice(0, 100))} is not an origin (http(s)://host[:port], optionally https://*.domain)`;
  const [, scheme, wildcard, host, port] = m;
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return `${JSON.stringify(raw)} has an invalid port`;
  if (host!.length > 253) return `${JSON.stringify(raw.slice(0, 100))}: host name too long`;
  if (!wildcard) return { type: 'exact', value: o };
  // ingress-nginx turns `*` into one label ([A-Za-z0-9-]+), matched ignoring case.
  const regex = `(?i)${scheme}://[a-z0-9-]+\\.${host!.replace(/[.]/g, '\\.')}${port !== undefined ? `:${port}` : ''}`;
  // Built from checked parts, so it compiles; but Envoy refuses RE2 programs over 100.
  const size = RE2JS.compile(regex).programSize();
  if (size > MAX_REGEX_PROGRAM_SIZE - 10) return `${JSON.stringify(raw.slice(0, 100))}: the wildcard origin is too long for Envoy's regex size limit (RE2 program size ${size}); list the origins instead`;
  return { type: 'regex', value: regex };
}

export function parseOrigins(value: string): OriginMatch[] | string {
  const list = items(value);
  if (list.length === 0) return 'is empty';
  if (list.length > MAX_ITEMS) return `lists more than ${MAX_ITEMS} origins`;
  const out: OriginMatch[] = [];
  for (const raw of list) {
    const o = parseOrigin(raw);
    if (typeof o === 'string') return o;
    if (o.type === 'any') return [o];
    if (!out.some((x) => x.type === o.type && x.value === o.value)) out.push(o);
  }
  return out;
}

const METHOD = /^[A-Za-z]{1,32}$/;
const HEADER = /^[A-Za-z0-9_-]{1,128}$/;

/** A comma list of methods or header names, re-joined; or why not. */
export function parseTokenList(value: string, what: 'methods' | 'headers' | 'expose'): string | { why: string } {
  const list = items(value);
  if (list.length === 0) return what === 'expose' ? '' : { why: 'is empty' };
  if (list.length > MAX_ITEMS) return { why: `lists more than ${MAX_ITEMS} entries` };
  for (const t of list) {
    if (what === 'expose' && t === '*') continue;
    if (!(what === 'methods' ? METHOD : HEADER).test(t)) {
      return { why: `${JSON.stringify(t.slice(0, 64))} is not ${what === 'methods' ? 'an HTTP method (letters only)' : 'a header name (letters, digits, - and _)'}` };
    }
  }
  return list.join(what === 'methods' ? ', ' : ',');
}

export function parseBool(value: string): boolean | undefined {
  const v = value.trim().toLowerCase();
  return v === 'true' ? true : v === 'false' ? false : undefined;
}

export function readCors(r: AnnotationReader): CorsSpec | undefined {
  const enable = r.get('enable-cors', [...PREFIXES]);
  const values = new Map<string, AnnotationValue>();
  for (const k of KEYS) {
    const v = r.get(k, [...PREFIXES]);
    if (v) values.set(k, v);
  }
  let on = false;
  if (enable) {
    const b = parseBool(enable.value);
    if (b === undefined) r.invalid(enable, 'must be "true" or "false"; the route is served without CORS');
    else on = b;
  }
  if (!on) {
    if (values.size && (!enable || parseBool(enable.value) === false)) {
      for (const v of values.values()) {
        r.sink.warning('XG_CORS_IGNORED', r.ref, `${v.annotation} has no effect without enable-cors: "true"`, `metadata.annotations["${v.annotation}"]`);
      }
    }
    return undefined;
  }
  let ok = true;
  let origins: readonly OriginMatch[] = [{ type: 'any' }];
  let allowMethods: string = CORS_DEFAULTS.allowMethods;
  let allowHeaders: string = CORS_DEFAULTS.allowHeaders;
  let exposeHeaders: string = CORS_DEFAULTS.exposeHeaders;
  let allowCredentials: boolean = CORS_DEFAULTS.allowCredentials;
  let maxAgeSeconds: number = CORS_DEFAULTS.maxAgeSeconds;
  const bad = (v: AnnotationValue, why: string): void => {
    r.invalid(v, `${why}; the route is served without CORS`);
    ok = false;
  };
  const o = values.get('cors-allow-origin');
  if (o) {
    const p = parseOrigins(o.value);
    if (typeof p === 'string') bad(o, p);
    else origins = p;
  }
  const lists: Array<[string, 'methods' | 'headers' | 'expose', (s: string) => void]> = [
    ['cors-allow-methods', 'methods', (s) => (allowMethods = s)],
    ['cors-allow-headers', 'headers', (s) => (allowHeaders = s)],
    ['cors-expose-headers', 'expose', (s) => (exposeHeaders = s)],
  ];
  for (const [key, what, set] of lists) {
    const v = values.get(key);
    if (!v) continue;
    const p = parseTokenList(v.value, what);
    if (typeof p === 'string') set(p);
    else bad(v, p.why);
  }
  const c = values.get('cors-allow-credentials');
  if (c) {
    const b = parseBool(c.value);
    if (b === undefined) bad(c, 'must be "true" or "false"');
    else allowCredentials = b;
  }
  const a = values.get('cors-max-age');
  if (a) {
    const s = a.value.trim();
    if (!/^\d{1,8}$/.test(s) || Number(s) > MAX_AGE) bad(a, `must be a whole number of seconds (0 to ${MAX_AGE})`);
    else maxAgeSeconds = Number(s);
  }
  if (!ok) return undefined;
  return { origins, allowMethods, allowHeaders, exposeHeaders, allowCredentials, maxAgeSeconds };
}

export const corsFamily: AnnotationFamily = {
  name: 'cors',
  parse(r) {
    const cors = readCors(r);
    return cors ? { cors } : undefined;
  },
};
