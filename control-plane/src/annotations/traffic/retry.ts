// N/H retries (nginx proxy_next_upstream semantics):
//   proxy-next-upstream          tokens (blank- or comma-separated): error, timeout,
//                                invalid_header, http_500|502|503|504|403|404|429,
//                                non_idempotent, off. Default "error timeout" when only
//                                -tries or -timeout is set.
//   proxy-next-upstream-tries    tries in all, the first included (nginx); default 3.
//                                0 = nginx's "no limit": MAX_TRIES.
//   proxy-next-upstream-timeout  seconds, each try's timeout (as Higress); 0 = none.
// Any invalid value drops the retry policy (the route serves without retries).
import type { AnnotationFamily } from '../family.js';

export interface RetrySpec {
  /** Envoy retry_on conditions, sorted. */
  readonly retryOn: readonly string[];
  /** For `retriable-status-codes`, sorted. */
  readonly statusCodes: readonly number[];
  /** Retries after the first try. */
  readonly numRetries: number;
  /** Per-try timeout in seconds; absent = none. */
  readonly perTryTimeoutSeconds?: number;
  /** nginx retries POST, LOCK and PATCH only with non_idempotent. */
  readonly nonIdempotent: boolean;
}

declare module '../../model/ir.js' {
  interface RoutePolicy {
    readonly retry?: RetrySpec;
  }
}

const PREFIXES = ['N', 'H', 'M', 'X'] as const;
export const DEFAULT_TRIES = 3;
export const MAX_TRIES = 10;
const MAX_TIMEOUT = 3600;
const CONDITIONS: Readonly<Record<string, readonly string[]>> = {
  // error: connecting, sending or reading the response headers failed.
  error: ['connect-failure', 'refused-stream', 'reset'],
  // timeout: a connect timeout or a (per-try) read timeout.
  timeout: ['connect-failure', 'reset'],
  // invalid_header: Envoy resets a stream whose response it cannot parse.
  invalid_header: ['reset'],
};
const STATUS = new Set([500, 502, 503, 504, 403, 404, 429]);

export type ParsedNextUpstream = { off: true } | { off: false; retryOn: string[]; statusCodes: number[]; nonIdempotent: boolean };

export function parseNextUpstream(value: string): ParsedNextUpstream | string {
  const tokens = value.trim().toLowerCase().split(/[\s,]+/).filter((t) => t !== '');
  if (tokens.length === 0) return 'is empty';
  if (tokens.length > 16) return 'lists too many conditions';
  if (tokens.includes('off')) return tokens.length === 1 ? { off: true } : '"off" cannot be combined with other conditions';
  const retryOn = new Set<string>();
  const codes = new Set<number>();
  let nonIdempotent = false;
  for (const t of tokens) {
    const cond = CONDITIONS[t];
    if (cond) cond.forEach((c) => retryOn.add(c));
    else if (t === 'non_idempotent') nonIdempotent = true;
    else if (/^http_\d{3}$/.test(t) && STATUS.has(Number(t.slice(5)))) codes.add(Number(t.slice(5)));
    else return `${JSON.stringify(t.slice(0, 32))} is not a condition (error, timeout, invalid_header, http_500, http_502, http_503, http_504, http_403, http_404, http_429, non_idempotent, off)`;
  }
  if (codes.size) retryOn.add('retriable-status-codes');
  if (retryOn.size === 0) return 'names no retry condition (non_idempotent alone retries nothing)';
  return { off: false, retryOn: [...retryOn].sort(), statusCodes: [...codes].sort((a, b) => a - b), nonIdempotent };
}

export const retryFamily: AnnotationFamily = {
  name: 'retry',
  parse(r) {
    const on = r.get('proxy-next-upstream', [...PREFIXES]);
    const tries = r.get('proxy-next-upstream-tries', [...PREFIXES]);
    const timeout = r.get('proxy-next-upstream-timeout', [...PREFIXES]);
    if (!on && !tries && !timeout) return undefined;
    let ok = true;
    let parsed: ParsedNextUpstream = { off: false, retryOn: ['connect-failure', 'refused-stream', 'reset'], statusCodes: [], nonIdempotent: false };
    if (on) {
      const p = parseNextUpstream(on.value);
      if (typeof p === 'string') {
        r.invalid(on, `${p}; the route is served without retries`);
        ok = false;
      } else parsed = p;
    }
    let numRetries = DEFAULT_TRIES - 1;
    if (tries) {
      const s = tries.value.trim();
      if (!/^\d{1,3}$/.test(s) || Number(s) > MAX_TRIES) {
        r.invalid(tries, `must be a whole number of tries, first included (1 to ${MAX_TRIES}; 0 = as many as allowed, ${MAX_TRIES}); the route is served without retries`);
        ok = false;
      } else numRetries = (Number(s) === 0 ? MAX_TRIES : Number(s)) - 1;
    }
    let perTryTimeoutSeconds: number | undefined;
    if (timeout) {
      const s = timeout.value.trim().replace(/s$/, '');
      if (!/^\d{1,4}$/.test(s) || Number(s) > MAX_TIMEOUT) {
        r.invalid(timeout, `must be a whole number of seconds (0 to ${MAX_TIMEOUT}; 0 = none); the route is served without retries`);
        ok = false;
      } else if (Number(s) > 0) perTryTimeoutSeconds = Number(s);
    }
    if (!ok) return undefined;
    if (parsed.off) {
      for (const v of [tries, timeout]) {
        if (v) r.sink.warning('XG_RETRY_IGNORED', r.ref, `${v.annotation} has no effect: proxy-next-upstream is "off"`, `metadata.annotations["${v.annotation}"]`);
      }
      return undefined;
    }
    if (numRetries === 0 && perTryTimeoutSeconds === undefined) return undefined;
    return {
      retry: {
        retryOn: parsed.retryOn,
        statusCodes: parsed.statusCodes,
        numRetries,
        ...(perTryTimeoutSeconds !== undefined ? { perTryTimeoutSeconds } : {}),
        nonIdempotent: parsed.nonIdempotent,
      },
    };
  },
};
