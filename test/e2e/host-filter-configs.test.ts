// Per-filter configs moved up to the virtual host (translate/hoist-filter-configs.ts)
// mean through the real Envoy what they meant on each route: an Ingress's Basic auth,
// external auth (with its sign-in redirect) and IP allow-list guard its paths and no
// other Ingress's path on the same host, and the https redirect on a host whose paths ask
// for credentials still redirects without them. Envoy's own config_dump shows that the
// configs are on the virtual hosts here. (OAuth2: test/e2e/auth-oidc.test.ts.)
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends, request, type Backend } from '../helpers/backends.js';
import { INGRESS_CLASS_YAML, ingressYaml, serviceYaml, testControlPlane, type TestControlPlane } from '../helpers/control-plane.js';
import { eventually } from '../helpers/wait.js';
import { testEnvoy, type RunningEnvoy } from '../helpers/envoy.js';

const N = 'nginx.ingress.kubernetes.io/';
const BASIC_AUTH = 'envoy.filters.http.basic_auth';
const RBAC = 'envoy.filters.http.rbac';
const basic = (user: string, pw: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}` });

const HTPASSWD = `apiVersion: v1
kind: Secret
metadata: { name: htpasswd, namespace: default }
type: Opaque
data:
  auth: ${Buffer.from(`alice:{SHA}${createHash('sha1').update('alice-pw').digest('base64')}\n`).toString('base64')}
