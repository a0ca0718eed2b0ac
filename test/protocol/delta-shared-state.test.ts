// Delta streams keep what the client holds as a shared TypeSnapshot map plus their own
// differences (server/known.ts): the versions, removals, NACKs and (un)subscriptions a
// client sees are the same as with a map of its own, through many changes.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SnapshotEncoder } from '../../control-plane/src/xds/cache/snapshot.js';
import { KnownVersions } from '../../control-plane/src/xds/server/known.js';
import { changedNames } from '../../control-plane/src/xds/server/wire.js';
import { CLUSTER } from '../../control-plane/src/xds/type-urls.js';
import { deltaAck, deltaNack, ENVOY_NODE, type DeltaResponse, type DeltaStream } from '../helpers/ads-client.js';
import { cluster, startHarness, until, type Harness } from './harness.js';

const T = { timeout: 15_000 };

describe('KnownVersions', () => {
  const enc = new SnapshotEncoder();
  const cds = (...names: string[]) => enc.build({ clusters: names.map((n) => cluster(n)), endpoints: [], listeners: [], routes: [], secrets: [] }).types[CLUSTER];

  it('reads through to its base and keeps its own differences', () => {
    const ts = cds('a', 'b');
    const k = new KnownVersions();
    k.set('x', '1');
    expect([...k.keys()]).toEqual(['x']);
    k.rebase(ts.resources);
    expect(k.size).toBe(2);
    expect(k.get('a')).toBe(ts.resources.get('a')!.version);
    expect(k.names()).toBe(k.names()); // the base's shared list
    k.delete('a');
    k.set('c', '3');
    k.set('b', 'other');
    expect(k.size).toBe(2);
    expect(k.has('a')).toBe(false);
    expect([...k.keys()].sort()).toEqual(['b', 'c']);
    expect(k.get('b')).toBe('other');
    k.set('b', ts.resources.get('b')!.version); // back to the base's version: no difference left for b
    k.set('a', ts.resources.get('a')!.version);
    k.delete('c');
    expect([...k.differences()]).toEqual([]);
    expect(k.size).toBe(2);
    k.delete('zz');
    expect(k.size).toBe(2);
  });

  it('lets its base go and keeps the same names and versions (detach)', () => {
    const ts = cds('a', 'b', 'c');
    const k = new KnownVersions();
    k.rebase(ts.resources);
    k.delete('a');
    k.set('b', 'other');
    k.set('d', '4');
    const before = [...k.keys()].sort().map((n) => [n, k.get(n)]);
    k.detach();
    expect(k.baseMap()).toBeUndefined();
    expect([...k.keys()].sort().map((n) => [n, k.get(n)])).toEqual(before);
    expect(k.size).toBe(3);
    k.delete('c');
    expect(k.size).toBe(2);
    expect(k.has('c')).toBe(false);
  });

  it('finds the names that changed between two snapshots once for all streams', () => {
    const a = cds('a', 'b', 'c');
    const b = enc.build({ clusters: [cluster('a'), cluster('b', '9s'), cluster('d')], endpoints: [], listeners: [], routes: [], secrets: [] }).types[CLUSTER];
    const names = changedNames(a.resources, b.resources);
    expect([...names].sort()).toEqual(['b', 'c', 'd']);
    expect(changedNames(a.resources, b.resources)).toBe(names);
  });
});

