// Make before break: a cluster (or its endpoints, or a secret) leaves a proxy only
// after the listeners and routes that stopped naming it are ACKed by that proxy, and
// new clusters arrive before the routes that name them.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLUSTER, ENDPOINT, LISTENER, ROUTE } from '../../control-plane/src/xds/type-urls.js';
import {
  ack,
  deltaAck,
  deltaNack,
  deltaNames,
  ENVOY_NODE,
  nack,
  resourceNames,
  type DeltaResponse,
  type DeltaStream,
  type SotwResponse,
  type SotwStream,
} from '../helpers/ads-client.js';
import { cluster, endpoints, listener, route, startHarness, until, type Harness } from './harness.js';

const T = { timeout: 10_000 };

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

const before = () =>
  h.publish({
    clusters: [cluster('c1'), cluster('c2')],
    endpoints: [endpoints('c1'), endpoints('c2')],
    listeners: [listener('l1', 'r1')],
    routes: [route('r1', ['c1', 'c2'])],
  });

/** A SotW stream that subscribed like Envoy does and ACKed everything. */
async function sotwSettled(): Promise<{ s: SotwStream; got: Map<string, SotwResponse> }> {
  const s = h.client().sotw();
  s.send({ node: ENVOY_NODE, type_url: CLUSTER, resource_names: [] });
  s.send({ type_url: ENDPOINT, resource_names: ['c1', 'c2'] });
  s.send({ type_url: LISTENER, resource_names: [] });
  s.send({ type_url: ROUTE, resource_names: ['r1'] });
  const got = new Map<string, SotwResponse>();
  for (let i = 0; i < 4; i++) {
    const r = await s.next();
    got.set(r.type_url, r);
  }
  s.send(ack(got.get(CLUSTER)!));
  s.send(ack(got.get(ENDPOINT)!, ['c1', 'c2']));
  s.send(ack(got.get(LISTENER)!));
  s.send(ack(got.get(ROUTE)!, ['r1']));
  await until(() => h.recorder.of('acked').length === 4);
  return { s, got };
}

describe('make before break, SotW', () => {
  it('keeps c2 in CDS until the route that stopped using it is ACKed; adds c3 before the route names it', T, async () => {
    before();
    const { s } = await sotwSettled();

    h.publish({
      clusters: [cluster('c1'), cluster('c3')],
      endpoints: [endpoints('c1'), endpoints('c3')],
      listeners: [listener('l1', 'r1')],
      routes: [route('r1', ['c1', 'c3'])],
    });
    const cds = await s.next();
    expect(cds.type_url).toBe(CLUSTER);
    expect(resourceNames(cds)).toEqual(['c1', 'c2', 'c3']);
    const rds = await s.next();
    expect(rds.type_url).toBe(ROUTE);
    s.send(ack(cds));
    await s.nothingWithin(300);
    expect(h.registry.ackedNames(h.registry.list()[0]!.streamId, CLUSTER)).toEqual(['c1', 'c2', 'c3']);

    s.send(ack(rds, ['r1']));
    const final = await s.next();
    expect(final.type_url).toBe(CLUSTER);
    expect(resourceNames(final)).toEqual(['c1', 'c3']);
    // Then endpoints: the stream still names c2, which is gone.
    const eds = await s.next();
    expect(eds.type_url).toBe(ENDPOINT);
    expect(resourceNames(eds)).toEqual(['c1']);
    s.send(ack(final));
    await s.nothingWithin(200);
  });

  it('sends no interim CDS when nothing is added, and the final one after the RDS ACK', T, async () => {
    before();
    const { s } = await sotwSettled();
    h.publish({
      clusters: [cluster('c1')],
      endpoints: [endpoints('c1')],
      listeners: [listener('l1', 'r1')],
      routes: [route('r1', ['c1'])],
    });
    const rds = await s.next();
    expect(rds.type_url).toBe(ROUTE);
    await s.nothingWithin(300);
    s.send(ack(rds, ['r1']));
    const final = await s.next();
    expect(final.type_url).toBe(CLUSTER);
    expect(resourceNames(final)).toEqual(['c1']);
  });

  it('keeps c2 while the new route is NACKed, until a fixed route is ACKed', T, async () => {
    before();
    const { s, got } = await sotwSettled();
    h.publish({ clusters: [cluster('c1')], endpoints: [endpoints('c1')], listeners: [listener('l1', 'r1')], routes: [route('r1', ['c1'])] });
    const rds = await s.next();
    s.send(nack(rds, got.get(ROUTE)!.version_info, 'route rejected', ['r1']));
    await s.nothingWithin(300);

    h.publish({ clusters: [cluster('c1')], endpoints: [endpoints('c1')], listeners: [listener('l1', 'r1')], routes: [route('r1', ['c1', 'c1'])] });
    const rds2 = await s.next();
    expect(rds2.type_url).toBe(ROUTE);
    s.send(ack(rds2, ['r1']));
    const final = await s.next();
    expect(resourceNames(final)).toEqual(['c1']);
  });

  it('removes at once from a stream that takes no listeners or routes', T, async () => {
    before();
    const s = h.client().sotw();
    s.send({ node: ENVOY_NODE, type_url: CLUSTER, resource_names: [] });
    s.send(ack(await s.next()));
    h.publish({ clusters: [cluster('c1')], endpoints: [endpoints('c1')], listeners: [listener('l1', 'r1')], routes: [route('r1', ['c1'])] });
    expect(resourceNames(await s.next())).toEqual(['c1']);
  });

  it('holds listeners and routes while a newer CDS waits for the ACK of the last one', T, async () => {
    before();
    const { s } = await sotwSettled();
    h.publish({ clusters: [cluster('c1'), cluster('c2'), cluster('c3')], endpoints: [endpoints('c1'), endpoints('c2')], listeners: [listener('l1', 'r1')], routes: [route('r1', ['c1', 'c2'])] });
    const cds1 = await s.next();
    expect(resourceNames(cds1)).toEqual(['c1', 'c2', 'c3']);
    // Not ACKed yet: a route naming c4 must not overtake the CDS that brings c4.
    h.publish({ clusters: [cluster('c1'), cluster('c2'), cluster('c3'), cluster('c4')], endpoints: [endpoints('c1'), endpoints('c2')], listeners: [listener('l1', 'r1')], routes: [route('r1', ['c1', 'c4'])] });
    await s.nothingWithin(300);
    s.send(ack(cds1));
    const cds2 = await s.next();
    expect(cds2.type_url).toBe(CLUSTER);
    expect(resourceNames(cds2)).toEqual(['c1', 'c2', 'c3', 'c4']);
    expect((await s.next()).type_url).toBe(ROUTE);
  });
});

