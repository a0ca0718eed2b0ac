// Per-domain downstream TLS through the real Envoy: the TLS version negotiated per host
// (node:tls clients with minVersion / maxVersion), a cipher restriction, client mTLS
// (with a client certificate from the CA, without one, with one from another CA; the
// certificate forwarded to the backend; plain HTTP redirected), optional client
// certificates, and an invalid value failing closed (403) with its diagnostic.
import { readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { beforeAll, describe, expect, it } from 'vitest';
import { testBackends, request, type Backend } from '../helpers/backends.js';
import { INGRESS_CLASS_YAML, serviceYaml, testControlPlane, tlsSecretYaml, type TestControlPlane } from '../helpers/control-plane.js';
import { testEnvoy, type RunningEnvoy } from '../helpers/envoy.js';
import { eventually } from '../helpers/wait.js';

const CERTS = path.join(import.meta.dirname, '..', 'fixtures', 'certs');
const read = (f: string) => readFileSync(path.join(CERTS, f), 'utf8');
const N = 'nginx.ingress.kubernetes.io/';
const H = 'higress.io/';

function ingress(name: string, annotations: Record<string, string>): string {
  const ann = Object.entries(annotations).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}\n`).join('');
  return `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ${name}
  namespace: default
  annotations:${ann ? `\n${ann}` : ' {}\n'}spec:
  ingressClassName: xgate
  tls: [{ hosts: [${name}.example.com], secretName: site }]
  rules:
    - host: ${name}.example.com
      http:
        paths:
          - { path: /, pathType: Prefix, backend: { service: { name: web, port: { number: 80 } } } }
`;
}

interface TlsResult {
  readonly ok: boolean;
  readonly status?: number;
  readonly protocol?: string | null;
  readonly cipher?: string;
  readonly body?: string;
  readonly error?: string;
}

describe('per-domain downstream TLS through the real Envoy', () => {
  let web: Backend;
  let t: TestControlPlane;
  let envoy: RunningEnvoy;

  const get = (host: string, opts: Partial<https.RequestOptions> = {}): Promise<TlsResult> =>
    new Promise((resolve) => {
      const req = https.request(
        { host: '127.0.0.1', port: t.httpsPort, path: '/', servername: host, headers: { host }, ca: read('a.crt'), agent: false, ...opts },
        (res) => {
          const sock = res.socket as TLSSocket;
          const protocol = sock.getProtocol();
          const cipher = sock.getCipher().standardName ?? sock.getCipher().name;
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ ok: true, status: res.statusCode ?? 0, protocol, cipher, body: Buffer.concat(chunks).toString('utf8') }));
        },
      );
      req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
      req.on('error', (e) => resolve({ ok: false, error: e.message }));
      req.end();
    });

  beforeAll(async () => {
    [web] = (await testBackends(['web'], { distinctHosts: true })) as [Backend];
    const ca = Buffer.from(read('upstream/ca.crt')).toString('base64');
    t = await testControlPlane({
      '00-class.yaml': INGRESS_CLASS_YAML,
      '10-services.yaml': serviceYaml('web', [web]),
      '20-secrets.yaml': `${tlsSecretYaml('site', read('a.crt'), read('a.key'))}---
apiVersion: v1
kind: Secret
metadata: { name: client-ca, namespace: default }
type: Opaque
data: { ca.crt: ${ca} }
`,
      '30-ingress.yaml': [
        ingress('plain', {}),
        ingress('v12', { [`${H}tls-max-protocol-version`]: 'TLSv1.2' }),
        ingress('v13', { [`${H}tls-min-protocol-version`]: 'TLSv1.3' }),
        ingress('cipher', { [`${H}tls-max-protocol-version`]: 'TLSv1.2', [`${N}ssl-ciphers`]: 'ECDHE-RSA-AES256-GCM-SHA384' }),
        ingress('mtls', { [`${N}auth-tls-secret`]: 'default/client-ca', [`${N}auth-tls-pass-certificate-to-upstream`]: 'true' }),
        ingress('opt', { [`${N}auth-tls-secret`]: 'client-ca', [`${N}auth-tls-verify-client`]: 'optional' }),
        ingress('bad', { [`${H}ssl-cipher`]: 'HIGH:!aNULL' }),
      ].join('---\n'),
    });
    envoy = await testEnvoy({ xdsPort: t.cp.xdsPort });
    await envoy.waitReady(20_000);
    // 30 s: on a loaded CI machine the HTTPS listener once took longer than 20 s to show as active.
    await envoy.waitForListener('https', 30_000);
    await eventually(async () => (await get('plain.example.com')).status === 200, 20_000, 100);
    await eventually(async () => (await get('mtls.example.com', { cert: read('upstream/client.crt'), key: read('upstream/client.key') })).status === 200, 20_000, 100);
  }, 100_000);

  it('negotiates TLS 1.3 by default', async () => {
    expect(await get('plain.example.com')).toMatchObject({ status: 200, protocol: 'TLSv1.3' });
  });

  it('tls-max-protocol-version TLSv1.2: TLS 1.2 is negotiated, a TLS 1.3-only client fails', async () => {
    expect(await get('v12.example.com')).toMatchObject({ status: 200, protocol: 'TLSv1.2' });
    expect((await get('v12.example.com', { minVersion: 'TLSv1.3' })).ok).toBe(false);
  });

  it('tls-min-protocol-version TLSv1.3: a TLS 1.2-only client fails', async () => {
    expect(await get('v13.example.com')).toMatchObject({ status: 200, protocol: 'TLSv1.3' });
    expect((await get('v13.example.com', { maxVersion: 'TLSv1.2' })).ok).toBe(false);
    // The other hosts on the same listener still take TLS 1.2.
    expect(await get('plain.example.com', { maxVersion: 'TLSv1.2' })).toMatchObject({ status: 200, protocol: 'TLSv1.2' });
  });

  it('ssl-ciphers restricts the suite', async () => {
    expect(await get('cipher.example.com')).toMatchObject({ status: 200, protocol: 'TLSv1.2', cipher: 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384' });
    expect((await get('cipher.example.com', { ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' })).ok).toBe(false);
    expect(await get('plain.example.com', { ciphers: 'ECDHE-RSA-AES128-GCM-SHA256', maxVersion: 'TLSv1.2' })).toMatchObject({ status: 200 });
  });

  it('client mTLS: a certificate from the CA is required, and forwarded to the backend', async () => {
    const ok = await get('mtls.example.com', { cert: read('upstream/client.crt'), key: read('upstream/client.key') });
    expect(ok.status).toBe(200);
    const xfcc = String((JSON.parse(ok.body!) as { headers: Record<string, string> }).headers['x-forwarded-client-cert'] ?? '');
    expect(xfcc).toContain('Subject="CN=xgate-test-client"');
    expect(xfcc).toContain('Cert="');
    // Without a certificate: refused (TLS 1.3 reports it after the handshake, as an alert on the first read).
    const none = await get('mtls.example.com');
    expect(none.ok === false || none.status !== 200).toBe(true);
    // A certificate from another CA: refused.
    const other = await get('mtls.example.com', { cert: read('upstream/other-client.crt'), key: read('upstream/other-client.key') });
    expect(other.ok === false || other.status !== 200).toBe(true);
    // A client cannot forge the header on a host that does not forward certificates.
    const forged = await get('plain.example.com', { headers: { host: 'plain.example.com', 'x-forwarded-client-cert': 'Subject="CN=admin"' } });
    expect((JSON.parse(forged.body!) as { headers: Record<string, string> }).headers['x-forwarded-client-cert']).toBeUndefined();
  });

  it('client mTLS: plain HTTP to the host is redirected to HTTPS, not served around the check', async () => {
    const r = await request(`http://127.0.0.1:${t.httpPort}/`, { host: 'mtls.example.com' });
    expect(r.status).toBe(301);
    expect(r.headers.location).toMatch(/^https:\/\/mtls\.example\.com/);
  });

  it('auth-tls-verify-client optional: served without a certificate, refused with a bad one', async () => {
    expect((await get('opt.example.com')).status).toBe(200);
    expect((await get('opt.example.com', { cert: read('upstream/client.crt'), key: read('upstream/client.key') })).status).toBe(200);
    const other = await get('opt.example.com', { cert: read('upstream/other-client.crt'), key: read('upstream/other-client.key') });
    expect(other.ok === false || other.status !== 200).toBe(true);
  });

  it('an invalid cipher list fails closed (403) with XG_DOWNSTREAM_TLS_INVALID', async () => {
    expect((await get('bad.example.com')).status).toBe(403);
    // Plain HTTP to a TLS host is redirected to HTTPS first (ssl-redirect defaults to on), where it fails closed.
    expect((await request(`http://127.0.0.1:${t.httpPort}/`, { host: 'bad.example.com' })).status).toBe(308);
    const r = await fetch(`http://127.0.0.1:${t.cp.adminPort}/debug/diagnostics`);
    const d = ((await r.json()) as { diagnostics: Array<{ code: string; object: { name: string } }> }).diagnostics;
    expect(d.find((x) => x.object.name === 'bad')?.code).toBe('XG_DOWNSTREAM_TLS_INVALID');
  });
});
