// Backend protocols through the real Envoy: HTTP2 (an h2c backend sees HTTP/2), HTTPS
// with proxy-ssl-verify (the right CA works and the client certificate reaches the
// backend; a wrong CA gets 503), HTTPS without verification, a gRPC call with
// backend-protocol GRPC and with GRPCS, a WebSocket echo (upgrades work by default), and the
// diagnostics of invalid values (those routes answer 503).
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { WebSocket, WebSocketServer } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from '../helpers/backends.js';
import { INGRESS_CLASS_YAML, testControlPlane, type TestControlPlane } from '../helpers/control-plane.js';
import { testEnvoy, type RunningEnvoy } from '../helpers/envoy.js';
import { echo, echoServiceDefinition, startGrpcEcho, type EchoReply, type EchoRequest } from '../helpers/grpc-echo.js';
import { eventually } from '../helpers/wait.js';

const PKI = path.join(import.meta.dirname, '..', 'fixtures', 'certs', 'upstream');
const pem = (f: string) => readFileSync(path.join(PKI, f), 'utf8');
const N = 'nginx.ingress.kubernetes.io/';

interface Addr {
  readonly host: string;
  readonly port: number;
}

function service(name: string, a: Addr, annotations: Record<string, string> = {}): string {
  const ann = Object.entries(annotations).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}\n`).join('');
  return `apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: default
${ann ? `  annotations:\n${ann}` : ''}spec:
  ports: [{ name: http, port: 80 }]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: ${name}-1, namespace: default, labels: { kubernetes.io/service-name: ${name} } }
addressType: IPv4
ports: [{ name: http, port: ${a.port} }]
endpoints:
  - addresses: ["${a.host}"]
    conditions: { ready: true }
`;
}

function ingress(name: string, annotations: Record<string, string>): string {
  const ann = Object.entries(annotations).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}\n`).join('');
  return `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ${name}
  namespace: default
  annotations:
${ann || '    {}\n'}spec:
  ingressClassName: xgate
  rules:
    - host: ${name}.example.com
      http:
        paths:
          - { path: /, pathType: Prefix, backend: { service: { name: ${name}, port: { number: 80 } } } }
`.replace('  annotations:\n    {}\n', '  annotations: {}\n');
}

function secret(name: string, data: Record<string, string>): string {
  const d = Object.entries(data).map(([k, v]) => `  ${k}: ${Buffer.from(v).toString('base64')}\n`).join('');
  return `apiVersion: v1
kind: Secret
metadata: { name: ${name}, namespace: default }
type: Opaque
data:
${d}`;
}

const closers: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c();
});

async function listen(server: { listen(port: number, host: string, cb: () => void): unknown; address(): AddressInfo | string | null }, host: string): Promise<Addr> {
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { host, port: (server.address() as AddressInfo).port };
}

/** h2c server: answers with the HTTP version it saw. */
async function h2cBackend(host: string): Promise<Addr> {
  const s = http2.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ backend: 'h2c', httpVersion: req.httpVersion }));
  });
  const sessions = new Set<http2.ServerHttp2Session>();
  s.on('session', (sess) => {
    sessions.add(sess);
    sess.once('close', () => sessions.delete(sess));
  });
  closers.push(() => new Promise((r) => { for (const sess of sessions) sess.destroy(); s.close(() => r()); }));
  return listen(s, host);
}

/** TLS backend (certificate for backend.example.com, signed by the test CA); `mtls`: requires a client certificate from that CA. */
async function tlsBackend(host: string, mtls: boolean): Promise<Addr> {
  const s = https.createServer(
    { cert: pem('server.crt'), key: pem('server.key'), ...(mtls ? { ca: pem('ca.crt'), requestCert: true, rejectUnauthorized: true } : {}) },
    (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ backend: mtls ? 'tls-mtls' : 'tls', httpVersion: req.httpVersion, client: peer?.subject?.CN ?? null, sni: (req.socket as TLSSocket & { servername?: string }).servername ?? null }));
    },
  );
  s.keepAliveTimeout = 120_000;
  closers.push(() => new Promise((r) => { s.closeAllConnections(); s.close(() => r()); }));
  return listen(s, host);
}

