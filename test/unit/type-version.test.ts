// Type versions (xds/cache/type-version.ts): a function of the (name, version) pairs
// alone, and an updated sum equals the sum made afresh.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EMPTY_SUM, sumOf, updatedSum, versionOfSum } from '../../control-plane/src/xds/cache/type-version.js';

const pairs = fc.uniqueArray(fc.tuple(fc.string({ maxLength: 12 }), fc.string({ minLength: 1, maxLength: 16 })), { selector: ([n]) => n, maxLength: 30 });

function asMap(ps: readonly (readonly [string, string])[]): Map<string, { version: string }> {
  return new Map(ps.map(([n, v]) => [n, { version: v }]));
}

describe('type versions', () => {
  it('do not depend on the order of the pairs', () => {
    fc.assert(
      fc.property(pairs, (ps) => {
        expect(versionOfSum(sumOf(asMap(ps)))).toBe(versionOfSum(sumOf(asMap([...ps].reverse()))));
      }),
    );
  });

  it('change with any name or version, and with the count', () => {
    const a = versionOfSum(sumOf(asMap([['a', 'v1'], ['b', 'v2']])));
    expect(versionOfSum(sumOf(asMap([['a', 'v1'], ['b', 'v3']])))).not.toBe(a);
    expect(versionOfSum(sumOf(asMap([['a', 'v1'], ['c', 'v2']])))).not.toBe(a);
    expect(versionOfSum(sumOf(asMap([['a', 'v1']])))).not.toBe(a);
    expect(versionOfSum(sumOf(asMap([['ab', 'v1']])))).not.toBe(versionOfSum(sumOf(asMap([['a', 'bv1']]))));
    expect(versionOfSum(EMPTY_SUM)).toBe(versionOfSum(sumOf(new Map())));
  });

  it('update like a fresh sum', () => {
    fc.assert(
      fc.property(pairs, pairs, (before, after) => {
        const from = asMap(before);
        const to = asMap(after);
        const removed = [...from].filter(([n, r]) => to.get(n)?.version !== r.version).map(([n, r]) => [n, r.version] as const);
        const added = [...to].filter(([n, r]) => from.get(n)?.version !== r.version).map(([n, r]) => [n, r.version] as const);
        expect(updatedSum(sumOf(from), removed, added)).toEqual(sumOf(to));
      }),
    );
  });
});
