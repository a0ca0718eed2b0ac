// The ADS server against the pinned real Envoy, in SotW and delta: Envoy ACKs every
// response through a make-before-break change, a rejected cluster is NACKed once,
// recorded and not re-pushed while Envoy keeps its last good clusters.
import { afterEach, describe, expect, it } from 'vitest';
import { CLUSTER, ENDPOINT, LISTENER, ROUTE } from '../../control-plane/src/xds/type-urls.js';
import { testEnvoy, type RunningEnvoy } from '../helpers/envoy.js';
import { freePort } from '../helpers/ports.js';
import { cluster, endpoints, listener, route, startHarness, until, type Harness } from './harness.js';

const T = { timeout: 40_000 };

let h: Harness | undefined;
let envoy: RunningEnvoy | undefined;
afterEach(async () => {
  await envoy?.stop();
  await h?.close();
  envoy = undefined;
  h = undefined;
});

/** Names of the dynamic clusters Envoy has active. */
async function activeClusters(e: RunningEnvoy): Promise<string[]> {
  const dump = (await e.configDump('resource=dynamic_active_clusters')) as { configs?: { cluster?: { name?: string } }[] };
  return (dump.configs ?? []).map((c) => c.cluster?.name ?? '').sort();
}

/** Polls Envoy until its active clusters are `expected`; returns the last answer. */
async function clustersBecome(e: RunningEnvoy, expected: string[], timeoutMs = 10_000): Promise<string[]> {
  const end = Date.now() + timeoutMs;
  let got = await activeClusters(e);
  while (JSON.stringify(got) !== JSON.stringify(expected) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 50));
    got = await activeClusters(e);
  }
  return got;
}

describe.each(['sotw', 'delta'] as const)('real Envoy over %s ADS', (xdsApi) => {
  it('follows a make-before-break change with no NACK', T, async () => {
    h = await startHarness();
    const port = await freePort();
    h.publish({
      clusters: [cluster('c1'), cluster('c2')],
      endpoints: [endpoints('c1'), endpoints('c2')],
      listeners: [listener('l1', 'r1', port)],
      routes: [route('r1', ['c1', 'c2'])],
    });
    const e = (envoy = await testEnvoy({ xdsPort: h.server.port, xdsApi }));
    await e.waitReady();
    const reg = h.registry;
    await until(() => reg.allAcked('envoy', ROUTE, 'r1') && reg.allAcked('envoy', ENDPOINT, 'c2'), 10_000);
    expect(reg.list()).toHaveLength(1);
    expect(reg.list()[0]!.kind).toBe(xdsApi);

    h.publish({
      clusters: [cluster('c1'), cluster('c3')],
      endpoints: [endpoints('c1'), endpoints('c3')],
      listeners: [listener('l1', 'r1', port)],
      routes: [route('r1', ['c1', 'c3'])],
    });
    await until(() => {
      const names = reg.ackedNames(reg.list()[0]!.streamId, CLUSTER) ?? [];
      return names.includes('c3') && !names.includes('c2');
    }, 10_000);
    await until(() => reg.allAcked('envoy', ENDPOINT, 'c3'), 10_000);
    expect(await clustersBecome(e, ['c1', 'c3'])).toEqual(['c1', 'c3']);
    const c = reg.counters().byType;
    expect([c.lds.nacks, c.rds.nacks, c.cds.nacks, c.eds.nacks]).toEqual([0, 0, 0, 0]);
    expect(reg.allAcked('envoy', LISTENER, 'l1')).toBe(true);
  });

  it('records a NACK, does not re-push it, and keeps Envoy on its last good clusters', T, async () => {
    h = await startHarness();
    const port = await freePort();
    const base = { endpoints: [endpoints('c1')], listeners: [listener('l1', 'r1', port)], routes: [route('r1', ['c1'])] };
    h.publish({ clusters: [cluster('c1')], ...base });
    const e = (envoy = await testEnvoy({ xdsApi, xdsPort: h.server.port }));
    await e.waitReady();
    const reg = h.registry;
    await until(() => reg.allAcked('envoy', ROUTE, 'r1'), 10_000);

    // connect_timeout must be > 0: valid protobuf, rejected by Envoy.
    h.publish({ clusters: [cluster('c1'), cluster('bad', '0s')], ...base });
    await until(() => reg.counters().byType.cds.nacks === 1, 10_000);
    const nack = reg.list()[0]!.types.cds!.nack!;
    expect(nack.message).toMatch(/ConnectTimeout: value must be greater than 0s/);
    const pushes = reg.counters().byType.cds.pushes;
    await new Promise((r) => setTimeout(r, 500));
    expect(reg.counters().byType.cds).toMatchObject({ pushes, nacks: 1 });
    expect(await activeClusters(e)).toEqual(['c1']);

    h.publish({ clusters: [cluster('c1'), cluster('good')], endpoints: [endpoints('c1'), endpoints('good')], listeners: base.listeners, routes: base.routes });
    await until(() => (reg.ackedNames(reg.list()[0]!.streamId, CLUSTER) ?? []).includes('good'), 10_000);
    expect(await clustersBecome(e, ['c1', 'good'])).toEqual(['c1', 'good']);
  });
});
