// Helpers for the access e2e tests (test/e2e/access-*.test.ts): a control plane with
// instance-level options (IP lists, trusted hops, the WAF module), and an HTTP client
// whose socket is bound to a chosen 127.0.0.x source address.
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { ingressYaml as sharedIngressYaml } from '../helpers/control-plane.js';
import { afterAll } from 'vitest';
import { silentLogger } from '../../control-plane/src/log.js';
import { DEFAULT_PIPELINE_OPTIONS, type PipelineOptions } from '../../control-plane/src/pipeline/translate-store.js';
import { startControlPlane, type RunningControlPlane } from '../../control-plane/src/serve.js';
import { freePorts } from '../helpers/ports.js';

const open = new Set<{ cp: RunningControlPlane; dir: string }>();

afterAll(async () => {
  for (const o of [...open]) {
    open.delete(o);
    await o.cp.close();
    rmSync(o.dir, { recursive: true, force: true });
  }
});

export interface AccessControlPlane {
  readonly cp: RunningControlPlane;
  readonly httpPort: number;
  /** Writes (atomically) a manifest file into the watched folder. */
  write(file: string, yaml: string): void;
}

/** A control plane over `files` with extra pipeline options (closed after the test file). */
export async function accessControlPlane(files: Record<string, string>, extra: Partial<PipelineOptions>): Promise<AccessControlPlane> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'xgate-access-'));
  for (const [f, y] of Object.entries(files)) writeFileSync(path.join(dir, f), y);
  const [httpPort, httpsPort] = await freePorts(2);
  const cp = await startControlPlane(
    {
      manifests: dir,
      xds: { host: '127.0.0.1', port: 0 },
      admin: { host: '127.0.0.1', port: 0 },
      pipeline: { ...DEFAULT_PIPELINE_OPTIONS, bindAddress: '127.0.0.1', httpPort: httpPort!, httpsPort: httpsPort!, ...extra },
      logLevel: 'warn',
      debounceMs: 10,
      maxDelayMs: 200,
    },
    silentLogger(),
  );
  open.add({ cp, dir });
  const write = (file: string, yaml: string) => {
    const tmp = path.join(dir, `.${file}.tmp`);
    writeFileSync(tmp, yaml);
    renameSync(tmp, path.join(dir, file));
  };
  return { cp, httpPort: httpPort!, write };
}

export interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export interface SendOptions {
  readonly host: string;
  /** Envoy's listener address; default 127.0.0.1. */
  readonly address?: string;
  readonly path?: string;
  readonly method?: string;
  /** Source address of the client socket (any 127.0.0.x on Linux). */
  readonly from?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly agent?: http.Agent | false;
}

/** One request to Envoy's HTTP listener on 127.0.0.1:port. */
export function send(port: number, o: SendOptions): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: o.address ?? '127.0.0.1',
        port,
        method: o.method ?? 'GET',
        path: o.path ?? '/',
        headers: { host: o.host, ...o.headers },
        agent: o.agent ?? false,
        ...(o.from ? { localAddress: o.from } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error(`timeout: ${o.host}${o.path ?? '/'}`)));
    req.on('error', reject);
    req.end(o.body);
  });
}

/** An Ingress with one Prefix path to Service `web`, and annotations. */
export function ingressYaml(name: string, host: string, annotations: Record<string, string>, pathPrefix = '/'): string {
  return sharedIngressYaml(name, host, annotations, { path: pathPrefix });
}
