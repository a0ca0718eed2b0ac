// Leader handover between two control-plane PROCESSES (`xgate serve --kube`) against
// the stand-in API server: both serve xDS, only the leader writes status and Events;
// SIGKILL the leader and the other takes over status writes within the lease time.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { request, testBackends, type Backend } from '../helpers/backends.js';
import { testEnvoy } from '../helpers/envoy.js';
import { testApiServer, type Obj, type TestApiServer } from '../helpers/fake-apiserver.js';
import { freePorts } from '../helpers/ports.js';
import { INGRESS_CLASS, endpointSlice, eventually, ingress, service } from './objects.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const LEASE_MS = 2000;
const RENEW_MS = 1500;
const RETRY_MS = 250;

interface Replica {
  readonly name: string;
  readonly child: ChildProcess;
  readonly logs: Array<Record<string, unknown>>;
  readonly httpPort: number;
  adminPort?: number;
  xdsPort?: number;
}

/** Children also die with this worker if it is killed (Linux setpriv), as the Envoy runner does. */
const PDEATHSIG = existsSync('/usr/bin/setpriv') && spawnSync('/usr/bin/setpriv', ['--help'], { encoding: 'utf8', timeout: 5000 }).stdout?.includes('--pdeathsig');

const children = new Set<ChildProcess>();
afterAll(async () => {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGKILL');
      await new Promise((r) => c.once('exit', r));
    }
  }
});

function spawnReplica(api: TestApiServer, name: string, httpPort: number, httpsPort: number): Replica {
  const args = [
    '--import',
    'tsx',
    path.join(ROOT, 'control-plane/src/main.ts'),
    'serve',
    '--kube',
    '--kubeconfig',
    api.kubeconfigFile,
    '--xds-address',
    '127.0.0.1:0',
    '--admin-address',
    '127.0.0.1:0',
    '--bind-address',
    '127.0.0.1',
    '--http-port',
    String(httpPort),
    '--https-port',
    String(httpsPort),
    '--pod-name',
    name,
    '--election-namespace',
    'xgate-system',
    '--lease-duration-ms',
    String(LEASE_MS),
    '--renew-deadline-ms',
    String(RENEW_MS),
    '--retry-period-ms',
    String(RETRY_MS),
    '--publish-address',
    '203.0.113.9',
    '--debounce-ms',
    '10',
    '--log-level',
    'info',
  ];
  const [cmd, argv] = PDEATHSIG ? ['/usr/bin/setpriv', ['--pdeathsig', 'KILL', process.execPath, ...args]] : [process.execPath, args];
  const child = spawn(cmd, argv, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, POD_NAME: 'ignored-because-flag' } });
  children.add(child);
  const r: Replica = { name, child, logs: [], httpPort };
  readline.createInterface({ input: child.stderr! }).on('line', (line) => {
    try {
      const rec = JSON.parse(line) as Record<string, unknown>;
      r.logs.push(rec);
      if (rec['msg'] === 'xgate serving') {
        r.xdsPort = Number(String(rec['xds']).split(':').pop());
        r.adminPort = Number(String(rec['admin']).split(':').pop());
      }
    } catch {
      r.logs.push({ msg: line });
    }
  });
  return r;
}

const status = (api: TestApiServer, name: string) => api.get('networking.k8s.io/v1', 'Ingress', 'default', name)?.['status']?.['loadBalancer']?.['ingress'];
const holder = (api: TestApiServer) => api.get('coordination.k8s.io/v1', 'Lease', 'xgate-system', 'xgate-leader')?.['spec']?.['holderIdentity'];