describe('delta: shared holdings through many changes', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  /** What a client holds after applying a response. */
  const apply = (held: Map<string, string>, res: DeltaResponse) => {
    for (const r of res.resources) held.set(r.name, r.version);
    for (const n of res.removed_resources) held.delete(n);
  };
  const expected = (snapVersions: Map<string, string>) => [...snapVersions].sort();

  it('sends each stream exactly the differences, NACKs and resubscriptions included', T, async () => {
    const streams: { s: DeltaStream; held: Map<string, string> }[] = [];
    let snap = h.publish({ clusters: [cluster('c1'), cluster('c2'), cluster('c3')] });
    for (let i = 0; i < 3; i++) {
      const s = h.client().delta();
      s.send({ node: { ...ENVOY_NODE, id: `envoy-${i}` }, type_url: CLUSTER });
      const held = new Map<string, string>();
      const res = await s.next();
      apply(held, res);
      s.send(deltaAck(res));
      streams.push({ s, held });
    }
    const versions = () => new Map([...snap.types[CLUSTER].resources].map(([n, r]) => [n, r.version]));
    const steps: string[][][] = [
      [['c1'], ['c2', '2s'], ['c4']], // change c2, remove c3, add c4
      [['c1'], ['c2', '2s'], ['c4'], ['c5']],
      [['c2', '3s'], ['c5']],
    ];
    for (const step of steps) {
      snap = h.publish({ clusters: step.map(([n, t]) => cluster(n!, t)) });
      for (const { s, held } of streams) {
        const res = await s.next();
        apply(held, res);
        s.send(deltaAck(res));
        expect([...held].sort()).toEqual(expected(versions()));
      }
    }
    await until(() => h.recorder.of('acked').length === 3 * (1 + steps.length));
    for (const e of h.recorder.of('acked').slice(-3)) expect([...e.names].sort()).toEqual(['c2', 'c5']);

    // Stream 0 refuses the next change; the others take it.
    snap = h.publish({ clusters: [cluster('c2', '4s'), cluster('c5'), cluster('c6')] });
    const [r0, ...rest] = await Promise.all(streams.map(({ s }) => s.next()));
    streams[0]!.s.send(deltaNack(r0!, 'no'));
    rest.forEach((r, i) => {
      apply(streams[i + 1]!.held, r);
      streams[i + 1]!.s.send(deltaAck(r));
    });
    await until(() => h.recorder.of('nacked').length === 1);
    // A later change: stream 0 gets it, but not again what it refused.
    snap = h.publish({ clusters: [cluster('c2', '4s'), cluster('c5', '7s'), cluster('c6')] });
    const r0b = await streams[0]!.s.next();
    expect(r0b.resources.map((r) => r.name)).toEqual(['c5']);
    apply(streams[0]!.held, r0b);
    streams[0]!.s.send(deltaAck(r0b));
    expect(streams[0]!.held.get('c2')).not.toBe(versions().get('c2'));
    for (const { s, held } of streams.slice(1)) {
      const res = await s.next();
      apply(held, res);
      s.send(deltaAck(res));
      expect([...held].sort()).toEqual(expected(versions()));
    }

    // Stream 1 drops c6 (wildcard still covers it): it is sent afresh, and again when named.
    const s1 = streams[1]!;
    for (const req of [{ resource_names_unsubscribe: ['c6'] }, { resource_names_subscribe: ['c6'] }]) {
      s1.s.send({ type_url: CLUSTER, ...req });
      const again = await s1.s.next();
      expect(again.resources.map((r) => r.name)).toEqual(['c6']);
      apply(s1.held, again);
      s1.s.send(deltaAck(again));
      expect([...s1.held].sort()).toEqual(expected(versions()));
    }
    await s1.s.nothingWithin(200);
  });

  it('keeps every wildcard client equal to the snapshot through random changes', T, async () => {
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const pick = () => Array.from({ length: 8 }, (_, i) => i).filter(() => rnd(3) > 0).map((i) => cluster(`c${i}`, `${1 + rnd(3)}s`));
    let snap = h.publish({ clusters: pick() });
    const streams: { s: DeltaStream; held: Map<string, string> }[] = [];
    for (let i = 0; i < 3; i++) {
      const s = h.client().delta();
      s.send({ node: { ...ENVOY_NODE, id: `envoy-${i}` }, type_url: CLUSTER });
      streams.push({ s, held: new Map() });
    }
    for (let step = 0; step < 15; step++) {
      const want = [...snap.types[CLUSTER].resources].map(([n, r]) => [n, r.version]).sort();
      for (const { s, held } of streams) {
        while ([...held].sort().join() !== want.join()) {
          const res = await s.next();
          apply(held, res);
          s.send(deltaAck(res));
        }
      }
      let next = pick();
      while (new SnapshotEncoder().build({ clusters: next, endpoints: [], listeners: [], routes: [], secrets: [] }).types[CLUSTER].version === snap.types[CLUSTER].version) next = pick();
      snap = h.publish({ clusters: next });
    }
  });
});