async function wsBackend(host: string): Promise<Addr> {
  const wss = new WebSocketServer({ host, port: 0 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  wss.on('connection', (sock) => sock.on('message', (m, isBinary) => sock.send(isBinary ? m : `echo:${m.toString()}`)));
  closers.push(() => new Promise((r) => { for (const c of wss.clients) c.terminate(); wss.close(() => r()); }));
  return { host, port: (wss.address() as AddressInfo).port };
}

/** gRPC echo over TLS (the test CA's server certificate): answers as `grpcs`. */
async function grpcsBackend(host: string): Promise<Addr> {
  const server = new grpc.Server();
  server.addService(echoServiceDefinition, {
    Echo: (call: grpc.ServerUnaryCall<EchoRequest, EchoReply>, cb: grpc.sendUnaryData<EchoReply>) => cb(null, { backend: 'grpcs', message: call.request.message }),
  });
  const creds = grpc.ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(pem('server.crt')), private_key: Buffer.from(pem('server.key')) }], false);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync(`${host}:0`, creds, (err, p) => (err ? reject(err) : resolve(p))));
  closers.push(() => new Promise((r) => { server.forceShutdown(); r(); }));
  return { host, port };
}

async function diagnostics(t: TestControlPlane): Promise<Array<{ code: string; object: { kind: string; name: string } }>> {
  const r = await fetch(`http://127.0.0.1:${t.cp.adminPort}/debug/diagnostics`);
  return ((await r.json()) as { diagnostics: Array<{ code: string; object: { kind: string; name: string } }> }).diagnostics;
}

