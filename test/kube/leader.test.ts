// Leader election on a coordination.k8s.io/v1 Lease through the real client against the
// stand-in API server: one leader, release on stop, take-over after expiry, no overlap.
import { afterEach, describe, expect, it } from 'vitest';
import { leaseStore } from '../../control-plane/src/status/kube-api.js';
import { LeaderElector, type LeaseStore } from '../../control-plane/src/status/leader.js';
import { testApiServer, type TestApiServer } from '../helpers/fake-apiserver.js';
import { kubeConfigFor, logger, sleep } from './helpers.js';
import { eventually } from './objects.js';

const TIMING = { leaseDurationMs: 1000, renewDeadlineMs: 700, retryPeriodMs: 100 };
const electors: LeaderElector[] = [];
afterEach(async () => {
  for (const e of electors.splice(0)) await e.stop();
});

/** A LeaseStore that can be cut off (as if the replica froze or lost the network). */
function cuttable(store: LeaseStore): LeaseStore & { cut: boolean } {
  const s = {
    cut: false,
    get: () => (s.cut ? Promise.reject(new Error('cut off')) : store.get()),
    create: (r: Parameters<LeaseStore['create']>[0]) => (s.cut ? Promise.reject(new Error('cut off')) : store.create(r)),
    update: (r: Parameters<LeaseStore['update']>[0], rv: string) => (s.cut ? Promise.reject(new Error('cut off')) : store.update(r, rv)),
  };
  return s;
}

function elector(api: TestApiServer, identity: string, store?: LeaseStore): LeaderElector {
  const e = new LeaderElector({ ...TIMING, store: store ?? leaseStore(kubeConfigFor(api), 'xgate-system', 'xgate-leader'), identity, logger });
  electors.push(e);
  return e;
}

const lease = (api: TestApiServer) => api.get('coordination.k8s.io/v1', 'Lease', 'xgate-system', 'xgate-leader');

describe('leader election', () => {
  it('elects exactly one leader, which keeps renewing the Lease', async () => {
    const api = await testApiServer();
    const a = elector(api, 'a');
    const b = elector(api, 'b');
    a.start();
    b.start();
    await eventually(() => a.isLeader() || b.isLeader());
    await sleep(500);
    expect([a.isLeader(), b.isLeader()].filter(Boolean).length).toBe(1);
    const leader = a.isLeader() ? 'a' : 'b';
    const l1 = lease(api)!;
    expect(l1['spec']['holderIdentity']).toBe(leader);
    expect(l1['spec']['leaseDurationSeconds']).toBe(1);
    expect(l1['spec']['renewTime']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    await sleep(300);
    const l2 = lease(api)!;
    expect(l2['spec']['renewTime']).not.toBe(l1['spec']['renewTime']);
    expect(l2['spec']['leaseTransitions']).toBe(0);
    // The follower learnt who leads.
    expect((leader === 'a' ? b : a).holder()).toBe(leader);
    // Updates carry the resourceVersion read: stale ones are refused with 409.
    expect(api.requests({ verb: 'update', resource: 'leases' }).every((r) => (r.body as { metadata: { resourceVersion?: string } }).metadata.resourceVersion)).toBe(true);
  });

  it('releases the Lease on stop, and the other replica takes over at once', async () => {
    const api = await testApiServer();
    const a = elector(api, 'a');
    a.start();
    await eventually(() => a.isLeader());
    const b = elector(api, 'b');
    b.start();
    await sleep(300);
    expect(b.isLeader()).toBe(false);
    const t0 = Date.now();
    await a.stop();
    expect(a.isLeader()).toBe(false);
    await eventually(() => b.isLeader(), 3000);
    // Well under a lease duration: the released Lease is free.
    expect(Date.now() - t0).toBeLessThan(TIMING.leaseDurationMs);
    expect(lease(api)!['spec']['holderIdentity']).toBe('b');
    expect(lease(api)!['spec']['leaseTransitions']).toBe(1);
  });

  it('takes over when the leader stops renewing, never with two leaders at once', async () => {
    const api = await testApiServer();
    const storeA = cuttable(leaseStore(kubeConfigFor(api), 'xgate-system', 'xgate-leader'));
    const a = elector(api, 'a', storeA);
    a.start();
    await eventually(() => a.isLeader());
    const b = elector(api, 'b');
    b.start();
    await sleep(300);
    let overlap = 0;
    const sampler = setInterval(() => {
      if (a.isLeader() && b.isLeader()) overlap++;
    }, 5);
    const t0 = Date.now();
    storeA.cut = true;
    await eventually(() => !a.isLeader(), 3000);
    const stepDown = Date.now() - t0;
    await eventually(() => b.isLeader(), 5000);
    const takeOver = Date.now() - t0;
    clearInterval(sampler);
    expect(overlap).toBe(0);
    expect(stepDown).toBeLessThanOrEqual(TIMING.renewDeadlineMs + 50);
    expect(takeOver).toBeGreaterThanOrEqual(TIMING.leaseDurationMs - TIMING.retryPeriodMs * 2);
    expect(takeOver).toBeLessThan(TIMING.leaseDurationMs + 1000);
    expect(lease(api)!['spec']['holderIdentity']).toBe('b');
    // a comes back: it is a follower now.
    storeA.cut = false;
    await sleep(400);
    expect(a.isLeader()).toBe(false);
    expect(a.holder()).toBe('b');
  });

  it('settles racing creations of the Lease with 409 AlreadyExists', async () => {
    const api = await testApiServer();
    api.setLatency(30, { verbs: ['get', 'create'], resource: 'leases' });
    const es = ['a', 'b', 'c'].map((id) => elector(api, id));
    for (const e of es) e.start();
    await eventually(() => es.some((e) => e.isLeader()));
    await sleep(400);
    expect(es.filter((e) => e.isLeader()).length).toBe(1);
    const creates = api.requests({ verb: 'create', resource: 'leases' });
    expect(creates.filter((r) => r.status === 201).length).toBe(1);
  });
});
