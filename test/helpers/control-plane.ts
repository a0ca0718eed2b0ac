// An in-process control plane on ephemeral ports over a temp folder of manifests,
// closed after the test file.
import { mkdtempSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { silentLogger, createLogger } from '../../control-plane/src/log.js';
import { DEFAULT_PIPELINE_OPTIONS, type PipelineOptions } from '../../control-plane/src/pipeline/translate-store.js';
import { startControlPlane, type RunningControlPlane } from '../../control-plane/src/serve.js';
import type { Backend } from '../../scripts/example-backend.js';
import { freePorts } from './ports.js';

const open = new Set<{ cp: RunningControlPlane; dir: string }>();

afterAll(async () => {
  for (const o of [...open]) {
    open.delete(o);
    await o.cp.close();
    rmSync(o.dir, { recursive: true, force: true });
  }
});

export interface TestControlPlane {
  readonly cp: RunningControlPlane;
  readonly dir: string;
  readonly httpPort: number;
  readonly httpsPort: number;
  /** Writes (atomically: temp file + rename) a manifest file into the watched folder. */
  write(file: string, yaml: string): void;
}

export async function testControlPlane(files: Record<string, string>, pipeline: Partial<PipelineOptions> = {}): Promise<TestControlPlane> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'xgate-manifests-'));
  const write = (file: string, yaml: string) => {
    const tmp = path.join(dir, `.${file}.tmp`);
    writeFileSync(tmp, yaml);
    renameSync(tmp, path.join(dir, file));
  };
  for (const [f, y] of Object.entries(files)) write(f, y);
  const [httpPort, httpsPort] = await freePorts(2);
  const logger = process.env['XGATE_TEST_LOG'] ? createLogger({ level: 'debug' }) : silentLogger();
  const cp = await startControlPlane(
    {
      manifests: dir,
      xds: { host: '127.0.0.1', port: 0 },
      admin: { host: '127.0.0.1', port: 0 },
      pipeline: { ...DEFAULT_PIPELINE_OPTIONS, ...pipeline, bindAddress: '127.0.0.1', httpPort: httpPort!, httpsPort: httpsPort! },
      logLevel: 'warn',
      debounceMs: 10,
      maxDelayMs: 200,
    },
    logger,
  );
  open.add({ cp, dir });
  return { cp, dir, httpPort: httpPort!, httpsPort: httpsPort!, write };
}

/** A Service with one named port and an EndpointSlice per backend (each backend has its own port). */
export function serviceYaml(name: string, backends: readonly Backend[], ns = 'default', port = 80): string {
  const slices = backends.map(
    (b, i) => `---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: ${name}-${i + 1}, namespace: ${ns}, labels: { kubernetes.io/service-name: ${name} } }
addressType: IPv4
ports: [{ name: http, port: ${b.port} }]
endpoints:
  - addresses: ["${b.host}"]
    conditions: { ready: true }
`,
  );
  return `apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: ${ns} }
spec:
  ports: [{ name: http, port: ${port} }]
${slices.join('')}`;
}

export function tlsSecretYaml(name: string, cert: string, key: string, ns = 'default'): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return `apiVersion: v1
kind: Secret
metadata: { name: ${name}, namespace: ${ns} }
type: kubernetes.io/tls
data:
  tls.crt: ${b64(cert)}
  tls.key: ${b64(key)}
`;
}

export const INGRESS_CLASS_YAML = `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: { name: xgate }
spec: { controller: xgate.io/ingress-controller }
`;

/** An Ingress of class xgate: one Prefix path (default `/`) on `host` to `service` (default `web`) port 80, with annotations. */
export function ingressYaml(name: string, host: string, annotations: Record<string, string> = {}, opts: { service?: string; path?: string; paths?: readonly string[]; port?: number | string } = {}): string {
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
${(opts.paths ?? [opts.path ?? '/']).map((p) => `          - { path: ${p}, pathType: Prefix, backend: { service: { name: ${opts.service ?? 'web'}, port: { ${typeof opts.port === 'string' ? `name: ${opts.port}` : `number: ${opts.port ?? 80}`} } } } }\n`).join('')}`;
}
