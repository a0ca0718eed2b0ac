// Routing annotations end to end through the real Envoy (docs/routing.md): rewrites (the
// path and Host the backend saw), regex and case-insensitive matching, redirects (status
// and Location), HTTPS redirects by default on TLS hosts, custom header/query/method
// matches, the destination split, and the diagnostics of invalid values.
import { readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends, request, type Backend } from '../helpers/backends.js';
import { INGRESS_CLASS_YAML, serviceYaml, testControlPlane, tlsSecretYaml, type TestControlPlane } from '../helpers/control-plane.js';
import { testEnvoy, type RunningEnvoy } from '../helpers/envoy.js';
import { eventually } from '../helpers/wait.js';

const CERTS = path.join(import.meta.dirname, '..', 'fixtures', 'certs');
const certA = readFileSync(path.join(CERTS, 'a.crt'), 'utf8');
const keyA = readFileSync(path.join(CERTS, 'a.key'), 'utf8');

function ing(name: string, host: string, annotations: Record<string, string>, paths: [string, string, string][], extra = ''): string {
  const ann = Object.entries(annotations).map(([k, v]) => `\n    ${k}: ${JSON.stringify(v)}`).join('');
  const ps = paths.map(([p, t, s]) => `\n          - { path: ${JSON.stringify(p)}, pathType: ${t}, backend: { service: { name: ${s}, port: { number: 80 } } } }`).join('');
  return `---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ${name}
  namespace: default
  annotations:${ann || ' {}'}
spec:
  ingressClassName: xgate${extra}
  rules:
    - host: ${host}
      http:
        paths:${ps}
`;
}

const INGRESSES = [
  ing('nginx-rewrite', 'rw.example.com', { 'nginx.ingress.kubernetes.io/rewrite-target': '/$2', 'nginx.ingress.kubernetes.io/upstream-vhost': 'internal.example.com' }, [['/something(/|$)(.*)', 'ImplementationSpecific', 'web']]),
  ing('higress-regex', 'hr.example.com', { 'higress.io/use-regex': 'true', 'higress.io/full-path-regex': 'true', 'higress.io/rewrite-target': '/v2/users/$1' }, [['/api/v([0-9]+)/users', 'ImplementationSpecific', 'api']]),
  ing('regex-only', 're.example.com', { 'nginx.ingress.kubernetes.io/use-regex': 'true' }, [['/items/[0-9]+$', 'ImplementationSpecific', 'web'], ['/', 'Prefix', 'api']]),
  ing('higress-prefix', 'hp.example.com', { 'higress.io/rewrite-path': '/inner' }, [['/app', 'Prefix', 'web']]),
  ing('higress-slash', 'hs.example.com', { 'higress.io/rewrite-path': '/' }, [['/strip', 'Prefix', 'web']]),
  ing('secure', 'secure.example.com', {}, [['/', 'Prefix', 'web']], '\n  tls: [{ hosts: [secure.example.com], secretName: tls-a }]'),
  ing('secure-open', 'secure.example.com', { 'nginx.ingress.kubernetes.io/ssl-redirect': 'false' }, [['/open', 'Prefix', 'api']]),
  ing('forced', 'forced.example.com', { 'nginx.ingress.kubernetes.io/force-ssl-redirect': 'true' }, [['/', 'Prefix', 'web']]),
  ing('moved', 'moved.example.com', { 'nginx.ingress.kubernetes.io/permanent-redirect': 'https://new.example.com:8443/landing?from=old', 'nginx.ingress.kubernetes.io/permanent-redirect-code': '308' }, [['/', 'Prefix', 'web']]),
  ing('moved-default', 'moved2.example.com', { 'nginx.ingress.kubernetes.io/permanent-redirect': 'https://new.example.com' }, [['/', 'Prefix', 'web']]),
  ing('temporary', 'temp.example.com', { 'higress.io/temporal-redirect': 'http://maintenance.example.com/sorry' }, [['/', 'Prefix', 'web']]),
  ing('approot', 'root.example.com', { 'nginx.ingress.kubernetes.io/app-root': '/app1' }, [['/', 'Prefix', 'web']]),
  ing('beta', 'm.example.com', { 'higress.io/exact-match-header-x-env': 'beta', 'higress.io/regex-match-query-user': '[0-9]+', 'higress.io/match-method': 'GET POST' }, [['/api', 'Prefix', 'web']]),
  ing('stable', 'm.example.com', {}, [['/api', 'Prefix', 'api']]),
  ing('put-only', 'm.example.com', { 'higress.io/prefix-match-header-user-agent': 'Mozilla', 'higress.io/exact-match-query-lang': 'en', 'higress.io/match-method': 'PUT' }, [['/api', 'Prefix', 'v2']]),
  ing('nocase', 'case.example.com', { 'higress.io/ignore-path-case': 'true' }, [['/Docs', 'Prefix', 'web']]),
  ing('split', 'split.example.com', { 'higress.io/destination': '60% web.default.svc.cluster.local:80\n40% api.default.svc.cluster.local:80' }, [['/', 'Prefix', 'v2']]),
  // Invalid values: each one a diagnostic; the rest of the Ingress keeps working.
  ing('bad-regex', 'bad.example.com', { 'nginx.ingress.kubernetes.io/use-regex': 'true' }, [['/ok/[a-z]+', 'ImplementationSpecific', 'web'], ['/broken/(unclosed', 'ImplementationSpecific', 'api']]),
  ing('bad-values', 'bad2.example.com', { 'nginx.ingress.kubernetes.io/upstream-vhost': '$host', 'nginx.ingress.kubernetes.io/permanent-redirect': 'javascript:alert(1)', 'nginx.ingress.kubernetes.io/rewrite-target': '/$host', 'higress.io/timeout': '30' }, [['/', 'Prefix', 'web']]),
  ing('bad-split', 'bad3.example.com', { 'higress.io/destination': '50% web.default.svc.cluster.local:80\n20% api.default.svc.cluster.local:80' }, [['/', 'Prefix', 'v2']]),
  ing('bad-match', 'bad4.example.com', { 'higress.io/match-method': 'GET FETCH' }, [['/', 'Prefix', 'web']]),
].join('');

