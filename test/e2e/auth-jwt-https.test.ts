// A JWKS URL over https through the real Envoy: the external cluster verifies the JWKS
// server's certificate against the CA bundle (here the test CA, set as caBundle), and a
// server whose certificate the bundle does not trust gives no keys (requests fail closed).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { silentLogger } from '../../control-plane/src/log.js';
import { DEFAULT_PIPELINE_OPTIONS } from '../../control-plane/src/pipeline/translate-store.js';
import { startControlPlane, type RunningControlPlane } from '../../control-plane/src/serve.js';
import { testBackends, request, type Backend } from '../helpers/backends.js';
import { INGRESS_CLASS_YAML, serviceYaml } from '../helpers/control-plane.js';
import { freePorts } from '../helpers/ports.js';
import { eventually } from '../helpers/wait.js';
import { testEnvoy, type RunningEnvoy } from '../helpers/envoy.js';

const CERTS = path.join(import.meta.dirname, '..', 'fixtures', 'certs');

function ingressYaml(name: string, host: string, uri: string): string {
  return `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ${name}
  namespace: default
  annotations:
    xgate.io/jwt-issuer: https://issuer.test
    xgate.io/jwt-jwks-uri: ${JSON.stringify(uri)}
spec:
  ingressClassName: xgate
  rules:
    - host: ${host}
      http:
        paths:
          - { path: /, pathType: Prefix, backend: { service: { name: web, port: { number: 80 } } } }
`;
}

describe('JWKS over https through the real Envoy', () => {
  let cp: RunningControlPlane;
  let dir: string;
  let envoy: RunningEnvoy;
  let base: string;
  let trusted: https.Server;
  let untrusted: https.Server;
  let tok: string;

  beforeAll(async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' }] });
    tok = await new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer('https://issuer.test').setSubject('alice').setExpirationTime('1h').sign(privateKey);
    const serve = (cert: string, key: string) => https.createServer({ cert: readFileSync(path.join(CERTS, cert)), key: readFileSync(path.join(CERTS, key)) }, (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(jwks));
    trusted = serve('a.crt', 'a.key');
    untrusted = serve('b.crt', 'b.key');
    await new Promise<void>((r) => trusted.listen(0, '127.0.0.6', r));
    await new Promise<void>((r) => untrusted.listen(0, '127.0.0.7', r));
    const [web] = (await testBackends(['web'])) as [Backend];

    dir = mkdtempSync(path.join(os.tmpdir(), 'xgate-jwks-https-'));
    writeFileSync(path.join(dir, '00-class.yaml'), INGRESS_CLASS_YAML);
    writeFileSync(path.join(dir, '10-web.yaml'), serviceYaml('web', [web]));
    writeFileSync(path.join(dir, '20-trusted.yaml'), ingressYaml('trusted', 'trusted.example.com', `https://127.0.0.6:${(trusted.address() as { port: number }).port}/jwks`));
    writeFileSync(path.join(dir, '21-untrusted.yaml'), ingressYaml('untrusted', 'untrusted.example.com', `https://127.0.0.7:${(untrusted.address() as { port: number }).port}/jwks`));
    const [httpPort, httpsPort] = (await freePorts(2)) as [number, number];
    cp = await startControlPlane(
      {
        manifests: dir,
        xds: { host: '127.0.0.1', port: 0 },
        admin: { host: '127.0.0.1', port: 0 },
        // The test CA (a.crt is self-signed) is the bundle Envoy verifies JWKS servers with.
        pipeline: { ...DEFAULT_PIPELINE_OPTIONS, bindAddress: '127.0.0.1', httpPort, httpsPort, caBundle: path.join(CERTS, 'a.crt') },
        logLevel: 'warn',
        debounceMs: 10,
        maxDelayMs: 200,
      },
      silentLogger(),
    );
    envoy = await testEnvoy({ xdsPort: cp.xdsPort });
    await envoy.waitReady(30_000);
    await envoy.waitForListener('http', 30_000);
    base = `http://127.0.0.1:${httpPort}`;
  }, 90_000);

  afterAll(async () => {
    await envoy?.stop();
    await cp?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    await Promise.all([trusted, untrusted].map((s) => new Promise((r) => s?.close(r))));
  });

  it('verifies tokens with keys fetched over https from a server the CA bundle trusts', async () => {
    await eventually(async () => (await request(`${base}/`, { host: 'trusted.example.com', headers: { authorization: `Bearer ${tok}` } })).status === 200, 30_000);
    expect((await request(`${base}/`, { host: 'trusted.example.com' })).status).toBe(401);
  });

  it('gets no keys from a server the bundle does not trust: tokens are rejected', async () => {
    // Give Envoy time to try (and fail) the TLS fetch; the answer stays 401.
    await new Promise((r) => setTimeout(r, 1000));
    for (let i = 0; i < 3; i++) {
      expect((await request(`${base}/`, { host: 'untrusted.example.com', headers: { authorization: `Bearer ${tok}` } })).status).toBe(401);
    }
  });
});
