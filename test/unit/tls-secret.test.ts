import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveTlsSecret } from '../../control-plane/src/model/tls.js';
import type { Secret } from '../../control-plane/src/sources/k8s-types.js';
import { Store } from '../../control-plane/src/sources/store.js';

const CERTS = join(import.meta.dirname, '..', 'fixtures', 'certs');
const pem = (f: string) => readFileSync(join(CERTS, f), 'utf8');

function secret(namespace: string, name: string, crt: string, key: string): Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace, resourceVersion: '1' },
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': Buffer.from(crt).toString('base64'), 'tls.key': Buffer.from(key).toString('base64') },
  };
}

describe('TLS Secrets', () => {
  it('checks a pair copied into many Secrets once, each Secret keeping its own name and diagnostics', () => {
    const store = new Store();
    // The same good pair in two namespaces, the same mismatched pair in two more.
    store.upsert(secret('a', 'wild', pem('a.crt'), pem('a.key')));
    store.upsert(secret('b', 'wild', pem('a.crt'), pem('a.key')));
    store.upsert(secret('c', 'bad', pem('a.crt'), pem('b.key')));
    store.upsert(secret('d', 'bad', pem('a.crt'), pem('b.key')));
    store.upsert(secret('e', 'junk', 'not a certificate', pem('a.key')));
    const snap = store.snapshot();
    const a = resolveTlsSecret('a', 'wild', snap);
    const b = resolveTlsSecret('b', 'wild', snap);
    expect(a.ok && a.secret.name).toBe('a/wild');
    expect(b.ok && b.secret.source).toEqual({ kind: 'Secret', namespace: 'b', name: 'wild' });
    for (const ns of ['c', 'd']) {
      const r = resolveTlsSecret(ns, 'bad', snap);
      expect(r).toEqual({ ok: false, code: 'XG_SECRET_INVALID', message: `Secret ${ns}/bad: tls.key does not match tls.crt` });
    }
    const junk = resolveTlsSecret('e', 'junk', snap);
    expect(junk.ok).toBe(false);
    expect(!junk.ok && junk.message).toMatch(/^Secret e\/junk: tls.crt is not a PEM certificate/);
    expect(resolveTlsSecret('f', 'none', snap)).toMatchObject({ ok: false, code: 'XG_SECRET_NOT_FOUND' });
  });
});