describe('backend protocols through the real Envoy', () => {
  let t: TestControlPlane;
  let envoy: RunningEnvoy;
  let base: string;

  beforeAll(async () => {
    const h2c = await h2cBackend('127.0.0.51');
    const tls = await tlsBackend('127.0.0.52', false);
    const tlsMtls = await tlsBackend('127.0.0.53', true);
    const ws = await wsBackend('127.0.0.54');
    const g = await startGrpcEcho({ name: 'grpc-a', host: '127.0.0.55' });
    const gs = await grpcsBackend('127.0.0.56');
    const right = secret('upstream-right', { 'ca.crt': pem('ca.crt'), 'tls.crt': pem('client.crt'), 'tls.key': pem('client.key') });
    const wrong = secret('upstream-wrong', { 'ca.crt': pem('other-ca.crt'), 'tls.crt': pem('client.crt'), 'tls.key': pem('client.key') });
    const verified = { [`${N}backend-protocol`]: 'HTTPS', [`${N}proxy-ssl-verify`]: 'on', [`${N}proxy-ssl-name`]: 'backend.example.com', [`${N}proxy-ssl-server-name`]: 'on' };
    const ings: Record<string, [Addr, Record<string, string>]> = {
      h2: [h2c, { [`${N}backend-protocol`]: 'HTTP2' }],
      'tls-plain': [tls, { [`${N}backend-protocol`]: 'HTTPS' }],
      'tls-verified': [tlsMtls, { ...verified, [`${N}proxy-ssl-secret`]: 'default/upstream-right' }],
      'tls-wrong-ca': [tlsMtls, { ...verified, [`${N}proxy-ssl-secret`]: 'upstream-wrong' }],
      'tls-wrong-name': [tls, { ...verified, [`${N}proxy-ssl-secret`]: 'upstream-right', [`${N}proxy-ssl-name`]: 'other.example.com' }],
      ws: [ws, {}],
      grpc: [{ host: g.host, port: g.port }, { [`${N}backend-protocol`]: 'GRPC' }],
      grpcs: [gs, { ...verified, [`${N}backend-protocol`]: 'GRPCS', [`${N}proxy-ssl-secret`]: 'upstream-right' }],
      fcgi: [tls, { [`${N}backend-protocol`]: 'FCGI' }],
      'bad-verify': [tls, { [`${N}backend-protocol`]: 'HTTPS', [`${N}proxy-ssl-verify`]: 'yes' }],
    };
    t = await testControlPlane({
      '00-class.yaml': INGRESS_CLASS_YAML,
      '10-services.yaml': Object.entries(ings).map(([n, [a]]) => service(n, a)).join('---\n'),
      '20-secrets.yaml': [right, wrong].join('---\n'),
      '30-ingress.yaml': Object.entries(ings).map(([n, [, a]]) => ingress(n, a)).join('---\n'),
    });
    envoy = await testEnvoy({ xdsPort: t.cp.xdsPort });
    await envoy.waitReady(20_000);
    await envoy.waitForListener('http', 20_000);
    base = `http://127.0.0.1:${t.httpPort}`;
    await eventually(async () => (await request(`${base}/`, { host: 'tls-verified.example.com' })).status === 200, 20_000, 100);
  }, 90_000);

  it('HTTP2: the backend is spoken to in HTTP/2 without TLS (h2c)', async () => {
    const r = await request(`${base}/`, { host: 'h2.example.com' });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ backend: 'h2c', httpVersion: '2.0' });
  });

  it('HTTPS without verification reaches a TLS backend', async () => {
    const r = await request(`${base}/`, { host: 'tls-plain.example.com' });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ backend: 'tls', httpVersion: '1.1', client: null });
  });

  it('HTTPS with proxy-ssl-verify on and the right CA works, sends SNI and the client certificate', async () => {
    const r = await request(`${base}/`, { host: 'tls-verified.example.com' });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ backend: 'tls-mtls', client: 'xgate-test-client', sni: 'backend.example.com' });
  });

  it('HTTPS with proxy-ssl-verify on and a wrong CA, or a wrong name, fails (503)', async () => {
    const r = await request(`${base}/`, { host: 'tls-wrong-ca.example.com' });
    expect(r.status).toBe(503);
    const n = await request(`${base}/`, { host: 'tls-wrong-name.example.com' });
    expect(n.status).toBe(503);
  });

  it('a gRPC call goes through Envoy to a GRPC backend', async () => {
    const client = new grpc.Client(`127.0.0.1:${t.httpPort}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': 'grpc.example.com' });
    try {
      const reply = await echo(client, 'hello', { deadlineMs: 10_000 });
      expect(reply).toEqual({ backend: 'grpc-a', message: 'hello' });
    } finally {
      client.close();
    }
  });

  it('a gRPC call goes through Envoy to a GRPCS backend (HTTP/2 over verified TLS, ALPN h2)', async () => {
    const client = new grpc.Client(`127.0.0.1:${t.httpPort}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': 'grpcs.example.com' });
    try {
      expect(await echo(client, 'secure', { deadlineMs: 10_000 })).toEqual({ backend: 'grpcs', message: 'secure' });
    } finally {
      client.close();
    }
  });

  it('a WebSocket echo goes through Envoy (upgrade works by default)', async () => {
    const sock = new WebSocket(`ws://127.0.0.1:${t.httpPort}/chat`, { headers: { host: 'ws.example.com' } });
    const reply = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no WebSocket reply')), 10_000);
      sock.once('error', reject);
      sock.once('open', () => sock.send('ping'));
      sock.once('message', (m) => {
        clearTimeout(timer);
        resolve(m.toString());
      });
    });
    sock.close();
    expect(reply).toBe('echo:ping');
  });

  it('unsupported and invalid values answer 503 with a diagnostic', async () => {
    expect((await request(`${base}/`, { host: 'fcgi.example.com' })).status).toBe(503);
    expect((await request(`${base}/`, { host: 'bad-verify.example.com' })).status).toBe(503);
    const d = await diagnostics(t);
    expect(d.find((x) => x.object.name === 'fcgi')?.code).toBe('XG_BACKEND_PROTOCOL_UNSUPPORTED');
    expect(d.find((x) => x.object.name === 'bad-verify')?.code).toBe('XG_UPSTREAM_TLS_INVALID');
  });
});
