// Canary annotations (ingress-nginx, Higress, MSE; driven by Kruise Rollout):
//
//   canary                       "true" marks the Ingress as a canary of the primary that
//                                serves the same host+path (Go ParseBool values)
//   canary-by-header             header name: `always` → canary, `never` → primary, else fall through
//   canary-by-header-value       exact value → canary (else fall through); needs canary-by-header
//   canary-by-header-pattern     RE2, partial match → canary; ignored when -value is set
//   canary-by-query              (M, H, X) query parameter: `always` / `never`, like the header
//   canary-by-query-value        (M, H, X) exact value
//   canary-by-query-pattern      (M, H, X) RE2, partial match; ignored when -value is set
//   canary-by-cookie             cookie name: `always` → canary, `never` → primary
//   canary-by-cookie-value       (M, X) exact cookie value → canary
//   canary-weight                0 … total, default 0
//   canary-weight-total          1 … 1,000,000, default 100
//
// The canary config is not a route policy: model/canary.ts reads it with parseCanary()
// and merges the canary into its primary's routes. The family registered in
// families.ts only marks every canary key as read (one prefix at a time, so prefix
// conflicts are reported once, by parseCanary), so none is reported as unknown.
import { RE2JS } from 're2js';
import type { AnnotationFamily } from './family.js';
import { PREFIXES, READ_ORDER, splitKey, type Prefix } from './prefixes.js';
import type { AnnotationReader, AnnotationValue } from './reader.js';

const ALL: readonly Prefix[] = ['N', 'H', 'M', 'X'];
const MSE_AND_HIGRESS: readonly Prefix[] = ['H', 'M', 'X'];
const MSE: readonly Prefix[] = ['M', 'X'];

/** Every canary key and the prefixes it is read under. */
export const CANARY_KEYS: Readonly<Record<string, readonly Prefix[]>> = {
  canary: ALL,
  'canary-by-header': ALL,
  'canary-by-header-value': ALL,
  'canary-by-header-pattern': ALL,
  'canary-by-query': MSE_AND_HIGRESS,
  'canary-by-query-value': MSE_AND_HIGRESS,
  'canary-by-query-pattern': MSE_AND_HIGRESS,
  'canary-by-cookie': ALL,
  'canary-by-cookie-value': MSE,
  'canary-weight': ALL,
  'canary-weight-total': ALL,
};

export const MAX_WEIGHT_TOTAL = 1_000_000;
/** Envoy rejects regexes whose RE2 program is larger than 100 (re2.max_program_size.error_level). */
export const MAX_REGEX_PROGRAM_SIZE = 100;

/** One match condition of a canary, already in the shape Envoy matches on. */
export type CanaryCondition =
  /** `always` → canary, `never` → primary */
  | { readonly mode: 'always-never'; readonly name: string }
  | { readonly mode: 'exact'; readonly name: string; readonly value: string }
  /** RE2 over the whole value, already wrapped for a partial match */
  | { readonly mode: 'regex'; readonly name: string; readonly regex: string };

export interface CanaryConfig {
  readonly header?: CanaryCondition;
  readonly query?: CanaryCondition;
  /** Cookie conditions are `always-never` or `exact` (MSE's cookie-value). */
  readonly cookie?: CanaryCondition;
  readonly weight: number;
  readonly total: number;
}

export type CanaryParse = { readonly ok: true; readonly config: CanaryConfig } | { readonly ok: false };

/** Marks every canary key as read, so none is reported as unknown; reading happens in parseCanary. */
export const canaryKeysFamily: AnnotationFamily = {
  name: 'canary',
  parse(r) {
    for (const [key, prefixes] of Object.entries(CANARY_KEYS)) for (const p of prefixes) r.get(key, [p]);
    return undefined;
  },
};

const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/**
 * Whether an Ingress is a canary, from its `canary` annotation alone (first prefix in
 * N, H, M, X order that sets it): `invalid` for a value that is not a boolean (it is
 * then handled as a canary that parseCanary rejects, so it never claims host+path).
 */
