// IP allow/deny lists through the real Envoy, at the three levels (instance options,
// domain annotations, route annotations) and their precedence, from different
// 127.0.0.x source addresses, and through X-Forwarded-For with and without trusted hops.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackend, type Backend, type BackendEcho } from '../helpers/backends.js';
import { INGRESS_CLASS_YAML, serviceYaml } from '../helpers/control-plane.js';
import { testEnvoy, type RunningEnvoy } from '../helpers/envoy.js';
import { eventually } from '../helpers/wait.js';
import { accessControlPlane, ingressYaml, send, type AccessControlPlane } from './access-helpers.js';

const M = 'mse.ingress.kubernetes.io/';
const N = 'nginx.ingress.kubernetes.io/';
const H = 'higress.io/';

function manifests(web: Backend): Record<string, string> {
  return {
    '00-class.yaml': INGRESS_CLASS_YAML,
    '10-web.yaml': serviceYaml('web', [web]),
    '20-ingresses.yaml': [
      // No list of its own: the instance lists decide.
      ingressYaml('inst', 'inst.example.com', {}),
      // Domain lists decide for the host's routes without their own list…
      ingressYaml('dom', 'dom.example.com', { [`${M}domain-whitelist-source-range`]: '127.0.0.9, 127.0.0.3', [`${M}domain-blacklist-source-range`]: '127.0.0.3' }),
      // …and a route list decides over them on its route.
      ingressYaml('dom-route', 'dom.example.com', { [`${H}whitelist-source-range`]: '127.0.0.2/32' }, '/route'),
      // Route level: allow a /24, deny one address in it (deny wins), IPv6 entries alongside.
      ingressYaml('route', 'route.example.com', { [`${N}whitelist-source-range`]: '127.0.0.0/24, ::1, 2001:db8::/32', [`${N}denylist-source-range`]: '127.0.0.4' }),
      // Deny only at the route level.
      ingressYaml('deny', 'deny.example.com', { [`${M}blacklist-source-range`]: '127.0.0.2' }),
      // Invalid lists: fail closed for everyone.
      ingressYaml('bad', 'bad.example.com', { [`${N}whitelist-source-range`]: '127.0.0.0/24, not-an-ip' }),
      ingressYaml('empty', 'empty.example.com', { [`${N}whitelist-source-range`]: ' ' }),
      ingressYaml('bad-domain', 'baddom.example.com', { [`${M}domain-blacklist-source-range`]: '127.0.0.1/40' }),
      ingressYaml('bad-domain-route', 'baddom.example.com', { [`${N}whitelist-source-range`]: '127.0.0.0/8' }, '/own'),
      // This control plane has no --waf-module: a route asking for the WAF fails closed.
      ingressYaml('waf', 'waf.example.com', { 'xgate.io/waf': 'block' }),
    ].join('---\n'),
  };
}

