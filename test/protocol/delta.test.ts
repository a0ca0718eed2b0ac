// Incremental ADS against a real gRPC client: subscribe, unsubscribe, removals,
// names that do not exist, stale nonces, NACK, and reconnect with initial versions.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLUSTER, ENDPOINT, LISTENER } from '../../control-plane/src/xds/type-urls.js';
import { deltaAck, deltaNack, deltaNames, ENVOY_NODE } from '../helpers/ads-client.js';
import { cluster, endpoints, listener, startHarness, until, type Harness } from './harness.js';

const T = { timeout: 10_000 };

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

describe('delta: wildcard', () => {
  it('sends nothing before the first snapshot, then every resource with its version', T, async () => {
    const s = h.client().delta();
    s.send({ node: ENVOY_NODE, type_url: CLUSTER });
    await s.nothingWithin(300);
    const snap = h.publish({ clusters: [cluster('c1'), cluster('c2')] });
    const res = await s.next();
    expect(res.type_url).toBe(CLUSTER);
    expect(res.system_version_info).toBe(snap.types[CLUSTER].version);
    expect(res.resources.map((r) => [r.name, r.version])).toEqual(
      [...snap.types[CLUSTER].resources.values()].map((r) => [r.name, r.version]),
    );
    expect(res.resources[0]!.resource.value).toEqual(Buffer.from(snap.types[CLUSTER].resources.get('c1')!.bytes));
    s.send(deltaAck(res));
    await until(() => h.recorder.of('acked').length === 1);
    expect(h.recorder.of('acked')[0]).toMatchObject({ typeUrl: CLUSTER, version: res.system_version_info, names: ['c1', 'c2'] });
    expect(h.registry.list()[0]!.kind).toBe('delta');
  });

  it('answers a fresh wildcard subscription even when the type is empty', T, async () => {
    h.publish({ clusters: [cluster('c1')] });
    const s = h.client().delta();
    s.send({ node: ENVOY_NODE, type_url: LISTENER, resource_names_subscribe: ['*'] });
    const res = await s.next();
    expect(res.type_url).toBe(LISTENER);
    expect(res.resources).toEqual([]);
    expect(res.removed_resources).toEqual([]);
  });

  it('sends only what changed, and removals for deleted resources', T, async () => {
    h.publish({ clusters: [cluster('c1'), cluster('c2'), cluster('c3')] });
    const s = h.client().delta();
    s.send({ node: ENVOY_NODE, type_url: CLUSTER });
    s.send(deltaAck(await s.next()));
    h.publish({ clusters: [cluster('c1'), cluster('c2', '5s')] });
    const res = await s.next();
    expect(deltaNames(res)).toEqual(['c2']);
    expect(res.removed_resources).toEqual(['c3']);
    s.send(deltaAck(res));
    await s.nothingWithin(200);
  });
});

