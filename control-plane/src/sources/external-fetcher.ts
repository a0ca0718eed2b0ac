// Fetches the documents translation asks for (FamilyContext.external(url), e.g. an OIDC
// issuer's discovery document) into the store, so translation itself never does I/O.
// Bounded: a timeout per request, a size limit, no redirects followed, and only 200
// answers count. Failures retry with exponential backoff; a fetched document is
// refreshed periodically. A refresh that fails keeps the last good document (a flaky
// issuer must not take logins down); a URL never fetched successfully is stored as an
// error, which the family reports as a diagnostic (and its routes fail closed).
import type { ExternalDocument } from './external.js';

export interface FetchLimits {
  /** Per request (connect + answer + body). Default 5000 ms. */
  readonly timeoutMs?: number;
  /** Largest body accepted. Default 512 KiB. */
  readonly maxBytes?: number;
  /** For tests: the fetch implementation. Default globalThis.fetch. */
  readonly fetchImpl?: typeof fetch;
}

export interface FetcherOptions extends FetchLimits {
  readonly store: { setExternal(doc: ExternalDocument): void; deleteExternal(url: string): void };
  readonly logger?: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void };
  /** Re-fetch a good document this often. Default 5 minutes. */
  readonly refreshMs?: number;
  /** First retry delay after a failure; doubles up to retryMaxMs. Defaults 1 s and 60 s. */
  readonly retryMinMs?: number;
  readonly retryMaxMs?: number;
}

export const DEFAULT_FETCH_TIMEOUT_MS = 5000;
export const DEFAULT_FETCH_MAX_BYTES = 512 * 1024;

/** One bounded GET. Never throws: a failure is an `ok: false` document. */
export async function fetchDocument(url: string, limits: FetchLimits = {}): Promise<ExternalDocument> {
  const timeoutMs = limits.timeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
  const maxBytes = limits.maxBytes ?? DEFAULT_FETCH_MAX_BYTES;
  const f = limits.fetchImpl ?? fetch;
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
  try {
    const res = await f(url, { signal: ac.signal, redirect: 'manual', headers: { accept: 'application/json' } });
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => undefined);
      return { ok: false, url, error: `answered HTTP ${res.status}${res.status >= 300 && res.status < 400 ? ' (redirects are not followed)' : ''}` };
    }
    const declared = Number(res.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > maxBytes) {
      await res.body?.cancel().catch(() => undefined);
      return { ok: false, url, error: `body of ${declared} bytes is larger than the ${maxBytes}-byte limit` };
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    if (res.body) {
      const reader = res.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > maxBytes) {
          await reader.cancel().catch(() => undefined);
          return { ok: false, url, error: `body is larger than the ${maxBytes}-byte limit` };
        }
        chunks.push(value);
      }
    }
    return { ok: true, url, body: Buffer.concat(chunks).toString('utf8') };
  } catch (e) {
    const err = e as Error & { cause?: Error };
    const reason = ac.signal.aborted ? String((ac.signal.reason as Error)?.message ?? 'aborted') : (err.cause?.message ?? err.message);
    return { ok: false, url, error: `unreachable: ${reason}` };
  } finally {
    clearTimeout(timer);
  }
}

/** Fetches every URL once, in parallel (for `xgate translate` / `validate`). */
export function fetchDocuments(urls: readonly string[], limits: FetchLimits = {}): Promise<ExternalDocument[]> {
  return Promise.all(urls.map((u) => fetchDocument(u, limits)));
}

interface Entry {
  timer?: NodeJS.Timeout;
  failures: number;
  good: boolean;
  busy: boolean;
}

/** Follows the wanted URLs (call `want` after each build) and keeps their documents in the store. */
export class ExternalFetcher {
  private readonly entries = new Map<string, Entry>();
  private closed = false;

  constructor(private readonly opts: FetcherOptions) {}

  /** The URLs the last build asked for: new ones are fetched now, dropped ones forgotten. */
  want(urls: readonly string[]): void {
    if (this.closed) return;
    const wanted = new Set(urls);
    for (const [url, e] of this.entries) {
      if (wanted.has(url)) continue;
      if (e.timer) clearTimeout(e.timer);
      this.entries.delete(url);
      this.opts.store.deleteExternal(url);
    }
    for (const url of wanted) {
      if (this.entries.has(url)) continue;
      const e: Entry = { failures: 0, good: false, busy: false };
      this.entries.set(url, e);
      void this.run(url, e);
    }
  }

  /** The URLs followed now (sorted). */
  urls(): string[] {
    return [...this.entries.keys()].sort();
  }

  close(): void {
    this.closed = true;
    for (const e of this.entries.values()) if (e.timer) clearTimeout(e.timer);
    this.entries.clear();
  }

  private async run(url: string, e: Entry): Promise<void> {
    if (e.busy) return;
    e.busy = true;
    e.timer = undefined;
    const doc = await fetchDocument(url, this.opts);
    e.busy = false;
    if (this.closed || this.entries.get(url) !== e) return;
    let delay: number;
    if (doc.ok) {
      if (e.failures > 0 || !e.good) this.opts.logger?.info({ url }, 'fetched external document');
      e.failures = 0;
      e.good = true;
      this.opts.store.setExternal(doc);
      delay = this.opts.refreshMs ?? 5 * 60_000;
    } else {
      e.failures++;
      this.opts.logger?.warn({ url, error: doc.error, failures: e.failures, keptLastGood: e.good }, 'fetching an external document failed; retrying with backoff');
      // A refresh that fails keeps the last good document; one never fetched is stored as the error.
      if (!e.good) this.opts.store.setExternal(doc);
      const min = this.opts.retryMinMs ?? 1000;
      const max = this.opts.retryMaxMs ?? 60_000;
      delay = Math.min(max, min * 2 ** Math.min(e.failures - 1, 20));
      delay = Math.round(delay * (0.8 + Math.random() * 0.4));
    }
    e.timer = setTimeout(() => void this.run(url, e), delay);
    e.timer.unref?.();
  }
}
