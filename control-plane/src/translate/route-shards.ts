// Route shards: the plain HTTP listener's virtual hosts split over N route configurations
// (the `--route-shards` option), so that a change to one host sends Envoy one small
// RouteConfiguration instead of the one holding every host (15 MB at 10,000 Ingresses:
// Envoy takes seconds to apply it).
//
// Envoy picks the shard with scoped routes (HCM `scoped_routes`): a Lua filter, first in
// the chain, puts the shard number of the request's host in a header, clears the route
// cache, and the scope keyed on that header gives the route configuration. The shard of
// a host is a hash of the host without its first label, so a one-label wildcard
// `*.example.com` and every host it matches (`a.example.com`) land in the same shard; the
// catch-all host `*` (default backend) is in every shard. TypeScript (routeShardOf) and
// Lua (routeShardLua) compute the same hash: lower case, port removed (`host:port`,
// `[v6]:port`), the part after the first dot, h = (h * 31 + byte) mod 4294967291 (exact
// in doubles), shard = h mod N. The route configurations remove the header before
// forwarding. test/e2e/route-shards.test.ts checks through the real Envoy that every
// host reaches its route.
import type { JsonObject } from '../xds/encode.js';

/** The request header the Lua filter sets: the shard number. */
export const ROUTE_SHARD_HEADER = 'x-xgate-route-shard';
export const MAX_ROUTE_SHARDS = 256;
const MOD = 4294967291;

/** The name of shard `i`'s route configuration (`http/0` …). */
export function routeShardName(i: number): string {
  return `http/${i}`;
}

/** The shard (0 … shards-1) of a virtual host's domain or a request's host; undefined for `*` (every shard). */
export function routeShardOf(host: string, shards: number): number | undefined {
  if (host === '*') return undefined;
  let h = host.toLowerCase();
  const end = h.startsWith('[') ? h.indexOf(']') + 1 : h.indexOf(':');
  if (end > 0) h = h.slice(0, end);
  const dot = h.indexOf('.');
  const parent = dot >= 0 ? h.slice(dot + 1) : '';
  let x = 0;
  for (let i = 0; i < parent.length; i++) x = (x * 31 + (parent.charCodeAt(i) & 0xff)) % MOD;
  return x % shards;
}

/** The Lua filter that sets ROUTE_SHARD_HEADER (the same hash as routeShardOf). */
export function routeShardFilter(shards: number, luaType: string): JsonObject {
  return { name: 'xgate.route_shard', typed_config: { '@type': luaType, default_source_code: { inline_string: routeShardLua(shards) } } };
}

function routeShardLua(shards: number): string {
  if (!Number.isInteger(shards) || shards < 2 || shards > MAX_ROUTE_SHARDS) throw new Error(`route shards ${shards} out of range`);
  return [
    '-- xgate: the route shard of the request host (translate/route-shards.ts)',
    'local byte, find, lower, sub = string.byte, string.find, string.lower, string.sub',
    'function envoy_on_request(handle)',
    '  local headers = handle:headers()',
    '  local host = lower(headers:get(":authority") or "")',
    '  local e',
    '  if sub(host, 1, 1) == "[" then e = find(host, "]", 1, true) else',
    '    e = find(host, ":", 1, true)',
    '    if e then e = e - 1 end',
    '  end',
    '  if e then host = sub(host, 1, e) end',
    '  local d = find(host, ".", 1, true)',
    '  local x = 0',
    '  if d then',
    `    for i = d + 1, #host do x = (x * 31 + byte(host, i)) % ${MOD} end`,
    '  end',
    `  headers:replace("${ROUTE_SHARD_HEADER}", tostring(x % ${shards}))`,
    '  handle:clearRouteCache()',
    'end',
    '',
  ].join('\n');
}

/**
 * The HCM route specifier for N shards: scopes keyed on ROUTE_SHARD_HEADER, by SRDS. (Envoy
 * takes scopes listed inline only with inline route configurations, so the scopes come
 * by SRDS and each names its shard's route configuration, by RDS.)
 */
export function scopedRoutes(source: JsonObject): JsonObject {
  return {
    name: 'http',
    scope_key_builder: { fragments: [{ header_value_extractor: { name: ROUTE_SHARD_HEADER, index: 0 } }] },
    rds_config_source: source,
    scoped_rds: { scoped_rds_config_source: source },
  };
}

let scopesMemo: { readonly shards: number; readonly list: readonly JsonObject[] } = { shards: 0, list: [] };

/** The ScopedRouteConfiguration resources of N shards: shard i's key is "i", its route configuration `http/i`. */
export function shardScopes(shards: number): readonly JsonObject[] {
  if (scopesMemo.shards !== shards) {
    const list = Array.from({ length: shards }, (_, i) => ({
      name: routeShardName(i),
      route_configuration_name: routeShardName(i),
      key: { fragments: [{ string_key: String(i) }] },
    }));
    scopesMemo = { shards, list };
  }
  return scopesMemo.list;
}

