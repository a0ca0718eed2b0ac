// The incremental paths of translation and encoding (issue 8) give exactly what a
// build from scratch gives: reused translated objects, RouteConfigurations put together
// from per-virtual-host bytes and hashes, and reused type snapshots.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { benchCert } from '../../bench/cert.js';
import { generate } from '../../bench/generate.js';
import { DEFAULT_PIPELINE_OPTIONS, translateStore } from '../../control-plane/src/pipeline/translate-store.js';
import { WATCHED_KINDS, type EndpointSlice, type WatchedObject } from '../../control-plane/src/sources/k8s-types.js';
import { Store, snapshotOf } from '../../control-plane/src/sources/store.js';
import type { EnvoyResources } from '../../control-plane/src/translate/resources.js';
import { resourceName } from '../../control-plane/src/translate/resources.js';
import { SnapshotEncoder } from '../../control-plane/src/xds/cache/snapshot.js';
import { checkConsistency } from '../../control-plane/src/pipeline/consistency.js';
import { encodeMessage, type JsonObject } from '../../control-plane/src/xds/encode.js';
import { CLUSTER, ENDPOINT, LISTENER, ROUTE, SECRET } from '../../control-plane/src/xds/type-urls.js';

const empty: EnvoyResources = { listeners: [], routes: [], clusters: [], endpoints: [], secrets: [] };

const routeArb = fc.record({
  name: fc.string({ minLength: 1, maxLength: 12 }),
  prefix: fc.constantFrom('/', '/a', '/api/v1', '/x'.repeat(80)),
  cluster: fc.constantFrom('a', 'b', 'c'),
  timeout: fc.option(fc.constantFrom('1s', '2.5s'), { nil: undefined }),
});
const vhostArb = fc.record({ host: fc.domain(), routes: fc.array(routeArb, { maxLength: 30 }) }).map(({ host, routes }): JsonObject => ({
  name: host,
  domains: [host],
  routes: routes.map((r) => ({ name: r.name, match: { prefix: r.prefix }, route: { cluster: r.cluster, ...(r.timeout ? { timeout: r.timeout } : {}) } })),
}));
/** One build's edit of the pool of virtual host objects: keep each with a chance, add new ones, maybe reverse. */
const stepArb = fc.record({ keep: fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }), add: fc.array(vhostArb, { maxLength: 6 }), reverse: fc.boolean(), rest: fc.boolean() });

