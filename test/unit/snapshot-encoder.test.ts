import { describe, expect, it } from 'vitest';
import { SnapshotEncoder, hash, routeConfigurationFromParts } from '../../control-plane/src/xds/cache/snapshot.js';
import { encodeMessage, type JsonObject } from '../../control-plane/src/xds/encode.js';
import { ROUTE } from '../../control-plane/src/xds/type-urls.js';
import type { EnvoyResources } from '../../control-plane/src/translate/resources.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function randomVhost(r: () => number, i: number): JsonObject {
  const routes: JsonObject[] = [];
  const n = Math.floor(r() * 40);
  for (let j = 0; j < n; j++) {
    const route: JsonObject = { name: `ns/ing-${i}/${j}`, match: r() < 0.5 ? { prefix: '/' } : { path_separated_prefix: `/p${j}${'x'.repeat(Math.floor(r() * 300))}` } };
    if (r() < 0.3) route['direct_response'] = { status: 503, body: { inline_string: 'xgate: backend unavailable\n' } };
    else if (r() < 0.5) route['route'] = { cluster: `c-${j}`, timeout: '1.5s' };
    else route['route'] = { weighted_clusters: { clusters: [{ name: 'a', weight: 3 }, { name: 'b', weight: 7 }] } };
    routes.push(route);
  }
  return { name: `h${i}.example.com`, domains: [`h${i}.example.com`], routes };
}

function randomRouteConfiguration(r: () => number, vhosts: JsonObject[]): JsonObject {
  const rc: JsonObject = {};
  rc['name'] = r() < 0.1 ? '' : 'http';
  if (r() < 0.5) rc['ignore_port_in_host_matching'] = true;
  rc['virtual_hosts'] = vhosts;
  if (r() < 0.3) rc['internal_only_headers'] = ['x-internal'];
  if (r() < 0.3) rc['validate_clusters'] = r() < 0.5;
  if (r() < 0.3) rc['response_headers_to_add'] = [{ header: { key: 'x-a', value: 'b' } }];
  return rc;
}

const empty: EnvoyResources = { listeners: [], routes: [], clusters: [], endpoints: [], secrets: [] };

describe('SnapshotEncoder', () => {
  it('encodes a RouteConfiguration from memoised virtual hosts byte for byte as the whole message', () => {
    const r = rng(7);
    const encoder = new SnapshotEncoder();
    let pool: JsonObject[] = [];
    for (let round = 0; round < 30; round++) {
      // Keep some virtual host objects from the round before (memo hits), add new ones.
      pool = [...pool.filter(() => r() < 0.7), ...Array.from({ length: Math.floor(r() * 8) }, (_, i) => randomVhost(r, round * 100 + i))];
      const rc = randomRouteConfiguration(r, pool);
      const snap = encoder.build({ ...empty, routes: [rc] });
      const res = snap.types[ROUTE].resources.get(rc['name'] as string)!;
      const whole = encodeMessage(ROUTE, structuredClone(rc));
      expect(Buffer.from(res.bytes).equals(Buffer.from(whole))).toBe(true);
      // The version: a hash over the other fields' bytes and each virtual host's hash (computed here from scratch).
      const { name: _n, virtual_hosts: vhs, ...rest } = structuredClone(rc);
      const parts = (vhs as JsonObject[]).map((vh) => {
        const bytes = encodeMessage('envoy.config.route.v3.VirtualHost', vh);
        return { bytes, tag: new Uint8Array(), hash: hash(bytes) };
      });
      expect(res.version).toBe(routeConfigurationFromParts(encodeMessage(ROUTE, rc['name'] === undefined ? {} : { name: rc['name'] }), parts, encodeMessage(ROUTE, rest)).version);
      // A fresh encoder (no memo) gives the same snapshot.
      expect(new SnapshotEncoder().build({ ...empty, routes: [structuredClone(rc)] }).version).toBe(snap.version);
    }
  });

  it('keeps the Resource of an unchanged resource and re-encodes a changed one', () => {
    const vh = randomVhost(rng(1), 1);
    const rc = { name: 'http', virtual_hosts: [vh] };
    const encoder = new SnapshotEncoder();
    const a = encoder.buildGroups({ envoy: { ...empty, routes: [rc] }, grpc: { ...empty, routes: [rc] } });
    expect(a['envoy']!.types[ROUTE].resources.get('http')).toBe(a['grpc']!.types[ROUTE].resources.get('http'));
    const b = encoder.build({ ...empty, routes: [rc] });
    expect(b.types[ROUTE].resources.get('http')).toBe(a['envoy']!.types[ROUTE].resources.get('http'));
    const c = encoder.build({ ...empty, routes: [{ name: 'http', virtual_hosts: [vh, { name: 'x', domains: ['x'] }] }] });
    expect(c.types[ROUTE].resources.get('http')!.version).not.toBe(b.types[ROUTE].resources.get('http')!.version);
    const d = encoder.build({ ...empty, routes: [structuredClone(rc)] });
    expect(d.types[ROUTE].resources.get('http')!.version).toBe(b.types[ROUTE].resources.get('http')!.version);
  });

  it('still refuses unknown fields inside a virtual host', () => {
    expect(() => new SnapshotEncoder().build({ ...empty, routes: [{ name: 'http', virtual_hosts: [{ name: 'v', domainz: ['a'] }] }] })).toThrow(/unknown field "domainz"/);
  });
});