describe('IP allow/deny lists through the real Envoy (no trusted hops)', () => {
  let web: Backend;
  let envoy: RunningEnvoy;
  let port: number;
  let t: AccessControlPlane;

  beforeAll(async () => {
    web = await testBackend({ name: 'web' });
    // Instance level: allow 127.0.0.0/29 (…0–…7) except 127.0.0.5.
    t = await accessControlPlane(manifests(web), { sourceRanges: { allow: ['127.0.0.0/29'], deny: ['127.0.0.5/32'] } });
    envoy = await testEnvoy({ xdsPort: t.cp.xdsPort });
    await envoy.waitReady(30_000);
    await envoy.waitForListener('http', 30_000);
    port = t.httpPort;
    await eventually(async () => (await send(port, { host: 'inst.example.com', from: '127.0.0.2' })).status === 200, 20_000);
  }, 60_000);

  afterAll(async () => {
    await envoy?.stop();
  });

  const status = async (host: string, from: string, p = '/', headers?: Record<string, string>) => (await send(port, { host, from, path: p, ...(headers ? { headers } : {}) })).status;

  it('instance level: the serve options decide for routes and hosts without lists; deny wins', async () => {
    expect(await status('inst.example.com', '127.0.0.2')).toBe(200);
    expect(await status('inst.example.com', '127.0.0.7')).toBe(200);
    expect(await status('inst.example.com', '127.0.0.5')).toBe(403); // in the allow /29, but denied
    expect(await status('inst.example.com', '127.0.0.9')).toBe(403); // outside the allow list
    const r = await send(port, { host: 'inst.example.com', from: '127.0.0.9' });
    expect(r.body).toContain('RBAC: access denied');
  });

  it('domain level decides over the instance level', async () => {
    expect(await status('dom.example.com', '127.0.0.9')).toBe(200); // outside the instance list, in the domain list
    expect(await status('dom.example.com', '127.0.0.2')).toBe(403); // in the instance list, not in the domain list
    expect(await status('dom.example.com', '127.0.0.3')).toBe(403); // in both domain lists: deny wins
  });

  it('route level decides over the domain level', async () => {
    expect(await status('dom.example.com', '127.0.0.2', '/route')).toBe(200);
    expect(await status('dom.example.com', '127.0.0.9', '/route')).toBe(403);
    expect(await status('dom.example.com', '127.0.0.9', '/')).toBe(200);
  });

  it('route level decides over the instance level; deny wins inside the level', async () => {
    expect(await status('route.example.com', '127.0.0.9')).toBe(200); // instance would deny
    expect(await status('route.example.com', '127.0.0.5')).toBe(200); // instance deny does not apply
    expect(await status('route.example.com', '127.0.0.4')).toBe(403);
    expect(await status('deny.example.com', '127.0.0.2')).toBe(403);
    expect(await status('deny.example.com', '127.0.0.9')).toBe(200); // deny-only list: the rest passes
  });

  it('invalid or empty lists fail closed (403) for every source', async () => {
    for (const from of ['127.0.0.1', '127.0.0.2', '127.0.0.9']) {
      expect(await status('bad.example.com', from)).toBe(403);
      expect(await status('empty.example.com', from)).toBe(403);
      expect(await status('baddom.example.com', from)).toBe(403);
      expect(await status('baddom.example.com', from, '/own')).toBe(403); // even a route with its own valid list
    }
    expect(web.requests).toBeGreaterThan(0);
  });

  it('without --waf-module, a route asking for the WAF answers 403 instead of passing unchecked', async () => {
    expect(await status('waf.example.com', '127.0.0.2')).toBe(403);
  });

  it('without trusted hops, X-Forwarded-For is never the client address (a forged header does not bypass a list)', async () => {
    expect(await status('inst.example.com', '127.0.0.9', '/', { 'x-forwarded-for': '127.0.0.2' })).toBe(403);
    expect(await status('inst.example.com', '127.0.0.5', '/', { 'x-forwarded-for': '127.0.0.1, 127.0.0.2' })).toBe(403);
    expect(await status('dom.example.com', '127.0.0.9', '/route', { 'x-forwarded-for': '127.0.0.2' })).toBe(403);
    expect(await status('deny.example.com', '127.0.0.2', '/', { 'x-forwarded-for': '127.0.0.9' })).toBe(403);
    // and a header naming a denied address does not deny an allowed peer
    expect(await status('inst.example.com', '127.0.0.2', '/', { 'x-forwarded-for': '127.0.0.5' })).toBe(200);
  });

  it('a new IP list, WAF setting or rate limit changes routes only: the listener is never modified (no LDS, no drain)', async () => {
    const listenerChanges = async () => {
      const s = await envoy.stats('listener_manager');
      return [s['listener_manager.listener_added'], s['listener_manager.listener_modified'], s['listener_manager.listener_removed']];
    };
    const before = await listenerChanges();
    t.write(
      '30-late.yaml',
      ingressYaml('late', 'late.example.com', {
        [`${N}whitelist-source-range`]: '127.0.0.9',
        'xgate.io/waf': 'detect',
        [`${N}limit-rps`]: '100',
      }),
    );
    expect(await status('late.example.com', '127.0.0.3')).toBe(404); // not served yet
    await eventually(async () => (await status('late.example.com', '127.0.0.3')) === 403, 20_000); // the route's list
    expect(await status('late.example.com', '127.0.0.9')).toBe(403); // passes the list; the WAF stand-in (no --waf-module) answers
    expect(await listenerChanges()).toEqual(before);
  });

  it('the backend sees X-Forwarded-For with the peer address appended (the header the client sent, then the peer)', async () => {
    const plain = JSON.parse((await send(port, { host: 'inst.example.com', from: '127.0.0.3' })).body) as BackendEcho;
    expect(plain.headers['x-forwarded-for']).toBe('127.0.0.3');
    const forged = JSON.parse((await send(port, { host: 'inst.example.com', from: '127.0.0.3', headers: { 'x-forwarded-for': '192.0.2.2' } })).body) as BackendEcho;
    expect(forged.headers['x-forwarded-for']).toBe('192.0.2.2,127.0.0.3');
  });
});

