// Local rate limits per route (Envoy's local_ratelimit, one token bucket per Envoy):
//   H `route-limit-rps`, `route-limit-rpm`, `route-limit-burst-multiplier` (Higress): one
//     bucket for the route, shared by all clients;
//   N `limit-rps`, `limit-rpm`, `limit-burst-multiplier` (ingress-nginx): one bucket per
//     client address (the trusted client address: the peer, or X-Forwarded-For through
//     --trusted-hops);
//   N `limit-connections`: not supported (no per-route concurrency limit in Envoy).
// Every key is also read under X. Rates are whole numbers from 0 to 100000 (0: no
// limit); the bucket holds rate × multiplier tokens (multiplier 1–100, default 5, as
// both products) and refills at the rate. An invalid value is reported and that limit is
// not applied (a rate limit protects availability; failing closed would take the route down).
import type { AnnotationFamily } from '../family.js';
import type { AnnotationReader, AnnotationValue } from '../reader.js';
import type { Prefix } from '../prefixes.js';

export interface RateBucket {
  /** Bucket size (the burst). */
  readonly maxTokens: number;
  /** Tokens added per fill interval (the rate). */
  readonly tokensPerFill: number;
  readonly fillSeconds: 1 | 60;
}

export interface RateLimits {
  /** Shared by every client of the route (Higress route-limit-*). */
  readonly route?: { readonly rps?: RateBucket; readonly rpm?: RateBucket };
  /** One bucket per client address (ingress-nginx limit-*). */
  readonly client?: { readonly rps?: RateBucket; readonly rpm?: RateBucket };
}

declare module '../../model/ir.js' {
  interface RoutePolicy {
    readonly rateLimit?: RateLimits;
  }
}

export const MAX_RATE = 100_000;
export const DEFAULT_BURST_MULTIPLIER = 5;
const MAX_MULTIPLIER = 100;

function bad(r: AnnotationReader, v: AnnotationValue, why: string): void {
  r.sink.error('XG_RATE_LIMIT_INVALID', r.ref, `${v.annotation}=${JSON.stringify(v.value.length > 100 ? `${v.value.slice(0, 100)}…` : v.value)}: ${why}`, `metadata.annotations["${v.annotation}"]`);
}

function wholeNumber(s: string, max: number): number | undefined {
  const t = s.trim();
  if (!/^(0|[1-9][0-9]{0,6})$/.test(t)) return undefined;
  const n = Number(t);
  return n <= max ? n : undefined;
}

function readRate(r: AnnotationReader, key: string, prefixes: readonly Prefix[]): number | undefined {
  const v = r.get(key, prefixes);
  if (!v) return undefined;
  const n = wholeNumber(v.value, MAX_RATE);
  if (n === undefined) {
    bad(r, v, `must be a whole number of requests from 0 to ${MAX_RATE} (0: no limit); this limit is not applied`);
    return undefined;
  }
  return n === 0 ? undefined : n;
}

function readMultiplier(r: AnnotationReader, key: string, prefixes: readonly Prefix[]): number {
  const v = r.get(key, prefixes);
  if (!v) return DEFAULT_BURST_MULTIPLIER;
  const n = wholeNumber(v.value, MAX_MULTIPLIER);
  if (n === undefined || n < 1) {
    bad(r, v, `must be a whole number from 1 to ${MAX_MULTIPLIER}; ${DEFAULT_BURST_MULTIPLIER} is used`);
    return DEFAULT_BURST_MULTIPLIER;
  }
  return n;
}

function bucket(rate: number, multiplier: number, fillSeconds: 1 | 60): RateBucket {
  return { maxTokens: rate * multiplier, tokensPerFill: rate, fillSeconds };
}

function level(r: AnnotationReader, prefix: string, prefixes: readonly Prefix[]): RateLimits['route'] {
  const rps = readRate(r, `${prefix}rps`, prefixes);
  const rpm = readRate(r, `${prefix}rpm`, prefixes);
  const m = readMultiplier(r, `${prefix}burst-multiplier`, prefixes);
  if (rps === undefined && rpm === undefined) return undefined;
  return { ...(rps !== undefined ? { rps: bucket(rps, m, 1) } : {}), ...(rpm !== undefined ? { rpm: bucket(rpm, m, 60) } : {}) };
}

export const rateLimitFamily: AnnotationFamily = {
  name: 'rate-limit',
  parse(r) {
    const route = level(r, 'route-limit-', ['H', 'X']);
    const client = level(r, 'limit-', ['N', 'X']);
    const conn = r.get('limit-connections', ['N', 'X']);
    if (conn && conn.value.trim() !== '0') {
      r.sink.warning('XG_LIMIT_CONNECTIONS_UNSUPPORTED', r.ref, `${conn.annotation}=${JSON.stringify(conn.value.slice(0, 100))} is not applied: Envoy has no per-route limit of concurrent connections per client (use limit-rps / limit-rpm)`, `metadata.annotations["${conn.annotation}"]`);
    }
    if (!route && !client) return undefined;
    return { rateLimit: { ...(route ? { route } : {}), ...(client ? { client } : {}) } };
  },
};
