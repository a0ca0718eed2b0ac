// State-of-the-world ADS against a real gRPC client: versions, nonces, ACK/NACK,
// wildcard and named subscriptions, no-op changes, and shared bytes.
import * as grpc from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLUSTER, ENDPOINT, LISTENER, ROUTE } from '../../control-plane/src/xds/type-urls.js';
import { ack, ENVOY_NODE, nack, resourceNames, type SotwRequest } from '../helpers/ads-client.js';
import { cluster, endpoints, listener, route, startHarness, until, type Harness } from './harness.js';

const T = { timeout: 10_000 };

function first(typeUrl: string, names: string[] = [], extra: Partial<SotwRequest> = {}): SotwRequest {
  return { node: ENVOY_NODE, type_url: typeUrl, resource_names: names, ...extra };
}

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

describe('SotW: before the first snapshot', () => {
  it('answers nothing, then the full state once a snapshot exists', T, async () => {
    const s = h.client().sotw();
    s.send(first(CLUSTER));
    await s.nothingWithin(300);
    const snap = h.publish({ clusters: [cluster('c1'), cluster('c2')] });
    const res = await s.next();
    expect(res.type_url).toBe(CLUSTER);
    expect(res.version_info).toBe(snap.types[CLUSTER].version);
    expect(resourceNames(res)).toEqual(['c1', 'c2']);
  });
});

describe('SotW: wildcard and ACK', () => {
  it('sends every cluster for an empty name list and records the ACK', T, async () => {
    const snap = h.publish({ clusters: [cluster('c2'), cluster('c1')] });
    const s = h.client().sotw();
    s.send(first(CLUSTER));
    const res = await s.next();
    expect(resourceNames(res)).toEqual(['c1', 'c2']);
    expect(res.version_info).toBe(snap.types[CLUSTER].version);
    expect(res.nonce).not.toBe('');

    s.send(ack(res));
    await until(() => h.recorder.of('acked').length === 1);
    const [acked] = h.recorder.of('acked');
    expect(acked).toMatchObject({ typeUrl: CLUSTER, version: res.version_info, names: ['c1', 'c2'] });
    const [proxy] = h.registry.list();
    expect(proxy).toMatchObject({ nodeId: 'envoy-1', cluster: 'gateway', userAgent: 'envoy', group: 'envoy', kind: 'sotw' });
    expect(proxy!.types.cds).toMatchObject({
      sent: { version: res.version_info, nonce: res.nonce, resources: 2 },
      acked: { version: res.version_info, resources: 2 },
    });
    expect(h.registry.counters().byType.cds).toEqual({ pushes: 1, acks: 1, nacks: 0 });
    expect(h.registry.allAcked('envoy', CLUSTER, 'c2')).toBe(true);
    expect(h.registry.allAcked('envoy', CLUSTER, 'c3')).toBe(false);
    await s.nothingWithin(200);
  });

  it('treats "*" as wildcard too', T, async () => {
    h.publish({ clusters: [cluster('c1')] });
    const s = h.client().sotw();
    s.send(first(CLUSTER, ['*']));
    expect(resourceNames(await s.next())).toEqual(['c1']);
  });

  it('pushes a changed snapshot after the ACK, with the new type version', T, async () => {
    h.publish({ clusters: [cluster('c1')] });
    const s = h.client().sotw();
    s.send(first(CLUSTER));
    const r1 = await s.next();
    s.send(ack(r1));
    const snap2 = h.publish({ clusters: [cluster('c1'), cluster('c3')] });
    const r2 = await s.next();
    expect(resourceNames(r2)).toEqual(['c1', 'c3']);
    expect(r2.version_info).toBe(snap2.types[CLUSTER].version);
    expect(r2.nonce).not.toBe(r1.nonce);
  });
});

