// End to end: objects in the stand-in API server → real client-node informers →
// control plane → ADS → the real Envoy → local backends. Create, update and delete an
// Ingress, a Service and an EndpointSlice and traffic follows; dropped watches and
// 410 Gone are survived; the leader writes Ingress status; a bad Ingress gets Events.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, testBackends, type Backend } from '../helpers/backends.js';
import { testEnvoy, type RunningEnvoy } from '../helpers/envoy.js';
import { testApiServer, type Obj, type TestApiServer } from '../helpers/fake-apiserver.js';
import { kubeControlPlane, type KubeControlPlane } from './control-plane.js';
import { sleep } from './helpers.js';
import { INGRESS_CLASS, endpointSlice, eventually, ingress, service } from './objects.js';

const latencies: Record<string, number[]> = {};

describe('kube mode through the real Envoy', () => {
  let api: TestApiServer;
  let web: Backend, web2: Backend, api_: Backend, v2: Backend;
  let t: KubeControlPlane;
  let envoy: RunningEnvoy;
  let base: string;

  /** Waits until `host` + `path` is answered by `backend` (or with `status`); returns the milliseconds it took. */
  async function until(what: string, host: string, path: string, want: { backend?: string; status?: number }, t0 = Date.now()): Promise<number> {
    await eventually(
      async () => {
        const r = await request(`${base}${path}`, { host, timeoutMs: 2000 });
        return want.backend ? r.echo?.backend === want.backend : r.status === want.status;
      },
      15_000,
      `${what}: ${host}${path} → ${want.backend ?? want.status}`,
    );
    const ms = Date.now() - t0;
    (latencies[what] ??= []).push(ms);
    return ms;
  }

  /** Like until(), but waits for `n` answers in a row from `backend` (for endpoints leaving a rotation). */
  async function untilOnly(what: string, host: string, path: string, backend: string, t0 = Date.now(), n = 10): Promise<number> {
    let streak = 0;
    let lastMiss = Date.now();
    await eventually(
      async () => {
        const r = await request(`${base}${path}`, { host, timeoutMs: 2000 });
        if (r.echo?.backend === backend) streak++;
        else {
          streak = 0;
          lastMiss = Date.now();
        }
        return streak >= n;
      },
      15_000,
      `${what}: only ${backend}`,
    );
    const ms = lastMiss - t0;
    (latencies[what] ??= []).push(ms);
    return ms;
  }

  beforeAll(async () => {
    [web, web2, api_, v2] = (await testBackends(['web', 'web2', 'api', 'v2'], { distinctHosts: true })) as [Backend, Backend, Backend, Backend];
    api = await testApiServer();
    api.apply(INGRESS_CLASS);
    api.apply(service('web'));
    api.apply(endpointSlice('web-1', 'web', [web]));
    api.apply(service('api'));
    api.apply(endpointSlice('api-1', 'api', [api_]));
    api.apply(ingress('shop', 'shop.example.com', [{ service: 'web' }]));
    t = await kubeControlPlane(api, { publish: { kind: 'addresses', addresses: [{ ip: '203.0.113.1' }] } });
    envoy = await testEnvoy({ xdsPort: t.xdsPort });
    await envoy.waitReady(20_000);
    await envoy.waitForListener('http', 20_000);
    base = `http://127.0.0.1:${t.httpPort}`;
  });

  afterAll(async () => {
    await envoy?.stop();
    const summary = Object.entries(latencies).map(([k, v]) => `${k}: ${v.join(', ')} ms`);
    process.stdout.write(`\n[kube e2e] API change → traffic through Envoy:\n  ${summary.join('\n  ')}\n`);
  });

  it('serves the Ingress it listed', async () => {
    expect((await request(`${base}/`, { host: 'shop.example.com' })).echo?.backend).toBe('web');
  });

  it('follows an Ingress update, creation and deletion', async () => {
    let t0 = Date.now();
    api.apply(ingress('shop', 'shop.example.com', [{ service: 'web' }, { path: '/api', service: 'api' }]));
    expect(await until('ingress update', 'shop.example.com', '/api/x', { backend: 'api' }, t0)).toBeLessThan(2000);
    expect((await request(`${base}/`, { host: 'shop.example.com' })).echo?.backend).toBe('web');
    t0 = Date.now();
    api.apply(ingress('blog', 'blog.example.com', [{ service: 'api' }]));
    expect(await until('ingress create', 'blog.example.com', '/', { backend: 'api' }, t0)).toBeLessThan(2000);
    t0 = Date.now();
    api.remove('networking.k8s.io/v1', 'Ingress', 'default', 'blog');
    expect(await until('ingress delete', 'blog.example.com', '/', { status: 404 }, t0)).toBeLessThan(2000);
  });

  it('follows Service and EndpointSlice creation, update and deletion', async () => {
    // A new Service with its endpoints, routed by an Ingress path.
    api.apply(ingress('shop', 'shop.example.com', [{ service: 'web' }, { path: '/api', service: 'api' }, { path: '/v2', service: 'v2' }]));
    await until('path to a missing Service', 'shop.example.com', '/v2', { status: 503 });
    let t0 = Date.now();
    api.apply(service('v2'));
    api.apply(endpointSlice('v2-1', 'v2', [v2]));
    expect(await until('service create', 'shop.example.com', '/v2', { backend: 'v2' }, t0)).toBeLessThan(2000);
    // The web EndpointSlice moves to another backend.
    t0 = Date.now();
    api.apply(endpointSlice('web-1', 'web', [web2]));
    expect(await until('endpointslice update', 'shop.example.com', '/', { backend: 'web2' }, t0)).toBeLessThan(2000);
    // A second slice for web adds web back beside web2.
    t0 = Date.now();
    api.apply(endpointSlice('web-2', 'web', [web]));
    await until('endpointslice create', 'shop.example.com', '/', { backend: 'web' }, t0);
    const seen = new Set<string>();
    for (let i = 0; i < 30; i++) seen.add((await request(`${base}/`, { host: 'shop.example.com' })).echo?.backend ?? '?');
    expect([...seen].sort()).toEqual(['web', 'web2']);
    t0 = Date.now();
    api.remove('discovery.k8s.io/v1', 'EndpointSlice', 'default', 'web-2');
    expect(await untilOnly('endpointslice delete', 'shop.example.com', '/', 'web2', t0)).toBeLessThan(2000);
    // A Service update: its port changes, the Ingress still names port 80 → 503 on that path.
    t0 = Date.now();
    api.apply(service('v2', { port: 81 }));
    await until('service update', 'shop.example.com', '/v2', { status: 503 }, t0);
    api.apply(service('v2'));
    await until('service update', 'shop.example.com', '/v2', { backend: 'v2' });
    // Service deleted → 503 on its path only.
    t0 = Date.now();
    api.remove('v1', 'Service', 'default', 'v2');
    await until('service delete', 'shop.example.com', '/v2', { status: 503 }, t0);
    expect((await request(`${base}/api/x`, { host: 'shop.example.com' })).echo?.backend).toBe('api');
  });

  it('follows a change made while the watches were down', async () => {
    expect((await request(`${base}/`, { host: 'shop.example.com' })).echo?.backend).toBe('web2');
    api.outage(true);
    api.apply(endpointSlice('web-1', 'web', [web]));
    await sleep(300);
    // Envoy keeps serving what it has.
    expect((await request(`${base}/`, { host: 'shop.example.com' })).echo?.backend).toBe('web2');
    const t0 = Date.now();
    api.outage(false);
    await until('after dropped watches', 'shop.example.com', '/', { backend: 'web' }, t0);
  });

  it('follows a change made while the watches were down and the history was compacted (410 Gone → relist)', async () => {
    const listsBefore = api.requests({ verb: 'list', resource: 'endpointslices' }).length;
    api.outage(true);
    api.apply(endpointSlice('web-1', 'web', [web2]));
    api.compact();
    await sleep(200);
    const t0 = Date.now();
    api.outage(false);
    await until('after 410 Gone', 'shop.example.com', '/', { backend: 'web2' }, t0);
    expect(api.requests({ verb: 'list', resource: 'endpointslices' }).length).toBeGreaterThan(listsBefore);
  });

  it('writes the published address into the status of the Ingresses it serves', async () => {
    const st = await eventually(() => api.get('networking.k8s.io/v1', 'Ingress', 'default', 'shop')?.['status']?.['loadBalancer']?.['ingress'], 5000);
    expect(st).toEqual([{ ip: '203.0.113.1' }]);
    expect(t.cp.kube?.status.isLeader()).toBe(true);
    expect(api.get('coordination.k8s.io/v1', 'Lease', 'xgate-system', 'xgate-leader')?.['spec']?.['holderIdentity']).toBe('xgate-0');
  });

  it('writes Events for a bad Ingress, deduplicated, and none after the fix', async () => {
    const warnings = () => api.list('v1', 'Event', 'default').filter((e: Obj) => e['involvedObject']['name'] === 'broken' && e['type'] === 'Warning');
    api.apply(ingress('broken', 'broken.example.com', [{ service: 'ghost' }]));
    const [ev] = await eventually(() => (warnings().length ? warnings() : undefined), 5000, 'Warning Event');
    expect(ev!['reason']).toBe('XG_SERVICE_NOT_FOUND');
    expect(ev!['message']).toContain('Service default/ghost does not exist');
    expect(ev!['involvedObject']['uid']).toBe(api.get('networking.k8s.io/v1', 'Ingress', 'default', 'broken')!['metadata']['uid']);
    expect(ev!['count']).toBe(1);
    // Unrelated changes rebuild the model: no new Event and no new count.
    api.apply(service('unrelated'));
    await sleep(500);
    expect(warnings().map((e) => e['count'])).toEqual([1]);
    // The Ingress is edited but still broken: same Event, count 2.
    api.apply(ingress('broken', 'broken.example.com', [{ service: 'ghost' }], { labels: { edited: 'yes' } }));
    await eventually(() => warnings()[0]?.['count'] === 2, 5000, 'count 2');
    expect(warnings().length).toBe(1);
    expect(warnings()[0]!['metadata']['name']).toBe(ev!['metadata']['name']);
    // Fixed: one Normal Accepted Event, and no more Warnings.
    api.apply(service('ghost'));
    await eventually(() => api.list('v1', 'Event', 'default').some((e: Obj) => e['involvedObject']['name'] === 'broken' && e['reason'] === 'Accepted'), 5000, 'Accepted');
    api.apply(ingress('broken', 'broken.example.com', [{ service: 'ghost' }], { labels: { edited: 'again' } }));
    await sleep(500);
    expect(warnings().map((e) => e['count'])).toEqual([2]);
    const forBroken = api.list('v1', 'Event', 'default').filter((e: Obj) => e['involvedObject']['name'] === 'broken');
    expect(forBroken.map((e) => [e['type'], e['reason'], e['count']]).sort()).toEqual([
      ['Normal', 'Accepted', 1],
      ['Warning', 'XG_SERVICE_NOT_FOUND', 2],
    ]);
  });
});
