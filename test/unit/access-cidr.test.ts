// The IP list parser (annotations/access/cidr.ts): a table of accepted and refused entries.
import fc from 'fast-check';
import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import { cidrString, parseCidr, parseCidrList, MAX_CIDRS } from '../../control-plane/src/annotations/access/cidr.js';

describe('parseCidr', () => {
  const ok: Array<[string, string, boolean]> = [
    ['10.0.0.1', '10.0.0.1/32', false],
    ['10.0.0.0/8', '10.0.0.0/8', false],
    [' 192.168.1.0/24 ', '192.168.1.0/24', false],
    // surrounding whitespace (a YAML block scalar's trailing newline) is trimmed
    ['10.0.0.1\n', '10.0.0.1/32', false],
    ['0.0.0.0/0', '0.0.0.0/0', false],
    ['10.0.0.1/8', '10.0.0.0/8', true],
    ['255.255.255.255/32', '255.255.255.255/32', false],
    ['::1', '::1/128', false],
    ['::', '::/128', false],
    ['::/0', '::/0', false],
    ['2001:DB8::1', '2001:db8::1/128', false],
    ['2001:db8:0:0:0:0:0:1', '2001:db8::1/128', false],
    ['2001:db8::/32', '2001:db8::/32', false],
    ['2001:db8:1::/32', '2001:db8::/32', true],
    ['fe80::1/10', 'fe80::/10', true],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3/128', false],
    ['1:0:0:2:0:0:3:4', '1::2:0:0:3:4/128', false],
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1/128', false],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221/128', false],
  ];
  for (const [input, want, hostBits] of ok) {
    it(`accepts ${JSON.stringify(input)} as ${want}${hostBits ? ' (host bits cleared)' : ''}`, () => {
      const r = parseCidr(input);
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      expect(cidrString(r.cidr)).toBe(want);
      expect(r.hostBits).toBe(hostBits);
    });
  }

  const bad = [
    '', ' ', '10.0.0', '10.0.0.0.0', '256.0.0.1', '010.0.0.1', '1.2.3.4/33', '1.2.3.4/', '1.2.3.4/-1', '1.2.3.4/08', '1.2.3.4/ 8',
    '10.0.0.1 10.0.0.2', '10.0.0.1;', 'localhost', 'example.com', '*', 'all', '1.2.3.4/8/8',
    '::1/129', ':::1', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '12345::', 'fe80::1%eth0', 'g::1', '::ffff:256.1.1.1',
    '1:2:3:4:5:6:7:8::', '10.0.0.1\n10.0.0.2', '10.0.0.1\u00a0', '"10.0.0.1"', '{10.0.0.1}', '0x0a000001', '2130706433',
  ];
  for (const input of bad) {
    it(`refuses ${JSON.stringify(input)}`, () => expect(parseCidr(input).ok).toBe(false));
  }

  it('agrees with node:net on what is an address (random printable strings)', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'0123456789abcdef:.'.split('')), maxLength: 20 }), (s) => {
        const r = parseCidr(s);
        // Anything we accept node accepts (node also accepts forms we refuse, e.g. none here for this alphabet except leading zeros).
        if (r.ok) expect(isIP(s.trim())).not.toBe(0);
      }),
    );
  });

  it('round-trips every canonical address it prints', () => {
    fc.assert(
      fc.property(fc.ipV6(), fc.integer({ min: 0, max: 128 }), (ip, len) => {
        const r = parseCidr(`${ip}/${len}`);
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        const again = parseCidr(cidrString(r.cidr));
        expect(again.ok && cidrString(again.cidr)).toBe(cidrString(r.cidr));
        expect(again.ok && again.hostBits).toBe(false);
      }),
    );
  });
});

describe('parseCidrList', () => {
  it('sorts and deduplicates', () => {
    const r = parseCidrList('10.0.0.2, 10.0.0.1,10.0.0.2/32, ::1');
    expect(r.ok && r.cidrs.map(cidrString)).toEqual(['10.0.0.1/32', '10.0.0.2/32', '::1/128']);
  });
  it('reports host bits', () => {
    const r = parseCidrList('10.0.0.1/8');
    expect(r.ok && r.hostBits).toEqual(['10.0.0.1/8 is read as 10.0.0.0/8']);
  });
  for (const v of ['', '  ', ',', '10.0.0.1,', ',10.0.0.1', '10.0.0.1,,10.0.0.2', '10.0.0.1, bogus']) {
    it(`refuses the list ${JSON.stringify(v)}`, () => expect(parseCidrList(v).ok).toBe(false));
  }
  it(`refuses more than ${MAX_CIDRS} entries`, () => {
    const many = Array.from({ length: MAX_CIDRS + 1 }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.1`).join(',');
    expect(parseCidrList(many).ok).toBe(false);
    expect(parseCidrList(many.split(',').slice(0, MAX_CIDRS).join(',')).ok).toBe(true);
  });
});