export function canaryMarker(annotations: Readonly<Record<string, string>> | undefined): 'canary' | 'primary' | 'invalid' {
  if (!annotations) return 'primary';
  for (const p of READ_ORDER) {
    const v = annotations[`${PREFIXES[p]}canary`];
    if (typeof v !== 'string') continue;
    const t = v.trim();
    if (TRUE.has(t)) return 'canary';
    if (FALSE.has(t) || t === '') return 'primary';
    return 'invalid';
  }
  return 'primary';
}

/** Canary keys set on an Ingress that is not a canary: they have no effect (as in nginx). */
export function strayCanaryKeys(annotations: Readonly<Record<string, string>> | undefined): string[] {
  if (!annotations) return [];
  let out: string[] | undefined;
  for (const a of Object.keys(annotations)) {
    // Our prefixes do not overlap: an annotation has one prefix and bare key, if any.
    const split = splitKey(a);
    if (!split || split.key === 'canary' || !Object.prototype.hasOwnProperty.call(CANARY_KEYS, split.key)) continue;
    if (CANARY_KEYS[split.key]!.includes(split.prefix)) (out ??= []).push(a);
  }
  return out ? out.sort() : [];
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,256}$/;
/** Query parameter names and values: URL query characters without `&`, `=`, `#` and `+`. */
const QUERY_PART = /^[A-Za-z0-9\-._~!$'()*,;:@/?%]{1,1024}$/;
/** RFC 6265 cookie-octet. */
const COOKIE_VALUE = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]{1,1024}$/;
/** A header value: visible ASCII, spaces and tabs inside, no controls, no leading/trailing blank. */
const HEADER_VALUE = /^[\x21-\x7e](?:[\x20-\x7e\t]{0,1022}[\x21-\x7e])?$/;
const INT = /^\d{1,10}$/;

/** RE2 escape of a literal. */
export function re2Quote(s: string): string {
  return s.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');
}

/** Checks a user regex with RE2 semantics and wraps it for a partial match (Envoy matches the whole value). */
export function partialRegex(pattern: string): { ok: true; regex: string } | { ok: false; why: string } {
  if (pattern.length > 1024) return { ok: false, why: 'is longer than 1024 characters' };
  if (/[\x00-\x1f\x7f]/.test(pattern)) return { ok: false, why: 'holds control characters' };
  try {
    RE2JS.compile(pattern);
    const regex = `.*(?:${pattern}).*`;
    const size = RE2JS.compile(regex).programSize();
    if (size > MAX_REGEX_PROGRAM_SIZE - 10) return { ok: false, why: `is too complex for Envoy (RE2 program size ${size}; Envoy accepts at most ${MAX_REGEX_PROGRAM_SIZE} including the partial-match wrapper)` };
    return { ok: true, regex };
  } catch (e) {
    return { ok: false, why: `is not a valid RE2 regular expression (${(e as Error).message})` };
  }
}

/** The Envoy regex over the `cookie` header that finds `name=value` among the cookies. */
export function cookieRegex(name: string, value: string): string {
  return `(?:.*[;,])?[ \\t]*${re2Quote(name)}=${re2Quote(value)}[ \\t]*(?:[;,].*)?`;
}

/**
 * Reads the canary config of an Ingress marked as a canary. Every invalid value is an
 * XG_CANARY_INVALID error and rejects the whole canary (`ok: false`): it is not served,
 * and its primary keeps all traffic. Values that have no effect get XG_CANARY_IGNORED.
 */
