// Canary routing through the real Envoy: every key and value, the precedence inside one
// canary, several canaries on one host+path, each rejection case, the primary's policy
// inherited by canary routes, and weight accuracy (0, 1, 10, 50, 90, 100 %).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Traffic, share, waitForEnvoyRoutes, type Tally } from '../../bench/b2-traffic.js';
import { testBackends, type Backend } from '../helpers/backends.js';
import { INGRESS_CLASS_YAML, serviceYaml, testControlPlane, type TestControlPlane } from '../helpers/control-plane.js';
import { testEnvoy, type RunningEnvoy } from '../helpers/envoy.js';

const N = 'nginx.ingress.kubernetes.io/';
const H = 'higress.io/';
const M = 'mse.ingress.kubernetes.io/';
const X = 'xgate.io/';

function ingress(name: string, host: string, service: string, annotations: Record<string, string> = {}, opts: { ns?: string; ts?: string } = {}): string {
  const ann = Object.entries(annotations)
    .map(([k, v]) => `\n    ${k}: ${JSON.stringify(v)}`)
    .join('');
  return `---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ${name}
  namespace: ${opts.ns ?? 'default'}
  creationTimestamp: "${opts.ts ?? '2024-01-01T00:00:00Z'}"${ann ? `\n  annotations:${ann}` : ''}
spec:
  ingressClassName: xgate
  rules:
    - host: ${host}
      http:
        paths:
          - { path: /, pathType: Prefix, backend: { service: { name: ${service}, port: { number: 80 } } } }
`;
}

/** A primary on `web` and its canary on `canary` for `host`. */
function pair(host: string, canary: Record<string, string>, primary: Record<string, string> = {}): string {
  const base = host.split('.')[0]!;
  return ingress(base, host, 'web', primary) + ingress(`${base}-canary`, host, 'canary', canary, { ts: '2024-01-02T00:00:00Z' });
}

const CANARIES = [
  pair('header.test', { [`${N}canary`]: 'true', [`${N}canary-by-header`]: 'X-Canary', [`${N}canary-weight`]: '50' }),
  pair('header-value.test', { [`${H}canary`]: 'true', [`${H}canary-by-header`]: 'x-user', [`${H}canary-by-header-value`]: 'beta' }),
  pair('header-pattern.test', { [`${N}canary`]: 'true', [`${N}canary-by-header`]: 'x-region', [`${N}canary-by-header-pattern`]: '(eu|us)-west' }),
  pair('query.test', { [`${M}canary`]: 'true', [`${M}canary-by-query`]: 'canary', [`${M}canary-weight`]: '100' }),
  pair('query-value.test', { [`${H}canary`]: 'true', [`${H}canary-by-query`]: 'user', [`${H}canary-by-query-value`]: 'alice' }),
  pair('query-pattern.test', { [`${X}canary`]: 'true', [`${X}canary-by-query`]: 'v', [`${X}canary-by-query-pattern`]: '^2\\.' }),
  pair('cookie.test', { [`${N}canary`]: 'true', [`${N}canary-by-cookie`]: 'canary_user', [`${N}canary-weight`]: '100' }),
  pair('cookie-value.test', { [`${M}canary`]: 'true', [`${M}canary-by-cookie`]: 'group', [`${M}canary-by-cookie-value`]: 'g.1' }),
  pair('precedence.test', { [`${N}canary`]: 'true', [`${N}canary-by-header`]: 'x-canary', [`${M}canary-by-query`]: 'canary', [`${N}canary-by-cookie`]: 'canary' }),
  pair('total.test', { [`${H}canary`]: 'true', [`${H}canary-weight`]: '500', [`${H}canary-weight-total`]: '1000' }),
  pair('policy.test', { [`${N}canary`]: 'true', [`${N}canary-by-header`]: 'x-canary', [`${H}timeout`]: '30' }, { [`${H}timeout`]: '1' }),
  // Several canaries on one host+path.
  ingress('shop', 'shop.test', 'web'),
  ingress('shop-v2', 'shop.test', 'v2', { [`${N}canary`]: 'true', [`${N}canary-by-header`]: 'x-v2' }, { ts: '2024-01-02T00:00:00Z' }),
  ingress('shop-v3', 'shop.test', 'v3', { [`${H}canary`]: 'true', [`${H}canary-by-cookie`]: 'v3', [`${H}canary-weight`]: '20' }, { ts: '2024-01-03T00:00:00Z' }),
  ingress('shop-v4', 'shop.test', 'canary', { [`${N}canary`]: 'true', [`${N}canary-weight`]: '30' }, { ts: '2024-01-04T00:00:00Z' }),
  // Rejections: the primary keeps 100 %.
  pair('bad-weight.test', { [`${N}canary`]: 'true', [`${N}canary-weight`]: '1O0' }),
  pair('over-total.test', { [`${N}canary`]: 'true', [`${N}canary-weight`]: '101' }),
  pair('zero-total.test', { [`${N}canary`]: 'true', [`${N}canary-weight`]: '0', [`${N}canary-weight-total`]: '0' }),
  pair('bad-pattern.test', { [`${N}canary`]: 'true', [`${N}canary-by-header`]: 'x-canary', [`${N}canary-by-header-pattern`]: '(?=lookahead)', [`${N}canary-weight`]: '100' }),
  pair('bad-header.test', { [`${N}canary`]: 'true', [`${N}canary-by-header`]: 'x_canary', [`${N}canary-weight`]: '100' }),
  pair('bad-marker.test', { [`${N}canary`]: 'yes', [`${N}canary-weight`]: '100' }),
  pair('missing-svc.test', { [`${N}canary`]: 'true', [`${N}canary-weight`]: '100' }).replace('name: canary,', 'name: ghost,'),
  ingress('lonely-canary', 'lonely.test', 'canary', { [`${N}canary`]: 'true', [`${N}canary-weight`]: '100' }),
  ingress('team-b', 'crossns.test', 'teamb', {}, { ns: 'team-b' }),
  ingress('hijack', 'crossns.test', 'canary', { [`${N}canary`]: 'true', [`${N}canary-weight`]: '100' }, { ts: '2024-01-02T00:00:00Z' }),
].join('');

