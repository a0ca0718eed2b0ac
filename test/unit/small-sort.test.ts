// sortInPlace (model/small-sort.ts) orders as the stable Array.prototype.sort does, on
// either side of its 16-element cutover.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sortInPlace } from '../../control-plane/src/model/small-sort.js';

describe('sortInPlace', () => {
  it('gives what Array.prototype.sort gives (stable, ties kept in order)', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ k: fc.integer({ min: 0, max: 5 }), id: fc.nat() }), { maxLength: 40 }), (list) => {
        const cmp = (a: { k: number }, b: { k: number }) => a.k - b.k;
        const expected = [...list].sort(cmp);
        const copy = [...list];
        expect(sortInPlace(copy, cmp)).toBe(copy);
        expect(copy).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });
});
