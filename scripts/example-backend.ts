// A tiny HTTP backend for the demo, tests and benchmarks: every request gets 200 and a
// JSON echo { backend, method, path, host, headers }.
//
//   node dist/scripts/example-backend.js --name x --listen 127.0.0.2:9001
//
// Opt-in test knobs, by request header (absent: plain 200 at once):
//   x-backend-delay-ms: N    answer after N ms (at most 60000): long requests
//   x-backend-status: NNN    answer with this status (100 < NNN < 600) instead of 200
//
// Keep-alive: the idle timeout is long (120 s) on purpose. Envoy reuses upstream
// connections for up to an hour; a backend closing an idle connection at Node's 5 s
// default races with Envoy reusing it and shows up as spurious 503s under load.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';

export interface BackendOptions {
  readonly name: string;
  /** A 127.0.0.x address (all of 127.0.0.0/8 is on lo on Linux). Default 127.0.0.1. */
  readonly host?: string;
  /** 0 = ephemeral. Default 0. */
  readonly port?: number;
}

export interface BackendEcho {
  readonly backend: string;
  readonly method: string;
  /** The raw request target (path and query, as received). */
  readonly path: string;
  /** The Host header (":authority" for HTTP/2 clients after Envoy's translation). */
  readonly host: string;
  readonly headers: http.IncomingHttpHeaders;
}

export interface Backend {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** http://host:port */
  readonly url: string;
  /** Requests answered so far (live count). */
  readonly requests: number;
  /** Closes the listener and every connection (idle or not). Idempotent. */
  close(): Promise<void>;
}

const MAX_DELAY_MS = 60_000;

export async function startBackend(opts: BackendOptions): Promise<Backend> {
  const name = opts.name;
  const host = opts.host ?? '127.0.0.1';
  let requests = 0;
  const server = http.createServer({ keepAlive: true }, (req, res) => {
    // Drain any body, then answer.
    req.resume();
    req.on('end', () => {
      const echo: BackendEcho = {
        backend: name,
        method: req.method ?? '',
        path: req.url ?? '',
        host: req.headers.host ?? '',
        headers: req.headers,
      };
      const body = JSON.stringify(echo);
      const statusHeader = Number(req.headers['x-backend-status']);
      const status = Number.isInteger(statusHeader) && statusHeader > 100 && statusHeader < 600 ? statusHeader : 200;
      const delay = Math.min(MAX_DELAY_MS, Math.max(0, Number(req.headers['x-backend-delay-ms']) || 0));
      const send = (): void => {
        if (res.destroyed) return;
        requests++;
        res.writeHead(status, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'x-backend': name,
        });
        res.end(body);
      };
      if (delay > 0) {
        const t = setTimeout(send, delay);
        res.once('close', () => clearTimeout(t));
      } else {
        send();
      }
    });
  });
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 125_000;
  server.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: opts.port ?? 0 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    name,
    host,
    port,
    url: `http://${host}:${port}`,
    get requests() {
      return requests;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

// ---- command line -------------------------------------------------------------------

function parseArgs(argv: readonly string[]): { name: string; host: string; port: number } {
  let name = 'backend';
  let listen = '127.0.0.1:0';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--name') name = value();
    else if (a === '--listen') listen = value();
    else if (a?.startsWith('--name=')) name = a.slice('--name='.length);
    else if (a?.startsWith('--listen=')) listen = a.slice('--listen='.length);
    else if (a === '--help' || a === '-h') {
      process.stdout.write('usage: example-backend --name NAME --listen HOST:PORT\n');
      process.exit(0);
    } else throw new Error(`unknown argument: ${a}`);
  }
  const m = /^(.+):(\d+)$/.exec(listen);
  if (!m?.[1] || m[2] === undefined) throw new Error(`--listen wants HOST:PORT, got ${listen}`);
  const port = Number(m[2]);
  if (port > 65535) throw new Error(`bad port in --listen ${listen}`);
  return { name, host: m[1], port };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const backend = await startBackend(args);
  // One JSON line on stdout so scripts can learn the port when --listen used port 0.
  process.stdout.write(`${JSON.stringify({ backend: backend.name, listening: `${backend.host}:${backend.port}` })}\n`);
  const shutdown = (): void => {
    void backend.close().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`example-backend: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
