// `xgate translate` fetches the OIDC discovery documents the manifests ask for (once,
// bounded) before translating; an unreachable issuer is a diagnostic and a 503 route.
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'xgate-cli-oidc-'));
let server: http.Server;
let issuer: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/.well-known/openid-configuration') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ issuer, authorization_endpoint: `${issuer}/auth`, token_endpoint: `${issuer}/token` }));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  rmSync(tmp, { recursive: true, force: true });
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
});

function xgate(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'control-plane/src/main.ts'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function manifests(iss: string): string {
  return `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: { name: xgate }
spec: { controller: xgate.io/ingress-controller }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: default }
spec: { ports: [{ name: http, port: 80 }] }
---
apiVersion: v1
kind: Secret
metadata: { name: oidc, namespace: default }
stringData: { client-secret: do-not-print-me }
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: shop
  namespace: default
  annotations:
    xgate.io/oidc-issuer: ${iss}
    xgate.io/oidc-client-id: shop
    xgate.io/oidc-client-secret: oidc
spec:
  ingressClassName: xgate
  rules:
    - host: shop.example.com
      http:
        paths:
          - { path: /, pathType: Prefix, backend: { service: { name: web, port: { number: 80 } } } }
`;
}

describe('xgate translate with OIDC', () => {
  it('fetches the discovery document before translating', async () => {
    const file = path.join(tmp, 'ok.yaml');
    writeFileSync(file, manifests(issuer));
    const r = await xgate(['translate', '-f', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`authorization_endpoint: ${issuer}/auth`);
    expect(r.stdout).toContain('envoy.extensions.filters.http.oauth2.v3.OAuth2');
    expect(r.stdout).not.toContain('do-not-print-me');
    expect(r.stderr).toContain('0 error(s)');
  }, 60_000);

  it('reports an unreachable issuer and fails the route closed', async () => {
    const file = path.join(tmp, 'down.yaml');
    writeFileSync(file, manifests('http://127.0.0.1:9'));
    const r = await xgate(['translate', '-f', file]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('XG_OIDC_DISCOVERY');
    expect(r.stdout).toContain('status: 503');
  }, 60_000);
});
