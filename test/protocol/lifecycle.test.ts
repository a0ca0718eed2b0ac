// Stream lifecycle: cancel, half-close and server shutdown clean up everything the
// stream held; a client that never ACKs gets one response per type and no more.
import * as grpc from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLUSTER, ENDPOINT, LISTENER, ROUTE } from '../../control-plane/src/xds/type-urls.js';
import { ack, ENVOY_NODE } from '../helpers/ads-client.js';
import { cluster, endpoints, listener, route, startHarness, until, type Harness } from './harness.js';

const T = { timeout: 10_000 };

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
  h.publish({ clusters: [cluster('c1')] });
});
afterEach(async () => {
  await h.close();
});

describe('stream lifecycle', () => {
  it('a cancelled SotW stream leaves nothing in the registry', T, async () => {
    const s = h.client().sotw();
    s.send({ node: ENVOY_NODE, type_url: CLUSTER });
    s.send(ack(await s.next()));
    await until(() => h.registry.list().length === 1);
    expect(h.server.streams()).toBe(1);
    expect(h.registry.counters().connected).toBe(1);

    s.cancel();
    await until(() => h.server.streams() === 0);
    expect(h.registry.list()).toEqual([]);
    expect(h.registry.counters()).toMatchObject({ connected: 0, connections: 1 });
    expect(h.recorder.of('disconnected')).toHaveLength(1);
    // The allAcked query no longer waits for it.
    expect(h.registry.allAcked('envoy', CLUSTER, 'c9')).toBe(true);
  });

  it('a cancelled delta stream too, and later snapshots do not touch it', T, async () => {
    const s = h.client().delta();
    s.send({ node: ENVOY_NODE, type_url: CLUSTER });
    await s.next();
    s.cancel();
    await until(() => h.server.streams() === 0 && h.registry.list().length === 0);
    h.publish({ clusters: [cluster('c1'), cluster('c2')] });
    await new Promise((r) => setTimeout(r, 100));
    expect(h.recorder.of('sent')).toHaveLength(1);
  });

  it('a half-closed stream ends with OK and is cleaned up', T, async () => {
    const s = h.client().sotw();
    s.send({ node: ENVOY_NODE, type_url: CLUSTER });
    await s.next();
    s.end();
    expect((await s.status).code).toBe(grpc.status.OK);
    await until(() => h.server.streams() === 0 && h.registry.list().length === 0);
  });

  it('close() ends every stream with UNAVAILABLE', T, async () => {
    const a = h.client().sotw();
    const b = h.client().delta();
    a.send({ node: ENVOY_NODE, type_url: CLUSTER });
    b.send({ node: ENVOY_NODE, type_url: CLUSTER });
    await Promise.all([a.next(), b.next()]);
    await h.server.close();
    expect((await a.status).code).toBe(grpc.status.UNAVAILABLE);
    expect((await b.status).code).toBe(grpc.status.UNAVAILABLE);
    expect(h.server.streams()).toBe(0);
    expect(h.registry.list()).toEqual([]);
  });
});

describe('a client that never ACKs', () => {
  it('gets at most one response per type, however many snapshots arrive', T, async () => {
    const snapshot = (i: number) =>
      h.publish({
        clusters: [cluster('c1'), cluster(`x${i}`)],
        endpoints: [endpoints('c1', 1000 + i)],
        listeners: [listener('l1', 'r1', 20000 + i)],
        routes: [route('r1', [`x${i}`])],
      });
    snapshot(0);
    const s = h.client().sotw();
    s.send({ node: ENVOY_NODE, type_url: CLUSTER });
    s.send({ type_url: ENDPOINT, resource_names: ['c1'] });
    s.send({ type_url: LISTENER });
    s.send({ type_url: ROUTE, resource_names: ['r1'] });
    await until(() => s.buffered() === 4);
    for (let i = 1; i <= 100; i++) {
      snapshot(i);
      if (i % 10 === 0) await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(s.buffered()).toBe(4);
    expect(h.registry.counters().byType).toMatchObject({
      cds: { pushes: 1 },
      eds: { pushes: 1 },
      lds: { pushes: 1 },
      rds: { pushes: 1 },
    });
  });
});