describe('SnapshotEncoder memo', () => {
  it('reuses a Resource exactly when the JSON text is the same', () => {
    const encoder = new SnapshotEncoder();
    const res = (c: JsonObject) => encoder.build({ ...empty, clusters: [c] }).types['type.googleapis.com/envoy.config.cluster.v3.Cluster'].resources.get('c')!;
    const a = res({ name: 'c', type: 'EDS', connect_timeout: '1s' });
    expect(res({ name: 'c', type: 'EDS', connect_timeout: '1s' })).toBe(a);
    expect(res({ name: 'c', type: 'EDS', connect_timeout: '1s', lb_policy: undefined } as unknown as JsonObject)).toBe(a);
    const b = res({ name: 'c', connect_timeout: '1s', type: 'EDS' });
    expect(b).not.toBe(a); // other key order: other JSON text (same bytes)
    expect(b.version).toBe(a.version);
    expect(res({ name: 'c', type: 'EDS', connect_timeout: '2s' }).version).not.toBe(a.version);
  });
});

describe('changedNamesOf', () => {
  it('gives what a whole comparison gives, between any two snapshots of a run of changes', async () => {
    const { changedNamesOf } = await import('../../control-plane/src/xds/cache/snapshot.js');
    const { CLUSTER } = await import('../../control-plane/src/xds/type-urls.js');
    const whole = (from: ReadonlyMap<string, { version: string }>, to: ReadonlyMap<string, { version: string }>) => {
      const out: string[] = [];
      for (const [name, r] of to) if (from.get(name)?.version !== r.version) out.push(name);
      for (const name of from.keys()) if (!to.has(name)) out.push(name);
      return out.sort();
    };
    const r = rng(7);
    for (let run = 0; run < 20; run++) {
      const enc = new SnapshotEncoder();
      let clusters: JsonObject[] = Array.from({ length: 300 }, (_, i) => ({ name: `c${String(i).padStart(4, '0')}`, connect_timeout: '1s' }));
      const maps: ReadonlyMap<string, { version: string }>[] = [];
      let fast = 0;
      for (let step = 0; step < 40; step++) {
        maps.push(enc.build({ ...empty, clusters }).types[CLUSTER].resources);
        // A few changes per step (sometimes many, past the overlay's limit): modify, add, remove.
        const next = [...clusters];
        const n = r() < 0.1 ? 300 : 1 + Math.floor(r() * 4);
        for (let k = 0; k < n; k++) {
          const i = Math.floor(r() * next.length);
          const x = r();
          if (x < 0.5 && next.length) next[i] = { ...next[i]!, connect_timeout: `${1 + Math.floor(r() * 9)}s` };
          else if (x < 0.75) next.splice(i, 0, { name: `n${run}-${step}-${k}`, connect_timeout: '2s' });
          else if (next.length) next.splice(i, 1);
        }
        next.sort((a, b) => (String(a['name']) < String(b['name']) ? -1 : 1));
        clusters = next;
      }
      for (let k = 0; k < 60; k++) {
        const a = maps[Math.floor(r() * maps.length)]!;
        const b = maps[Math.floor(r() * maps.length)]!;
        const got = changedNamesOf(a as never, b as never);
        if (got) {
          fast++;
          expect(got).toEqual(whole(a, b));
        }
      }
      expect(fast).toBeGreaterThan(0);
    }
  });
});
