// xDS over mutual TLS: server credentials that require a client certificate signed by
// a configured CA, and an `authorize` hook that binds a stream's node id to the
// identity in that certificate.
//
// Identity scheme (SPIFFE-style URI SANs; trust domain `xgate` unless configured):
//
//   spiffe://<trust-domain>/gateway/<node-id>
//       valid for exactly that node id. For per-pod certificates: cert-manager's
//       csi-driver issues one per pod with
//         csi.cert-manager.io/uri-sans: "spiffe://xgate/gateway/${POD_NAME}"
//       (Envoy runs with --service-node "$(POD_NAME)"), or a cert-manager Certificate
//       with `uris:` for a proxy whose node id is fixed.
//
//   spiffe://<trust-domain>/deployment/<deployment-name>
//       valid for the node ids Kubernetes gives the pods of that Deployment:
//       `<deployment-name>-<pod-template-hash>-<5 random chars>`, both parts in
//       Kubernetes' safe alphabet [bcdfghjklmnpqrstvwxz2456789]. For one certificate
//       shared by all gateway pods through a Secret (a cert-manager Certificate with
//       `uris: [spiffe://xgate/deployment/xgate-gateway]`). Kubernetes truncates pod
//       names whose Deployment name is longer than 46 characters; such nodes are
//       refused (fail closed).
//
// Why URI SANs: cert-manager issues them with one field (`uris`, or the csi-driver's
// `uri-sans` attribute with ${POD_NAME}); they are the identity form SPIFFE, Istio and
// csi-driver-spiffe use; and unlike a DNS SAN they cannot be mistaken for a host name,
// unlike the Common Name they are not deprecated for identity (RFC 6125). A certificate
// may carry several; one that allows the node is enough. Nothing else in the
// certificate (CN, DNS SANs, other trust domains) grants anything.
//
// The certificate files are re-read every `reloadIntervalMs` (cert-manager rotates the
// Secret, the kubelet swaps the mounted files): a new CA, certificate or key is used
// for new connections once all three parse and the key matches the certificate; a
// half-written rotation keeps the last good set and is retried.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import type { NodeInfo } from './cache/types.js';
import { silentLogger, type XdsLogger } from './server/logger.js';
import type { AdsCall, Authorize } from './server/session.js';

export const DEFAULT_TRUST_DOMAIN = 'xgate';

export class XdsTlsError extends Error {}

export interface XdsTlsFiles {
  /** PEM bundle of the CA(s) that sign client certificates. */
  readonly caFile: string;
  /** PEM certificate chain of the xDS server (leaf first). */
  readonly certFile: string;
  /** PEM private key of that certificate. */
  readonly keyFile: string;
}

export interface XdsServerCredentialsOptions extends XdsTlsFiles {
  /** How often the files are re-read; 0 never. Default 30 s. */
  readonly reloadIntervalMs?: number;
  /** Lowest TLS version accepted. Default TLSv1.3 (Envoy needs tls_maximum_protocol_version: TLSv1_3). */
  readonly minVersion?: 'TLSv1.2' | 'TLSv1.3';
  readonly logger?: XdsLogger;
}

/** What was loaded, for logs and tests. */
export interface TlsMaterialInfo {
  /** Subject and SANs of the server certificate. */
  readonly subject: string;
  readonly subjectAltName: string;
  readonly notAfter: Date;
  /** Subjects of the client CA certificates. */
  readonly clientCas: readonly string[];
}