function accuracy(weight: number): string {
  return ingress('acc-canary', 'acc.test', 'canary', { [`${N}canary`]: 'true', [`${N}canary-weight`]: String(weight) }, { ts: '2024-01-02T00:00:00Z' });
}

describe('canary routing through the real Envoy', () => {
  let t: TestControlPlane;
  let envoy: RunningEnvoy;
  let traffic: Traffic;
  const port = () => t.httpPort;

  beforeAll(async () => {
    const [web, canary, v2, v3, teamb] = (await testBackends(['web', 'canary', 'v2', 'v3', 'teamb'], { distinctHosts: true })) as Backend[];
    t = await testControlPlane({
      '00-class.yaml': INGRESS_CLASS_YAML,
      '10-services.yaml': [serviceYaml('web', [web!]), serviceYaml('canary', [canary!]), serviceYaml('v2', [v2!]), serviceYaml('v3', [v3!]), serviceYaml('teamb', [teamb!], 'team-b')].join('---\n'),
      '20-canaries.yaml': CANARIES,
      '30-acc.yaml': ingress('acc', 'acc.test', 'web'),
      '31-acc-canary.yaml': accuracy(0),
    });
    envoy = await testEnvoy({ xdsPort: t.cp.xdsPort });
    await envoy.waitReady(20_000);
    await envoy.waitForListener('http', 20_000);
    traffic = new Traffic();
  });

  afterAll(async () => {
    traffic?.close();
    await envoy?.stop();
  });

  const only = async (host: string, n: number, opts: { path?: string; headers?: Record<string, string> } = {}): Promise<Record<string, number>> =>
    (await traffic.run(n, { port: port(), host, ...opts })).counts;

  it('canary-by-header: always → canary, never → primary even with weight 50, other values fall through to the weight', async () => {
    expect(await only('header.test', 40, { headers: { 'x-canary': 'always' } })).toEqual({ canary: 40 });
    expect(await only('header.test', 40, { headers: { 'X-Canary': 'never' } })).toEqual({ web: 40 });
    const other = await only('header.test', 200, { headers: { 'x-canary': 'maybe' } });
    expect(other['web']).toBeGreaterThan(40);
    expect(other['canary']).toBeGreaterThan(40);
  });

  it('canary-by-header-value (exact) and canary-by-header-pattern (RE2, partial match)', async () => {
    expect(await only('header-value.test', 20, { headers: { 'x-user': 'beta' } })).toEqual({ canary: 20 });
    expect(await only('header-value.test', 20, { headers: { 'x-user': 'beta2' } })).toEqual({ web: 20 });
    expect(await only('header-value.test', 20, { headers: { 'x-user': 'always' } })).toEqual({ web: 20 });
    expect(await only('header-pattern.test', 20, { headers: { 'x-region': 'eu-west-1' } })).toEqual({ canary: 20 });
    expect(await only('header-pattern.test', 20, { headers: { 'x-region': 'prod-us-west' } })).toEqual({ canary: 20 });
    expect(await only('header-pattern.test', 20, { headers: { 'x-region': 'eu-north-1' } })).toEqual({ web: 20 });
    expect(await only('header-pattern.test', 20)).toEqual({ web: 20 });
  });

  it('canary-by-query: always / never (never beats weight 100), -value exact, -pattern partial', async () => {
    expect(await only('query.test', 20)).toEqual({ canary: 20 });
    expect(await only('query.test', 20, { path: '/?canary=never' })).toEqual({ web: 20 });
    expect(await only('query.test', 20, { path: '/x?a=1&canary=always' })).toEqual({ canary: 20 });
    expect(await only('query-value.test', 20, { path: '/?user=alice' })).toEqual({ canary: 20 });
    expect(await only('query-value.test', 20, { path: '/?user=alicex' })).toEqual({ web: 20 });
    expect(await only('query-pattern.test', 20, { path: '/?v=2.1' })).toEqual({ canary: 20 });
    expect(await only('query-pattern.test', 20, { path: '/?v=12.1' })).toEqual({ web: 20 });
  });

  it('canary-by-cookie: always / never (never beats weight 100), canary-by-cookie-value exact', async () => {
    expect(await only('cookie.test', 20)).toEqual({ canary: 20 });
    expect(await only('cookie.test', 20, { headers: { cookie: 'a=1; canary_user=never; b=2' } })).toEqual({ web: 20 });
    expect(await only('cookie.test', 20, { headers: { cookie: 'canary_user=always' } })).toEqual({ canary: 20 });
    expect(await only('cookie-value.test', 20, { headers: { cookie: 'x=y; group=g.1' } })).toEqual({ canary: 20 });
    expect(await only('cookie-value.test', 20, { headers: { cookie: 'group=gx1' } })).toEqual({ web: 20 });
    expect(await only('cookie-value.test', 20, { headers: { cookie: 'mygroup=g.1' } })).toEqual({ web: 20 });
  });

  it('precedence inside one canary: header → query → cookie → weight', async () => {
    const p = (path: string, headers: Record<string, string>) => only('precedence.test', 10, { path, headers });
    expect(await p('/?canary=always', { 'x-canary': 'never' })).toEqual({ web: 10 });
    expect(await p('/?canary=never', { 'x-canary': 'always' })).toEqual({ canary: 10 });
    expect(await p('/?canary=always', { 'x-canary': 'other' })).toEqual({ canary: 10 });
    expect(await p('/?canary=never', { cookie: 'canary=always' })).toEqual({ web: 10 });
    expect(await p('/?canary=always', { cookie: 'canary=never' })).toEqual({ canary: 10 });
    expect(await p('/', { cookie: 'canary=always' })).toEqual({ canary: 10 });
    expect(await p('/', { 'x-canary': 'never', cookie: 'canary=always' })).toEqual({ web: 10 });
    expect(await p('/', {})).toEqual({ web: 10 });
  });

  it('canary-weight-total: 500 of 1000', async () => {
    const c = await only('total.test', 400);
    expect(c['canary']).toBeGreaterThan(120);
    expect(c['web']).toBeGreaterThan(120);
  });

  it("canary routes inherit the primary's policy (timeout 1 s), not their own (30 s)", async () => {
    const slow = { 'x-backend-delay-ms': '1500' };
    expect(await only('policy.test', 2, { headers: { ...slow, 'x-canary': 'always' } })).toEqual({ 'status:504': 2 });
    expect(await only('policy.test', 2, { headers: { ...slow } })).toEqual({ 'status:504': 2 });
    expect(await only('policy.test', 2, { headers: { 'x-canary': 'always' } })).toEqual({ canary: 2 });
  });

  it('several canaries on one host+path: match canaries first, weight canaries share the primary route', async () => {
    expect(await only('shop.test', 20, { headers: { 'x-v2': 'always' } })).toEqual({ v2: 20 });
    expect(await only('shop.test', 20, { headers: { cookie: 'v3=always' } })).toEqual({ v3: 20 });
    // x-v2: never → the primary, even though v3 and v4 have weights.
    expect(await only('shop.test', 20, { headers: { 'x-v2': 'never' } })).toEqual({ web: 20 });
    const c = await traffic.run(2000, { port: port(), host: 'shop.test' });
    expect(Object.keys(c.counts).sort()).toEqual(['canary', 'v3', 'web']);
    expect(Math.abs(share(c, 'web') - 50)).toBeLessThan(5);
    expect(Math.abs(share(c, 'v3') - 20)).toBeLessThan(5);
    expect(Math.abs(share(c, 'canary') - 30)).toBeLessThan(5);
  });

  it('rejected canaries are not served; their primaries keep 100 %', async () => {
    for (const host of ['bad-weight.test', 'over-total.test', 'zero-total.test', 'bad-marker.test', 'missing-svc.test']) {
      expect(await only(host, 40), host).toEqual({ web: 40 });
    }
    expect(await only('bad-pattern.test', 20, { headers: { 'x-canary': 'lookahead' } })).toEqual({ web: 20 });
    expect(await only('bad-header.test', 20, { headers: { x_canary: 'always' } })).toEqual({ web: 20 });
    // No primary: not served alone. Another namespace: cannot hijack the host.
    expect(await only('lonely.test', 5)).toEqual({ 'status:404': 5 });
    expect(await only('crossns.test', 40)).toEqual({ teamb: 40 });
    const codes = t.cp.controller.diagnostics().map((d) => d.code);
    for (const c of ['XG_CANARY_INVALID', 'XG_CANARY_NO_PRIMARY', 'XG_CANARY_NAMESPACE', 'XG_SERVICE_NOT_FOUND']) expect(codes).toContain(c);
  });

  it('weight accuracy: 0, 1, 10, 50, 90, 100 within ±2 points, exactly 0 % and 100 % at the ends', async () => {
    // Envoy picks a weighted cluster at random per request: the sample sizes keep a
    // false failure below 1 in 10,000 (±2 points is ≥ 3.5 standard deviations).
    const plan: [number, number][] = [[0, 2000], [1, 2000], [10, 4000], [50, 8000], [90, 4000], [100, 2000]];
    const rows: string[] = [];
    for (const [w, n] of plan) {
      t.write('31-acc-canary.yaml', accuracy(w));
      await waitForEnvoyRoutes(envoy, 'acc.test', (routes) => JSON.stringify(routes).includes(expectedAction(w)));
      const tally: Tally = await traffic.run(n, { port: port(), host: 'acc.test', concurrency: 48 });
      const s = share(tally, 'canary');
      rows.push(`weight ${String(w).padStart(3)}: ${n} requests, canary ${s.toFixed(2)} % (Δ ${(s - w).toFixed(2)}), ${Math.round((n * 1000) / tally.ms)} req/s`);
      expect((tally.counts['canary'] ?? 0) + (tally.counts['web'] ?? 0)).toBe(n);
      if (w === 0) expect(tally.counts['canary'] ?? 0).toBe(0);
      else if (w === 100) expect(tally.counts['web'] ?? 0).toBe(0);
      else expect(Math.abs(s - w)).toBeLessThanOrEqual(2);
    }
    process.stdout.write(`\ncanary weight accuracy through Envoy:\n  ${rows.join('\n  ')}\n`);
  }, 120_000);
});

/** What Envoy's route for acc.test holds once weight `w` is in. */
function expectedAction(w: number): string {
  if (w === 0) return '"cluster":"default/web/80"';
  if (w === 100) return '"cluster":"default/canary/80"';
  return `{"name":"default/web/80","weight":${100 - w}},{"name":"default/canary/80","weight":${w}}`;
}