/** A delta stream with wildcard CDS and RDS r1, everything ACKed. */
async function deltaSettled(): Promise<DeltaStream> {
  const s = h.client().delta();
  s.send({ node: ENVOY_NODE, type_url: CLUSTER });
  s.send({ type_url: ROUTE, resource_names_subscribe: ['r1'] });
  const got: DeltaResponse[] = [await s.next(), await s.next()];
  for (const r of got) s.send(deltaAck(r));
  await until(() => h.recorder.of('acked').length === 2);
  return s;
}

describe('make before break, delta', () => {
  it('sends the removal of c2 only after the route update is ACKed', T, async () => {
    before();
    const s = await deltaSettled();
    h.publish({
      clusters: [cluster('c1'), cluster('c3')],
      endpoints: [endpoints('c1'), endpoints('c3')],
      listeners: [listener('l1', 'r1')],
      routes: [route('r1', ['c1', 'c3'])],
    });
    const cds = await s.next();
    expect(cds.type_url).toBe(CLUSTER);
    expect(deltaNames(cds)).toEqual(['c3']);
    expect(cds.removed_resources).toEqual([]);
    const rds = await s.next();
    expect(rds.type_url).toBe(ROUTE);
    s.send(deltaAck(cds));
    await s.nothingWithin(300);

    s.send(deltaAck(rds));
    const removal = await s.next();
    expect(removal.type_url).toBe(CLUSTER);
    expect(removal.resources).toEqual([]);
    expect(removal.removed_resources).toEqual(['c2']);
  });

  it('keeps c2 while the route update is NACKed', T, async () => {
    before();
    const s = await deltaSettled();
    h.publish({ clusters: [cluster('c1')], endpoints: [endpoints('c1')], listeners: [listener('l1', 'r1')], routes: [route('r1', ['c1'])] });
    const rds = await s.next();
    expect(rds.type_url).toBe(ROUTE);
    s.send(deltaNack(rds, 'no'));
    await s.nothingWithin(300);
    h.publish({ clusters: [cluster('c1')], endpoints: [endpoints('c1')], listeners: [listener('l1', 'r1')], routes: [route('r1', ['c1', 'c1'])] });
    const rds2 = await s.next();
    s.send(deltaAck(rds2));
    expect((await s.next()).removed_resources).toEqual(['c2']);
  });
});