describe('IP allow/deny lists through the real Envoy with --trusted-hops 1 (a load balancer in front)', () => {
  let envoy: RunningEnvoy;
  let port: number;

  beforeAll(async () => {
    const web = await testBackend({ name: 'web2' });
    const t = await accessControlPlane(
      {
        '00-class.yaml': INGRESS_CLASS_YAML,
        '10-web.yaml': serviceYaml('web', [web]),
        '20-ingresses.yaml': [
          ingressYaml('office', 'office.example.com', { [`${N}whitelist-source-range`]: '203.0.113.0/24' }),
          ingressYaml('block', 'block.example.com', { [`${N}denylist-source-range`]: '198.51.100.66' }),
        ].join('---\n'),
      },
      { trustedHops: 1 },
    );
    envoy = await testEnvoy({ xdsPort: t.cp.xdsPort });
    await envoy.waitReady(30_000);
    await envoy.waitForListener('http', 30_000);
    port = t.httpPort;
    await eventually(async () => (await send(port, { host: 'block.example.com', from: '127.0.0.7' })).status === 200, 20_000);
  }, 60_000);

  afterAll(async () => {
    await envoy?.stop();
  });

  // The load balancer at 127.0.0.7 appends the address it saw to X-Forwarded-For.
  const viaLb = async (host: string, xff?: string) => (await send(port, { host, from: '127.0.0.7', ...(xff ? { headers: { 'x-forwarded-for': xff } } : {}) })).status;

  it('the client address is the last X-Forwarded-For entry (the one the trusted hop appended)', async () => {
    expect(await viaLb('office.example.com', '203.0.113.10')).toBe(200);
    expect(await viaLb('office.example.com', '198.51.100.1')).toBe(403);
    expect(await viaLb('block.example.com', '198.51.100.66')).toBe(403);
    expect(await viaLb('block.example.com', '198.51.100.67')).toBe(200);
  });

  it('a forged entry before the trusted one does not bypass a list', async () => {
    // The client sent "X-Forwarded-For: 203.0.113.10"; the load balancer appended its real address.
    expect(await viaLb('office.example.com', '203.0.113.10, 198.51.100.1')).toBe(403);
    expect(await viaLb('block.example.com', '198.51.100.66, 198.51.100.67')).toBe(200);
    expect(await viaLb('block.example.com', '198.51.100.67, 198.51.100.66')).toBe(403);
  });

  it('with fewer entries than trusted hops the peer address is used', async () => {
    expect(await viaLb('office.example.com')).toBe(403); // peer 127.0.0.7 is not in 203.0.113.0/24
  });
});

describe('IP lists for an IPv6 client (Envoy listening on ::1)', () => {
  let envoy: RunningEnvoy;
  let port: number;

  beforeAll(async () => {
    const web = await testBackend({ name: 'web6' });
    const t = await accessControlPlane(
      {
        '00-class.yaml': INGRESS_CLASS_YAML,
        '10-web.yaml': serviceYaml('web', [web]),
        '20-ingresses.yaml': [
          ingressYaml('v6-allow', 'allow6.example.com', { [`${N}whitelist-source-range`]: '::1' }),
          ingressYaml('v6-allow-net', 'net6.example.com', { [`${N}whitelist-source-range`]: '0:0:0:0:0:0:0:0/127' }),
          ingressYaml('v6-other', 'other6.example.com', { [`${N}whitelist-source-range`]: '2001:db8::/32, 127.0.0.1' }),
          ingressYaml('v6-deny', 'deny6.example.com', { [`${N}denylist-source-range`]: '::1/128' }),
          ingressYaml('v6-bad', 'bad6.example.com', { [`${N}whitelist-source-range`]: '::1/129' }),
        ].join('---\n'),
      },
      { bindAddress: '::1' },
    );
    envoy = await testEnvoy({ xdsPort: t.cp.xdsPort });
    await envoy.waitReady(30_000);
    await envoy.waitForListener('http', 30_000);
    port = t.httpPort;
    await eventually(async () => (await send(port, { host: 'allow6.example.com', address: '::1' })).status === 200, 20_000);
  }, 60_000);

  afterAll(async () => {
    await envoy?.stop();
  });

  const status = async (host: string) => (await send(port, { host, address: '::1', from: '::1' })).status;

  it('matches IPv6 entries and CIDRs; IPv4 entries never match an IPv6 client', async () => {
    expect(await status('allow6.example.com')).toBe(200);
    expect(await status('net6.example.com')).toBe(200);
    expect(await status('other6.example.com')).toBe(403);
    expect(await status('deny6.example.com')).toBe(403);
  });

  it('an invalid IPv6 prefix length fails closed', async () => {
    expect(await status('bad6.example.com')).toBe(403);
  });
});
