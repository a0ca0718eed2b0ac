// Test backends (scripts/example-backend.ts) that close themselves after the test file.
//
//   const b = await testBackend({ name: 'v1', host: '127.0.0.2' });
//   ... route Envoy to b.host:b.port; JSON replies say which backend answered.
import http from 'node:http';
import { afterAll } from 'vitest';
import { startBackend, type Backend, type BackendEcho, type BackendOptions } from '../../scripts/example-backend.js';

export { startBackend, type Backend, type BackendEcho, type BackendOptions };

const open = new Set<Backend>();

afterAll(async () => {
  await closeAllBackends();
});

/** startBackend, closed automatically after the test file (or by closeAllBackends()). */
export async function testBackend(opts: BackendOptions): Promise<Backend> {
  const b = await startBackend(opts);
  open.add(b);
  const close = b.close.bind(b);
  return Object.defineProperties(b, {
    close: {
      value: async () => {
        open.delete(b);
        await close();
      },
    },
  });
}

/** Several backends named `names`, one per 127.0.0.x address when `distinctHosts`. */
export async function testBackends(names: readonly string[], opts: { distinctHosts?: boolean } = {}): Promise<Backend[]> {
  return Promise.all(names.map((name, i) => testBackend({ name, host: opts.distinctHosts ? `127.0.0.${i + 2}` : '127.0.0.1' })));
}

export async function closeAllBackends(): Promise<void> {
  const all = [...open];
  open.clear();
  await Promise.all(all.map((b) => b.close()));
}

export interface EchoResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  /** Parsed JSON echo when the body is one (an answer from a backend), else undefined. */
  readonly echo: BackendEcho | undefined;
  readonly body: string;
}

/**
 * One HTTP/1.1 request on a fresh connection (e.g. through Envoy), with an optional
 * Host header; parses a backend's JSON echo.
 */
export function request(url: string, opts: { host?: string; method?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number } = {}): Promise<EchoResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.host) headers['host'] = opts.host;
    const req = http.request(url, { method: opts.method ?? 'GET', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let echo: BackendEcho | undefined;
        try {
          const parsed = JSON.parse(body) as Partial<BackendEcho>;
          if (parsed && typeof parsed.backend === 'string') echo = parsed as BackendEcho;
        } catch {
          // not a backend's answer (e.g. Envoy's 404/503 text)
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, echo, body });
      });
    });
    const timeoutMs = opts.timeoutMs ?? 10_000;
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout after ${timeoutMs} ms: ${url}`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}
