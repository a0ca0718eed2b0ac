// Traffic through Envoy for canary measurements (B2 and the canary e2e tests): many
// requests over keep-alive connections with bounded concurrency, counted by the
// backend that answered (scripts/example-backend.ts echoes its name).
import http from 'node:http';

export interface TrafficOptions {
  /** Envoy's HTTP listener port on 127.0.0.1. */
  readonly port: number;
  readonly host: string;
  readonly path?: string;
  readonly headers?: Record<string, string>;
  /** Requests in flight at once (default 32). */
  readonly concurrency?: number;
}

export interface Tally {
  /** Answers per backend name; non-backend answers as `status:<code>`, failures as `error`. */
  readonly counts: Record<string, number>;
  readonly total: number;
  readonly ms: number;
}

/** A keep-alive traffic source; close() ends its connections. */
export class Traffic {
  private readonly agent: http.Agent;

  constructor(private readonly concurrencyDefault = 32) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  }

  one(o: TrafficOptions): Promise<string> {
    return new Promise((resolve) => {
      const req = http.request(
        { host: '127.0.0.1', port: o.port, path: o.path ?? '/', method: 'GET', agent: this.agent, headers: { host: o.host, ...o.headers } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const body = Buffer.concat(chunks).toString('utf8');
            try {
              const b = (JSON.parse(body) as { backend?: unknown }).backend;
              resolve(res.statusCode === 200 && typeof b === 'string' ? b : `status:${res.statusCode}`);
            } catch {
              resolve(`status:${res.statusCode}`);
            }
          });
          res.on('error', () => resolve('error'));
        },
      );
      req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
      req.on('error', () => resolve('error'));
      req.end();
    });
  }

  /** `n` requests, `concurrency` at a time. */
  async run(n: number, o: TrafficOptions): Promise<Tally> {
    const counts: Record<string, number> = {};
    let next = 0;
    const t0 = performance.now();
    const worker = async () => {
      while (next < n) {
        next++;
        const b = await this.one(o);
        counts[b] = (counts[b] ?? 0) + 1;
      }
    };
    await Promise.all(Array.from({ length: Math.min(n, o.concurrency ?? this.concurrencyDefault) }, worker));
    return { counts, total: n, ms: performance.now() - t0 };
  }

  /**
   * Sends batches of `batch` requests until `done(tally)` holds; returns the time from
   * `since` (performance.now()) to the end of the first batch that satisfied it.
   */
  async until(done: (t: Tally) => boolean, o: TrafficOptions & { since: number; batch?: number; timeoutMs?: number }): Promise<{ ms: number; tally: Tally; batches: number }> {
    const deadline = o.since + (o.timeoutMs ?? 10_000);
    let batches = 0;
    for (;;) {
      const tally = await this.run(o.batch ?? 200, o);
      batches++;
      const now = performance.now();
      if (done(tally)) return { ms: now - o.since, tally, batches };
      if (now > deadline) throw new Error(`traffic did not reach the expected state within ${o.timeoutMs ?? 10_000} ms; last batch ${JSON.stringify(tally.counts)}`);
    }
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Share of `name` in a tally, in percent. */
export function share(t: Tally, name: string): number {
  return ((t.counts[name] ?? 0) * 100) / t.total;
}

/** The routes Envoy currently serves for one virtual host (from /config_dump), or undefined. */
export async function envoyRoutes(envoy: { configDump(query?: string): Promise<unknown> }, vhost: string): Promise<unknown[] | undefined> {
  const dump = await envoy.configDump('resource=dynamic_route_configs');
  let found: unknown[] | undefined;
  const walk = (v: unknown): void => {
    if (found || !v || typeof v !== 'object') return;
    if (Array.isArray(v)) return v.forEach(walk);
    const o = v as Record<string, unknown>;
    if (o['name'] === vhost && Array.isArray(o['routes']) && Array.isArray(o['domains'])) {
      found = o['routes'];
      return;
    }
    Object.values(o).forEach(walk);
  };
  walk(dump);
  return found;
}

/** Polls /config_dump until the virtual host's routes satisfy `ok`; returns the time it took. */
export async function waitForEnvoyRoutes(envoy: { configDump(query?: string): Promise<unknown> }, vhost: string, ok: (routes: unknown[]) => boolean, timeoutMs = 10_000): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const routes = await envoyRoutes(envoy, vhost).catch(() => undefined);
    if (routes && ok(routes)) return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs) throw new Error(`Envoy's routes for ${vhost} did not reach the expected state in ${timeoutMs} ms: ${JSON.stringify(routes)}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
