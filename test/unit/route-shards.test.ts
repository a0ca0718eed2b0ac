// Route shards (translate/route-shards.ts): the shard function, and ShardSplit's patched
// per-shard lists against a plain filter of the whole list after every step.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_ROUTE_SHARDS, ShardSplit, routeShardOf } from '../../control-plane/src/translate/route-shards.js';

describe('routeShardOf', () => {
  it('puts a one-label wildcard and the hosts it matches in one shard, and * in none', () => {
    for (const n of [2, 7, 64, MAX_ROUTE_SHARDS]) {
      expect(routeShardOf('*.apps.example.com', n)).toBe(routeShardOf('a.apps.example.com', n));
      expect(routeShardOf('*', n)).toBeUndefined();
    }
  });

  it('ignores the port and the case of a request host', () => {
    expect(routeShardOf('Shop.Example.COM:8080', 16)).toBe(routeShardOf('shop.example.com', 16));
    expect(routeShardOf('[::1]:8080', 16)).toBe(routeShardOf('[::1]', 16));
    expect(routeShardOf('localhost', 16)).toBe(0);
  });

  it('spreads hosts over the shards', () => {
    const counts = new Array<number>(16).fill(0);
    for (let i = 0; i < 4000; i++) counts[routeShardOf(`h.app-${i}.team-${i % 20}.example`, 16)!]!++;
    expect(Math.min(...counts)).toBeGreaterThan(150);
    expect(Math.max(...counts)).toBeLessThan(350);
  });
});

interface V {
  readonly name: string;
  readonly rev: number;
}

function filterSplit(items: readonly V[], shards: number): V[][] {
  return Array.from({ length: shards }, (_, s) => items.filter((v) => {
    const x = routeShardOf(v.name, shards);
    return x === undefined || x === s;
  }));
}

describe('ShardSplit', () => {
  it('gives the lists a filter gives, keeping the arrays of untouched shards, over random edits', () => {
    const names = ['*', ...Array.from({ length: 40 }, (_, i) => `h${i}.z${i % 5}.example.com`), '*.z1.example.com', '*.z3.example.com'].sort();
    const step = fc.record({ add: fc.subarray(names), remove: fc.subarray(names), touch: fc.subarray(names), shards: fc.constantFrom(4, 4, 4, 9) });
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 12 }), (steps) => {
        const split = new ShardSplit<V>((v) => v.name);
        let current = new Map<string, V>();
        let last: { lists: readonly (readonly V[])[]; shards: number; items: readonly V[] } | undefined;
        for (const s of steps) {
          const next = new Map(current);
          for (const n of s.remove) next.delete(n);
          for (const n of s.add) if (!next.has(n)) next.set(n, { name: n, rev: 0 });
          for (const n of s.touch) if (next.has(n)) next.set(n, { name: n, rev: next.get(n)!.rev + 1 });
          current = next;
          const items = [...current.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
          const lists = split.split(items, s.shards);
          expect(lists.map((l) => [...l])).toEqual(filterSplit(items, s.shards));
          if (last && last.shards === s.shards) {
            for (let k = 0; k < s.shards; k++) {
              const same = lists[k]!.length === last.lists[k]!.length && lists[k]!.every((x, i) => x === last!.lists[k]![i]);
              if (same) expect(lists[k]).toBe(last.lists[k]);
            }
          }
          last = { lists, shards: s.shards, items };
        }
      }),
      { numRuns: 200, seed: 7 },
    );
  });
});
