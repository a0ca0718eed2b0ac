// Basic authentication end to end through the real Envoy: auth-file and auth-map
// Secrets with {SHA} users, entries in other hash formats dropped with diagnostics,
// a canary inheriting the primary's users, bad configuration failing closed.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends, request, type Backend } from '../helpers/backends.js';
import { INGRESS_CLASS_YAML, serviceYaml, testControlPlane, type TestControlPlane, ingressYaml as sharedIngressYaml } from '../helpers/control-plane.js';
import { eventually } from '../helpers/wait.js';
import { testEnvoy, type RunningEnvoy } from '../helpers/envoy.js';

const sha = (pw: string) => `{SHA}${createHash('sha1').update(pw).digest('base64')}`;
const basic = (user: string, pw: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}` });

// Hashes of "apr-pw", "bcrypt-pw", "crypt-pw" in formats Envoy does not accept (their
// exact value does not matter: the entries are dropped before Envoy sees them).
const APR1 = '$apr1$Kx7z8Vb1$QjyQkPRh0x7qjXAnPKhJ5.';
const BCRYPT = '$2y$05$j0wkwHcoF8LUkm4crmVEruzsGJpT/VpoUJZWc3A7YQi7XPzG2C0li';
const CRYPT = 'rl0nS2dMg1E2Y';

function authFile(name: string, lines: string[]): string {
  return `apiVersion: v1
kind: Secret
metadata: { name: ${name}, namespace: default }
type: Opaque
data:
  auth: ${Buffer.from(lines.join('\n') + '\n').toString('base64')}
`;
}

function authMap(name: string, users: Record<string, string>): string {
  const data = Object.entries(users)
    .map(([u, h]) => `  ${u}: ${Buffer.from(h).toString('base64')}`)
    .join('\n');
  return `apiVersion: v1
kind: Secret
metadata: { name: ${name}, namespace: default }
type: Opaque
data:
${data}
`;
}

function ingressYaml(name: string, host: string, annotations: Record<string, string>, service = 'web'): string {
  return sharedIngressYaml(name, host, annotations, { service });
}

const N = 'nginx.ingress.kubernetes.io/';

async function diagnostics(t: TestControlPlane): Promise<Array<{ code: string; text: string; object: { name: string } }>> {
  const r = await fetch(`http://127.0.0.1:${t.cp.adminPort}/debug/diagnostics`);
  return ((await r.json()) as { diagnostics: Array<{ code: string; text: string; object: { name: string } }> }).diagnostics;
}

