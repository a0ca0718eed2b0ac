// JWT authentication end to end through the real Envoy: tokens signed with jose, JWKS
// from a Secret and from a URL Envoy fetches itself, token from header / query / cookie,
// claims forwarded as headers, allow-missing, JWKS rotation by rewriting the Secret,
// canary routes inheriting the requirement, bad configuration failing closed.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { testBackends, request, type Backend } from '../helpers/backends.js';
import { INGRESS_CLASS_YAML, serviceYaml, testControlPlane, type TestControlPlane, ingressYaml as sharedIngressYaml } from '../helpers/control-plane.js';
import { eventually } from '../helpers/wait.js';
import { testEnvoy, type RunningEnvoy } from '../helpers/envoy.js';

const ISSUER = 'https://issuer.test';

interface Key {
  readonly priv: CryptoKey;
  readonly jwk: JWK;
}

async function key(kid: string): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return { priv: privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

function jwks(...keys: Key[]): string {
  return JSON.stringify({ keys: keys.map((k) => k.jwk) });
}

async function token(k: Key, claims: Record<string, unknown> = {}, opts: { iss?: string; aud?: string; exp?: number } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ email: 'alice@example.com', ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: k.jwk.kid! })
    .setIssuer(opts.iss ?? ISSUER)
    .setAudience(opts.aud ?? 'api')
    .setSubject('alice')
    .setIssuedAt(now - 10)
    .setExpirationTime(opts.exp ?? now + 3600)
    .sign(k.priv);
}

function secretYaml(name: string, json: string): string {
  return `apiVersion: v1
kind: Secret
metadata: { name: ${name}, namespace: default }
type: Opaque
stringData:
  jwks.json: '${json}'
`;
}

function ingressYaml(name: string, host: string, annotations: Record<string, string>, service = 'web'): string {
  return sharedIngressYaml(name, host, annotations, { service });
}

async function diagnostics(t: TestControlPlane): Promise<Array<{ code: string; object: { name: string } }>> {
  const r = await fetch(`http://127.0.0.1:${t.cp.adminPort}/debug/diagnostics`);
  return ((await r.json()) as { diagnostics: Array<{ code: string; object: { name: string } }> }).diagnostics;
}

