// The manifest (file) source reads Secrets of every type the auth families use: Opaque
// (JWKS, htpasswd), kubernetes.io/basic-auth, with data (base64) or stringData; the
// Kubernetes source keeps the same types (kinds.ts keepSecret).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readManifests } from '../../control-plane/src/sources/file-source.js';
import { keepSecret } from '../../control-plane/src/sources/kube/kinds.js';
import { secretValue } from '../../control-plane/src/annotations/auth-secret.js';
import type { Secret } from '../../control-plane/src/sources/k8s-types.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'xgate-auth-secrets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('auth Secrets', () => {
  it('the manifest source accepts Opaque and basic-auth Secrets, data and stringData', async () => {
    writeFileSync(
      path.join(dir, 'secrets.yaml'),
      `apiVersion: v1
kind: Secret
metadata: { name: jwks, namespace: default }
type: Opaque
stringData: { jwks.json: '{"keys":[]}' }
---
apiVersion: v1
kind: Secret
metadata: { name: creds, namespace: default }
type: kubernetes.io/basic-auth
data: { username: ${Buffer.from('alice').toString('base64')}, password: ${Buffer.from('pw').toString('base64')} }
---
apiVersion: v1
kind: Secret
metadata: { name: untyped, namespace: default }
data: { auth: ${Buffer.from('a:b\n').toString('base64')} }
`,
    );
    const { objects, diagnostics } = await readManifests(dir);
    expect(diagnostics).toEqual([]);
    const byName = new Map(objects.map((o) => [o.metadata.name, o as Secret]));
    expect(secretValue(byName.get('jwks')!, 'jwks.json')).toBe('{"keys":[]}');
    expect(secretValue(byName.get('creds')!, 'username')).toBe('alice');
    expect(secretValue(byName.get('untyped')!, 'auth')).toBe('a:b\n');
    expect(secretValue(byName.get('untyped')!, 'missing')).toBeUndefined();
  });

  it.each([
    ['kubernetes.io/tls', true],
    ['Opaque', true],
    ['kubernetes.io/basic-auth', true],
    [undefined, true],
    ['kubernetes.io/dockerconfigjson', false],
    ['kubernetes.io/service-account-token', false],
    ['helm.sh/release.v1', false],
    ['bootstrap.kubernetes.io/token', false],
  ])('the Kubernetes source keeps type %s: %s', (type, kept) => {
    const s: Secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x', namespace: 'default' }, ...(type ? { type } : {}) };
    expect(keepSecret(s)).toBe(kept);
  });
});
