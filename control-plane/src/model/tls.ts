// Resolves an Ingress TLS secretName to a certificate and key that Envoy will accept.
import { X509Certificate, createHash, createPrivateKey } from 'node:crypto';
import type { Secret } from '../sources/k8s-types.js';
import type { StoreSnapshot } from '../sources/store.js';
import type { ObjectRef } from '../diagnostics.js';
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
  const problem = pairProblem(cert, key);
  if (problem !== undefined) return { ok: false, code: 'XG_SECRET_INVALID', message: `${where}: ${problem}` };
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

/**
 * What is wrong with a certificate and key pair (undefined: nothing), by content: the
 * same pair copied into many Secrets (a wildcard certificate in every namespace) is
 * parsed once. Parsing is what costs: ~0.9 ms per private key and ~0.3 ms per
 * certificate with Node 20's OpenSSL 3, whatever the key type or encoding, so 3,400
 * distinct pairs take ~4 s on the first build after a start. Keyed by a hash of both
 * (not the PEM text itself, which would keep a copy of every key), forgotten when full.
 */
const pairVerdicts = new Map<string, string | null>();
const MAX_PAIR_VERDICTS = 50_000;

/** Forgets every verdict (for benchmarks of a from-scratch build: a new process has none). */
export function forgetPairVerdicts(): void {
  pairVerdicts.clear();
}

function pairProblem(cert: string, key: string): string | undefined {
  const id = createHash('sha256').update(cert).update('\u0000').update(key).digest('base64');
  const known = pairVerdicts.get(id);
  if (known !== undefined) return known ?? undefined;
  const problem = checkPair(cert, key);
  if (pairVerdicts.size >= MAX_PAIR_VERDICTS) pairVerdicts.clear();
  pairVerdicts.set(id, problem ?? null);
  return problem;
}

function checkPair(cert: string, key: string): string | undefined {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (e) {
    return `tls.crt is not a PEM certificate (${(e as Error).message})`;
  }
  try {
    const pk = createPrivateKey(key);
    if (!x509.checkPrivateKey(pk)) return 'tls.key does not match tls.crt';
  } catch (e) {
    return `tls.key is not a PEM private key (${(e as Error).message})`;
  }
  return undefined;
}

/** A CA bundle (PEM, one or more certificates) from a Secret key, e.g. `ca.crt`. */
export interface CaBundle {
  /** SDS name: `<namespace>/<secret>/ca.crt`, never equal to a TlsSecret name (a Secret name has no '/'). */
  readonly name: string;
  readonly pem: string;
  readonly source: ObjectRef;
}

/** A client certificate and key (`tls.crt`, `tls.key`) Envoy presents to a backend. */
export interface ClientCertificate {
  /** SDS name: `<namespace>/<secret>/tls.crt`. */
  readonly name: string;
  readonly certificateChain: string;
  readonly privateKey: string;
  readonly source: ObjectRef;
}

export type SecretFilesResult =
  | { readonly ok: true; readonly ca?: CaBundle; readonly client?: ClientCertificate }
  | { readonly ok: false; readonly message: string };

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** Every certificate of a PEM bundle parses (and there is at least one), or why not. */
export function checkCaBundle(pem: string): string | undefined {
  const blocks = pem.match(PEM_CERT) ?? [];
  if (!blocks.length) return 'holds no PEM certificate';
  if (blocks.length > 100) return 'holds more than 100 certificates';
  for (const b of blocks) {
    try {
      new X509Certificate(b);
    } catch (e) {
      return `holds a certificate that does not parse (${(e as Error).message})`;
    }
  }
  return undefined;
}

const filesChecked = new WeakMap<Secret, Map<string, SecretFilesResult>>();

/**
 * The CA bundle (`ca.crt`) and client certificate (`tls.crt` + `tls.key`) of a Secret of
 * any type (Opaque or kubernetes.io/tls), same namespace only. `requireCa`: a Secret
 * without `ca.crt` is an error. Each present part must parse (and the key match).
 */
export function resolveSecretFiles(namespace: string, name: string, store: StoreSnapshot, opts: { requireCa: boolean; wantClient: boolean }): SecretFilesResult {
  const secret = store.secrets.get(`${namespace}/${name}`);
  if (!secret) return { ok: false, message: `Secret ${namespace}/${name} does not exist (Secrets in other namespaces are never used)` };
  const memoKey = `${opts.requireCa}/${opts.wantClient}`;
  let memo = filesChecked.get(secret);
  if (!memo) filesChecked.set(secret, (memo = new Map()));
  let r = memo.get(memoKey);
  if (!r) memo.set(memoKey, (r = checkFiles(secret, namespace, name, opts)));
  return r;
}

function checkFiles(secret: Secret, namespace: string, name: string, opts: { requireCa: boolean; wantClient: boolean }): SecretFilesResult {
  const where = `Secret ${namespace}/${name}`;
  const source: ObjectRef = { kind: 'Secret', namespace, name };
  const caPem = field(secret, 'ca.crt');
  let ca: CaBundle | undefined;
  if (caPem !== undefined) {
    const bad = checkCaBundle(caPem);
    if (bad) return { ok: false, message: `${where}: ca.crt ${bad}` };
    ca = { name: `${namespace}/${name}/ca.crt`, pem: caPem, source };
  } else if (opts.requireCa) return { ok: false, message: `${where} has no ca.crt` };
  let client: ClientCertificate | undefined;
  if (opts.wantClient) {
    const cert = field(secret, 'tls.crt');
    const key = field(secret, 'tls.key');
    if (cert !== undefined || key !== undefined) {
      const r = check(secret, namespace, name);
      if (!r.ok) return { ok: false, message: r.message };
      client = { name: `${namespace}/${name}/tls.crt`, certificateChain: r.secret.certificateChain, privateKey: r.secret.privateKey, source };
    }
  }
  return { ok: true, ...(ca ? { ca } : {}), ...(client ? { client } : {}) };
}