describe('JWT authentication through the real Envoy', () => {
  let t: TestControlPlane;
  let envoy: RunningEnvoy;
  let base: string;
  let jwksServer: http.Server;
  let jwksHits = 0;
  let k1: Key, k2: Key, k3: Key, stranger: Key;

  const get = (host: string, headers: Record<string, string> = {}, path = '/') => request(`${base}${path}`, { host, headers });
  const bearer = (tok: string) => ({ authorization: `Bearer ${tok}` });

  beforeAll(async () => {
    [k1, k2, k3, stranger] = await Promise.all([key('k1'), key('k2'), key('k3'), key('k1')]);
    const [web, v2] = (await testBackends(['web', 'web-v2'], { distinctHosts: true })) as [Backend, Backend];
    // The JWKS URL: a plain HTTP server on its own loopback address, serving k3.
    jwksServer = http.createServer((req, res) => {
      jwksHits++;
      if (req.url !== '/.well-known/jwks.json') return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(jwks(k3));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.5', resolve));
    const jwksPort = (jwksServer.address() as { port: number }).port;

    t = await testControlPlane({
      '00-class.yaml': INGRESS_CLASS_YAML,
      '10-services.yaml': [serviceYaml('web', [web]), serviceYaml('web-v2', [v2])].join('---\n'),
      '20-jwks.yaml': secretYaml('jwks', jwks(k1)),
      '21-bad-jwks.yaml': secretYaml('bad-jwks', '{"keys": [ {"kty": "RSA", "n": "abc"}]}'),
      '30-secret.yaml': ingressYaml('from-secret', 'secret.example.com', {
        'xgate.io/jwt-issuer': ISSUER,
        'xgate.io/jwt-audiences': 'api,web',
        'xgate.io/jwt-jwks-secret': 'jwks',
        'xgate.io/jwt-claim-to-header': 'sub=x-user,email=x-email',
      }),
      '31-canary.yaml': ingressYaml(
        'from-secret-canary',
        'secret.example.com',
        { 'nginx.ingress.kubernetes.io/canary': 'true', 'nginx.ingress.kubernetes.io/canary-by-header': 'x-canary' },
        'web-v2',
      ),
      '32-url.yaml': ingressYaml('from-url', 'url.example.com', {
        'xgate.io/jwt-issuer': ISSUER,
        'xgate.io/jwt-jwks-uri': `http://127.0.0.5:${jwksPort}/.well-known/jwks.json`,
        'xgate.io/jwt-from-query': 'token',
        'xgate.io/jwt-from-cookie': 'jwt',
        'xgate.io/jwt-allow-missing': 'true',
        'xgate.io/jwt-claim-to-header': 'sub=x-user',
      }),
      '33-open.yaml': ingressYaml('open', 'open.example.com', { 'xgate.io/timeout': '30' }),
      '34-bad-jwks.yaml': ingressYaml('bad-jwks', 'bad-jwks.example.com', { 'xgate.io/jwt-issuer': ISSUER, 'xgate.io/jwt-jwks-secret': 'bad-jwks' }),
      '35-bad-url.yaml': ingressYaml('bad-url', 'bad-url.example.com', { 'xgate.io/jwt-issuer': ISSUER, 'xgate.io/jwt-jwks-uri': 'http://127.0.0.5/jwks;\n}' }),
      '36-no-url.yaml': ingressYaml('no-url', 'no-url.example.com', { 'xgate.io/jwt-issuer': ISSUER, 'xgate.io/jwt-jwks-uri': 'keys.json' }),
    });
    envoy = await testEnvoy({ xdsPort: t.cp.xdsPort });
    await envoy.waitReady(30_000);
    await envoy.waitForListener('http', 30_000);
    base = `http://127.0.0.1:${t.httpPort}`;
    await eventually(async () => (await get('open.example.com')).status === 200, 30_000);
  }, 90_000);

  afterAll(async () => {
    await envoy?.stop();
    await new Promise((resolve) => jwksServer?.close(resolve));
  });

  it('accepts a valid token from a Secret JWKS and forwards its claims as headers, not the token', async () => {
    const r = await get('secret.example.com', bearer(await token(k1)));
    expect(r.status).toBe(200);
    expect(r.echo?.backend).toBe('web');
    expect(r.echo?.headers['x-user']).toBe('alice');
    expect(r.echo?.headers['x-email']).toBe('alice@example.com');
    // jwt-forward is off: Envoy strips the token before the backend.
    expect(r.echo?.headers['authorization']).toBeUndefined();
    // A second audience of the list is accepted too.
    expect((await get('secret.example.com', bearer(await token(k1, {}, { aud: 'web' })))).status).toBe(200);
  });

  it('a claim header sent by the client is replaced by the verified claim, or removed when the token lacks the claim', async () => {
    const r = await get('secret.example.com', { ...bearer(await token(k1)), 'x-user': 'mallory', 'x-email': 'mallory@example.com' });
    expect(r.status).toBe(200);
    expect(r.echo?.headers['x-user']).toBe('alice');
    expect(r.echo?.headers['x-email']).toBe('alice@example.com');
    const noEmail = await get('secret.example.com', { ...bearer(await token(k1, { email: undefined })), 'x-email': 'mallory@example.com' });
    expect(noEmail.status).toBe(200);
    expect(noEmail.echo?.headers['x-email']).toBeUndefined();
  });

  it('rejects a missing, expired, wrongly issued, wrong-audience or badly signed token', async () => {
    const missing = await get('secret.example.com');
    expect(missing.status).toBe(401);
    expect(missing.echo).toBeUndefined();
    const now = Math.floor(Date.now() / 1000);
    expect((await get('secret.example.com', bearer(await token(k1, {}, { exp: now - 3600 })))).status).toBe(401);
    expect((await get('secret.example.com', bearer(await token(k1, {}, { iss: 'https://evil.test' })))).status).toBe(401);
    expect((await get('secret.example.com', bearer(await token(k1, {}, { aud: 'other' })))).status).toBe(403);
    // Same kid, another key: the signature does not verify.
    expect((await get('secret.example.com', bearer(await token(stranger)))).status).toBe(401);
    expect((await get('secret.example.com', bearer('not.a.jwt'))).status).toBe(401);
    // Only the Authorization header is read by default, not the query.
    expect((await get('secret.example.com', {}, `/?access_token=${await token(k1)}`)).status).toBe(401);
  });

  it('a canary route of a JWT-protected primary requires the token too', async () => {
    expect((await get('secret.example.com', { 'x-canary': 'always' })).status).toBe(401);
    const r = await get('secret.example.com', { 'x-canary': 'always', ...bearer(await token(k1)) });
    expect(r.status).toBe(200);
    expect(r.echo?.backend).toBe('web-v2');
    expect(r.echo?.headers['x-user']).toBe('alice');
  });

  it('fetches the JWKS from a URL; reads the token from query or cookie; allow-missing lets requests without a token through', async () => {
    const tok = await token(k3);
    const q = await get('url.example.com', {}, `/?token=${tok}`);
    expect(q.status).toBe(200);
    expect(q.echo?.headers['x-user']).toBe('alice');
    const c = await get('url.example.com', { cookie: `other=1; jwt=${tok}` });
    expect(c.status).toBe(200);
    expect(c.echo?.headers['x-user']).toBe('alice');
    expect(jwksHits).toBeGreaterThan(0);
    // No token: allowed (jwt-allow-missing), no claim header.
    const none = await get('url.example.com');
    expect(none.status).toBe(200);
    expect(none.echo?.headers['x-user']).toBeUndefined();
    // Envoy removes a claim header the client sent itself, token or not.
    expect((await get('url.example.com', { 'x-user': 'mallory' })).echo?.headers['x-user']).toBeUndefined();
    // A present but invalid token is still rejected.
    expect((await get('url.example.com', {}, `/?token=${await token(k1)}`)).status).toBe(401);
    // The Authorization header is not a source here (only query and cookie are configured).
    expect((await get('url.example.com', bearer(await token(k1)))).status).toBe(200);
  });

  it('a malformed JWKS or a JWKS URL that is not a URL gives a diagnostic and the route fails closed', async () => {
    const d = await diagnostics(t);
    expect(d.some((x) => x.code === 'XG_AUTH_JWKS_INVALID' && x.object.name === 'bad-jwks')).toBe(true);
    expect(d.some((x) => x.code === 'XG_ANNOTATION_INVALID' && x.object.name === 'bad-url')).toBe(true);
    expect(d.some((x) => x.code === 'XG_ANNOTATION_INVALID' && x.object.name === 'no-url')).toBe(true);
    for (const host of ['bad-jwks.example.com', 'bad-url.example.com', 'no-url.example.com']) {
      const r = await get(host, bearer(await token(k1)));
      expect(r.status).toBe(403);
      expect(r.echo).toBeUndefined();
    }
  });

  it('takes a rotated JWKS (Secret rewritten) without restarting Envoy: the new key is accepted, the old one rejected', async () => {
    const old = await token(k1);
    const fresh = await token(k2);
    expect((await get('secret.example.com', bearer(fresh))).status).toBe(401);
    const modified = async () => (await envoy.stats('^listener_manager\\.listener_modified$'))['listener_manager.listener_modified'] ?? 0;
    const before = await modified();
    const t0 = performance.now();
    t.write('20-jwks.yaml', secretYaml('jwks', jwks(k2)));
    await eventually(async () => (await get('secret.example.com', bearer(fresh))).status === 200, 30_000);
    process.stdout.write(`\n[auth-jwt] JWKS Secret rewritten → new key accepted by Envoy after ${Math.round(performance.now() - t0)} ms\n`);
    expect((await get('secret.example.com', bearer(old))).status).toBe(401);
    // The providers live in the listener: a rotation is a listener update (in place, same process).
    expect(await modified()).toBeGreaterThan(before);
    // Other hosts kept working throughout.
    expect((await get('open.example.com')).status).toBe(200);
  });
});
