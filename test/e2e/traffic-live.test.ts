// Turning traffic policies on and off live: CORS changes only routes; the first
// default-backend adds the custom_response filter (a listener change) and the last one
// removes it. Requests keep succeeding throughout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends, request, type Backend } from '../helpers/backends.js';
import { INGRESS_CLASS_YAML, serviceYaml, testControlPlane, type TestControlPlane } from '../helpers/control-plane.js';
import { testEnvoy, type RunningEnvoy } from '../helpers/envoy.js';
import { eventually } from '../helpers/wait.js';

function ingress(annotations: Record<string, string>): string {
  const ann = Object.entries(annotations).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`);
  return `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: live
  namespace: default
  annotations:
${ann.length ? ann.join('\n') : '    {}'}
spec:
  ingressClassName: xgate
  rules:
    - host: live.example.com
      http:
        paths:
          - { path: /, pathType: Prefix, backend: { service: { name: web, port: { number: 80 } } } }
`;
}

const N = 'nginx.ingress.kubernetes.io/';

describe('traffic policies changed live', () => {
  let web: Backend, errors: Backend;
  let t: TestControlPlane;
  let envoy: RunningEnvoy;
  let base: string;

  beforeAll(async () => {
    [web, errors] = (await testBackends(['web', 'errors'], { distinctHosts: true })) as [Backend, Backend];
    t = await testControlPlane({
      '00-class.yaml': INGRESS_CLASS_YAML,
      '10-services.yaml': [serviceYaml('web', [web]), serviceYaml('errors', [errors])].join('---\n'),
      '30-ingress.yaml': ingress({}),
    });
    envoy = await testEnvoy({ xdsPort: t.cp.xdsPort });
    await envoy.waitReady(30_000);
    await envoy.waitForListener('http', 30_000);
    base = `http://127.0.0.1:${t.httpPort}`;
    await eventually(async () => (await request(`${base}/`, { host: 'live.example.com' }).catch(() => ({ status: 0 }))).status === 200, 30_000);
  });

  afterAll(async () => {
    await envoy?.stop();
  });

  it('applies CORS and custom errors on, then off, with no failed request', async () => {
    const failures: string[] = [];
    let stop = false;
    const load = (async () => {
      while (!stop) {
        try {
          const r = await request(`${base}/`, { host: 'live.example.com' });
          if (r.status !== 200) failures.push(`status ${r.status}`);
        } catch (e) {
          failures.push((e as Error).message);
        }
      }
    })();
    try {
      t.write('30-ingress.yaml', ingress({ [`${N}enable-cors`]: 'true', [`${N}default-backend`]: 'errors', [`${N}custom-http-errors`]: '404' }));
      await eventually(async () => {
        const r = await request(`${base}/x`, { host: 'live.example.com', headers: { 'x-backend-status': '404', origin: 'https://a.example.com' } });
        return r.echo?.backend === 'errors' && r.headers['access-control-allow-origin'] === 'https://a.example.com';
      }, 30_000, 100);
      t.write('30-ingress.yaml', ingress({}));
      await eventually(async () => {
        const r = await request(`${base}/x`, { host: 'live.example.com', headers: { 'x-backend-status': '404', origin: 'https://a.example.com' } });
        return r.echo?.backend === 'web' && r.headers['access-control-allow-origin'] === undefined;
      }, 30_000, 100);
    } finally {
      stop = true;
      await load;
    }
    expect(failures).toEqual([]);
  });
});
