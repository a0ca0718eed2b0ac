// The external document fetcher (sources/external-fetcher.ts) and the store's
// external documents.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExternalFetcher, fetchDocument, fetchDocuments } from '../../control-plane/src/sources/external-fetcher.js';
import type { ExternalDocument } from '../../control-plane/src/sources/external.js';
import { Store } from '../../control-plane/src/sources/store.js';
import { eventually } from '../helpers/wait.js';

let server: http.Server;
let base: string;
let flaky = { failuresLeft: 0, hits: 0 };
let version = 1;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    switch (req.url) {
      case '/ok':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ v: version }));
        return;
      case '/slow':
        setTimeout(() => res.end('{}'), 2000).unref();
        return;
      case '/big':
        res.writeHead(200);
        res.end('x'.repeat(4096));
        return;
      case '/big-chunked':
        res.writeHead(200, { 'transfer-encoding': 'chunked' });
        for (let i = 0; i < 8; i++) res.write('y'.repeat(1024));
        res.end();
        return;
      case '/redirect':
        res.writeHead(302, { location: '/ok' });
        res.end();
        return;
      case '/flaky':
        flaky.hits++;
        if (flaky.failuresLeft > 0) {
          flaky.failuresLeft--;
          res.writeHead(503);
          res.end('down');
          return;
        }
        res.end(`{"hits":${flaky.hits}}`);
        return;
      default:
        res.writeHead(404);
        res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
});

describe('fetchDocument', () => {
  it('fetches a document', async () => {
    expect(await fetchDocument(`${base}/ok`)).toEqual({ ok: true, url: `${base}/ok`, body: JSON.stringify({ v: version }) });
  });

  it('bounds time, size and status, and does not follow redirects', async () => {
    const slow = await fetchDocument(`${base}/slow`, { timeoutMs: 200 });
    expect(slow.ok).toBe(false);
    expect(!slow.ok && slow.error).toContain('timed out after 200 ms');
    const big = await fetchDocument(`${base}/big`, { maxBytes: 1024 });
    expect(!big.ok && big.error).toContain('larger than the 1024-byte limit');
    const chunked = await fetchDocument(`${base}/big-chunked`, { maxBytes: 2048 });
    expect(!chunked.ok && chunked.error).toContain('larger than the 2048-byte limit');
    const redirect = await fetchDocument(`${base}/redirect`);
    expect(!redirect.ok && redirect.error).toContain('HTTP 302 (redirects are not followed)');
    const missing = await fetchDocument(`${base}/missing`);
    expect(!missing.ok && missing.error).toBe('answered HTTP 404');
  });

  it('reports an unreachable host', async () => {
    const d = await fetchDocument('http://127.0.0.1:9/x', { timeoutMs: 2000 });
    expect(d.ok).toBe(false);
    expect(!d.ok && d.error).toMatch(/^unreachable: /);
  });

  it('fetches several in parallel', async () => {
    const docs = await fetchDocuments([`${base}/ok`, `${base}/missing`]);
    expect(docs.map((d) => d.ok)).toEqual([true, false]);
  });
});

describe('ExternalFetcher', () => {
  function recordingStore() {
    const docs = new Map<string, ExternalDocument>();
    const events: string[] = [];
    return {
      docs,
      events,
      setExternal(d: ExternalDocument) {
        docs.set(d.url, d);
        events.push(`${d.ok ? 'ok' : 'error'} ${d.url}`);
      },
      deleteExternal(url: string) {
        docs.delete(url);
        events.push(`delete ${url}`);
      },
    };
  }

  it('fetches wanted URLs, retries with backoff, refreshes, and forgets unwanted ones', async () => {
    flaky = { failuresLeft: 2, hits: 0 };
    const store = recordingStore();
    const f = new ExternalFetcher({ store, retryMinMs: 50, retryMaxMs: 200, refreshMs: 100 });
    try {
      f.want([`${base}/flaky`]);
      expect(f.urls()).toEqual([`${base}/flaky`]);
      // Two failures (stored as an error, since nothing good was fetched yet), then success.
      await eventually(async () => store.docs.get(`${base}/flaky`)?.ok === true, 5000);
      expect(store.events.slice(0, 2)).toEqual([`error ${base}/flaky`, `error ${base}/flaky`]);
      expect(flaky.hits).toBe(3);
      // Periodic refresh; a failed refresh keeps the last good document.
      flaky.failuresLeft = 1;
      const n = flaky.hits;
      await eventually(async () => flaky.hits >= n + 2, 5000);
      expect(store.docs.get(`${base}/flaky`)?.ok).toBe(true);
      expect(store.events.filter((e) => e.startsWith('error')).length).toBe(2);
      f.want([]);
      expect(store.docs.size).toBe(0);
      expect(store.events.at(-1)).toBe(`delete ${base}/flaky`);
    } finally {
      f.close();
    }
  });

  it('writes into the Store, which asks for a full rebuild', async () => {
    const store = new Store();
    const seen: Array<{ kinds: number; external: boolean }> = [];
    store.onChange((kinds, external) => seen.push({ kinds: kinds.size, external: external === true }));
    const f = new ExternalFetcher({ store });
    try {
      f.want([`${base}/ok`]);
      await eventually(async () => store.snapshot().external?.get(`${base}/ok`)?.ok === true, 5000);
      expect(seen).toEqual([{ kinds: 0, external: true }]);
      // The same document again changes nothing.
      store.setExternal({ ok: true, url: `${base}/ok`, body: JSON.stringify({ v: version }) });
      expect(seen).toHaveLength(1);
      const snap = store.snapshot();
      expect(store.snapshot()).toBe(snap);
      store.deleteExternal(`${base}/ok`);
      expect(store.snapshot().external).toBeUndefined();
      expect(seen).toHaveLength(2);
    } finally {
      f.close();
    }
  });
});