describe('SotW: named subscriptions', () => {
  it('sends only the named routes and endpoints, each name once, versioned by content', T, async () => {
    h.publish({
      clusters: [cluster('c1'), cluster('c2')],
      endpoints: [endpoints('c1'), endpoints('c2')],
      routes: [route('r1', ['c1']), route('r2', ['c2'])],
    });
    const s = h.client().sotw();
    s.send(first(ROUTE, ['r2', 'r2']));
    const rds = await s.next();
    expect(rds.type_url).toBe(ROUTE);
    expect(resourceNames(rds)).toEqual(['r2']);

    s.send({ type_url: ENDPOINT, resource_names: ['c1'] });
    const eds = await s.next();
    expect(resourceNames(eds)).toEqual(['c1']);
    expect(eds.version_info).not.toBe('');

    // Same names, same content: a second stream gets the same version.
    const s2 = h.client().sotw();
    s2.send(first(ENDPOINT, ['c1']));
    expect((await s2.next()).version_info).toBe(eds.version_info);
  });

  it('remembers names that do not exist yet and sends them when they appear', T, async () => {
    h.publish({ clusters: [cluster('c1')], endpoints: [endpoints('c1')] });
    const s = h.client().sotw();
    s.send(first(ENDPOINT, ['c1', 'c9']));
    const r1 = await s.next();
    expect(resourceNames(r1)).toEqual(['c1']);
    s.send(ack(r1, ['c1', 'c9']));
    await s.nothingWithin(200);

    h.publish({ clusters: [cluster('c1'), cluster('c9')], endpoints: [endpoints('c1'), endpoints('c9')] });
    const r2 = await s.next();
    // EDS is not full-state: the response carries what the client lacks (c1 is held, unchanged).
    expect(resourceNames(r2)).toEqual(['c9']);
  });

  it('waits when none of the named resources exists', T, async () => {
    h.publish({ routes: [route('r1', ['c1'])] });
    const s = h.client().sotw();
    s.send(first(ROUTE, ['r7']));
    await s.nothingWithin(300);
    h.publish({ routes: [route('r1', ['c1']), route('r7', ['c1'])] });
    expect(resourceNames(await s.next())).toEqual(['r7']);
  });

  it('answers a changed name list that comes with the ACK', T, async () => {
    h.publish({ endpoints: [endpoints('c1'), endpoints('c2')] });
    const s = h.client().sotw();
    s.send(first(ENDPOINT, ['c1']));
    const r1 = await s.next();
    s.send(ack(r1, ['c1', 'c2']));
    expect(resourceNames(await s.next())).toEqual(['c1', 'c2']);
  });
});

describe('SotW: NACK', () => {
  it('records the NACK, never re-pushes the rejected version, and pushes the next snapshot', T, async () => {
    h.publish({ clusters: [cluster('c1')] });
    const s = h.client().sotw();
    s.send(first(CLUSTER));
    const good = await s.next();
    s.send(ack(good));

    h.publish({ clusters: [cluster('c1'), cluster('bad')] });
    const bad = await s.next();
    expect(resourceNames(bad)).toEqual(['bad', 'c1']);
    s.send(nack(bad, good.version_info, 'cluster bad: invalid'));
    await until(() => h.recorder.of('nacked').length === 1);
    expect(h.recorder.of('nacked')[0]).toMatchObject({ typeUrl: CLUSTER, version: bad.version_info, message: 'cluster bad: invalid' });
    const cds = h.registry.list()[0]!.types.cds!;
    expect(cds.nack).toMatchObject({ version: bad.version_info, message: 'cluster bad: invalid' });
    expect(cds.acked!.version).toBe(good.version_info);
    expect(h.registry.counters().byType.cds.nacks).toBe(1);
    await s.nothingWithin(300);

    // A change elsewhere leaves CDS as rejected: still not re-pushed.
    h.publish({ clusters: [cluster('c1'), cluster('bad')], listeners: [listener('l1', 'r1')] });
    await s.nothingWithin(300);

    const fixed = h.publish({ clusters: [cluster('c1'), cluster('fixed')] });
    const next = await s.next();
    expect(resourceNames(next)).toEqual(['c1', 'fixed']);
    expect(next.version_info).toBe(fixed.types[CLUSTER].version);
    s.send(ack(next));
    await until(() => h.registry.list()[0]?.types.cds?.acked?.version === next.version_info);
  });
});

