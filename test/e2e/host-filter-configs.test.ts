// Per-filter configs moved up to the virtual host (translate/hoist-filter-configs.ts)
// mean through the real Envoy what they meant on each route: an Ingress's Basic auth
// and IP allow-list guard its paths and no other Ingress's path on the same host, and
// the https redirect on a host whose paths ask for credentials still redirects without
// them. Envoy's own config_dump shows that the configs are on the virtual hosts here.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends, request, type Backend } from '../helpers/backends.js';
import { INGRESS_CLASS_YAML, serviceYaml, testControlPlane, type TestControlPlane } from '../helpers/control-plane.js';
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
  const ann = Object.entries(annotations)
    .map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`)
    .join('\n');
  return `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ${name}
  namespace: default
${ann ? `  annotations:\n${ann}\n` : ''}spec:
  ingressClassName: xgate
  rules:
    - host: ${host}
      http:
        paths:
${paths.map((p) => `          - { path: ${p}, pathType: Prefix, backend: { service: { name: ${service}, port: { number: 80 } } } }`).join('\n')}
`;
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
  const get = (host: string, path: string, headers: Record<string, string> = {}) => request(`${base}${path}`, { host, headers });

  beforeAll(async () => {
    const [web, v2] = (await testBackends(['web', 'web-v2'], { distinctHosts: true })) as [Backend, Backend];
    const auth = { [`${N}auth-type`]: 'basic', [`${N}auth-secret`]: 'htpasswd' };
    t = await testControlPlane({
      '00-class.yaml': INGRESS_CLASS_YAML,
      '10-services.yaml': [serviceYaml('web', [web]), serviceYaml('web-v2', [v2])].join('---\n'),
      '20-secret.yaml': HTPASSWD,
      // Two Ingresses on one host: one guarded (two paths), one open.
      '30-guarded.yaml': ingress('guarded', 'mixed.example.com', ['/a', '/b'], auth),
      '31-open.yaml': ingress('open', 'mixed.example.com', ['/open'], {}, 'web-v2'),
      // Every route of the host carries the same allow-list (RBAC runs on every route: moved only then).
      '32-denied.yaml': ingress('denied', 'denied.example.com', ['/a', '/b'], { [`${N}whitelist-source-range`]: '10.0.0.0/8' }),
      '33-allowed.yaml': ingress('allowed', 'allowed.example.com', ['/a', '/b'], { [`${N}whitelist-source-range`]: '127.0.0.0/8' }),
      // An https redirect route, with paths that ask for credentials.
      '34-redirect.yaml': ingress('redirect', 'redirect.example.com', ['/a', '/b'], { ...auth, [`${N}force-ssl-redirect`]: 'true' }),
    });
    envoy = await testEnvoy({ xdsPort: t.cp.xdsPort });
    await envoy.waitReady(30_000);
    await envoy.waitForListener('http', 30_000);
    base = `http://127.0.0.1:${t.httpPort}`;
    await eventually(async () => (await get('mixed.example.com', '/open')).status === 200, 30_000);
  }, 90_000);

  afterAll(async () => {
    await envoy?.stop();
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
});
