// isIngressHost is a one-pass scanner; it must accept exactly what the grammar it was
// written from accepts (the regular expressions below, the function it replaced).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isIngressHost } from '../../control-plane/src/model/names.js';

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function byRegex(s: string): boolean {
  if (s.length === 0 || s.length > 253) return false;
  const name = s.startsWith('*.') ? s.slice(2) : s;
  if (!SUBDOMAIN.test(name)) return false;
  if (!name.split('.').every((l) => l.length <= 63)) return false;
  return !/^[0-9.]+$/.test(name);
}

describe('isIngressHost', () => {
  it('accepts and refuses the names the grammar does', () => {
    const cases = [
      'a', 'shop.example.com', '*.example.com', '*.a', '1.2.3.4', '1-2.3', '1.2.3.4a', 'a-b.c', '-a.b', 'a-.b', 'a..b', '.a', 'a.', '*', '*.',
      '**.a', 'a.*.b', 'A.b', 'a_b', 'x'.repeat(63), 'x'.repeat(64), `${'x'.repeat(63)}.y`, `${'x'.repeat(64)}.y`, `y.${'x'.repeat(64)}`, '9', '9-',
      `${'a.'.repeat(126)}a`, `${'a.'.repeat(126)}ab`, '', ' a', 'a b', 'ä.b', '*.1.2', '*.-a',
    ];
    for (const c of cases) expect(isIngressHost(c), JSON.stringify(c)).toBe(byRegex(c));
  });

  it('agrees with the grammar on random names', () => {
    const ch = fc.constantFrom('a', 'z', '0', '9', '-', '.', '*', 'A', '_');
    fc.assert(
      fc.property(fc.array(ch, { maxLength: 80 }).map((a) => a.join('')), fc.boolean(), (s, wild) => {
        const name = wild ? `*.${s}` : s;
        expect(isIngressHost(name)).toBe(byRegex(name));
      }),
      { numRuns: 20000 },
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1, max: 5 }), (n, k) => {
        const name = Array.from({ length: k }, () => 'a'.repeat(n)).join('.');
        expect(isIngressHost(name)).toBe(byRegex(name));
      }),
    );
  });

  it('refuses what is not a string', () => {
    for (const v of [undefined, null, 1, {}, []]) expect(isIngressHost(v)).toBe(false);
  });
});