describe('Basic authentication through the real Envoy', () => {
  let t: TestControlPlane;
  let envoy: RunningEnvoy;
  let base: string;
  const get = (host: string, headers: Record<string, string> = {}) => request(`${base}/`, { host, headers });

  beforeAll(async () => {
    const [web, v2] = (await testBackends(['web', 'web-v2'], { distinctHosts: true })) as [Backend, Backend];
    t = await testControlPlane({
      '00-class.yaml': INGRESS_CLASS_YAML,
      '10-services.yaml': [serviceYaml('web', [web]), serviceYaml('web-v2', [v2])].join('---\n'),
      '20-file.yaml': authFile('htpasswd', ['# team', `alice:${sha('alice-pw')}`, `bob:${sha('bob-pw')}`, `apr:${APR1}`, `bcrypt:${BCRYPT}`, `crypt:${CRYPT}`, 'plain:plain-pw']),
      '21-map.yaml': authMap('usermap', { carol: sha('carol-pw'), dave: BCRYPT }),
      '22-unusable.yaml': authFile('unusable', [`apr:${APR1}`, `bcrypt:${BCRYPT}`]),
      '30-file.yaml': ingressYaml('file', 'file.example.com', { [`${N}auth-type`]: 'basic', [`${N}auth-secret`]: 'htpasswd', [`${N}auth-realm`]: 'Team' }),
      '31-canary.yaml': ingressYaml('file-canary', 'file.example.com', { [`${N}canary`]: 'true', [`${N}canary-by-header`]: 'x-canary' }, 'web-v2'),
      '32-map.yaml': ingressYaml('map', 'map.example.com', { [`${N}auth-type`]: 'basic', [`${N}auth-secret`]: 'default/usermap', [`${N}auth-secret-type`]: 'auth-map' }),
      '33-unusable.yaml': ingressYaml('unusable', 'unusable.example.com', { [`${N}auth-type`]: 'basic', [`${N}auth-secret`]: 'unusable' }),
      '34-other-ns.yaml': ingressYaml('other-ns', 'other-ns.example.com', { [`${N}auth-type`]: 'basic', [`${N}auth-secret`]: 'kube-system/htpasswd' }),
      '35-open.yaml': ingressYaml('open', 'open.example.com', { 'xgate.io/timeout': '30' }),
    });
    envoy = await testEnvoy({ xdsPort: t.cp.xdsPort });
    await envoy.waitReady(30_000);
    await envoy.waitForListener('http', 30_000);
    base = `http://127.0.0.1:${t.httpPort}`;
    await eventually(async () => (await get('open.example.com')).status === 200, 30_000);
  }, 90_000);

  afterAll(async () => {
    await envoy?.stop();
  });

  it('auth-file: the right password passes; a wrong one, an unknown user or no credentials get 401 with a Basic challenge', async () => {
    const ok = await get('file.example.com', basic('alice', 'alice-pw'));
    expect(ok.status).toBe(200);
    expect(ok.echo?.backend).toBe('web');
    expect((await get('file.example.com', basic('bob', 'bob-pw'))).status).toBe(200);
    expect((await get('file.example.com', basic('alice', 'bob-pw'))).status).toBe(401);
    expect((await get('file.example.com', basic('eve', 'alice-pw'))).status).toBe(401);
    const none = await get('file.example.com');
    expect(none.status).toBe(401);
    expect(none.echo).toBeUndefined();
    // Envoy's own challenge: the realm is the request URL, auth-realm has no effect.
    expect(String(none.headers['www-authenticate'])).toMatch(/^Basic realm="http:\/\/file\.example\.com\/"$/);
  });

  it('users whose hash is not {SHA} are dropped with a diagnostic and cannot log in', async () => {
    for (const [user, pw] of [['apr', 'apr-pw'], ['bcrypt', 'bcrypt-pw'], ['crypt', 'crypt-pw'], ['plain', 'plain-pw']] as const) {
      expect((await get('file.example.com', basic(user, pw))).status).toBe(401);
    }
    const d = (await diagnostics(t)).filter((x) => x.object.name === 'file');
    const unsupported = d.filter((x) => x.code === 'XG_AUTH_BASIC_HASH_UNSUPPORTED').map((x) => x.text);
    expect(unsupported).toHaveLength(4);
    expect(unsupported.join('\n')).toMatch(/user apr .*apr1/);
    expect(unsupported.join('\n')).toMatch(/user bcrypt .*bcrypt/);
    expect(unsupported.join('\n')).toMatch(/user crypt .*DES crypt/);
    expect(unsupported.join('\n')).toMatch(/user plain .*plain text/);
    // Diagnostics never carry the hashes.
    expect(d.map((x) => x.text).join('\n')).not.toContain(APR1);
    expect(d.some((x) => x.code === 'XG_AUTH_REALM_IGNORED')).toBe(true);
  });

  it('auth-map: user names are the keys, hashes the values', async () => {
    expect((await get('map.example.com', basic('carol', 'carol-pw'))).status).toBe(200);
    expect((await get('map.example.com', basic('carol', 'nope'))).status).toBe(401);
    expect((await get('map.example.com', basic('alice', 'alice-pw'))).status).toBe(401);
    expect((await get('map.example.com', basic('dave', 'bcrypt-pw'))).status).toBe(401);
  });

  it('a canary route of a protected primary asks for the same credentials', async () => {
    expect((await get('file.example.com', { 'x-canary': 'always' })).status).toBe(401);
    const r = await get('file.example.com', { 'x-canary': 'always', ...basic('alice', 'alice-pw') });
    expect(r.status).toBe(200);
    expect(r.echo?.backend).toBe('web-v2');
  });

  it('no usable user, or a Secret in another namespace: diagnostic, and the route fails closed', async () => {
    const d = await diagnostics(t);
    expect(d.some((x) => x.code === 'XG_AUTH_BASIC_NO_USERS' && x.object.name === 'unusable')).toBe(true);
    expect(d.some((x) => x.code === 'XG_AUTH_SECRET_NAMESPACE' && x.object.name === 'other-ns')).toBe(true);
    expect((await get('unusable.example.com', basic('apr', 'apr-pw'))).status).toBe(403);
    expect((await get('other-ns.example.com', basic('alice', 'alice-pw'))).status).toBe(403);
  });

  it('the password hashes never show in /debug/snapshot', async () => {
    const r = await fetch(`http://127.0.0.1:${t.cp.adminPort}/debug/snapshot`);
    const text = await r.text();
    expect(r.status).toBe(200);
    expect(text).toContain('BasicAuthPerRoute');
    expect(text).not.toContain(sha('alice-pw'));
    expect(text).not.toContain(sha('carol-pw'));
  });

  it('a user added to the Secret can log in without restarting Envoy, and the listeners do not change', async () => {
    const modified = async () => (await envoy.stats('^listener_manager\\.listener_modified$'))['listener_manager.listener_modified'] ?? 0;
    const before = await modified();
    const t0 = performance.now();
    t.write('20-file.yaml', authFile('htpasswd', [`alice:${sha('alice-pw')}`, `erin:${sha('erin-pw')}`]));
    await eventually(async () => (await get('file.example.com', basic('erin', 'erin-pw'))).status === 200, 30_000);
    process.stdout.write(`\n[auth-basic] htpasswd Secret rewritten → new user accepted by Envoy after ${Math.round(performance.now() - t0)} ms\n`);
    expect((await get('file.example.com', basic('bob', 'bob-pw'))).status).toBe(401);
    // Users are per route (RDS): no listener update, no connection drained.
    expect(await modified()).toBe(before);
  });
});
