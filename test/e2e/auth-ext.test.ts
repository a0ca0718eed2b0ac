// External auth (ingress-nginx auth-url) through the real Envoy: ext_authz with an HTTP
// auth service, per route, failing closed.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends, request, type Backend } from '../helpers/backends.js';
import { INGRESS_CLASS_YAML, serviceYaml, testControlPlane, type TestControlPlane, ingressYaml as sharedIngressYaml } from '../helpers/control-plane.js';
import { eventually } from '../helpers/wait.js';
import { testEnvoy, type RunningEnvoy } from '../helpers/envoy.js';

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
}

/** An auth service: `x-test-auth: allow` → 200 (+ x-user, x-internal), `deny` → 403, `boom` → 500, else 401. */
async function authService(host: string): Promise<{ port: number; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    req.resume();
    const v = req.headers['x-test-auth'];
    if (v === 'allow-anonymous') {
      res.writeHead(200, { 'content-length': '0' });
      res.end();
    } else if (v === 'allow') {
      res.writeHead(200, { 'x-user': 'alice', 'x-internal': 'secret', 'content-length': '0' });
      res.end();
    } else if (v === 'deny') {
      res.writeHead(403, { 'content-type': 'text/plain' });
      res.end('denied by auth');
    } else if (v === 'boom') {
      res.writeHead(500);
      res.end('auth broke');
    } else {
      res.writeHead(401, { 'www-authenticate': 'Bearer' });
      res.end('who are you');
    }
  });
  await new Promise<void>((resolve) => server.listen({ host, port: 0 }, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function ingress(name: string, host: string, annotations: Record<string, string>): string {
  return sharedIngressYaml(name, host, annotations);
}

async function diagnostics(t: TestControlPlane): Promise<Array<{ code: string; text: string; object: { name: string } }>> {
  const r = await fetch(`http://127.0.0.1:${t.cp.adminPort}/debug/diagnostics`);
  return ((await r.json()) as { diagnostics: Array<{ code: string; text: string; object: { name: string } }> }).diagnostics;
}

describe('external auth through the real Envoy', () => {
  let web: Backend;
  let auth: Awaited<ReturnType<typeof authService>>;
  let named: Awaited<ReturnType<typeof authService>>;
  let t: TestControlPlane;
  let envoy: RunningEnvoy;
  let base: string;
  const N = 'nginx.ingress.kubernetes.io/';

  beforeAll(async () => {
    [web] = (await testBackends(['web'])) as [Backend];
    auth = await authService('127.0.0.7');
    named = await authService('127.0.0.1');
    t = await testControlPlane({
      '00-class.yaml': INGRESS_CLASS_YAML,
      '10-web.yaml': serviceYaml('web', [web]),
      '20-auth.yaml': ingress('shop', 'shop.example.com', {
        [`${N}auth-url`]: `http://127.0.0.7:${auth.port}/verify`,
        [`${N}auth-response-headers`]: 'X-User',
        [`${N}auth-signin`]: 'https://login.example.com/start',
      }),
      '21-open.yaml': ingress('open', 'open.example.com', {}),
      // By host name: a DNS cluster (localhost resolves to 127.0.0.1 here).
      '23-named.yaml': ingress('named', 'named.example.com', { [`${N}auth-url`]: `http://localhost:${named.port}/verify` }),
      // The auth service of this one is down (nothing listens on port 9 of 127.0.0.8).
      '22-down.yaml': ingress('down', 'down.example.com', { [`${N}auth-url`]: 'http://127.0.0.8:9/verify', 'xgate.io/auth-timeout': '2s' }),
    });
    envoy = await testEnvoy({ xdsPort: t.cp.xdsPort });
    await envoy.waitReady(20_000);
    await envoy.waitForListener('http', 20_000);
    base = `http://127.0.0.1:${t.httpPort}`;
  }, 60_000);

  afterAll(async () => {
    await envoy?.stop();
    await auth?.close();
    await named?.close();
  });

  it('reaches an auth service by host name: a DNS cluster re-resolved every 30 s, no deprecated Envoy field', async () => {
    await eventually(async () => (await request(`${base}/`, { host: 'named.example.com', headers: { 'x-test-auth': 'allow' } })).status === 200, 15_000);
    expect(named.seen.at(-1)!.url).toBe('/verify/');
    const denied = await request(`${base}/`, { host: 'named.example.com', headers: { 'x-test-auth': 'deny' } });
    expect(denied.status).toBe(403);
    const dump = JSON.stringify(await envoy.configDump('resource=dynamic_active_clusters'));
    expect(dump).toContain('"name":"envoy.cluster.dns"');
    expect(dump).toContain('"dns_refresh_rate":"30s"');
    const stats = await envoy.stats('deprecated_feature');
    expect(stats['runtime.deprecated_feature_use'] ?? 0).toBe(0);
  });

  it('lets an allowed request through, with the auth response headers copied upstream', async () => {
    const r = await request(`${base}/cart?x=1`, { host: 'shop.example.com', headers: { 'x-test-auth': 'allow', 'x-user': 'mallory' } });
    expect(r.status).toBe(200);
    expect(r.echo?.backend).toBe('web');
    expect(r.echo?.path).toBe('/cart?x=1');
    expect(r.echo?.headers['x-user']).toBe('alice');
    // Only the listed headers are copied.
    expect(r.echo?.headers['x-internal']).toBeUndefined();
    const s = auth.seen.at(-1)!;
    // Envoy appends the original path to the auth-url's path (see the doc).
    expect(s.url).toBe('/verify/cart?x=1');
    expect(s.headers['x-original-uri']).toBe('/cart?x=1');
    expect(s.headers['x-original-method']).toBe('GET');
    expect(s.headers['x-original-url']).toBe('http://shop.example.com/cart?x=1');
    expect(s.headers['x-sent-from']).toBe('xgate');
    expect(s.headers['x-test-auth']).toBe('allow');
    expect(s.headers['content-length']).toBe('0');
    // A client can never supply a listed header itself: its copy is removed before auth.
    const spoof = await request(`${base}/`, { host: 'shop.example.com', headers: { 'x-test-auth': 'allow-anonymous', 'x-user': 'mallory' } });
    expect(spoof.status).toBe(200);
    expect(spoof.echo?.headers['x-user']).toBeUndefined();
  });

  it('passes the auth service\'s denial back', async () => {
    const before = web.requests;
    const r = await request(`${base}/cart`, { host: 'shop.example.com', headers: { 'x-test-auth': 'deny' } });
    expect(r.status).toBe(403);
    expect(r.body).toBe('denied by auth');
    expect(web.requests).toBe(before);
  });

  it('redirects a 401 to auth-signin with rd= the original URL', async () => {
    const r = await request(`${base}/cart?x=1`, { host: 'shop.example.com' });
    expect(r.status).toBe(302);
    expect(r.headers.location).toBe('https://login.example.com/start?rd=http://shop.example.com/cart?x=1');
  });

  it('fails closed on a 5xx from the auth service and when it is down', async () => {
    const before = web.requests;
    expect((await request(`${base}/`, { host: 'shop.example.com', headers: { 'x-test-auth': 'boom' } })).status).toBe(500);
    expect((await request(`${base}/`, { host: 'down.example.com', headers: { 'x-test-auth': 'allow' } })).status).toBe(500);
    expect(web.requests).toBe(before);
  });

  it('leaves routes without auth-url alone', async () => {
    const n = auth.seen.length;
    const r = await request(`${base}/`, { host: 'open.example.com' });
    expect(r.echo?.backend).toBe('web');
    expect(auth.seen.length).toBe(n);
  });

  it('fails closed (403) on an auth-url that is not a URL or carries ; { } or a newline', async () => {
    const bad = ['not a url', 'http://auth.example.com/x;rm', 'http://auth.example.com/{x}', 'http://auth.example.com/x\nfoo: bar'];
    bad.forEach((u, i) => t.write(`30-bad-${i}.yaml`, ingress(`bad-${i}`, `bad${i}.example.com`, { [`${N}auth-url`]: u })));
    await eventually(async () => (await diagnostics(t)).filter((d) => d.code === 'XG_AUTH_URL_INVALID').length >= bad.length, 20_000);
    for (let i = 0; i < bad.length; i++) {
      await eventually(async () => (await request(`${base}/`, { host: `bad${i}.example.com` })).status === 403, 20_000);
      expect(web.requests).toBeGreaterThan(0);
    }
    const before = web.requests;
    expect((await request(`${base}/`, { host: 'bad0.example.com' })).body).toContain('external auth is misconfigured');
    expect(web.requests).toBe(before);
    // The good routes keep working.
    expect((await request(`${base}/`, { host: 'shop.example.com', headers: { 'x-test-auth': 'allow' } })).status).toBe(200);
  });

  it('is inherited by a canary: the canary cannot bypass the primary\'s auth', async () => {
    const [canary] = (await testBackends(['canary'])) as [Backend];
    t.write('40-canary-svc.yaml', serviceYaml('canary', [canary]));
    t.write(
      '41-canary.yaml',
      `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: shop-canary
  namespace: default
  annotations:
    ${N}canary: "true"
    ${N}canary-by-header: x-canary
spec:
  ingressClassName: xgate
  rules:
    - host: shop.example.com
      http:
        paths:
          - { path: /, pathType: Prefix, backend: { service: { name: canary, port: { number: 80 } } } }
`,
    );
    await eventually(async () => (await request(`${base}/`, { host: 'shop.example.com', headers: { 'x-canary': 'always', 'x-test-auth': 'allow' } })).echo?.backend === 'canary', 20_000);
    const before = canary.requests;
    const r = await request(`${base}/`, { host: 'shop.example.com', headers: { 'x-canary': 'always', 'x-test-auth': 'deny' } });
    expect(r.status).toBe(403);
    expect(canary.requests).toBe(before);
  });
});
