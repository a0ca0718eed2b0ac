// Traffic policies end to end through the real Envoy: CORS, header control, retries,
// mirroring, custom error pages, and invalid values (a diagnostic; the route serves on).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends, request, type Backend } from '../helpers/backends.js';
import { INGRESS_CLASS_YAML, serviceYaml, testControlPlane, type TestControlPlane, ingressYaml as sharedIngressYaml } from '../helpers/control-plane.js';
import { testEnvoy, type RunningEnvoy } from '../helpers/envoy.js';
import { eventually } from '../helpers/wait.js';

/**
 * A backend that fails the first `x-fail` requests of each `x-id` (by `x-fail-mode`:
 * `502` answers 502, `reset` closes the connection without answering), then echoes.
 */
interface Flaky extends Backend {
  /** Requests received per x-id. */
  readonly seen: Map<string, number>;
}

async function flakyBackend(host: string): Promise<Flaky> {
  const seen = new Map<string, number>();
  let requests = 0;
  const server = http.createServer({ keepAlive: true }, (req, res) => {
    req.resume();
    req.on('end', () => {
      requests++;
      const id = String(req.headers['x-id'] ?? '');
      const n = (seen.get(id) ?? 0) + 1;
      seen.set(id, n);
      if (n <= Number(req.headers['x-fail'] ?? 0)) {
        if (req.headers['x-fail-mode'] === 'reset') {
          req.socket.destroy();
          return;
        }
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end('flaky\n');
        return;
      }
      const body = JSON.stringify({ backend: 'flaky', method: req.method, path: req.url, host: req.headers.host, headers: req.headers });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve) => server.listen({ host, port: 0 }, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    name: 'flaky',
    host,
    port,
    url: `http://${host}:${port}`,
    get requests() {
      return requests;
    },
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function ingress(name: string, host: string, service: string, annotations: Record<string, string>): string {
  return sharedIngressYaml(name, host, annotations, { service });
}

const N = 'nginx.ingress.kubernetes.io/';
const H = 'higress.io/';

const INGRESSES = [
  ingress('cors', 'cors.example.com', 'web', {
    [`${N}enable-cors`]: 'true',
    [`${N}cors-allow-origin`]: 'https://app.example.com, https://*.example.org',
    [`${N}cors-expose-headers`]: 'X-Request-Id',
    [`${N}cors-max-age`]: '600',
  }),
  ingress('headers', 'headers.example.com', 'web', {
    [`${H}request-header-control-add`]: 'x-env prod\nx-note 100% sure %DOWNSTREAM_REMOTE_ADDRESS%',
    [`${H}request-header-control-update`]: 'x-tenant acme corp',
    [`${H}request-header-control-remove`]: 'x-debug',
    [`${H}response-header-control-add`]: 'x-served-by xgate',
    [`${H}response-header-control-update`]: 'content-type text/x-test',
    [`${H}response-header-control-remove`]: 'x-backend',
  }),
  ingress('retry', 'retry.example.com', 'flaky', {
    [`${N}proxy-next-upstream`]: 'error timeout http_502',
    [`${N}proxy-next-upstream-tries`]: '3',
  }),
  ingress('retry-off', 'retry-off.example.com', 'flaky', { [`${N}proxy-next-upstream`]: 'off' }),
  ingress('mirror', 'mirror.example.com', 'web', { [`${H}mirror-target-service`]: 'shadow' }),
  ingress('mirror-half', 'mirror-half.example.com', 'web', { [`${H}mirror-target-service`]: 'default/half:80', [`${H}mirror-percentage`]: '50' }),
  ingress('errors', 'errors.example.com', 'web', { [`${N}default-backend`]: 'errors', [`${N}custom-http-errors`]: '404,418' }),
  ingress('no-endpoints', 'empty.example.com', 'empty', { [`${N}default-backend`]: 'errors' }),
  ingress('no-service', 'ghost.example.com', 'ghost', { [`${N}default-backend`]: 'errors' }),
  ingress('bad', 'bad.example.com', 'web', {
    [`${N}enable-cors`]: 'true',
    [`${N}cors-allow-origin`]: 'javascript:alert(1)',
    [`${H}request-header-control-add`]: 'x-ok yes\nx-evil a\rb',
    [`${H}request-header-control-update`]: 'host evil.example.com',
    [`${H}request-header-control-remove`]: 'x-debug',
    [`${N}proxy-next-upstream`]: 'error sometimes',
    [`${H}mirror-target-service`]: 'other/shadow',
    [`${N}custom-http-errors`]: '404,200',
    [`${N}default-backend`]: 'errors',
  }),
].join('---\n');

describe('traffic policies through the real Envoy', () => {
  let web: Backend, shadow: Backend, half: Backend, errors: Backend, flaky: Flaky;
  let t: TestControlPlane;
  let envoy: RunningEnvoy;
  let base: string;

  beforeAll(async () => {
    [web, shadow, half, errors] = (await testBackends(['web', 'shadow', 'half', 'errors'], { distinctHosts: true })) as [Backend, Backend, Backend, Backend];
    flaky = await flakyBackend('127.0.0.6');
    t = await testControlPlane({
      '00-class.yaml': INGRESS_CLASS_YAML,
      '10-services.yaml': [
        serviceYaml('web', [web]),
        serviceYaml('shadow', [shadow]),
        serviceYaml('half', [half]),
        serviceYaml('errors', [errors]),
        serviceYaml('flaky', [flaky]),
        serviceYaml('empty', []),
      ].join('---\n'),
      '30-ingress.yaml': INGRESSES,
    });
    envoy = await testEnvoy({ xdsPort: t.cp.xdsPort });
    await envoy.waitReady(30_000);
    await envoy.waitForListener('http', 30_000);
    base = `http://127.0.0.1:${t.httpPort}`;
    await eventually(async () => (await request(`${base}/`, { host: 'cors.example.com' })).status === 200, 30_000);
  });

  afterAll(async () => {
    await envoy?.stop();
    await flaky?.close();
  });

  describe('CORS', () => {
    const preflight = (origin: string) =>
      request(`${base}/items`, { host: 'cors.example.com', method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });

    it('answers a preflight from an allowed origin with the policy (ingress-nginx defaults filled in)', async () => {
      const r = await preflight('https://app.example.com');
      expect(r.status).toBe(200);
      expect(r.echo).toBeUndefined(); // Envoy answered, not the backend
      expect(r.headers['access-control-allow-origin']).toBe('https://app.example.com');
      expect(r.headers['access-control-allow-methods']).toBe('GET, PUT, POST, DELETE, PATCH, OPTIONS');
      expect(r.headers['access-control-allow-headers']).toContain('Authorization');
      expect(r.headers['access-control-max-age']).toBe('600');
      expect(r.headers['access-control-allow-credentials']).toBe('true');
    });

    it('matches a wildcard origin on exactly one label', async () => {
      expect((await preflight('https://shop.example.org')).headers['access-control-allow-origin']).toBe('https://shop.example.org');
      expect((await preflight('https://a.b.example.org')).headers['access-control-allow-origin']).toBeUndefined();
      expect((await preflight('http://shop.example.org')).headers['access-control-allow-origin']).toBeUndefined();
    });

    it('gives a disallowed origin no CORS headers, and does not pass its preflight to the backend', async () => {
      const before = web.requests;
      const r = await preflight('https://evil.example.net');
      // Envoy answers 200 without Access-Control-Allow-Origin: the browser refuses the request.
      expect(r.status).toBe(200);
      expect(r.headers['access-control-allow-origin']).toBeUndefined();
      expect(r.echo).toBeUndefined();
      expect(web.requests).toBe(before);
    });

    it('adds the CORS headers to a simple request from an allowed origin only', async () => {
      const ok = await request(`${base}/items`, { host: 'cors.example.com', headers: { origin: 'https://app.example.com' } });
      expect(ok.echo?.backend).toBe('web');
      expect(ok.headers['access-control-allow-origin']).toBe('https://app.example.com');
      expect(ok.headers['access-control-expose-headers']).toBe('X-Request-Id');
      const no = await request(`${base}/items`, { host: 'cors.example.com', headers: { origin: 'https://evil.example.net' } });
      expect(no.echo?.backend).toBe('web');
      expect(no.headers['access-control-allow-origin']).toBeUndefined();
    });
  });

  describe('header control', () => {
    it('adds, updates and removes request headers as the backend sees them', async () => {
      const r = await request(`${base}/`, { host: 'headers.example.com', headers: { 'x-env': 'dev', 'x-tenant': 'other', 'x-debug': '1' } });
      const h = r.echo!.headers;
      expect(h['x-env']).toBe('dev, prod'); // add appends
      expect(h['x-tenant']).toBe('acme corp'); // update replaces
      expect(h['x-debug']).toBeUndefined();
      // `%` is literal: no Envoy command operator is evaluated.
      expect(h['x-note']).toBe('100% sure %DOWNSTREAM_REMOTE_ADDRESS%');
    });

    it('adds, updates and removes response headers as the client sees them', async () => {
      const r = await request(`${base}/`, { host: 'headers.example.com' });
      expect(r.status).toBe(200);
      expect(r.headers['x-served-by']).toBe('xgate');
      expect(r.headers['content-type']).toBe('text/x-test');
      expect(r.headers['x-backend']).toBeUndefined();
    });
  });

  describe('retries', () => {
    let id = 0;
    const call = (host: string, fail: number, mode: '502' | 'reset', method = 'GET') => {
      const key = `r${++id}`;
      return request(`${base}/`, { host, method, headers: { 'x-id': key, 'x-fail': String(fail), 'x-fail-mode': mode } }).then((r) => ({ ...r, tries: flaky.seen.get(key) ?? 0 }));
    };

    it('retries http_502 until the third try (tries = 3, first included)', async () => {
      const ok = await call('retry.example.com', 2, '502');
      expect(ok.status).toBe(200);
      expect(ok.tries).toBe(3);
      const failed = await call('retry.example.com', 3, '502');
      expect(failed.status).toBe(502);
      expect(failed.tries).toBe(3);
    });

    it('retries a connection reset (error)', async () => {
      const ok = await call('retry.example.com', 2, 'reset');
      expect(ok.status).toBe(200);
      expect(ok.tries).toBe(3);
    });

    it('does not retry POST without non_idempotent', async () => {
      const r = await call('retry.example.com', 1, '502', 'POST');
      expect(r.status).toBe(502);
      expect(r.tries).toBe(1);
    });

    it('does not retry with proxy-next-upstream: off', async () => {
      const r = await call('retry-off.example.com', 1, '502');
      expect(r.status).toBe(502);
      expect(r.tries).toBe(1);
    });
  });

  describe('mirroring', () => {
    it('sends a copy of each request to the mirror Service', async () => {
      const before = shadow.requests;
      const r = await request(`${base}/copy-me`, { host: 'mirror.example.com' });
      expect(r.echo?.backend).toBe('web');
      await eventually(async () => shadow.requests >= before + 1, 15_000);
    });

    it('roughly honours mirror-percentage', async () => {
      const before = half.requests;
      const total = 200;
      for (let i = 0; i < total; i++) expect((await request(`${base}/${i}`, { host: 'mirror-half.example.com' })).status).toBe(200);
      // The copies are sent asynchronously: wait until they settle.
      let last = -1;
      await eventually(async () => {
        const now = half.requests;
        const settled = now === last;
        last = now;
        return settled;
      }, 15_000, 300);
      const copies = half.requests - before;
      process.stdout.write(`\n[traffic] mirror-percentage 50: ${copies} copies of ${total} requests\n`);
      // 50 % of 200: binomial, sd ≈ 7; a wide band keeps the test robust.
      expect(copies).toBeGreaterThan(total * 0.3);
      expect(copies).toBeLessThan(total * 0.7);
    });
  });

  describe('custom error pages', () => {
    it('serves a listed status from the default-backend Service, with ingress-nginx headers', async () => {
      const r = await request(`${base}/missing`, { host: 'errors.example.com', headers: { 'x-backend-status': '404', accept: 'text/html' } });
      expect(r.echo?.backend).toBe('errors');
      expect(r.status).toBe(404); // the error backend's own answer (it echoes x-backend-status)
      const h = r.echo!.headers;
      expect(r.echo!.path).toBe('/');
      expect(h['x-code']).toBe('404');
      expect(h['x-format']).toBe('text/html');
      expect(h['x-namespace']).toBe('default');
      expect(h['x-ingress-name']).toBe('errors');
      expect(h['x-service-name']).toBe('errors');
      expect(h['x-service-port']).toBe('80');
      expect(r.echo!.method).toBe('GET');
    });

    it('replays a POST with a body as GET / (the body is not sent to the error page Service)', async () => {
      const r = await request(`${base}/form`, { host: 'errors.example.com', method: 'POST', body: 'a=1'.repeat(1000), headers: { 'x-backend-status': '404', 'content-type': 'application/x-www-form-urlencoded' } });
      expect(r.echo?.backend).toBe('errors');
      expect(r.echo!.method).toBe('GET');
      expect(r.echo!.headers['content-length']).toBeUndefined();
    });

    it('passes other statuses through', async () => {
      const r = await request(`${base}/`, { host: 'errors.example.com', headers: { 'x-backend-status': '500' } });
      expect(r.status).toBe(500);
      expect(r.echo?.backend).toBe('web');
      const ok = await request(`${base}/`, { host: 'errors.example.com' });
      expect(ok.echo?.backend).toBe('web');
    });

    it('answers from the default backend when the Service has no endpoints', async () => {
      const r = await request(`${base}/`, { host: 'empty.example.com' });
      expect(r.echo?.backend).toBe('errors');
      expect(r.echo!.headers['x-code']).toBe('503');
    });

    it('answers from the default backend when the Service does not exist (the route\'s own 503)', async () => {
      const r = await request(`${base}/`, { host: 'ghost.example.com' });
      expect(r.echo?.backend).toBe('errors');
      expect(r.echo!.headers['x-code']).toBe('503');
    });

    it('a hand-made error-route header reaches only the error page Service, as GET /', async () => {
      const r = await request(`${base}/`, { host: 'errors.example.com', headers: { 'x-xgate-error-route': 'default/errors/Prefix:/' } });
      expect(r.echo?.backend).toBe('errors');
      const other = await request(`${base}/admin`, { host: 'errors.example.com', headers: { 'x-xgate-error-route': 'default/errors/Prefix:/' } });
      expect(other.echo?.backend).toBe('web');
    });
  });

  describe('invalid values', () => {
    it('reports each one and keeps the route serving without that policy', async () => {
      const res = await fetch(`http://127.0.0.1:${t.cp.adminPort}/debug/diagnostics`);
      const diags = ((await res.json()) as { diagnostics: Array<{ code: string; text: string; object: { name: string } }> }).diagnostics.filter((d) => d.object.name === 'bad');
      const text = diags.map((d) => `${d.code} ${d.text}`).join('\n');
      expect(text).toMatch(/XG_ANNOTATION_INVALID .*cors-allow-origin/);
      expect(text).toMatch(/XG_ANNOTATION_INVALID .*request-header-control-add.*CR/);
      expect(text).toMatch(/XG_ANNOTATION_INVALID .*request-header-control-update.*host/);
      expect(text).toMatch(/XG_ANNOTATION_INVALID .*proxy-next-upstream.*sometimes/);
      expect(text).toMatch(/XG_MIRROR_NAMESPACE/);
      expect(text).toMatch(/XG_ANNOTATION_INVALID .*custom-http-errors/);
      const r = await request(`${base}/`, { host: 'bad.example.com', headers: { origin: 'https://app.example.com', 'x-debug': '1' } });
      expect(r.echo?.backend).toBe('web');
      expect(r.headers['access-control-allow-origin']).toBeUndefined();
      expect(r.echo!.headers['x-ok']).toBeUndefined(); // the whole add annotation is dropped
      expect(r.echo!.headers['x-debug']).toBeUndefined(); // the valid remove still applies
      expect(r.echo!.host).toBe('bad.example.com');
    });
  });
});