describe('routing annotations through the real Envoy', () => {
  let t: TestControlPlane;
  let envoy: RunningEnvoy;
  let base: string;

  beforeAll(async () => {
    const [web, api, v2] = (await testBackends(['web', 'api', 'v2'], { distinctHosts: true })) as [Backend, Backend, Backend];
    t = await testControlPlane({
      '00-class.yaml': INGRESS_CLASS_YAML,
      '10-services.yaml': [serviceYaml('web', [web]), serviceYaml('api', [api]), serviceYaml('v2', [v2])].join('---\n'),
      '20-secret.yaml': tlsSecretYaml('tls-a', certA, keyA),
      '30-ingress.yaml': INGRESSES,
    });
    envoy = await testEnvoy({ xdsPort: t.cp.xdsPort });
    await envoy.waitReady(30_000);
    await envoy.waitForListener('http', 30_000);
    base = `http://127.0.0.1:${t.httpPort}`;
    await eventually(async () => (await request(`${base}/`, { host: 'split.example.com' })).status === 200, 30_000);
  }, 90_000);

  afterAll(async () => {
    await envoy?.stop();
  });

  const get = (p: string, host: string, opts: { method?: string; headers?: Record<string, string> } = {}) => request(`${base}${p}`, { host, ...opts });

  it('rewrite-target: capture groups become the upstream path; upstream-vhost sets the Host header', async () => {
    let r = await get('/something/foo/bar?x=1', 'rw.example.com');
    expect(r.echo?.backend).toBe('web');
    expect(r.echo?.path).toBe('/foo/bar?x=1');
    expect(r.echo?.host).toBe('internal.example.com');
    r = await get('/something', 'rw.example.com');
    expect(r.echo?.path).toBe('/');
    // nginx's regex locations are case-insensitive (~*): so is an nginx regex path.
    r = await get('/SomeThing/Abc', 'rw.example.com');
    expect(r.echo?.path).toBe('/Abc');
    // A regex path is a prefix match: /somethingelse matches "/something(/|$)(.*)"? No: (/|$) needs "/" or the end.
    expect((await get('/somethingelse', 'rw.example.com')).status).toBe(404);
  });

  it('use-regex matches paths as RE2 regexes; full-path-regex needs the whole path', async () => {
    expect((await get('/items/123', 're.example.com')).echo?.backend).toBe('web');
    expect((await get('/ITEMS/7', 're.example.com')).echo?.backend).toBe('web');
    expect((await get('/items/abc', 're.example.com')).echo?.backend).toBe('api');
    const r = await get('/api/v3/users', 'hr.example.com');
    expect(r.echo?.backend).toBe('api');
    expect(r.echo?.path).toBe('/v2/users/3');
    // Higress regexes are case-sensitive, and full-path-regex does not match a longer path.
    expect((await get('/API/v3/users', 'hr.example.com')).status).toBe(404);
    expect((await get('/api/v3/users/9', 'hr.example.com')).status).toBe(404);
  });

  it('Higress rewrite-path replaces the matched prefix', async () => {
    expect((await get('/app/x/y?q=1', 'hp.example.com')).echo?.path).toBe('/inner/x/y?q=1');
    expect((await get('/app', 'hp.example.com')).echo?.path).toBe('/inner');
    expect((await get('/strip/a/b', 'hs.example.com')).echo?.path).toBe('/a/b');
    expect((await get('/strip', 'hs.example.com')).echo?.path).toBe('/');
  });

  it('ignore-path-case matches paths case-insensitively', async () => {
    for (const p of ['/Docs/x', '/docs/x', '/DOCS']) expect((await get(p, 'case.example.com')).echo?.backend).toBe('web');
    expect((await get('/docsx', 'case.example.com')).status).toBe(404);
  });

  it('redirects plain HTTP to HTTPS by default on a TLS host (308), and serves HTTPS', async () => {
    const r = await get('/cart?id=7', 'secure.example.com');
    expect(r.status).toBe(308);
    expect(r.headers.location).toBe('https://secure.example.com/cart?id=7');
    // A client cannot talk its way out of it: Envoy overwrites x-forwarded-proto at the edge.
    expect((await get('/cart', 'secure.example.com', { headers: { 'x-forwarded-proto': 'https' } })).status).toBe(308);
    // ssl-redirect: "false" on another Ingress of the same host: its path stays on plain HTTP.
    expect((await get('/open/x', 'secure.example.com')).echo?.backend).toBe('api');
    const s = await httpsGet('/cart', 'secure.example.com');
    expect(s.status).toBe(200);
    expect(JSON.parse(s.body).backend).toBe('web');
  });

  it('force-ssl-redirect redirects without TLS; permanent and temporal redirects; app-root', async () => {
    let r = await get('/x?y=1', 'forced.example.com');
    expect(r.status).toBe(308);
    expect(r.headers.location).toBe('https://forced.example.com/x?y=1');
    r = await get('/anything?z=1', 'moved.example.com');
    expect(r.status).toBe(308);
    expect(r.headers.location).toBe('https://new.example.com:8443/landing?from=old');
    r = await get('/anything', 'moved2.example.com');
    expect(r.status).toBe(301);
    expect(r.headers.location).toBe('https://new.example.com/');
    r = await get('/a/b?c=d', 'temp.example.com');
    expect(r.status).toBe(302);
    expect(r.headers.location).toBe('http://maintenance.example.com/sorry');
    r = await get('/', 'root.example.com');
    expect(r.status).toBe(302);
    expect(r.headers.location).toBe('http://root.example.com/app1');
    expect((await get('/app1', 'root.example.com')).echo?.backend).toBe('web');
  });

  it('custom header, query and method matches choose the route', async () => {
    expect((await get('/api/x?user=42', 'm.example.com', { headers: { 'x-env': 'beta' } })).echo?.backend).toBe('web');
    expect((await get('/api/x?user=42', 'm.example.com', { method: 'POST', headers: { 'x-env': 'beta' } })).echo?.backend).toBe('web');
    // One condition missing: the route without conditions answers.
    expect((await get('/api/x?user=abc', 'm.example.com', { headers: { 'x-env': 'beta' } })).echo?.backend).toBe('api');
    expect((await get('/api/x?user=42', 'm.example.com')).echo?.backend).toBe('api');
    expect((await get('/api/x?user=42', 'm.example.com', { method: 'DELETE', headers: { 'x-env': 'beta' } })).echo?.backend).toBe('api');
    expect((await get('/api/x?lang=en', 'm.example.com', { method: 'PUT', headers: { 'user-agent': 'Mozilla/5.0' } })).echo?.backend).toBe('v2');
    expect((await get('/api/x?lang=fr', 'm.example.com', { method: 'PUT', headers: { 'user-agent': 'Mozilla/5.0' } })).echo?.backend).toBe('api');
  });

  it('destination splits the traffic by weight (60/40 over 300 requests, ±10 %)', async () => {
    const seen = new Map<string, number>();
    const n = 300;
    for (let i = 0; i < n; i++) {
      const r = await get('/', 'split.example.com');
      expect(r.status).toBe(200);
      seen.set(r.echo!.backend, (seen.get(r.echo!.backend) ?? 0) + 1);
    }
    process.stdout.write(`\n[routing] destination 60/40 over ${n} requests: web ${seen.get('web') ?? 0}, api ${seen.get('api') ?? 0}\n`);
    expect(seen.get('v2')).toBeUndefined(); // the spec backend is not used
    expect(Math.abs((seen.get('web') ?? 0) / n - 0.6)).toBeLessThanOrEqual(0.1);
    expect(Math.abs((seen.get('api') ?? 0) / n - 0.4)).toBeLessThanOrEqual(0.1);
  });

  it('reports each invalid value; only what carries it is affected', async () => {
    const diags = t.cp.controller.diagnostics();
    const has = (code: string, name: string, text: string) => diags.some((d) => d.code === code && d.object.name === name && d.message.includes(text));
    expect(has('XG_ROUTING_PATH_REGEX_INVALID', 'bad-regex', '/broken/(unclosed')).toBe(true);
    expect(has('XG_ANNOTATION_INVALID', 'bad-values', 'upstream-vhost')).toBe(true);
    expect(has('XG_ANNOTATION_INVALID', 'bad-values', 'permanent-redirect')).toBe(true);
    expect(has('XG_ANNOTATION_INVALID', 'bad-values', 'rewrite-target')).toBe(true);
    expect(has('XG_ROUTING_DESTINATION_INVALID', 'bad-split', 'add up to 70')).toBe(true);
    expect(has('XG_ANNOTATION_INVALID', 'bad-match', 'match-method')).toBe(true);
    // The invalid regex path is not served; the valid one of the same Ingress is.
    expect((await get('/ok/abc', 'bad.example.com')).echo?.backend).toBe('web');
    expect((await get('/broken/(unclosed', 'bad.example.com')).status).toBe(404);
    // Bad values dropped: no redirect, no Host or path rewrite, and the other policies stay.
    const r = await get('/p', 'bad2.example.com');
    expect(r.echo?.backend).toBe('web');
    expect(r.echo?.path).toBe('/p');
    expect(r.echo?.host).toBe('bad2.example.com');
    // A rejected split keeps the Ingress's own backend.
    expect((await get('/', 'bad3.example.com')).echo?.backend).toBe('v2');
    // Bad match conditions: the Ingress's routes are not served (they would take others' traffic).
    expect((await get('/', 'bad4.example.com')).status).toBe(404);
  });

  function httpsGet(p: string, host: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port: t.httpsPort, path: p, servername: host, headers: { host }, rejectUnauthorized: false, agent: false }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end();
    });
  }
});
