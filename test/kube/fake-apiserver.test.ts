// The stand-in API server speaks the protocol the real one does, for what it covers:
// checked over raw HTTP here (the other kube tests check it through client-node).
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { testApiServer, type Obj, type TestApiServer } from '../helpers/fake-apiserver.js';
import { eventually, ingress, secret, service } from './objects.js';

async function call(api: TestApiServer, method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; body: Obj }> {
  const r = await fetch(`${api.url}${path}`, { method, headers: body === undefined ? {} : { 'content-type': contentType }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as Obj };
}

interface WatchStream {
  readonly events: Array<{ type: string; object: Obj }>;
  readonly ended: Promise<void>;
  close(): void;
}

function watch(api: TestApiServer, path: string): Promise<WatchStream> {
  return new Promise((resolve, reject) => {
    const events: WatchStream['events'] = [];
    const req = http.get(`${api.url}${path}`, (res) => {
      let buf = '';
      const ended = new Promise<void>((r) => res.on('close', () => r()));
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        buf += c;
        for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
          events.push(JSON.parse(buf.slice(0, i)) as { type: string; object: Obj });
          buf = buf.slice(i + 1);
        }
      });
      res.on('error', () => undefined);
      resolve({ events, ended, close: () => req.destroy() });
    });
    req.on('error', reject);
  });
}

