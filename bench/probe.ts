// HTTP through Envoy for the B2–B4 benchmarks: undici pools (keep-alive connections
// that live for the whole run), a host probe that polls until an answer, and a
// status/backend reading of the example backends' JSON echo.
import { Pool } from 'undici';

export function pool(port: number, connections = 4): Pool {
  return new Pool(`http://127.0.0.1:${port}`, { connections, pipelining: 1, keepAliveTimeout: 600_000, keepAliveMaxTimeout: 600_000, headersTimeout: 15_000, bodyTimeout: 15_000 });
}

export interface Answer {
  readonly status: number;
  /** The example backend's name, when it answered. */
  readonly backend?: string;
  /** A transport error (reset, refused, timeout). */
  readonly error?: string;
}

export async function get(p: Pool, host: string, path = '/'): Promise<Answer> {
  try {
    const res = await p.request({ method: 'GET', path, headers: { host } });
    const text = await res.body.text();
    let backend: string | undefined;
    if (res.statusCode === 200) {
      try {
        const b = (JSON.parse(text) as { backend?: unknown }).backend;
        if (typeof b === 'string') backend = b;
      } catch {
        // not the echo
      }
    }
    return { status: res.statusCode, ...(backend ? { backend } : {}) };
  } catch (e) {
    const err = e as { code?: string; message?: string };
    return { status: 0, error: err.code ?? err.message ?? String(e) };
  }
}

/** Polls `host` until it answers 200 from a backend; returns ms since `since` (performance.now()). */
export async function until200(p: Pool, host: string, since: number, timeoutMs = 30_000, path = '/'): Promise<number> {
  for (;;) {
    const a = await get(p, host, path);
    const now = performance.now();
    if (a.status === 200 && a.backend) return now - since;
    if (now - since > timeoutMs) throw new Error(`${host} did not answer 200 within ${timeoutMs} ms (last: ${JSON.stringify(a)})`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Percentile by nearest rank (p in 0..100). */
export function percentile(samples: readonly number[], p: number): number {
  if (!samples.length) return NaN;
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}