export function parseCanary(r: AnnotationReader): CanaryParse {
  let ok = true;
  const get = (key: string): AnnotationValue | undefined => {
    const v = r.get(key, CANARY_KEYS[key]);
    return v && v.value.trim() !== '' ? v : undefined;
  };
  const reject = (v: AnnotationValue, why: string): void => {
    ok = false;
    const shown = JSON.stringify(v.value.length > 200 ? `${v.value.slice(0, 200)}…` : v.value);
    r.sink.error('XG_CANARY_INVALID', r.ref, `${v.annotation}=${shown}: ${why}; this canary is not served and its primary keeps all traffic`, field(v));
  };
  const ignored = (v: AnnotationValue, why: string): void => {
    r.sink.warning('XG_CANARY_IGNORED', r.ref, `${v.annotation} ${why}; it has no effect`, field(v));
  };

  const marker = get('canary');
  if (marker && !TRUE.has(marker.value.trim())) reject(marker, 'must be "true" or "false"');

  const condition = (kind: 'header' | 'query' | 'cookie'): CanaryCondition | undefined => {
    const nameV = get(`canary-by-${kind}`);
    const valueV = get(`canary-by-${kind}-value`);
    const patternV = kind === 'cookie' ? undefined : get(`canary-by-${kind}-pattern`);
    if (!nameV) {
      for (const v of [valueV, patternV]) if (v) ignored(v, `is set without canary-by-${kind}`);
      return undefined;
    }
    const raw = nameV.value.trim();
    let name: string;
    if (kind === 'query') {
      if (!QUERY_PART.test(raw)) return void reject(nameV, 'must be a query parameter name (URL query characters, no "&", "=", "+" or "#", at most 1024)');
      name = raw;
    } else {
      if (!TOKEN.test(raw)) return void reject(nameV, `must be a ${kind} name (an HTTP token of at most 256 characters)`);
      name = kind === 'header' ? raw.toLowerCase() : raw;
      if (kind === 'header' && name.includes('_')) return void reject(nameV, 'holds "_": the gateway drops request headers with underscores (headers_with_underscores_action: DROP_HEADER), so it could never match');
      if (kind === 'header' && name === 'host') return void reject(nameV, 'cannot be "host" (Envoy sees it as :authority; canaries are per host already)');
    }
    if (valueV) {
      if (patternV) ignored(patternV, `is ignored because canary-by-${kind}-value is set`);
      const value = valueV.value;
      const good = kind === 'header' ? HEADER_VALUE.test(value) : kind === 'query' ? QUERY_PART.test(value) : COOKIE_VALUE.test(value);
      if (!good) {
        const what = kind === 'header' ? 'visible ASCII (spaces inside only), at most 1024' : kind === 'query' ? 'URL query characters without "&", "=", "+" or "#", at most 1024' : 'RFC 6265 cookie characters, at most 1024';
        return void reject(valueV, `must be ${what}`);
      }
      if (kind === 'cookie') {
        const regex = cookieRegex(name, value);
        if (RE2JS.compile(regex).programSize() > MAX_REGEX_PROGRAM_SIZE - 10) return void reject(valueV, 'with the cookie name, is too long for Envoy\'s regex limit');
        return { mode: 'regex', name, regex };
      }
      return { mode: 'exact', name, value };
    }
    if (patternV) {
      const p = partialRegex(patternV.value);
      if (!p.ok) return void reject(patternV, p.why);
      return { mode: 'regex', name, regex: p.regex };
    }
    if (kind === 'cookie' && RE2JS.compile(cookieRegex(name, 'always')).programSize() > MAX_REGEX_PROGRAM_SIZE - 10) {
      return void reject(nameV, 'is too long for Envoy\'s regex limit');
    }
    return { mode: 'always-never', name };
  };

  const header = condition('header');
  const query = condition('query');
  const cookie = condition('cookie');

  let total = 100;
  const totalV = get('canary-weight-total');
  if (totalV) {
    const t = totalV.value.trim();
    if (!INT.test(t) || Number(t) < 1 || Number(t) > MAX_WEIGHT_TOTAL) reject(totalV, `must be a whole number from 1 to ${MAX_WEIGHT_TOTAL}`);
    else total = Number(t);
  }
  let weight = 0;
  const weightV = get('canary-weight');
  if (weightV) {
    const w = weightV.value.trim();
    if (!INT.test(w) || Number(w) > MAX_WEIGHT_TOTAL) reject(weightV, `must be a whole number from 0 to the total (${total})`);
    else if (Number(w) > total) reject(weightV, `is more than canary-weight-total (${total})`);
    else weight = Number(w);
  }
  if (!ok) return { ok: false };
  return { ok: true, config: { ...(header ? { header } : {}), ...(query ? { query } : {}), ...(cookie ? { cookie } : {}), weight, total } };
}

function field(v: AnnotationValue): string {
  return `metadata.annotations["${v.annotation}"]`;
}