describe('SotW: nonces', () => {
  it('ignores requests whose nonce is not the latest sent for the type', T, async () => {
    h.publish({ clusters: [cluster('c1')], endpoints: [endpoints('c1'), endpoints('c2')] });
    const s = h.client().sotw();
    s.send(first(ENDPOINT, ['c1']));
    const r1 = await s.next();
    s.send(ack(r1, ['c1']));
    h.publish({ clusters: [cluster('c1')], endpoints: [endpoints('c1', 9090), endpoints('c2')] });
    const r2 = await s.next();
    expect(r2.nonce).not.toBe(r1.nonce);

    // Stale: a NACK and a new name list under the old nonce change nothing.
    s.send(nack(r1, r1.version_info, 'late complaint', ['c1', 'c2']));
    s.send({ type_url: ENDPOINT, response_nonce: 'made-up', resource_names: ['c1', 'c2'] });
    await s.nothingWithin(300);
    expect(h.recorder.of('nacked')).toEqual([]);

    s.send(ack(r2, ['c1']));
    await until(() => h.recorder.of('acked').length === 2);
    await s.nothingWithin(200);
  });

  it('keeps nonces per stream: one stream cannot ACK for another', T, async () => {
    h.publish({ clusters: [cluster('c1')] });
    const a = h.client().sotw();
    const b = h.client().sotw();
    a.send(first(CLUSTER));
    b.send(first(CLUSTER, [], { node: { ...ENVOY_NODE, id: 'envoy-2' } }));
    const [ra, rb] = await Promise.all([a.next(), b.next()]);
    expect(ra.nonce).not.toBe(rb.nonce);
    b.send(ack(ra));
    await new Promise((r) => setTimeout(r, 200));
    expect(h.recorder.of('acked')).toEqual([]);
    b.send(ack(rb));
    await until(() => h.recorder.of('acked').length === 1);
    expect(h.registry.list().find((p) => p.nodeId === 'envoy-2')!.types.cds!.acked!.version).toBe(rb.version_info);
    expect(h.registry.list().find((p) => p.nodeId === 'envoy-1')!.types.cds!.acked).toBeUndefined();
  });
});

describe('SotW: no-op changes', () => {
  it('sends nothing when a snapshot leaves what the stream gets unchanged', T, async () => {
    h.publish({ clusters: [cluster('c1')], endpoints: [endpoints('c1')], routes: [route('r1', ['c1'])] });
    const s = h.client().sotw();
    s.send(first(CLUSTER));
    const cds = await s.next();
    s.send(ack(cds));
    s.send({ type_url: ROUTE, resource_names: ['r1'] });
    const rds = await s.next();
    s.send(ack(rds, ['r1']));
    await until(() => h.recorder.of('acked').length === 2);

    // Endpoints changed (not subscribed), a route nobody asked for appeared.
    h.publish({ clusters: [cluster('c1')], endpoints: [endpoints('c1', 9999)], routes: [route('r1', ['c1']), route('r2', ['c1'])] });
    await s.nothingWithin(300);
    // The very same content again.
    h.publish({ clusters: [cluster('c1')], endpoints: [endpoints('c1', 9999)], routes: [route('r1', ['c1']), route('r2', ['c1'])] });
    await s.nothingWithin(200);
    expect(h.registry.counters().byType.cds.pushes).toBe(1);
  });

  it('sends nothing to a reconnecting client that already holds the current version', T, async () => {
    const snap = h.publish({ clusters: [cluster('c1')] });
    const s = h.client().sotw();
    s.send(first(CLUSTER, [], { version_info: snap.types[CLUSTER].version }));
    await s.nothingWithin(300);
    await until(() => h.registry.list()[0]?.types.cds?.acked?.version === snap.types[CLUSTER].version);
    h.publish({ clusters: [cluster('c1'), cluster('c2')] });
    expect(resourceNames(await s.next())).toEqual(['c1', 'c2']);
  });
});

describe('SotW: coalescing', () => {
  it('sends one response per type until it is ACKed, then only the newest snapshot', T, async () => {
    h.publish({ clusters: [cluster('c1')] });
    const s = h.client().sotw();
    s.send(first(CLUSTER));
    const r1 = await s.next();
    for (let i = 2; i <= 20; i++) h.publish({ clusters: [cluster('c1'), cluster(`c${i}`)] });
    await s.nothingWithin(300);
    s.send(ack(r1));
    const last = await s.next();
    expect(resourceNames(last)).toEqual(['c1', 'c20']);
    await s.nothingWithin(200);
  });
});

