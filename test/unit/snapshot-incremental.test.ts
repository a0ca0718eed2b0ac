// SnapshotEncoder updates each group's type snapshots from the last ones by what changed in
// the lists (xds/cache/snapshot.ts): Resources of the same objects are taken as they are,
// the resource map is the last one with the changes on top, a RouteConfiguration is put
// together from the parts of the one it replaces, and its bytes only when first read.
// Whatever the sequence of lists, every snapshot is what a fresh encoder gives.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EnvoyResources } from '../../control-plane/src/translate/resources.js';
import { SnapshotEncoder } from '../../control-plane/src/xds/cache/snapshot.js';
import type { Snapshot } from '../../control-plane/src/xds/cache/types.js';
import { encodeMessage, type JsonObject } from '../../control-plane/src/xds/encode.js';
import { CLUSTER, ROUTE, TYPE_URLS } from '../../control-plane/src/xds/type-urls.js';

const NAMES = Array.from({ length: 40 }, (_, i) => `c${String(i).padStart(2, '0')}`);
const clusterArb = fc.record({ name: fc.constantFrom(...NAMES), timeout: fc.constantFrom('1s', '2s') }).map(({ name, timeout }): JsonObject => ({ name, type: 'EDS', connect_timeout: timeout }));
const vhostArb = fc.record({ host: fc.constantFrom('a', 'b', 'c', 'd', 'e'), cluster: fc.constantFrom('x', 'y') }).map(({ host, cluster }): JsonObject => ({ name: host, domains: [host], routes: [{ name: 'r', match: { prefix: '/' }, route: { cluster } }] }));

const listEdit = fc.record({ kind: fc.constantFrom('keep', 'replace', 'add', 'remove', 'copy', 'many'), at: fc.nat(), value: clusterArb, more: fc.array(clusterArb, { maxLength: 12 }) });
const stepArb = fc.record({
  group: fc.constantFrom('envoy', 'grpc'),
  clusters: listEdit,
  vhosts: fc.record({ kind: fc.constantFrom('keep', 'replace', 'add', 'remove', 'copy'), at: fc.nat(), value: vhostArb }),
  read: fc.boolean(),
});

/** Unique names (a duplicate would be refused), in the order given. */
function unique(list: JsonObject[]): JsonObject[] {
  const seen = new Set<unknown>();
  return list.filter((c) => !seen.has(c['name']) && seen.add(c['name']));
}

function editClusters(list: readonly JsonObject[], e: typeof listEdit extends fc.Arbitrary<infer T> ? T : never): readonly JsonObject[] {
  const out = [...list];
  const i = out.length ? e.at % out.length : 0;
  switch (e.kind) {
    case 'keep':
      return e.at % 2 ? list : out;
    case 'replace':
      out[i] = { ...e.value, name: out[i]?.['name'] ?? e.value['name'] };
      return unique(out);
    case 'add':
      out.splice(i, 0, e.value);
      return unique(out);
    case 'remove':
      out.splice(i, 1);
      return out;
    case 'copy':
      return out.map((x) => ({ ...x }));
    default:
      return unique([...e.more, ...out.filter((_, n) => n % 3 !== 0)]);
  }
}

function editVhosts(list: readonly JsonObject[], e: { kind: string; at: number; value: JsonObject }): readonly JsonObject[] {
  const out = [...list];
  const i = out.length ? e.at % out.length : 0;
  switch (e.kind) {
    case 'keep':
      return list;
    case 'replace':
      out[i] = e.value;
      return out;
    case 'add':
      out.splice(i, 0, e.value);
      return out;
    case 'remove':
      out.splice(i, 1);
      return out;
    default:
      return out.map((x) => structuredClone(x));
  }
}

function same(a: Snapshot, b: Snapshot): void {
  expect(a.version).toBe(b.version);
  for (const t of TYPE_URLS) {
    const x = a.types[t];
    const y = b.types[t];
    expect(x.version).toBe(y.version);
    expect(x.resources.size).toBe(y.resources.size);
    expect([...x.resources.keys()]).toEqual([...y.resources.keys()]);
    for (const [name, r] of y.resources) {
      expect(x.resources.has(name)).toBe(true);
      const s = x.resources.get(name)!;
      expect(s.version).toBe(r.version);
      expect(Buffer.from(s.bytes).equals(Buffer.from(r.bytes))).toBe(true);
    }
  }
}

