// Bad input reaches a diagnostic on the object that carries it; everything else
// keeps serving; Envoy keeps its last good config.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends, request, type Backend } from '../helpers/backends.js';
import { INGRESS_CLASS_YAML, serviceYaml, testControlPlane, type TestControlPlane } from '../helpers/control-plane.js';
import { eventually } from '../helpers/wait.js';
import { testEnvoy, type RunningEnvoy } from '../helpers/envoy.js';

const good = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: good, namespace: default }
spec:
  ingressClassName: xgate
  rules:
    - host: good.example.com
      http:
        paths:
          - { path: /, pathType: Prefix, backend: { service: { name: web, port: { number: 80 } } } }
`;


async function diagnostics(t: TestControlPlane): Promise<Array<{ code: string; text: string; object: { name: string } }>> {
  const r = await fetch(`http://127.0.0.1:${t.cp.adminPort}/debug/diagnostics`);
  return ((await r.json()) as { diagnostics: Array<{ code: string; text: string; object: { name: string } }> }).diagnostics;
}

describe('bad input through the real Envoy', () => {
  let web: Backend;
  let t: TestControlPlane;
  let envoy: RunningEnvoy;
  let base: string;

  beforeAll(async () => {
    [web] = (await testBackends(['web'])) as [Backend];
    t = await testControlPlane({ '00-class.yaml': INGRESS_CLASS_YAML, '10-web.yaml': serviceYaml('web', [web]), '20-good.yaml': good });
    envoy = await testEnvoy({ xdsPort: t.cp.xdsPort });
    await envoy.waitReady(20_000);
    await envoy.waitForListener('http', 20_000);
    base = `http://127.0.0.1:${t.httpPort}`;
  });

  afterAll(async () => {
    await envoy?.stop();
  });

  it('keeps serving the last good objects of a file that stops parsing', async () => {
    t.write('20-good.yaml', `${good}\n  rules: [broken\n`);
    await eventually(async () => (await diagnostics(t)).some((d) => d.code === 'XG_MANIFEST_YAML'));
    expect((await request(`${base}/`, { host: 'good.example.com' })).echo?.backend).toBe('web');
    t.write('20-good.yaml', good);
    await eventually(async () => !(await diagnostics(t)).some((d) => d.code === 'XG_MANIFEST_YAML'));
  });

  it('rejects only the path with a missing Service (503) and serves the rest', async () => {
    t.write(
      '30-partly-broken.yaml',
      `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: partly, namespace: default }
spec:
  ingressClassName: xgate
  rules:
    - host: partly.example.com
      http:
        paths:
          - { path: /ok, pathType: Prefix, backend: { service: { name: web, port: { number: 80 } } } }
          - { path: /ghost, pathType: Prefix, backend: { service: { name: ghost, port: { number: 80 } } } }
          - { path: "/{evil}", pathType: Prefix, backend: { service: { name: web, port: { number: 80 } } } }
    - host: "Bad Host"
      http:
        paths:
          - { path: /, pathType: Prefix, backend: { service: { name: web, port: { number: 80 } } } }
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: thief, namespace: other }
spec:
  ingressClassName: xgate
  rules:
    - host: good.example.com
      http:
        paths:
          - { path: /, pathType: Prefix, backend: { service: { name: web, port: { number: 80 } } } }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: ignored }
`,
    );
    await eventually(async () => (await request(`${base}/ok`, { host: 'partly.example.com' })).status === 200);
    expect((await request(`${base}/ghost`, { host: 'partly.example.com' })).status).toBe(503);
    expect((await request(`${base}/ok/x`, { host: 'partly.example.com' })).echo?.backend).toBe('web');
    // The older Ingress keeps its host; the newer one in another namespace loses.
    expect((await request(`${base}/`, { host: 'good.example.com' })).echo?.backend).toBe('web');
    const codes = (await diagnostics(t)).map((d) => `${d.code} ${d.object.name}`);
    expect(codes).toEqual(
      expect.arrayContaining([
        'XG_SERVICE_NOT_FOUND partly',
        'XG_INGRESS_PATH_INVALID partly',
        'XG_INGRESS_HOST_INVALID partly',
        'XG_HOST_CONFLICT thief',
        expect.stringMatching(/^XG_MANIFEST_UNKNOWN_KIND /),
      ]),
    );
    const metrics = await (await fetch(`http://127.0.0.1:${t.cp.adminPort}/metrics`)).text();
    expect(metrics).toMatch(/xgate_diagnostics\{[^}]*code="XG_SERVICE_NOT_FOUND"[^}]*\} 1/);
  });

  it('serves a Service that appears later without any other change', async () => {
    t.write('40-ghost.yaml', serviceYaml('ghost', [web]));
    await eventually(async () => (await request(`${base}/ghost`, { host: 'partly.example.com' })).status === 200);
    expect((await diagnostics(t)).some((d) => d.code === 'XG_SERVICE_NOT_FOUND')).toBe(false);
  });

  it('stays up when a manifest is deleted while traffic flows, and Envoy is never NACKed', async () => {
    t.write('30-partly-broken.yaml', '');
    await eventually(async () => (await request(`${base}/ok`, { host: 'partly.example.com' })).status === 404);
    expect((await request(`${base}/`, { host: 'good.example.com' })).echo?.backend).toBe('web');
    const stats = await envoy.stats('update_rejected');
    expect(Object.entries(stats).filter(([, v]) => v > 0)).toEqual([]);
  });
});