/**
 * Splits lists sorted by name (virtual hosts, by host) into per-shard lists, the same as
 * filtering the list by shard (an element whose shard is undefined goes to every shard).
 * From one call to the next, the new list is compared with the last one element by
 * element (a pointer comparison; names only where they differ): the shards of the
 * elements added or removed are patched, and every other shard keeps its array, so one
 * changed host costs a pass of pointer comparisons plus its shard's list. The lists are
 * never mutated once returned.
 */
export class ShardSplit<T> {
  private last: readonly T[] = [];
  private shards = 0;
  private lists: readonly (readonly T[])[] = [];
  private readonly memo = new Map<string, number | undefined>();

  constructor(private readonly nameOf: (x: T) => string) {}

  /** `replaced`, when given: `items` differs from `replaced.from` only at the indices `replaced.at` (the same length). */
  split(items: readonly T[], shards: number, replaced?: { readonly from: readonly T[]; readonly at: readonly number[] }): readonly (readonly T[])[] {
    if (items === this.last && shards === this.shards) return this.lists;
    const prev = this.last;
    const changes = shards !== this.shards ? undefined : replaced && replaced.from === prev && prev.length === items.length ? this.replacedAt(prev, items, replaced.at) : this.diff(prev, items);
    let lists: (readonly T[])[];
    if (!changes || changes.added.length + changes.removed.length > 64 + (items.length >> 4)) lists = this.full(items, shards);
    else lists = this.patched(changes.added, changes.removed);
    this.last = items;
    this.shards = shards;
    this.lists = lists;
    return lists;
  }

  /** diff() of two lists of the same length known to differ only at `at`. */
  private replacedAt(prev: readonly T[], next: readonly T[], at: readonly number[]): { added: T[]; removed: T[] } {
    const added: T[] = [];
    const removed: T[] = [];
    for (const i of at) {
      if (next[i] === prev[i]) continue;
      added.push(next[i]!);
      removed.push(prev[i]!);
    }
    return { added, removed };
  }

  /** Elements of `next` not in `prev` and the reverse, by a merge on names. */
  private diff(prev: readonly T[], next: readonly T[]): { added: T[]; removed: T[] } {
    const added: T[] = [];
    const removed: T[] = [];
    let i = 0;
    let j = 0;
    while (i < next.length && j < prev.length) {
      const a = next[i]!;
      const b = prev[j]!;
      if (a === b) {
        i++;
        j++;
        continue;
      }
      const na = this.nameOf(a);
      const nb = this.nameOf(b);
      if (na === nb) {
        added.push(a);
        removed.push(b);
        i++;
        j++;
      } else if (na < nb) {
        added.push(a);
        i++;
      } else {
        removed.push(b);
        j++;
      }
    }
    while (i < next.length) added.push(next[i++]!);
    while (j < prev.length) removed.push(prev[j++]!);
    return { added, removed };
  }

  private shardOf(x: T, shards: number): number | undefined {
    const name = this.nameOf(x);
    if (this.memo.has(name)) return this.memo.get(name);
    if (this.memo.size > 2 * this.last.length + 1024) this.memo.clear();
    const s = routeShardOf(name, shards);
    this.memo.set(name, s);
    return s;
  }

  private full(items: readonly T[], shards: number): (readonly T[])[] {
    if (shards !== this.shards) this.memo.clear();
    const out: T[][] = Array.from({ length: shards }, () => []);
    for (const x of items) {
      const s = this.shardOf(x, shards);
      if (s === undefined) for (const list of out) list.push(x);
      else out[s]!.push(x);
    }
    // A shard with the same elements as last time keeps its array.
    return out.map((list, i) => {
      const before = shards === this.shards ? this.lists[i] : undefined;
      return before && sameElements(before, list) ? before : list;
    });
  }

  private patched(added: readonly T[], removed: readonly T[]): (readonly T[])[] {
    const shards = this.shards;
    const touched = new Map<number, { add: T[]; remove: Set<T> }>();
    const at = (s: number) => {
      let t = touched.get(s);
      if (!t) touched.set(s, (t = { add: [], remove: new Set() }));
      return t;
    };
    const each = (x: T, f: (s: number) => void) => {
      const s = this.shardOf(x, shards);
      if (s === undefined) for (let k = 0; k < shards; k++) f(k);
      else f(s);
    };
    for (const x of removed) each(x, (s) => at(s).remove.add(x));
    for (const x of added) each(x, (s) => at(s).add.push(x));
    const lists = this.lists.slice();
    for (const [s, { add, remove }] of touched) {
      const list = remove.size ? lists[s]!.filter((x) => !remove.has(x)) : lists[s]!.slice();
      for (const x of add) list.splice(this.lowerBound(list, this.nameOf(x)), 0, x);
      lists[s] = list;
    }
    return lists;
  }

  private lowerBound(list: readonly T[], name: string): number {
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.nameOf(list[mid]!) < name) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

function sameElements<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