describe('SnapshotEncoder (incremental lists)', () => {
  it('gives what a fresh encoder gives, after any sequence of list edits in two groups', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 30 }), (steps) => {
        const encoder = new SnapshotEncoder();
        const empty: EnvoyResources = { listeners: [], routes: [], clusters: [], endpoints: [], secrets: [] };
        const groups: Record<string, EnvoyResources> = { envoy: empty, grpc: empty };
        const vhosts: Record<string, readonly JsonObject[]> = { envoy: [], grpc: [] };
        for (const s of steps) {
          const g = groups[s.group]!;
          vhosts[s.group] = editVhosts(vhosts[s.group]!, s.vhosts);
          const rc: JsonObject = { name: 'http', virtual_hosts: vhosts[s.group] as JsonObject[], ignore_port_in_host_matching: true };
          groups[s.group] = { ...g, clusters: editClusters(g.clusters, s.clusters), routes: s.vhosts.kind === 'keep' && g.routes.length ? g.routes : [rc] };
          const snaps = encoder.buildGroups(groups);
          for (const group of Object.keys(groups)) {
            // Bytes read now, or only after later builds (they are put together when first read).
            if (s.read) same(snaps[group]!, new SnapshotEncoder().build(structuredClone(groups[group]!)));
          }
        }
        for (const group of Object.keys(groups)) same(encoder.buildGroups(groups)[group]!, new SnapshotEncoder().build(structuredClone(groups[group]!)));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a duplicate name in a changed list, and goes on from the last good lists', () => {
    const encoder = new SnapshotEncoder();
    const clusters = NAMES.map((name): JsonObject => ({ name, type: 'EDS' }));
    const empty: EnvoyResources = { listeners: [], routes: [], clusters: [], endpoints: [], secrets: [] };
    const a = encoder.build({ ...empty, clusters });
    expect(() => encoder.build({ ...empty, clusters: [...clusters.slice(0, 5), { name: 'c01', type: 'STATIC' }, ...clusters.slice(5)] })).toThrow(/duplicate .* resource name "c01"/);
    expect(() => encoder.build({ ...empty, clusters: [...clusters, clusters[3]!] })).toThrow(/duplicate/);
    const b = encoder.build({ ...empty, clusters: [...clusters] });
    expect(b.types[CLUSTER]).toBe(a.types[CLUSTER]);
  });

  it('gives a resource map that behaves as a Map in name order', () => {
    const encoder = new SnapshotEncoder();
    const empty: EnvoyResources = { listeners: [], routes: [], clusters: [], endpoints: [], secrets: [] };
    const clusters = NAMES.filter((_, i) => i % 2 === 0).map((name): JsonObject => ({ name, type: 'EDS' }));
    encoder.build({ ...empty, clusters });
    // One changed, one removed, two added (one before every other name, one in between).
    const next = [{ name: 'a-first', type: 'EDS' }, ...clusters.filter((c) => c['name'] !== 'c10').map((c) => (c['name'] === 'c04' ? { ...c, connect_timeout: '3s' } : c)), { name: 'c05', type: 'EDS' }];
    const snap = encoder.build({ ...empty, clusters: next });
    const map = snap.types[CLUSTER].resources;
    const names = next.map((c) => String(c['name'])).sort();
    expect([...map.keys()]).toEqual(names);
    expect([...map.values()].map((r) => r.name)).toEqual(names);
    expect([...map].map(([n]) => n)).toEqual(names);
    expect([...map.entries()].map(([n, r]) => n === r.name)).toEqual(names.map(() => true));
    const seen: string[] = [];
    map.forEach((r, n) => seen.push(`${n}=${r.name}`));
    expect(seen).toEqual(names.map((n) => `${n}=${n}`));
    expect(map.size).toBe(names.length);
    expect(map.has('c10')).toBe(false);
    expect(map.get('c10')).toBeUndefined();
    expect(map.has('c05')).toBe(true);
    expect(map.get('c04')!.bytes).toEqual(encodeMessage(CLUSTER, { name: 'c04', type: 'EDS', connect_timeout: '3s' }));
    expect(new Map(map)).toEqual(new Map([...map]));
  });

  it('puts a RouteConfiguration together from the parts of the one it replaces', () => {
    const encoder = new SnapshotEncoder();
    const empty: EnvoyResources = { listeners: [], routes: [], clusters: [], endpoints: [], secrets: [] };
    const vh = (i: number): JsonObject => ({ name: `h${i}`, domains: [`h${i}`], routes: [{ name: 'r', match: { prefix: '/' }, route: { cluster: `c${i}` } }] });
    let vhosts = Array.from({ length: 30 }, (_, i) => vh(i));
    for (let step = 0; step < 5; step++) {
      vhosts = [...vhosts.slice(0, step * 3), vh(100 + step), ...vhosts.slice(step * 3 + 1)];
      const rc = { name: 'http', virtual_hosts: vhosts };
      const r = encoder.build({ ...empty, routes: [rc] }).types[ROUTE].resources.get('http')!;
      expect(Buffer.from(r.bytes).equals(Buffer.from(encodeMessage(ROUTE, structuredClone(rc))))).toBe(true);
    }
  });
});
