// The CLI as a user runs it: a process, its stdout, stderr and exit code.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const EXAMPLES = path.join(ROOT, 'examples');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'xgate-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

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

describe('xgate translate', () => {
  it('prints the resources of the examples as YAML, with keys redacted', async () => {
    const r = await xgate(['translate', '-f', EXAMPLES]);
    expect(r.code).toBe(0);
    const out = parse(r.stdout) as { resources: { listeners: Array<{ name: string }>; secrets: Array<{ tls_certificate: { private_key: { inline_string: string } } }> }; diagnostics: string[] };
    expect(out.resources.listeners.map((l) => l.name)).toEqual(['http', 'https']);
    expect(out.resources.secrets.length).toBe(2);
    expect(r.stdout).not.toContain('PRIVATE KEY');
    expect(r.stdout).toContain('[redacted]');
    expect(out.diagnostics).toEqual([]);
    expect(r.stderr).toContain('0 error(s), 0 warning(s)');
  });

  it('prints JSON with -o json, and API listeners with --group grpc', async () => {
    const r = await xgate(['translate', '-f', EXAMPLES, '-o', 'json', '--group', 'grpc']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { resources: { listeners: Array<{ name: string; api_listener?: unknown }> } };
    expect(out.resources.listeners.map((l) => l.name)).toEqual(['api.example.local', 'web.example.local']);
    expect(out.resources.listeners.every((l) => l.api_listener)).toBe(true);
  });

  it('reports every diagnostic and still prints the rest', async () => {
    const f = path.join(tmp, 'bad.yaml');
    writeFileSync(
      f,
      `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: broken, namespace: default }
spec:
  ingressClassName: xgate
  rules:
    - host: a.example.com
      http:
        paths:
          - { path: /, pathType: Prefix, backend: { service: { name: missing, port: { number: 80 } } } }
`,
    );
    const r = await xgate(['translate', '-f', f]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('error XG_SERVICE_NOT_FOUND Ingress default/broken (spec.rules[0].http.paths[0].backend)');
    expect(r.stdout).toContain('direct_response');
  });

  it('refuses bad usage with exit code 2', async () => {
    expect((await xgate(['translate'])).code).toBe(2);
    expect((await xgate(['translate', '-f', EXAMPLES, '-o', 'xml'])).code).toBe(2);
    expect((await xgate(['frobnicate'])).code).toBe(2);
  });
});

describe('xgate validate', () => {
  it('accepts the examples with the real Envoy', async () => {
    const r = await xgate(['validate', '-f', EXAMPLES]);
    expect(r.stderr).toContain('envoy accepted the configuration');
    expect(r.code).toBe(0);
  });

  it('exits non-zero on an error-level diagnostic', async () => {
    const f = path.join(tmp, 'missing-secret.yaml');
    writeFileSync(
      f,
      `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: tls, namespace: default }
spec:
  ingressClassName: xgate
  tls: [{ hosts: [a.example.com], secretName: nope }]
  defaultBackend: { service: { name: x, port: { number: 80 } } }
`,
    );
    const r = await xgate(['validate', '-f', f]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('XG_SERVICE_NOT_FOUND');
    expect(r.stderr).toContain('error XG_SECRET_NOT_FOUND Ingress default/tls (spec.tls[0].secretName)');
  });
});