describe('SotW: shared bytes', () => {
  it('gives two streams the encoded bytes of the snapshot, unchanged', T, async () => {
    const snap = h.publish({ clusters: [cluster('c1'), cluster('c2', '2s')] });
    const a = h.client().sotw();
    const b = h.client().sotw();
    a.send(first(CLUSTER));
    b.send(first(CLUSTER, [], { node: { ...ENVOY_NODE, id: 'envoy-2' } }));
    const [ra, rb] = await Promise.all([a.next(), b.next()]);
    const expected = [...snap.types[CLUSTER].resources.values()].map((r) => Buffer.from(r.bytes));
    expect(ra.resources.map((x) => x.value)).toEqual(expected);
    expect(rb.resources.map((x) => x.value)).toEqual(expected);
    expect(ra.resources.every((x) => x.type_url === CLUSTER)).toBe(true);
    expect(ra.version_info).toBe(rb.version_info);
  });
});

describe('SotW: garbage', () => {
  it('ignores unknown type URLs and keeps serving', T, async () => {
    h.publish({ clusters: [cluster('c1')] });
    const s = h.client().sotw();
    s.send(first('type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig'));
    s.send({ type_url: '' });
    await s.nothingWithin(200);
    s.send({ type_url: CLUSTER, resource_names: [] });
    expect(resourceNames(await s.next())).toEqual(['c1']);
  });

  it('refuses a stream whose first request has no node', T, async () => {
    h.publish({ clusters: [cluster('c1')] });
    const s = h.client().sotw();
    s.send({ type_url: CLUSTER });
    const status = await s.status;
    expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
    await until(() => h.server.streams() === 0);
    expect(h.registry.list()).toEqual([]);
  });
});

describe('SotW: authorization', () => {
  it('refuses a node at its first request when authorize says why', T, async () => {
    await h.close();
    h = await startHarness({ authorize: (node) => (node.id === 'intruder' ? 'unknown node' : undefined) });
    h.publish({ clusters: [cluster('c1')] });
    const bad = h.client().sotw();
    bad.send(first(CLUSTER, [], { node: { id: 'intruder' } }));
    const status = await bad.status;
    expect(status).toMatchObject({ code: grpc.status.PERMISSION_DENIED, details: 'unknown node' });
    const good = h.client().sotw();
    good.send(first(CLUSTER));
    expect(resourceNames(await good.next())).toEqual(['c1']);
    expect(h.registry.list().map((p) => p.nodeId)).toEqual(['envoy-1']);
  });
});

describe('SotW: RDS, EDS and SDS responses carry what changed', () => {
  it('sends the changed route configuration alone once the client has ACKed, and everything after a name list change', T, async () => {
    h.publish({ routes: [route('r1', ['c1']), route('r2', ['c1'])] });
    const s = h.client().sotw();
    s.send(first(ROUTE, ['r1', 'r2']));
    const r1 = await s.next();
    expect(resourceNames(r1)).toEqual(['r1', 'r2']);
    s.send(ack(r1, ['r1', 'r2']));
    await s.nothingWithin(100);

    h.publish({ routes: [route('r1', ['c1']), route('r2', ['c2'])] });
    const r2 = await s.next();
    expect(resourceNames(r2)).toEqual(['r2']);
    expect(r2.version_info).not.toBe(r1.version_info);
    s.send(ack(r2, ['r1', 'r2']));
    await s.nothingWithin(100);

    // A name dropped and asked for again (a new watch in the client): the full list.
    s.send(ack(r2, ['r2']));
    const r3 = await s.next();
    expect(resourceNames(r3)).toEqual(['r2']);
    s.send(ack(r3, ['r1', 'r2']));
    const r4 = await s.next();
    expect(resourceNames(r4)).toEqual(['r1', 'r2']);
  });

  it('after a NACK, sends again what the client rejected along with the next change', T, async () => {
    h.publish({ routes: [route('r1', ['c1']), route('r2', ['c1'])] });
    const s = h.client().sotw();
    s.send(first(ROUTE, ['r1', 'r2']));
    const good = await s.next();
    s.send(ack(good, ['r1', 'r2']));
    h.publish({ routes: [route('r1', ['c1']), route('r2', ['c2'])] });
    const bad = await s.next();
    expect(resourceNames(bad)).toEqual(['r2']);
    s.send(nack(bad, good.version_info, 'route r2: invalid', ['r1', 'r2']));
    await s.nothingWithin(150);
    h.publish({ routes: [route('r1', ['c3']), route('r2', ['c2'])] });
    const next = await s.next();
    // The client holds the ACKed r1 and r2: both differ from what it holds.
    expect(resourceNames(next)).toEqual(['r1', 'r2']);
  });
});