describe('delta: explicit subscriptions', () => {
  it('subscribes, unsubscribes and reports names that do not exist', T, async () => {
    h.publish({ endpoints: [endpoints('c1'), endpoints('c2')] });
    const s = h.client().delta();
    s.send({ node: ENVOY_NODE, type_url: ENDPOINT, resource_names_subscribe: ['c1', 'c9'] });
    const r1 = await s.next();
    expect(deltaNames(r1)).toEqual(['c1']);
    expect(r1.removed_resources).toEqual(['c9']);
    s.send(deltaAck(r1));

    s.send({ type_url: ENDPOINT, resource_names_subscribe: ['c2'] });
    const r2 = await s.next();
    expect(deltaNames(r2)).toEqual(['c2']);
    expect(r2.removed_resources).toEqual([]);
    s.send(deltaAck(r2));

    s.send({ type_url: ENDPOINT, resource_names_unsubscribe: ['c1'] });
    await s.nothingWithin(200);
    // c1 changes: no longer of interest. c9 still does not exist: not reported again.
    h.publish({ endpoints: [endpoints('c1', 1111), endpoints('c2')] });
    await s.nothingWithin(300);

    h.publish({ endpoints: [endpoints('c1', 1111), endpoints('c2'), endpoints('c9')] });
    const r3 = await s.next();
    expect(deltaNames(r3)).toEqual(['c9']);
    s.send(deltaAck(r3));
    await until(() => h.recorder.of('acked').length === 3);
    expect([...h.recorder.of('acked')[2]!.names].sort()).toEqual(['c2', 'c9']);
  });

  it('resends a resource subscribed again after an unsubscribe', T, async () => {
    h.publish({ endpoints: [endpoints('c1')] });
    const s = h.client().delta();
    s.send({ node: ENVOY_NODE, type_url: ENDPOINT, resource_names_subscribe: ['c1'] });
    s.send(deltaAck(await s.next()));
    s.send({ type_url: ENDPOINT, resource_names_unsubscribe: ['c1'] });
    s.send({ type_url: ENDPOINT, resource_names_subscribe: ['c1'] });
    expect(deltaNames(await s.next())).toEqual(['c1']);
  });

  it('honours subscriptions on a request with a stale nonce, without taking it as an ACK', T, async () => {
    h.publish({ endpoints: [endpoints('c1'), endpoints('c2')] });
    const s = h.client().delta();
    s.send({ node: ENVOY_NODE, type_url: ENDPOINT, resource_names_subscribe: ['c1'] });
    const r1 = await s.next();
    s.send(deltaAck(r1));
    h.publish({ endpoints: [endpoints('c1', 2222), endpoints('c2')] });
    const r2 = await s.next();
    expect(deltaNames(r2)).toEqual(['c1']);

    // Stale nonce (r1's), with a new subscription and an error: the error is no NACK.
    s.send({ ...deltaNack(r1, 'stale'), resource_names_subscribe: ['c2'] });
    await s.nothingWithin(300); // r2 still awaits its ACK
    expect(h.recorder.of('nacked')).toEqual([]);
    s.send(deltaAck(r2));
    const r3 = await s.next();
    expect(deltaNames(r3)).toEqual(['c2']);
  });
});

describe('delta: NACK', () => {
  it('records it, keeps the client at its last version and pushes only a newer one', T, async () => {
    h.publish({ clusters: [cluster('c1')] });
    const s = h.client().delta();
    s.send({ node: ENVOY_NODE, type_url: CLUSTER });
    s.send(deltaAck(await s.next()));
    h.publish({ clusters: [cluster('c1', '2s')] });
    const bad = await s.next();
    s.send(deltaNack(bad, 'bad timeout'));
    await until(() => h.recorder.of('nacked').length === 1);
    expect(h.registry.list()[0]!.types.cds!.nack).toMatchObject({ message: 'bad timeout', version: bad.system_version_info });
    await s.nothingWithin(300);
    h.publish({ clusters: [cluster('c1', '2s')], listeners: [listener('l1', 'r1')] });
    await s.nothingWithin(300);
    h.publish({ clusters: [cluster('c1', '3s')] });
    const next = await s.next();
    expect(deltaNames(next)).toEqual(['c1']);
    expect(next.resources[0]!.version).not.toBe(bad.resources[0]!.version);
  });
});