interface TlsMaterial {
  readonly context: SecureContextOptions;
  readonly raw: { ca: Buffer; cert: Buffer; key: Buffer };
  readonly info: TlsMaterialInfo;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function pemCertificates(pem: Buffer, file: string, what: string): X509Certificate[] {
  const blocks = pem.toString('utf8').match(PEM_CERT) ?? [];
  if (blocks.length === 0) throw new XdsTlsError(`${what} ${file}: no PEM certificate in it`);
  return blocks.map((b, i) => {
    try {
      return new X509Certificate(b);
    } catch (err) {
      throw new XdsTlsError(`${what} ${file}: certificate #${i + 1} does not parse: ${(err as Error).message}`);
    }
  });
}

function readOrThrow(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new XdsTlsError(`${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Parses and checks a CA bundle, a certificate chain and its key; throws XdsTlsError saying what is wrong. */
export function checkTlsMaterial(raw: { ca: Buffer; cert: Buffer; key: Buffer }, files: XdsTlsFiles, now = new Date()): TlsMaterial {
  const cas = pemCertificates(raw.ca, files.caFile, 'xDS client CA');
  for (const ca of cas) {
    if (!ca.ca) throw new XdsTlsError(`xDS client CA ${files.caFile}: ${ca.subject.replace(/\n/g, ', ')} is not a CA certificate`);
  }
  const [leaf] = pemCertificates(raw.cert, files.certFile, 'xDS server certificate');
  let key;
  try {
    key = createPrivateKey(raw.key);
  } catch (err) {
    throw new XdsTlsError(`xDS server key ${files.keyFile}: does not parse: ${(err as Error).message}`);
  }
  if (!leaf!.checkPrivateKey(key)) throw new XdsTlsError(`xDS server key ${files.keyFile} does not belong to the certificate ${files.certFile}`);
  const notAfter = new Date(leaf!.validTo);
  const notBefore = new Date(leaf!.validFrom);
  if (notAfter.getTime() < now.getTime()) throw new XdsTlsError(`xDS server certificate ${files.certFile} expired at ${notAfter.toISOString()}`);
  if (notBefore.getTime() > now.getTime()) throw new XdsTlsError(`xDS server certificate ${files.certFile} is not valid before ${notBefore.toISOString()}`);
  const context: SecureContextOptions = { ca: raw.ca, cert: raw.cert, key: raw.key };
  try {
    createSecureContext(context);
  } catch (err) {
    throw new XdsTlsError(`xDS TLS files ${files.certFile}, ${files.keyFile}, ${files.caFile}: ${(err as Error).message}`);
  }
  return {
    context,
    raw,
    info: {
      subject: leaf!.subject.replace(/\n/g, ', '),
      subjectAltName: leaf!.subjectAltName ?? '',
      notAfter,
      clientCas: cas.map((c) => c.subject.replace(/\n/g, ', ')),
    },
  };
}

function readMaterial(files: XdsTlsFiles): TlsMaterial {
  return checkTlsMaterial(
    { ca: readOrThrow(files.caFile, 'xDS client CA'), cert: readOrThrow(files.certFile, 'xDS server certificate'), key: readOrThrow(files.keyFile, 'xDS server key') },
    files,
  );
}

/**
 * Server credentials for the ADS server: TLS (1.3 by default) with a client
 * certificate required and verified against the CA bundle. The files are checked at
 * once (XdsTlsError on a missing, unparseable, expired or mismatched file, so a bad
 * flag stops the start) and re-read every `reloadIntervalMs`.
 */
export class XdsMtlsCredentials extends grpc.ServerCredentials {
  private current: TlsMaterial;
  private timer: NodeJS.Timeout | undefined;
  private readonly logger: XdsLogger;

  constructor(private readonly opts: XdsServerCredentialsOptions) {
    const material = readMaterial(opts);
    super({ requestCert: true, rejectUnauthorized: true, minVersion: opts.minVersion ?? 'TLSv1.3' }, material.context);
    this.current = material;
    this.logger = opts.logger ?? silentLogger;
    const every = opts.reloadIntervalMs ?? 30_000;
    if (every > 0) {
      this.timer = setInterval(() => this.reload(), every);
      this.timer.unref();
    }
  }

  /** The certificates in use. */
  info(): TlsMaterialInfo {
    return this.current.info;
  }

  /**
   * Re-reads the files; switches new connections to them when they changed and are
   * consistent. Returns true when it switched.
   */
  reload(): boolean {
    let raw: { ca: Buffer; cert: Buffer; key: Buffer };
    try {
      raw = { ca: readFileSync(this.opts.caFile), cert: readFileSync(this.opts.certFile), key: readFileSync(this.opts.keyFile) };
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'xDS TLS files unreadable; keeping the certificates in use');
      return false;
    }
    const cur = this.current.raw;
    if (raw.ca.equals(cur.ca) && raw.cert.equals(cur.cert) && raw.key.equals(cur.key)) return false;
    let next: TlsMaterial;
    try {
      next = checkTlsMaterial(raw, this.opts);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'new xDS TLS files rejected; keeping the certificates in use');
      return false;
    }
    this.current = next;
    this.updateSecureContextOptions(next.context);
    this.logger.info({ subject: next.info.subject, notAfter: next.info.notAfter.toISOString() }, 'xDS TLS certificates reloaded');
    return true;
  }

  /** Stops re-reading the files. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  override _equals(other: grpc.ServerCredentials): boolean {
    return other === this;
  }
}

/** See XdsMtlsCredentials. */
export function xdsServerCredentials(opts: XdsServerCredentialsOptions): XdsMtlsCredentials {
  return new XdsMtlsCredentials(opts);
}

// ---- identity ------------------------------------------------------------------------

export type GatewayIdentity =
  /** spiffe://<td>/gateway/<node-id> */
  | { readonly kind: 'node'; readonly name: string }
  /** spiffe://<td>/deployment/<deployment-name> */
  | { readonly kind: 'deployment'; readonly name: string };

/** A Kubernetes object name (DNS-1123 subdomain), which pod and Deployment names are. */
const K8S_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const TRUST_DOMAIN = /^[a-z0-9._-]{1,255}$/;
/** Kubernetes' rand.SafeEncodeString / rand.String alphabet (no vowels, no 0, 1, 3). */
const SAFE = '[bcdfghjklmnpqrstvwxz2456789]';

export function isTrustDomain(td: string): boolean {
  return TRUST_DOMAIN.test(td);
}

/**
 * Splits Node's `subjectaltname` string ("DNS:a, URI:spiffe://x, …"; values with
 * special characters are JSON-quoted) into entries.
 */
export function parseSubjectAltNames(san: string | undefined): { type: string; value: string }[] {
  const out: { type: string; value: string }[] = [];
  if (!san) return out;
  let i = 0;
  while (i < san.length) {
    const colon = san.indexOf(':', i);
    if (colon < 0) break;
    const type = san.slice(i, colon).trim();
    let j = colon + 1;
    let value: string;
    if (san[j] === '"') {
      // JSON string: find its closing quote.
      let k = j + 1;
      while (k < san.length && san[k] !== '"') k += san[k] === '\\' ? 2 : 1;
      try {
        value = JSON.parse(san.slice(j, k + 1)) as string;
      } catch {
        return out; // malformed: stop, grant nothing more
      }
      j = k + 1;
    } else {
      const comma = san.indexOf(', ', j);
      const end = comma < 0 ? san.length : comma;
      value = san.slice(j, end);
      j = end;
    }
    out.push({ type, value });
    if (san.startsWith(', ', j)) j += 2;
    else if (j < san.length) break;
    i = j;
  }
  return out;
}

/** The gateway identities a certificate's URI SANs grant in `trustDomain`. */
export function gatewayIdentities(subjectAltName: string | undefined, trustDomain = DEFAULT_TRUST_DOMAIN): GatewayIdentity[] {
  const out: GatewayIdentity[] = [];
  const prefix = `spiffe://${trustDomain}/`;
  for (const { type, value } of parseSubjectAltNames(subjectAltName)) {
    if (type !== 'URI' || !value.startsWith(prefix)) continue;
    const m = /^(gateway|deployment)\/([^/]+)$/.exec(value.slice(prefix.length));
    if (!m || !K8S_NAME.test(m[2]!)) continue;
    out.push({ kind: m[1] === 'gateway' ? 'node' : 'deployment', name: m[2]! });
  }
  return out;
}

/** Whether a node id is allowed by an identity (see the scheme at the top of this file). */
export function identityAllows(identity: GatewayIdentity, nodeId: string): boolean {
  if (identity.kind === 'node') return nodeId === identity.name;
  const escaped = identity.name.replace(/\./g, '\\.');
  return new RegExp(`^${escaped}-${SAFE}{1,10}-${SAFE}{5}$`).test(nodeId);
}

const show = (s: string): string => JSON.stringify(s.length > 100 ? `${s.slice(0, 100)}…` : s);

export interface AuthorizeByCertificateOptions {
  /** Default `xgate`. */
  readonly trustDomain?: string;
}

/**
 * The `authorize` hook for startXdsServer: serves a stream only when the TLS client
 * certificate (verified by the credentials) carries an identity that allows the node
 * id of the stream's first request. Anything else — no TLS, no certificate, no
 * identity of our trust domain, another node's identity — is refused
 * (PERMISSION_DENIED with the reason).
 */
export function authorizeByCertificate(opts: AuthorizeByCertificateOptions = {}): Authorize {
  const trustDomain = opts.trustDomain ?? DEFAULT_TRUST_DOMAIN;
  if (!isTrustDomain(trustDomain)) throw new XdsTlsError(`trust domain ${show(trustDomain)} must be lower-case letters, digits, '.', '-' or '_'`);
  return (node: NodeInfo, call: AdsCall): string | undefined => {
    const auth = call.getAuthContext();
    const peer = auth?.sslPeerCertificate;
    if (auth?.transportSecurityType !== 'ssl' || !peer) return 'xDS requires a verified TLS client certificate';
    let san: string | undefined;
    try {
      san = peer.raw ? new X509Certificate(peer.raw).subjectAltName : peer.subjectaltname;
    } catch {
      san = undefined;
    }
    const ids = gatewayIdentities(san, trustDomain);
    if (ids.length === 0) return `the client certificate has no spiffe://${trustDomain}/gateway/… or spiffe://${trustDomain}/deployment/… URI SAN`;
    if (!node.id) return 'the node has no id';
    if (ids.some((id) => identityAllows(id, node.id))) return undefined;
    const names = ids.map((id) => `spiffe://${trustDomain}/${id.kind === 'node' ? 'gateway' : 'deployment'}/${id.name}`).join(', ');
    return `node id ${show(node.id)} does not match the client certificate (${names})`;
  };
}
