// Load balancing and session affinity through the real Envoy: random and least_conn
// spread requests over every endpoint, upstream-hash-by a header sticks one user to one
// endpoint, cookie affinity sets the cookie and holds across requests; an invalid value
// is a diagnostic (and the route keeps serving).
import { beforeAll, describe, expect, it } from 'vitest';
import { testBackends, request, type Backend } from '../helpers/backends.js';
import { INGRESS_CLASS_YAML, serviceYaml, testControlPlane, type TestControlPlane } from '../helpers/control-plane.js';
import { testEnvoy, type RunningEnvoy } from '../helpers/envoy.js';
import { eventually } from '../helpers/wait.js';

const N = 'nginx.ingress.kubernetes.io/';

function ingress(name: string, annotations: Record<string, string>): string {
  const ann = Object.entries(annotations)
    .map(([k, v]) => `    ${k}: ${JSON.stringify(v)}\n`)
    .join('');
  return `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ${name}
  namespace: default
  annotations:
${ann}spec:
  ingressClassName: xgate
  rules:
    - host: ${name}.example.com
      http:
        paths:
          - { path: /, pathType: Prefix, backend: { service: { name: ${name}, port: { number: 80 } } } }
`;
}

const MODES: Record<string, Record<string, string>> = {
  rnd: { [`${N}load-balance`]: 'random' },
  lc: { [`${N}load-balance`]: 'least_conn' },
  hash: { [`${N}upstream-hash-by`]: '$http_x_user' },
  cookie: { [`${N}affinity`]: 'cookie', [`${N}session-cookie-name`]: 'route', [`${N}session-cookie-max-age`]: '3600', [`${N}session-cookie-samesite`]: 'Lax', [`${N}session-cookie-secure`]: 'true' },
  bad: { [`${N}load-balance`]: 'fastest', [`${N}upstream-hash-by`]: '$uri' },
};

async function diagnostics(t: TestControlPlane): Promise<Array<{ code: string; object: { name: string } }>> {
  const r = await fetch(`http://127.0.0.1:${t.cp.adminPort}/debug/diagnostics`);
  return ((await r.json()) as { diagnostics: Array<{ code: string; object: { name: string } }> }).diagnostics;
}

describe('load balancing and affinity through the real Envoy', () => {
  let bs: Backend[];
  let t: TestControlPlane;
  let envoy: RunningEnvoy;
  let base: string;

  beforeAll(async () => {
    bs = await testBackends(['b1', 'b2', 'b3'], { distinctHosts: true });
    t = await testControlPlane({
      '00-class.yaml': INGRESS_CLASS_YAML,
      '10-services.yaml': Object.keys(MODES).map((m) => serviceYaml(m, bs)).join('---\n'),
      '30-ingress.yaml': Object.entries(MODES).map(([m, a]) => ingress(m, a)).join('---\n'),
    });
    envoy = await testEnvoy({ xdsPort: t.cp.xdsPort });
    await envoy.waitReady(20_000);
    await envoy.waitForListener('http', 20_000);
    base = `http://127.0.0.1:${t.httpPort}`;
    // Every cluster has its three endpoints.
    for (const m of Object.keys(MODES)) {
      await eventually(async () => {
        const seen = new Set<string>();
        for (let i = 0; i < 30; i++) seen.add((await request(`${base}/`, { host: `${m}.example.com`, headers: { 'x-user': `u${i}` } })).echo?.backend ?? '');
        return seen.size === 3;
      }, 20_000, 100);
    }
  }, 90_000);

  const spread = async (host: string, n: number, headers: Record<string, string> = {}) => {
    const counts = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const r = await request(`${base}/`, { host, headers });
      expect(r.status).toBe(200);
      counts.set(r.echo!.backend, (counts.get(r.echo!.backend) ?? 0) + 1);
    }
    return counts;
  };

  it('random spreads requests over every endpoint', async () => {
    const c = await spread('rnd.example.com', 90);
    expect(c.size).toBe(3);
    for (const n of c.values()) expect(n).toBeGreaterThan(5);
  });

  it('least_conn spreads sequential requests over every endpoint', async () => {
    const c = await spread('lc.example.com', 60);
    expect(c.size).toBe(3);
  });

  it('upstream-hash-by $http_x_user sticks each user to one endpoint, and users spread', async () => {
    const owners = new Set<string>();
    for (let u = 0; u < 12; u++) {
      const c = await spread('hash.example.com', 8, { 'x-user': `user-${u}` });
      expect(c.size).toBe(1);
      owners.add([...c.keys()][0]!);
    }
    expect(owners.size).toBeGreaterThan(1);
  });

  it('cookie affinity sets the cookie and holds across requests', async () => {
    const first = await request(`${base}/`, { host: 'cookie.example.com' });
    expect(first.status).toBe(200);
    const setCookie = first.headers['set-cookie']?.[0] ?? '';
    expect(setCookie).toMatch(/^route="?[^;"]+"?; Max-Age=3600; Path=\//);
    expect(setCookie).toContain('SameSite=Lax');
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toMatch(/; Secure(;|$)/);
    const cookie = setCookie.split(';')[0]!;
    const c = await spread('cookie.example.com', 20, { cookie });
    expect(c.size).toBe(1);
    // Several clients (several cookies) do not all land on one endpoint.
    const owners = new Set<string>();
    for (let i = 0; i < 30 && owners.size < 2; i++) {
      const r = await request(`${base}/`, { host: 'cookie.example.com', headers: { cookie: `route=client-${i}` } });
      owners.add(r.echo!.backend);
    }
    expect(owners.size).toBeGreaterThan(1);
  });

  it('reports invalid values and keeps serving the route with round robin', async () => {
    const d = await diagnostics(t);
    expect(d.filter((x) => x.object.name === 'bad').map((x) => x.code)).toEqual(['XG_ANNOTATION_INVALID', 'XG_ANNOTATION_INVALID']);
    const c = await spread('bad.example.com', 30);
    expect(c.size).toBe(3);
  });
});