describe('stand-in API server', () => {
  it('lists with a resourceVersion, items without kind, limit and continue', async () => {
    const api = await testApiServer();
    for (const n of ['a', 'b', 'c']) api.apply(service(n));
    const all = await call(api, 'GET', '/api/v1/namespaces/default/services');
    expect(all.body['kind']).toBe('ServiceList');
    expect(all.body['metadata']['resourceVersion']).toBe(String(api.storage.currentRv()));
    expect(all.body['items'].map((i: Obj) => i['metadata']['name'])).toEqual(['a', 'b', 'c']);
    expect(all.body['items'][0]['kind']).toBeUndefined();
    const p1 = await call(api, 'GET', '/api/v1/services?limit=2');
    expect(p1.body['items'].length).toBe(2);
    expect(p1.body['metadata']['remainingItemCount']).toBe(1);
    const p2 = await call(api, 'GET', `/api/v1/services?limit=2&continue=${p1.body['metadata']['continue']}`);
    expect(p2.body['items'].map((i: Obj) => i['metadata']['name'])).toEqual(['c']);
    expect(p2.body['metadata']['continue']).toBeUndefined();
    api.compact();
    api.apply(service('d'));
    api.compact();
    expect((await call(api, 'GET', `/api/v1/services?limit=2&continue=${p1.body['metadata']['continue']}`)).status).toBe(410);
  });

  it('filters by field selector (Secret type, metadata.name) and label selector', async () => {
    const api = await testApiServer();
    api.apply(secret('tls', 'kubernetes.io/tls', { 'tls.crt': 'x' }));
    api.apply(secret('opaque', 'Opaque', { a: 'b' }));
    api.apply({ ...service('labelled'), metadata: { name: 'labelled', namespace: 'default', labels: { app: 'shop', tier: 'web' } } });
    api.apply(service('plain'));
    const names = async (p: string) => (await call(api, 'GET', p)).body['items'].map((i: Obj) => i['metadata']['name']);
    expect(await names('/api/v1/secrets?fieldSelector=type%3Dkubernetes.io%2Ftls')).toEqual(['tls']);
    expect(await names('/api/v1/secrets?fieldSelector=type!%3Dkubernetes.io%2Ftls')).toEqual(['opaque']);
    expect(await names('/api/v1/namespaces/default/services?fieldSelector=metadata.name%3Dplain')).toEqual(['plain']);
    expect(await names('/api/v1/services?labelSelector=app%3Dshop,tier%20in%20(web,api)')).toEqual(['labelled']);
    expect(await names('/api/v1/services?labelSelector=!app')).toEqual(['plain']);
    expect((await call(api, 'GET', '/api/v1/services?labelSelector=%3D%3D%3D')).status).toBe(400);
  });

  it('streams watch events from a resourceVersion, with bookmarks, and turns selector transitions into ADDED/DELETED', async () => {
    const api = await testApiServer({ bookmarkIntervalMs: 100 });
    api.apply(secret('s', 'Opaque', { a: 'b' }));
    const rv = api.storage.currentRv();
    api.apply(service('before'));
    const w = await watch(api, `/api/v1/secrets?watch=true&resourceVersion=${rv}&fieldSelector=type%3Dkubernetes.io%2Ftls&allowWatchBookmarks=true`);
    const all = await watch(api, `/api/v1/services?watch=1&resourceVersion=${rv}`);
    api.apply(secret('s', 'kubernetes.io/tls', { 'tls.crt': 'x' }));
    api.apply(secret('s', 'kubernetes.io/tls', { 'tls.crt': 'y' }));
    api.apply(secret('s', 'Opaque', { a: 'b' }));
    api.remove('v1', 'Service', 'default', 'before');
    await eventually(() => w.events.filter((e) => e.type !== 'BOOKMARK').length === 3 && w.events.some((e) => e.type === 'BOOKMARK'));
    expect(w.events.filter((e) => e.type !== 'BOOKMARK').map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
    const bm = w.events.find((e) => e.type === 'BOOKMARK')!;
    expect(bm.object).toEqual({ kind: 'Secret', apiVersion: 'v1', metadata: { resourceVersion: expect.any(String) } });
    await eventually(() => all.events.length === 2);
    expect(all.events.map((e) => [e.type, e.object['metadata']['name']])).toEqual([
      ['ADDED', 'before'],
      ['DELETED', 'before'],
    ]);
    expect(Number(all.events[1]!.object['metadata']['resourceVersion'])).toBe(api.storage.currentRv());
    expect(all.events[0]!.object['kind']).toBe('Service');
    w.close();
    all.close();
  });

  it('answers a watch from a compacted resourceVersion with an ERROR event carrying 410 Expired, then ends it', async () => {
    const api = await testApiServer();
    api.apply(service('a'));
    const old = api.storage.currentRv() - 1;
    api.compact();
    const w = await watch(api, `/api/v1/services?watch=true&resourceVersion=${old}`);
    await w.ended;
    expect(w.events).toEqual([{ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: expect.stringContaining('too old resource version'), reason: 'Expired', code: 410 } }]);
    // Without a resourceVersion, a watch starts with the current objects as ADDED.
    const fresh = await watch(api, '/api/v1/services?watch=true');
    await eventually(() => fresh.events.length === 1);
    expect(fresh.events[0]!.type).toBe('ADDED');
    fresh.close();
  });

  it('drops watches abruptly or ends them, and refuses everything during an outage', async () => {
    const api = await testApiServer();
    const a = await watch(api, '/api/v1/services?watch=true');
    const b = await watch(api, '/apis/networking.k8s.io/v1/ingresses?watch=true');
    await eventually(() => api.openWatches() === 2);
    expect(api.dropWatches()).toBe(2);
    await Promise.all([a.ended, b.ended]);
    expect(api.openWatches()).toBe(0);
    api.outage(true);
    expect((await call(api, 'GET', '/api/v1/services')).status).toBe(503);
    api.outage(false);
    expect((await call(api, 'GET', '/api/v1/services')).status).toBe(200);
  });

  it('creates, updates with optimistic concurrency, patches and deletes', async () => {
    const api = await testApiServer();
    const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l' }, spec: { holderIdentity: 'a' } };
    const created = await call(api, 'POST', '/apis/coordination.k8s.io/v1/namespaces/ops/leases', lease);
    expect(created.status).toBe(201);
    expect(created.body['metadata']).toMatchObject({ name: 'l', namespace: 'ops', uid: expect.any(String), resourceVersion: expect.any(String), creationTimestamp: expect.stringMatching(/Z$/) });
    expect((await call(api, 'POST', '/apis/coordination.k8s.io/v1/namespaces/ops/leases', lease)).body['reason']).toBe('AlreadyExists');
    const rv = created.body['metadata']['resourceVersion'];
    const put = (holder: string, resourceVersion: string) => call(api, 'PUT', '/apis/coordination.k8s.io/v1/namespaces/ops/leases/l', { ...lease, metadata: { name: 'l', resourceVersion }, spec: { holderIdentity: holder } });
    const ok = await put('b', rv);
    expect(ok.status).toBe(200);
    const stale = await put('c', rv);
    expect([stale.status, stale.body['reason']]).toEqual([409, 'Conflict']);
    // Merge patch, strategic merge patch, JSON patch.
    const path = '/apis/coordination.k8s.io/v1/namespaces/ops/leases/l';
    expect((await call(api, 'PATCH', path, { spec: { leaseTransitions: 3 } }, 'application/merge-patch+json')).body['spec']).toEqual({ holderIdentity: 'b', leaseTransitions: 3 });
    expect((await call(api, 'PATCH', path, { spec: { holderIdentity: null } }, 'application/strategic-merge-patch+json')).body['spec']).toEqual({ leaseTransitions: 3 });
    expect((await call(api, 'PATCH', path, [{ op: 'replace', path: '/spec/leaseTransitions', value: 4 }], 'application/json-patch+json')).body['spec']).toEqual({ leaseTransitions: 4 });
    expect((await call(api, 'PATCH', path, { metadata: { resourceVersion: '1' }, spec: { leaseTransitions: 5 } }, 'application/merge-patch+json')).status).toBe(409);
    expect((await call(api, 'PATCH', path, { spec: {} }, 'application/apply-patch+yaml')).status).toBe(415);
    expect((await call(api, 'DELETE', path)).status).toBe(200);
    expect((await call(api, 'GET', path)).body['reason']).toBe('NotFound');
  });

  it('keeps status out of the main resource and spec out of the status subresource', async () => {
    const api = await testApiServer();
    const base = '/apis/networking.k8s.io/v1/namespaces/default/ingresses';
    const created = await call(api, 'POST', base, { ...ingress('shop', 'a.example.com', [{ service: 'web' }]), status: { loadBalancer: { ingress: [{ ip: '1.1.1.1' }] } } });
    expect(created.body['status']).toBeUndefined();
    expect(created.body['metadata']['generation']).toBe(1);
    const st = await call(api, 'PATCH', `${base}/shop/status`, { spec: { ingressClassName: 'other' }, status: { loadBalancer: { ingress: [{ ip: '2.2.2.2' }] } } }, 'application/merge-patch+json');
    expect(st.body['status']).toEqual({ loadBalancer: { ingress: [{ ip: '2.2.2.2' }] } });
    expect(st.body['spec']['ingressClassName']).toBe('xgate');
    expect(st.body['metadata']['generation']).toBe(1);
    const main = await call(api, 'PATCH', `${base}/shop`, { spec: { ingressClassName: 'other' }, status: { loadBalancer: null } }, 'application/merge-patch+json');
    expect(main.body['status']).toEqual({ loadBalancer: { ingress: [{ ip: '2.2.2.2' }] } });
    expect(main.body['spec']['ingressClassName']).toBe('other');
    expect(main.body['metadata']['generation']).toBe(2);
    // A write that changes nothing keeps the resourceVersion (no watch event).
    const rv = main.body['metadata']['resourceVersion'];
    expect((await call(api, 'PATCH', `${base}/shop`, { spec: { ingressClassName: 'other' } }, 'application/merge-patch+json')).body['metadata']['resourceVersion']).toBe(rv);
    expect((await call(api, 'GET', '/apis/networking.k8s.io/v1/namespaces/default/ingressclasses')).status).toBe(404);
  });

  it('injects latency per verb and resource, and records requests', async () => {
    const api = await testApiServer();
    api.setLatency(300, { verbs: ['list'], resource: 'services' });
    let t = Date.now();
    await call(api, 'GET', '/api/v1/services');
    expect(Date.now() - t).toBeGreaterThanOrEqual(290);
    t = Date.now();
    await call(api, 'GET', '/api/v1/secrets');
    expect(Date.now() - t).toBeLessThan(250);
    api.clearLatency();
    expect(api.requests({ verb: 'list', resource: 'services' }).map((r) => r.status)).toEqual([200]);
  });
});
