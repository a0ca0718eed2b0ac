// Resolves an Ingress TLS secretName to a certificate and key that Envoy will accept.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { Secret } from '../sources/k8s-types.js';
import type { StoreSnapshot } from '../sources/store.js';
import { secretName, type TlsSecret } from './ir.js';

export type SecretResult =
  | { readonly ok: true; readonly secret: TlsSecret }
  | { readonly ok: false; readonly code: 'XG_SECRET_NOT_FOUND' | 'XG_SECRET_INVALID'; readonly message: string };

// Parsing certificates is the costly part of a translation; a Secret object that
// did not change is checked once.
const checked = new WeakMap<Secret, SecretResult>();

export function resolveTlsSecret(namespace: string, name: string, store: StoreSnapshot): SecretResult {
  const secret = store.secrets.get(`${namespace}/${name}`);
  if (!secret) return { ok: false, code: 'XG_SECRET_NOT_FOUND', message: `Secret ${namespace}/${name} does not exist (Secrets in other namespaces are never used)` };
  let result = checked.get(secret);
  if (!result) {
    result = check(secret, namespace, name);
    checked.set(secret, result);
  }
  return result;
}

function field(secret: Secret, key: string): string | undefined {
  const plain = secret.stringData?.[key];
  if (typeof plain === 'string') return plain;
  const b64 = secret.data?.[key];
  if (typeof b64 !== 'string') return undefined;
  return Buffer.from(b64, 'base64').toString('utf8');
}

function check(secret: Secret, namespace: string, name: string): SecretResult {
  const where = `Secret ${namespace}/${name}`;
  if (secret.type && secret.type !== 'kubernetes.io/tls' && secret.type !== 'Opaque') {
    return { ok: false, code: 'XG_SECRET_INVALID', message: `${where} has type ${secret.type}, want kubernetes.io/tls` };
  }
  const cert = field(secret, 'tls.crt');
  const key = field(secret, 'tls.key');
  if (!cert || !key) return { ok: false, code: 'XG_SECRET_INVALID', message: `${where} lacks tls.crt or tls.key` };
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (e) {
    return { ok: false, code: 'XG_SECRET_INVALID', message: `${where}: tls.crt is not a PEM certificate (${(e as Error).message})` };
  }
  try {
    const pk = createPrivateKey(key);
    if (!x509.checkPrivateKey(pk)) return { ok: false, code: 'XG_SECRET_INVALID', message: `${where}: tls.key does not match tls.crt` };
  } catch (e) {
    return { ok: false, code: 'XG_SECRET_INVALID', message: `${where}: tls.key is not a PEM private key (${(e as Error).message})` };
  }
  return {
    ok: true,
    secret: {
      name: secretName(namespace, name),
      certificateChain: cert,
      privateKey: key,
      source: { kind: 'Secret', namespace, name },
    },
  };
}