describe('delta: reconnect', () => {
  it('sends nothing for what the client already has, and removals for what is gone', T, async () => {
    h.publish({ clusters: [cluster('c1'), cluster('c2')] });
    const c1 = h.client();
    const s1 = c1.delta();
    s1.send({ node: ENVOY_NODE, type_url: CLUSTER });
    const held = await s1.next();
    s1.send(deltaAck(held));
    const versions = Object.fromEntries(held.resources.map((r) => [r.name, r.version]));
    s1.cancel();
    await until(() => h.server.streams() === 0);

    // Up to date: nothing at all; and later changes still reach it as changes.
    const s2 = h.client().delta();
    s2.send({ node: ENVOY_NODE, type_url: CLUSTER, initial_resource_versions: versions });
    await s2.nothingWithin(300);
    h.publish({ clusters: [cluster('c1', '7s'), cluster('c4')] });
    const later = await s2.next();
    expect(deltaNames(later)).toEqual(['c1', 'c4']);
    expect(later.removed_resources).toEqual(['c2']);
    s2.send(deltaAck(later));
    await s2.nothingWithin(200);
    s2.cancel();
    h.publish({ clusters: [cluster('c1'), cluster('c2')] });

    // c2 deleted, c3 added, c1 unchanged meanwhile.
    h.publish({ clusters: [cluster('c1'), cluster('c3')] });
    const s3 = h.client().delta();
    s3.send({ node: ENVOY_NODE, type_url: CLUSTER, initial_resource_versions: versions });
    const res = await s3.next();
    expect(deltaNames(res)).toEqual(['c3']);
    expect(res.removed_resources).toEqual(['c2']);
  });
});

describe('delta: reconnect by name', () => {
  it('a client subscribed by name to exactly what it presents gets nothing, then each later change, removal and subscription', T, async () => {
    h.publish({ endpoints: [endpoints('c1'), endpoints('c2'), endpoints('c3')] });
    const s1 = h.client().delta();
    s1.send({ node: ENVOY_NODE, type_url: ENDPOINT, resource_names_subscribe: ['c1', 'c2', 'c3'] });
    const held = await s1.next();
    s1.send(deltaAck(held));
    const versions = Object.fromEntries(held.resources.map((r) => [r.name, r.version]));
    s1.cancel();
    await until(() => h.server.streams() === 0);

    const s = h.client().delta();
    s.send({ node: ENVOY_NODE, type_url: ENDPOINT, resource_names_subscribe: ['c1', 'c2', 'c3'], initial_resource_versions: versions });
    await s.nothingWithin(300);
    // A change to one: only it (the stream then holds that snapshot whole, and shares it).
    h.publish({ endpoints: [endpoints('c1', 1111), endpoints('c2'), endpoints('c3')] });
    const r1 = await s.next();
    expect(deltaNames(r1)).toEqual(['c1']);
    expect(r1.removed_resources).toEqual([]);
    s.send(deltaAck(r1));
    await s.nothingWithin(200);
    // Then another change, a removal, and a resource nobody subscribed to.
    h.publish({ endpoints: [endpoints('c1', 1111), endpoints('c2', 2222), endpoints('c4')] });
    const r2 = await s.next();
    expect(deltaNames(r2)).toEqual(['c2']);
    expect(r2.removed_resources).toEqual(['c3']);
    s.send(deltaAck(r2));
    await s.nothingWithin(200);
    // A new name, an unsubscribed one: as for any stream.
    s.send({ type_url: ENDPOINT, resource_names_subscribe: ['c4'], resource_names_unsubscribe: ['c1'] });
    const r3 = await s.next();
    expect(deltaNames(r3)).toEqual(['c4']);
    s.send(deltaAck(r3));
    h.publish({ endpoints: [endpoints('c1', 3333), endpoints('c2', 2222), endpoints('c4', 4444)] });
    const r4 = await s.next();
    expect(deltaNames(r4)).toEqual(['c4']);
    s.send(deltaAck(r4));
    // What the server records as held after the last ACK: c2 and c4.
    await until(() => h.recorder.of('acked').some((a) => [...a.names].sort().join() === 'c2,c4'));
  });

  it('a client presenting a subset of what it subscribes to is planned name by name', T, async () => {
    h.publish({ endpoints: [endpoints('c1'), endpoints('c2')] });
    const s1 = h.client().delta();
    s1.send({ node: ENVOY_NODE, type_url: ENDPOINT, resource_names_subscribe: ['c1', 'c2'] });
    const held = await s1.next();
    s1.send(deltaAck(held));
    const c1 = held.resources.find((r) => r.name === 'c1')!;
    s1.cancel();
    await until(() => h.server.streams() === 0);
    const s = h.client().delta();
    s.send({ node: ENVOY_NODE, type_url: ENDPOINT, resource_names_subscribe: ['c1', 'c2'], initial_resource_versions: { c1: c1.version } });
    const r = await s.next();
    expect(deltaNames(r)).toEqual(['c2']);
  });
});