describe('leader handover between two processes', () => {
  it('every replica serves xDS; only the leader writes; the survivor takes over when the leader is SIGKILLed', async () => {
    const [web] = (await testBackends(['web'])) as [Backend];
    const api = await testApiServer();
    api.apply(INGRESS_CLASS);
    api.apply(service('web'));
    api.apply(endpointSlice('web-1', 'web', [web]));
    api.apply(ingress('shop', 'shop.example.com', [{ service: 'web' }]));
    const [httpA, httpsA, httpB, httpsB] = (await freePorts(4)) as [number, number, number, number];
    const a = spawnReplica(api, 'cp-a', httpA, httpsA);
    const b = spawnReplica(api, 'cp-b', httpB, httpsB);
    const replicas = [a, b];

    await eventually(() => a.adminPort && b.adminPort, 30_000, 'both replicas serving');
    for (const r of replicas) expect((await fetch(`http://127.0.0.1:${r.adminPort}/readyz`)).status).toBe(200);
    const leaderName = await eventually(() => holder(api), 10_000, 'a leader');
    await eventually(() => status(api, 'shop'), 10_000, 'status written');
    const leader = replicas.find((r) => r.name === leaderName)!;
    const follower = replicas.find((r) => r !== leader)!;

    // The follower serves xDS too: an Envoy connected to it routes traffic.
    const envoy = await testEnvoy({ xdsPort: follower.xdsPort! });
    await envoy.waitReady(20_000);
    await envoy.waitForListener('http', 20_000);
    expect((await request(`http://127.0.0.1:${follower.httpPort}/`, { host: 'shop.example.com' })).echo?.backend).toBe('web');

    // Only the leader writes: one status write per Ingress, no matter how many replicas.
    api.apply(ingress('cart', 'cart.example.com', [{ service: 'web' }]));
    await eventually(() => status(api, 'cart'), 10_000, 'status of cart');
    await new Promise((r) => setTimeout(r, 1000));
    const patches = api.requests({ verb: 'update', resource: 'ingresses', subresource: 'status' });
    expect(patches.filter((p) => p.name === 'shop').length).toBe(1);
    expect(patches.filter((p) => p.name === 'cart').length).toBe(1);
    expect(follower.logs.some((l) => l['msg'] === 'Ingress status written')).toBe(false);
    expect(leader.logs.filter((l) => l['msg'] === 'Ingress status written').length).toBe(2);

    // SIGKILL the leader: no release; the follower waits out the lease.
    const t0 = Date.now();
    leader.child.kill('SIGKILL');
    api.apply(ingress('after', 'after.example.com', [{ service: 'web' }]));
    api.apply(ingress('broken', 'broken.example.com', [{ service: 'ghost' }]));
    await eventually(() => status(api, 'after'), 10_000, 'status written by the new leader');
    const statusMs = Date.now() - t0;
    expect(holder(api)).toBe(follower.name);
    const lease = api.get('coordination.k8s.io/v1', 'Lease', 'xgate-system', 'xgate-leader')!;
    expect(lease['spec']['leaseTransitions']).toBe(1);
    const ev = await eventually(() => api.list('v1', 'Event', 'default').find((e: Obj) => e['involvedObject']['name'] === 'broken'), 5000, 'Event from the new leader');
    expect(ev['source']).toEqual({ component: 'xgate', host: follower.name });
    expect(follower.logs.some((l) => l['msg'] === 'became the leader')).toBe(true);
    // Within the lease duration (measured from the last renewal the follower saw) plus a retry period and some slack.
    expect(statusMs).toBeLessThan(LEASE_MS + RETRY_MS * 1.2 + 1500);
    expect(statusMs).toBeGreaterThan(LEASE_MS - RETRY_MS * 2);
    process.stdout.write(`\n[kube handover] leader SIGKILLed → status written by the other process after ${statusMs} ms (lease ${LEASE_MS} ms, retry ${RETRY_MS} ms)\n`);
    // Envoy on the survivor kept serving throughout.
    expect((await request(`http://127.0.0.1:${follower.httpPort}/`, { host: 'shop.example.com' })).echo?.backend).toBe('web');

    // A graceful stop releases the Lease at once.
    const exited = new Promise((r) => follower.child.once('exit', r));
    follower.child.kill('SIGTERM');
    await exited;
    expect(holder(api)).toBe('');
    await envoy.stop();
  });
});