describe('SnapshotEncoder incremental RouteConfiguration (property)', () => {
  it('gives the bytes of a whole-message encoding and the version of a fresh encoder, build after build', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 8 }), (steps) => {
        const encoder = new SnapshotEncoder();
        let pool: JsonObject[] = [];
        for (const st of steps) {
          pool = pool.filter((_, i) => st.keep[i % st.keep.length]).concat(st.add);
          if (st.reverse) pool = [...pool].reverse();
          const rc: JsonObject = { name: 'http', virtual_hosts: pool, ...(st.rest ? { ignore_port_in_host_matching: true } : {}) };
          const res = encoder.build({ ...empty, routes: [rc] }).types[ROUTE].resources.get('http')!;
          const copy = structuredClone(rc);
          expect(Buffer.from(res.bytes).equals(Buffer.from(encodeMessage(ROUTE, copy)))).toBe(true);
          expect(new SnapshotEncoder().build({ ...empty, routes: [copy] }).types[ROUTE].resources.get('http')!.version).toBe(res.version);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('gives different versions to different RouteConfigurations', () => {
    fc.assert(
      fc.property(fc.array(vhostArb, { maxLength: 5 }), fc.array(vhostArb, { maxLength: 5 }), (a, b) => {
        const enc = (v: JsonObject[]) => new SnapshotEncoder().build({ ...empty, routes: [{ name: 'http', virtual_hosts: v }] }).types[ROUTE].resources.get('http')!;
        const ra = enc(a);
        const rb = enc(b);
        expect(ra.version === rb.version).toBe(Buffer.from(ra.bytes).equals(Buffer.from(rb.bytes)));
      }),
      { numRuns: 100 },
    );
  });
});

describe('SnapshotEncoder type snapshots', () => {
  it('reuses a type snapshot whose resources are all the same, and matches a fresh encoder otherwise', () => {
    const clusters = (n: number, timeout: string): JsonObject[] => Array.from({ length: n }, (_, i) => ({ name: `c${String(i).padStart(3, '0')}`, type: 'EDS', connect_timeout: i === 7 ? timeout : '1s' }));
    const encoder = new SnapshotEncoder();
    const a = encoder.build({ ...empty, clusters: clusters(20, '1s') });
    const b = encoder.build({ ...empty, clusters: clusters(20, '1s') });
    expect(b.types[CLUSTER]).toBe(a.types[CLUSTER]);
    const c = encoder.build({ ...empty, clusters: clusters(20, '3s') });
    expect(c.types[CLUSTER].version).not.toBe(a.types[CLUSTER].version);
    expect(c.types[CLUSTER].version).toBe(new SnapshotEncoder().build({ ...empty, clusters: clusters(20, '3s') }).types[CLUSTER].version);
    // Unsorted input is sorted, with the version of sorted input.
    const d = new SnapshotEncoder().build({ ...empty, clusters: [...clusters(20, '3s')].reverse() });
    expect([...d.types[CLUSTER].resources.keys()]).toEqual([...c.types[CLUSTER].resources.keys()]);
    expect(d.version).toBe(c.version);
  });
});

describe('translate reuses the previous build’s objects', () => {
  const objects = (): WatchedObject[] => generate({ ingresses: 40, cert: benchCert(), seed: 11 }).objects;

  it('gives the same objects for a store of equal content, and equal JSON to a from-scratch build', () => {
    const a = translateStore(snapshotOf(objects()), DEFAULT_PIPELINE_OPTIONS).resources;
    const b = translateStore(snapshotOf(structuredClone(objects())), DEFAULT_PIPELINE_OPTIONS).resources;
    for (const g of Object.keys(a)) {
      for (const f of ['listeners', 'routes', 'clusters', 'endpoints', 'secrets'] as const) {
        expect(b[g]![f].length).toBe(a[g]![f].length);
        b[g]![f].forEach((r, i) => expect(r, `${g} ${f} ${i}`).toBe(a[g]![f][i]));
      }
    }
  });

  it('after an EndpointSlice change, gives new objects for its cluster’s assignments only, equal to a from-scratch build', () => {
    const objs = objects();
    const store = new Store();
    store.replace(objs, WATCHED_KINDS);
    const a = translateStore(store.snapshot(), DEFAULT_PIPELINE_OPTIONS);
    const slice = objs.find((o): o is EndpointSlice => o.kind === 'EndpointSlice')!;
    const changed: EndpointSlice = { ...slice, metadata: { ...slice.metadata, resourceVersion: '99999999' }, endpoints: [{ addresses: ['10.99.0.1'], conditions: { ready: true } }] };
    store.upsert(changed);
    const b = translateStore(store.snapshot(), DEFAULT_PIPELINE_OPTIONS);
    // a build of other objects in between must not matter
    translateStore(snapshotOf(generate({ ingresses: 5, cert: benchCert(), seed: 2 }).objects), DEFAULT_PIPELINE_OPTIONS);
    const fresh = translateStore(snapshotOf([...objs.filter((o) => o !== slice), changed]), DEFAULT_PIPELINE_OPTIONS);
    expect(JSON.stringify(b.resources)).toBe(JSON.stringify(fresh.resources));
    const env = (r: typeof a) => r.resources['envoy']!;
    const differing = env(b).endpoints.filter((e, i) => e !== env(a).endpoints[i]).map(resourceName);
    expect(differing.length).toBeGreaterThan(0);
    expect(differing.every((n) => n.startsWith(`${slice.metadata.namespace}/${slice.metadata.labels!['kubernetes.io/service-name']}/`))).toBe(true);
    for (const f of ['listeners', 'routes', 'clusters', 'secrets'] as const) env(b)[f].forEach((r, i) => expect(r).toBe(env(a)[f][i]));
    // The encoder: only that type's version moves.
    const encoder = new SnapshotEncoder();
    const sa = encoder.buildGroups(a.resources)['envoy']!;
    const sb = encoder.buildGroups(b.resources)['envoy']!;
    for (const t of [LISTENER, ROUTE, CLUSTER, SECRET]) expect(sb.types[t]).toBe(sa.types[t]);
    expect(sb.types[ENDPOINT].version).not.toBe(sa.types[ENDPOINT].version);
  });
});

describe('checkConsistency, incremental', () => {
  it('skips what passed against the same names, and still finds a reference broken by a later list', () => {
    const res = translateStore(snapshotOf(generate({ ingresses: 30, cert: benchCert(), seed: 4 }).objects), DEFAULT_PIPELINE_OPTIONS).resources['envoy']!;
    expect(checkConsistency(res)).toEqual([]);
    expect(checkConsistency({ ...res, clusters: [...res.clusters] })).toEqual([]);
    const used = res.clusters.find((c) => JSON.stringify(res.routes).includes(`"${resourceName(c)}"`))!;
    const without = { ...res, clusters: res.clusters.filter((c) => c !== used) };
    const problems = checkConsistency(without);
    expect(problems.some((p) => p.includes(`missing cluster ${resourceName(used)}`) || p.includes(`missing weighted cluster ${resourceName(used)}`))).toBe(true);
    expect(checkConsistency(res)).toEqual([]);
    // a missing endpoints resource, then the same lists again: still reported
    const noEds = { ...res, endpoints: res.endpoints.filter((e) => resourceName(e) !== resourceName(used)) };
    expect(checkConsistency(noEds)).toContain(`cluster ${resourceName(used)} has no endpoints resource`);
    expect(checkConsistency(noEds)).toContain(`cluster ${resourceName(used)} has no endpoints resource`);
    // a listener naming a missing route configuration
    const noRoutes = { ...res, routes: res.routes.slice(1) };
    expect(checkConsistency(noRoutes).some((p) => p.startsWith('listener http refers to missing route configuration http'))).toBe(true);
  });
});

describe('SnapshotEncoder object reuse across builds', () => {
  it('gives a list of the same objects the same type snapshot, and equal content the same versions', () => {
    const cs: JsonObject[] = Array.from({ length: 5 }, (_, i) => ({ name: `c${i}`, type: 'EDS', connect_timeout: '1s' }));
    const encoder = new SnapshotEncoder();
    const a = encoder.buildGroups({ envoy: { ...empty, clusters: cs }, grpc: { ...empty, clusters: cs.slice(0, 2) } });
    const b = encoder.buildGroups({ envoy: { ...empty, clusters: [...cs] }, grpc: { ...empty, clusters: cs.slice(0, 2) } });
    expect(b['envoy']!.types[CLUSTER]).toBe(a['envoy']!.types[CLUSTER]);
    expect(b['grpc']!.types[CLUSTER]).toBe(a['grpc']!.types[CLUSTER]);
    // several builds later, a fresh object with the content of a long-lived one: same version
    for (let i = 0; i < 3; i++) encoder.buildGroups({ envoy: { ...empty, clusters: cs } });
    const fresh = encoder.build({ ...empty, clusters: [...cs.slice(0, 4), structuredClone(cs[4]!)] });
    expect(fresh.types[CLUSTER].version).toBe(a['envoy']!.types[CLUSTER].version);
    // one changed object: only it differs
    const changed = encoder.build({ ...empty, clusters: [...cs.slice(0, 4), { ...cs[4]!, connect_timeout: '2s' }] });
    expect(changed.types[CLUSTER].resources.get('c0')).toBe(a['envoy']!.types[CLUSTER].resources.get('c0'));
    expect(changed.types[CLUSTER].version).toBe(new SnapshotEncoder().build({ ...empty, clusters: [...cs.slice(0, 4).map((c) => structuredClone(c)), { ...cs[4]!, connect_timeout: '2s' }] }).types[CLUSTER].version);
  });
});