describe('delta: explicit subscriptions over many changes', () => {
  it('holds exactly the subscribed resources after every step (changes, subscriptions, NACKs), planning from what changed', { timeout: 30_000 }, async () => {
    let seed = 11;
    const rnd = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
    const ports = new Map<string, number>();
    for (let i = 0; i < 40; i++) ports.set(`c${String(i).padStart(2, '0')}`, 8000 + i);
    const publish = () => h.publish({ endpoints: [...ports].sort(([a], [b]) => (a < b ? -1 : 1)).map(([n, p]) => endpoints(n, p)) });
    let snap = publish();
    const subscribed = new Set(['c00', 'c01', 'c02', 'c03', 'c04', 'c05', 'c06', 'c07', 'c08', 'c09', 'c10', 'c11', 'c12', 'c99']);
    const held = new Map<string, string>();
    /** name → version the client refused (it keeps what it had). */
    const refused = new Map<string, string>();
    const s = h.client().delta();
    s.send({ node: ENVOY_NODE, type_url: ENDPOINT, resource_names_subscribe: [...subscribed] });
    const drain = async (nack: boolean) => {
      for (;;) {
        let res;
        try {
          res = await s.next(250);
        } catch {
          return;
        }
        if (nack && res.resources.length) {
          for (const r of res.resources) refused.set(r.name, r.version);
          s.send(deltaNack(res, 'refused'));
          nack = false;
          continue;
        }
        for (const r of res.resources) {
          // Never sent again as it was refused.
          expect(refused.get(r.name)).not.toBe(r.version);
          held.set(r.name, r.version);
        }
        for (const n of res.removed_resources) held.delete(n);
        s.send(deltaAck(res));
      }
    };
    await drain(false);
    for (let step = 0; step < 30; step++) {
      const x = rnd();
      const names = [...ports.keys()];
      const pick = () => names[Math.floor(rnd() * names.length)]!;
      if (x < 0.45) {
        // Change a few resources, subscribed or not; sometimes add or remove one.
        for (let k = 0; k < 1 + Math.floor(rnd() * 3); k++) ports.set(pick(), 9000 + Math.floor(rnd() * 500));
        if (rnd() < 0.3) ports.set(`c${40 + step}`, 7000 + step);
        if (rnd() < 0.3) ports.delete(pick());
        snap = publish();
        await drain(rnd() < 0.2);
      } else if (x < 0.75) {
        const name = rnd() < 0.2 ? `c${40 + Math.floor(rnd() * 30)}` : pick();
        if (!subscribed.has(name)) {
          subscribed.add(name);
          s.send({ type_url: ENDPOINT, resource_names_subscribe: [name] });
          await drain(false);
        }
      } else {
        const name = [...subscribed][Math.floor(rnd() * subscribed.size)]!;
        subscribed.delete(name);
        held.delete(name);
        s.send({ type_url: ENDPOINT, resource_names_unsubscribe: [name] });
        await drain(false);
      }
      const resources = snap.types[ENDPOINT].resources;
      for (const name of subscribed) {
        const r = resources.get(name);
        if (!r) expect(held.has(name), `${name} (step ${step})`).toBe(false);
        else if (refused.get(name) !== r.version) expect(held.get(name), `${name} (step ${step})`).toBe(r.version);
      }
      for (const name of held.keys()) expect(subscribed.has(name), `${name} held but not subscribed (step ${step})`).toBe(true);
    }
  });
});
