// ProxyRegistry as an XdsObserver: the per-stream view, counters and ACK queries.
import { describe, expect, it } from 'vitest';
import type { NodeInfo } from '../../control-plane/src/xds/cache/types.js';
import { ProxyRegistry } from '../../control-plane/src/xds/proxies.js';
import { CLUSTER, ROUTE } from '../../control-plane/src/xds/type-urls.js';

const envoy = (id: string): NodeInfo => ({ id, cluster: 'gw', userAgentName: 'envoy', metadata: {} });
const grpcNode: NodeInfo = { id: 'app', cluster: 'apps', userAgentName: 'gRPC Node Pure JS', metadata: {} };

describe('ProxyRegistry', () => {
  it('tracks each stream: identity, sent, ACKed and NACKed versions per type', () => {
    let now = Date.UTC(2026, 0, 1);
    const reg = new ProxyRegistry({ now: () => now });
    reg.connected(7, envoy('e1'), 'sotw');
    reg.sent(7, CLUSTER, 'v1', ['a', 'b'], 'n1');
    now += 1000;
    reg.acked(7, CLUSTER, 'v1', ['a', 'b']);
    reg.sent(7, CLUSTER, 'v2', ['a'], 'n2');
    reg.nacked(7, CLUSTER, 'v2', 'bad cluster');
    expect(reg.list()).toEqual([
      {
        streamId: 7,
        nodeId: 'e1',
        cluster: 'gw',
        userAgent: 'envoy',
        group: 'envoy',
        kind: 'sotw',
        connectedAt: '2026-01-01T00:00:00.000Z',
        types: {
          cds: {
            sent: { version: 'v2', nonce: 'n2', resources: 1, at: '2026-01-01T00:00:01.000Z' },
            acked: { version: 'v1', resources: 2, at: '2026-01-01T00:00:01.000Z' },
            nack: { version: 'v2', message: 'bad cluster', at: '2026-01-01T00:00:01.000Z' },
          },
        },
      },
    ]);
    expect(reg.ackedNames(7, CLUSTER)).toEqual(['a', 'b']);
    expect(reg.counters()).toEqual({
      connected: 1,
      connections: 1,
      byType: {
        lds: { pushes: 0, acks: 0, nacks: 0 },
        rds: { pushes: 0, acks: 0, nacks: 0 },
        srds: { pushes: 0, acks: 0, nacks: 0 },
        cds: { pushes: 2, acks: 1, nacks: 1 },
        eds: { pushes: 0, acks: 0, nacks: 0 },
        sds: { pushes: 0, acks: 0, nacks: 0 },
      },
    });
    reg.disconnected(7);
    expect(reg.list()).toEqual([]);
    expect(reg.get(7)).toBeUndefined();
    expect(reg.counters().connected).toBe(0);
  });

  it('answers whether every connected proxy of a group ACKed a resource', async () => {
    const reg = new ProxyRegistry();
    reg.connected(1, envoy('e1'), 'delta');
    reg.connected(2, envoy('e2'), 'sotw');
    reg.connected(3, grpcNode, 'sotw');
    reg.acked(1, ROUTE, 'v1', ['r1', 'r2']);
    expect(reg.pendingAcks('envoy', ROUTE, 'r2').map((p) => p.nodeId)).toEqual(['e2']);
    expect(reg.allAcked('envoy', ROUTE, 'r2')).toBe(false);
    expect(reg.allAcked('grpc', ROUTE, 'r2')).toBe(false);
    expect(reg.allAcked('nobody', ROUTE, 'r2')).toBe(true);

    const waiting = reg.whenAllAcked('envoy', ROUTE, 'r2', 2_000);
    reg.acked(2, ROUTE, 'v1', ['r2']);
    await expect(waiting).resolves.toBe(true);
    await expect(reg.whenAllAcked('envoy', ROUTE, 'r3', 50)).resolves.toBe(false);

    // A proxy that leaves no longer holds readiness back.
    const leaving = reg.whenAllAcked('grpc', ROUTE, 'r2', 2_000);
    reg.disconnected(3);
    await expect(leaving).resolves.toBe(true);
  });

  it('uses the given grouping and ignores events for unknown streams', () => {
    const reg = new ProxyRegistry({ groupOf: (n) => `g-${n.id}` });
    reg.acked(99, CLUSTER, 'v', ['x']);
    reg.connected(1, envoy('e1'), 'sotw');
    expect(reg.list()[0]!.group).toBe('g-e1');
    expect(reg.counters().byType.cds.acks).toBe(1);
  });
});