`;

function ingress(name: string, host: string, paths: readonly string[], annotations: Record<string, string>, service = 'web'): string {
  return ingressYaml(name, host, annotations, { service, paths });
}

/** An auth service: `x-test-auth: allow` → 200 with x-user, else 401. Counts its calls. */
async function authService(host: string): Promise<{ port: number; calls: () => number; close(): Promise<void> }> {
  let calls = 0;
  const server = http.createServer((req, res) => {
    calls++;
    req.resume();
    if (req.headers['x-test-auth'] === 'allow') res.writeHead(200, { 'x-user': 'alice', 'content-length': '0' }).end();
    else res.writeHead(401, { 'content-length': '0' }).end();
  });
  await new Promise<void>((resolve) => server.listen({ host, port: 0 }, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    calls: () => calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

interface DumpedRoute {
  readonly name: string;
  readonly typed_per_filter_config?: Record<string, { disabled?: boolean; config?: unknown }>;
}
interface DumpedVhost {
  readonly name: string;
  readonly routes: readonly DumpedRoute[];
  readonly typed_per_filter_config?: Record<string, { disabled?: boolean; config?: unknown }>;
}

describe('per-filter configs on the virtual host, through the real Envoy', () => {
  let t: TestControlPlane;
  let envoy: RunningEnvoy;
  let base: string;
  let auth: Awaited<ReturnType<typeof authService>>;
  const get = (host: string, path: string, headers: Record<string, string> = {}) => request(`${base}${path}`, { host, headers });

  beforeAll(async () => {
    const [web, v2] = (await testBackends(['web', 'web-v2'], { distinctHosts: true })) as [Backend, Backend];
    auth = await authService('127.0.0.7');
    const basicAuth = { [`${N}auth-type`]: 'basic', [`${N}auth-secret`]: 'htpasswd' };
    const extAuth = { [`${N}auth-url`]: `http://127.0.0.7:${auth.port}/verify`, [`${N}auth-signin`]: 'https://login.example.com/start', [`${N}auth-response-headers`]: 'X-User' };
    t = await testControlPlane({
      '00-class.yaml': INGRESS_CLASS_YAML,
      '10-services.yaml': [serviceYaml('web', [web]), serviceYaml('web-v2', [v2])].join('---\n'),
      '20-secret.yaml': HTPASSWD,
      // Two Ingresses on one host: one guarded (two paths), one open.
      '30-guarded.yaml': ingress('guarded', 'mixed.example.com', ['/a', '/b'], basicAuth),
      '31-open.yaml': ingress('open', 'mixed.example.com', ['/open'], {}, 'web-v2'),
      // Every route of the host carries the same allow-list.
      '32-denied.yaml': ingress('denied', 'denied.example.com', ['/a', '/b'], { [`${N}whitelist-source-range`]: '10.0.0.0/8' }),
      '33-allowed.yaml': ingress('allowed', 'allowed.example.com', ['/a', '/b'], { [`${N}whitelist-source-range`]: '127.0.0.0/8' }),
      // An allow-list on some routes of a host: without gateway-wide ranges the chain's RBAC has no rules, so it moves up too.
      '37-denied-part.yaml': ingress('denied-part', 'partial.example.com', ['/a', '/b'], { [`${N}whitelist-source-range`]: '10.0.0.0/8' }),
      '38-open-part.yaml': ingress('open-part', 'partial.example.com', ['/open'], {}, 'web-v2'),
      // An https redirect route, with paths that ask for credentials.
      '34-redirect.yaml': ingress('redirect', 'redirect.example.com', ['/a', '/b'], { ...basicAuth, [`${N}force-ssl-redirect`]: 'true' }),
      // External auth with a sign-in redirect on two paths, and an open path, on one host.
      '35-ext.yaml': ingress('ext', 'ext.example.com', ['/a', '/b'], extAuth),
      '36-ext-open.yaml': ingress('ext-open', 'ext.example.com', ['/open'], {}, 'web-v2'),
    });
    envoy = await testEnvoy({ xdsPort: t.cp.xdsPort });
    await envoy.waitReady(30_000);
    await envoy.waitForListener('http', 30_000);
    base = `http://127.0.0.1:${t.httpPort}`;
    await eventually(async () => (await get('mixed.example.com', '/open')).status === 200, 30_000);
  }, 90_000);

  afterAll(async () => {
    await envoy?.stop();
    await auth?.close();
  });

  async function vhost(name: string): Promise<DumpedVhost> {
    const dump = (await envoy.configDump('resource=dynamic_route_configs')) as { configs: Array<{ route_config: { name: string; virtual_hosts: DumpedVhost[] } }> };
    const found = dump.configs.flatMap((c) => c.route_config.virtual_hosts ?? []).find((v) => v.name === name);
    if (!found) throw new Error(`no virtual host ${name} in Envoy's config`);
    return found;
  }

  it("the guarded Ingress's paths ask for credentials, the open Ingress's path on the same host does not", async () => {
    for (const p of ['/a', '/b', '/a/deeper']) {
      expect((await get('mixed.example.com', p)).status).toBe(401);
      const ok = await get('mixed.example.com', p, basic('alice', 'alice-pw'));
      expect(ok.status).toBe(200);
      expect(ok.echo?.backend).toBe('web');
    }
    const open = await get('mixed.example.com', '/open');
    expect(open.status).toBe(200);
    expect(open.echo?.backend).toBe('web-v2');
    // Envoy holds Basic auth once, on the virtual host; the open path keeps it off.
    const vh = await vhost('mixed.example.com');
    expect(vh.typed_per_filter_config?.[BASIC_AUTH]?.config).toBeDefined();
    const byName = new Map(vh.routes.map((r) => [r.name, r]));
    expect(byName.get('default/guarded/Prefix:/a')?.typed_per_filter_config?.[BASIC_AUTH]).toBeUndefined();
    expect(byName.get('default/guarded/Prefix:/b')?.typed_per_filter_config?.[BASIC_AUTH]).toBeUndefined();
    expect(byName.get('default/open/Prefix:/open')?.typed_per_filter_config?.[BASIC_AUTH]?.disabled).toBe(true);
  });

  it('an allow-list every route of a host shares is held by the virtual host and still decides', async () => {
    for (const p of ['/a', '/b']) {
      expect((await get('denied.example.com', p)).status).toBe(403);
      expect((await get('allowed.example.com', p)).status).toBe(200);
    }
    // Some routes only: the open route of another Ingress switches it off.
    expect((await get('partial.example.com', '/a')).status).toBe(403);
    expect((await get('partial.example.com', '/open')).status).toBe(200);
    const part = await vhost('partial.example.com');
    expect(part.typed_per_filter_config?.[RBAC]?.config).toBeDefined();
    expect(part.routes.find((r) => r.name === 'default/open-part/Prefix:/open')?.typed_per_filter_config?.[RBAC]?.disabled).toBe(true);
    for (const host of ['denied.example.com', 'allowed.example.com']) {
      const vh = await vhost(host);
      expect(vh.typed_per_filter_config?.[RBAC]?.config).toBeDefined();
      for (const r of vh.routes) expect(r.typed_per_filter_config?.[RBAC]).toBeUndefined();
    }
  });

  it('the https redirect of a host whose paths ask for credentials redirects without them', async () => {
    const r = await get('redirect.example.com', '/a');
    expect(r.status).toBe(308);
    expect(String(r.headers['location'])).toBe('https://redirect.example.com/a');
    const vh = await vhost('redirect.example.com');
    expect(vh.typed_per_filter_config?.[BASIC_AUTH]?.config).toBeDefined();
    const redirect = vh.routes.find((r) => r.name === '#https-redirect');
    expect(redirect?.typed_per_filter_config?.[BASIC_AUTH]?.disabled).toBe(true);
  });

  it('external auth and its sign-in redirect: held by the virtual host, off on the open path', async () => {
    const calls = auth.calls();
    const open = await get('ext.example.com', '/open');
    expect(open.status).toBe(200);
    expect(open.echo?.backend).toBe('web-v2');
    expect(auth.calls()).toBe(calls);
    for (const p of ['/a', '/b']) {
      const anon = await get('ext.example.com', p);
      expect(anon.status).toBe(302);
      expect(String(anon.headers['location'])).toBe(`https://login.example.com/start?rd=http://ext.example.com${p}`);
      const ok = await get('ext.example.com', p, { 'x-test-auth': 'allow' });
      expect(ok.status).toBe(200);
      expect(ok.echo?.headers['x-user']).toBe('alice');
    }
    expect(auth.calls()).toBe(calls + 4);
    const vh = await vhost('ext.example.com');
    const moved = Object.keys(vh.typed_per_filter_config ?? {}).sort();
    expect(moved.filter((k) => k.startsWith('xgate.ext_authz.'))).toHaveLength(1);
    expect(moved).toContain('xgate.auth_signin');
    const openRoute = vh.routes.find((r) => r.name === 'default/ext-open/Prefix:/open')!;
    for (const k of moved) expect(openRoute.typed_per_filter_config?.[k]?.disabled, k).toBe(true);
    for (const r of vh.routes.filter((x) => x.name.startsWith('default/ext/'))) expect(r.typed_per_filter_config ?? {}).toEqual({});
  });
});
