// End to end through the real Envoy: manifests → control plane → ADS → Envoy → backends.
import { readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends, request, type Backend } from '../helpers/backends.js';
import { INGRESS_CLASS_YAML, serviceYaml, testControlPlane, tlsSecretYaml, type TestControlPlane } from '../helpers/control-plane.js';
import { testEnvoy, type RunningEnvoy } from '../helpers/envoy.js';

const CERTS = path.join(import.meta.dirname, '..', 'fixtures', 'certs');
const certA = readFileSync(path.join(CERTS, 'a.crt'), 'utf8');
const keyA = readFileSync(path.join(CERTS, 'a.key'), 'utf8');

function ingresses(rootService: string): string {
  return `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: shop
  namespace: default
  # HTTPS redirects are on by default for hosts with TLS (docs/routing.md); this test exercises plain HTTP routing.
  annotations: { nginx.ingress.kubernetes.io/ssl-redirect: "false" }
spec:
  ingressClassName: xgate
  tls: [{ hosts: [shop.example.com], secretName: shop-tls }]
  rules:
    - host: shop.example.com
      http:
        paths:
          - { path: /, pathType: Prefix, backend: { service: { name: ${rootService}, port: { number: 80 } } } }
          - { path: /api, pathType: Prefix, backend: { service: { name: api, port: { name: http } } } }
          - { path: /api/exact, pathType: Exact, backend: { service: { name: web, port: { number: 80 } } } }
    - host: "*.apps.example.com"
      http:
        paths:
          - { path: /, pathType: Prefix, backend: { service: { name: api, port: { number: 80 } } } }
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: fallback, namespace: default }
spec:
  ingressClassName: xgate
  defaultBackend: { service: { name: fallback, port: { number: 80 } } }
`;
}

describe('routing through the real Envoy', () => {
  let web: Backend, api: Backend, fallback: Backend;
  let t: TestControlPlane;
  let envoy: RunningEnvoy;
  let base: string;

  beforeAll(async () => {
    [web, api, fallback] = (await testBackends(['web', 'api', 'fallback'], { distinctHosts: true })) as [Backend, Backend, Backend];
    t = await testControlPlane({
      '00-class.yaml': INGRESS_CLASS_YAML,
      '10-services.yaml': [serviceYaml('web', [web]), serviceYaml('api', [api]), serviceYaml('fallback', [fallback])].join('---\n'),
      '20-secret.yaml': tlsSecretYaml('shop-tls', certA, keyA),
      '30-ingress.yaml': ingresses('web'),
    });
    envoy = await testEnvoy({ xdsPort: t.cp.xdsPort });
    await envoy.waitReady(20_000);
    await envoy.waitForListener('http', 20_000);
    base = `http://127.0.0.1:${t.httpPort}`;
  });

  afterAll(async () => {
    await envoy?.stop();
  });

  it('routes by host and path, longest match first, Exact before Prefix', async () => {
    expect((await request(`${base}/`, { host: 'shop.example.com' })).echo?.backend).toBe('web');
    expect((await request(`${base}/cart`, { host: 'shop.example.com' })).echo?.backend).toBe('web');
    expect((await request(`${base}/api`, { host: 'shop.example.com' })).echo?.backend).toBe('api');
    expect((await request(`${base}/api/orders`, { host: 'shop.example.com' })).echo?.backend).toBe('api');
    expect((await request(`${base}/api/exact`, { host: 'shop.example.com' })).echo?.backend).toBe('web');
    expect((await request(`${base}/api/exact/more`, { host: 'shop.example.com' })).echo?.backend).toBe('api');
    // Prefix is element-wise: /apix is not under /api.
    expect((await request(`${base}/apix`, { host: 'shop.example.com' })).echo?.backend).toBe('web');
    // The port in the Host header does not matter.
    expect((await request(`${base}/api/x`, { host: `shop.example.com:${t.httpPort}` })).echo?.backend).toBe('api');
    const r = await request(`${base}/api/orders?id=7`, { host: 'shop.example.com' });
    expect(r.echo?.path).toBe('/api/orders?id=7');
  });

  it('matches a wildcard host on exactly one label', async () => {
    expect((await request(`${base}/`, { host: 'x.apps.example.com' })).echo?.backend).toBe('api');
    // Two labels deep, and the bare domain, are not covered by *.apps.example.com.
    expect((await request(`${base}/`, { host: 'a.b.apps.example.com' })).status).toBe(404);
  });

  it('sends unknown hosts to the default backend', async () => {
    const r = await request(`${base}/anything`, { host: 'unknown.example.org' });
    expect(r.echo?.backend).toBe('fallback');
  });

  it('serves HTTPS with the certificate for the SNI host, delivered by SDS', async () => {
    const r = await new Promise<{ status: number; body: string; subject: string }>((resolve, reject) => {
      const req = https.request(
        { host: '127.0.0.1', port: t.httpsPort, path: '/api/x', servername: 'shop.example.com', headers: { host: 'shop.example.com' }, ca: certA, checkServerIdentity: () => undefined, agent: false },
        (res) => {
          const subject = String((res.socket as import('node:tls').TLSSocket).getPeerCertificate().subject?.CN ?? '');
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body, subject }));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(r.status).toBe(200);
    expect(r.subject).toBe('example.com');
    expect(JSON.parse(r.body).backend).toBe('api');
    // No certificate is served for a host without TLS: the handshake fails.
    await expect(
      new Promise((resolve, reject) => {
        const req = https.request({ host: '127.0.0.1', port: t.httpsPort, path: '/', servername: 'other.example.com', rejectUnauthorized: false, agent: false }, resolve);
        req.on('error', reject);
        req.end();
      }),
    ).rejects.toThrow();
  });

  it('applies a manifest edit live, with zero failed requests during the change', async () => {
    const failures: string[] = [];
    const seen = new Map<string, number>();
    let stop = false;
    const loop = async () => {
      while (!stop) {
        try {
          const r = await request(`${base}/`, { host: 'shop.example.com', timeoutMs: 5000 });
          if (r.status !== 200 || !r.echo) failures.push(`${r.status} ${r.body.slice(0, 80)}`);
          else seen.set(r.echo.backend, (seen.get(r.echo.backend) ?? 0) + 1);
        } catch (e) {
          failures.push(String(e));
        }
      }
    };
    const loops = [loop(), loop(), loop(), loop()];
    await new Promise((r) => setTimeout(r, 300));
    const before = envoy.pid;
    t.write('30-ingress.yaml', ingresses('fallback'));
    const deadline = Date.now() + 10_000;
    while (!seen.has('fallback') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    await Promise.all(loops);
    expect(failures).toEqual([]);
    expect(seen.get('web')).toBeGreaterThan(0);
    expect(seen.get('fallback')).toBeGreaterThan(0);
    expect(envoy.isRunning()).toBe(true);
    expect(envoy.pid).toBe(before);
    // A route-only change does not touch the listeners.
    const stats = await envoy.stats('listener_manager');
    expect(stats['listener_manager.listener_modified']).toBe(0);
  });
});
