// Per-domain downstream TLS (domain level: every Ingress serving a host asks, the oldest
// wins per field, see model/host-policy.ts):
//   H/M/X `tls-min-protocol-version`, `tls-max-protocol-version`  TLSv1.0 … TLSv1.3
//   N `ssl-ciphers` / H `ssl-cipher`   explicit TLS 1.2 suite names, `:`-separated
//   N/H `auth-tls-secret` (`[namespace/]name`, same namespace; the CA in `ca.crt`),
//   `auth-tls-verify-client` (on | off | optional | optional_no_ca; default on),
//   `auth-tls-verify-depth` (default 1), `auth-tls-pass-certificate-to-upstream`.
// These are security settings: any invalid value (or a missing CA Secret) makes every
// route of the Ingress answer 403 (fail closed) and the Ingress contributes no TLS
// setting to its hosts.
import { resolveSecretFiles, type CaBundle } from '../model/tls.js';
import type { AnnotationFamily, FamilyContext } from './family.js';
import type { AnnotationReader, AnnotationValue } from './reader.js';
import { parseCipherList, parseOnOff, parseSecretRef, parseTlsVersion, TLS_VERSION_ORDER, type TlsVersion } from './tls-values.js';

export type ClientAuthMode = 'on' | 'optional' | 'optional_no_ca';

export interface ClientAuth {
  readonly ca: CaBundle;
  /** on: a valid certificate is required; optional: verified when sent; optional_no_ca: requested, not verified. */
  readonly mode: ClientAuthMode;
  readonly verifyDepth: number;
  /** Forward the client certificate to the backend (x-forwarded-client-cert). */
  readonly passCertificate: boolean;
}

declare module '../model/ir.js' {
  interface HostPolicy {
    readonly tlsVersions?: { readonly min?: TlsVersion; readonly max?: TlsVersion };
    readonly tlsCiphers?: readonly string[];
    readonly clientAuth?: ClientAuth;
  }
}

type HostTls = { tlsVersions?: { min?: TlsVersion; max?: TlsVersion }; tlsCiphers?: string[]; clientAuth?: ClientAuth };

const parsed = new WeakMap<AnnotationReader, { failed: boolean; host?: HostTls }>();

export const DEFAULT_VERIFY_DEPTH = 1;

/** Reads and checks every key once per Ingress (parse and parseHost share the result). */
export function readDownstreamTls(r: AnnotationReader, ctx: Pick<FamilyContext, 'namespace' | 'store'> & Partial<Pick<FamilyContext, 'ingress'>>): { failed: boolean; host?: HostTls } {
  const memo = parsed.get(r);
  if (memo) return memo;
  let failed = false;
  const bad = (v: AnnotationValue, why: string) => {
    r.sink.error('XG_DOWNSTREAM_TLS_INVALID', r.ref, `${v.annotation}=${JSON.stringify(v.value.slice(0, 200))}: ${why}; every route of this Ingress answers 403 until it is fixed`, `metadata.annotations["${v.annotation}"]`);
    failed = true;
  };
  const host: HostTls = {};
  const minV = r.get('tls-min-protocol-version', ['H', 'M', 'X']);
  const maxV = r.get('tls-max-protocol-version', ['H', 'M', 'X']);
  let min: TlsVersion | undefined;
  let max: TlsVersion | undefined;
  if (minV) {
    min = parseTlsVersion(minV.value);
    if (!min) bad(minV, 'must be TLSv1.0, TLSv1.1, TLSv1.2 or TLSv1.3');
  }
  if (maxV) {
    max = parseTlsVersion(maxV.value);
    if (!max) bad(maxV, 'must be TLSv1.0, TLSv1.1, TLSv1.2 or TLSv1.3');
  }
  if (min && max && TLS_VERSION_ORDER.indexOf(min) > TLS_VERSION_ORDER.indexOf(max)) bad(maxV!, `is below tls-min-protocol-version ${minV!.value.trim()}`);
  if (min || max) host.tlsVersions = { ...(min ? { min } : {}), ...(max ? { max } : {}) };

  const nCiphers = r.get('ssl-ciphers');
  const hCipher = r.get('ssl-cipher');
  const cv = nCiphers ?? hCipher;
  if (nCiphers && hCipher && nCiphers.value !== hCipher.value) {
    r.sink.warning('XG_ANNOTATION_CONFLICT', r.ref, `${nCiphers.annotation} is used; ${hCipher.annotation} is ignored`, `metadata.annotations["${hCipher.annotation}"]`);
  }
  if (cv) {
    const c = parseCipherList(cv.value);
    if ('why' in c) bad(cv, c.why);
    else host.tlsCiphers = c.ciphers;
  }

  const secret = r.get('auth-tls-secret');
  const verify = r.get('auth-tls-verify-client');
  const depth = r.get('auth-tls-verify-depth');
  const pass = r.get('auth-tls-pass-certificate-to-upstream');
  let mode: ClientAuthMode | 'off' = 'on';
  if (verify) {
    const v = verify.value.trim().toLowerCase();
    if (v === 'on' || v === 'off' || v === 'optional' || v === 'optional_no_ca') mode = v;
    else bad(verify, 'must be on, off, optional or optional_no_ca');
  }
  let verifyDepth = DEFAULT_VERIFY_DEPTH;
  if (depth) {
    const s = depth.value.trim();
    if (!/^\d{1,3}$/.test(s) || Number(s) > 100) bad(depth, 'must be a whole number from 0 to 100');
    else verifyDepth = Number(s);
  }
  let passCertificate = false;
  if (pass) {
    const b = parseOnOff(pass.value);
    if (b === undefined) bad(pass, 'must be true or false');
    else passCertificate = b;
  }
  if (secret) {
    const ref = parseSecretRef(secret.value, ctx.namespace);
    if ('why' in ref) bad(secret, ref.why);
    else {
      const files = resolveSecretFiles(ctx.namespace, ref.name, ctx.store, { requireCa: true, wantClient: false });
      if (!files.ok) bad(secret, files.message);
      else if (mode !== 'off') host.clientAuth = { ca: files.ca!, mode, verifyDepth, passCertificate };
    }
  } else {
    const stray = verify ?? depth ?? pass;
    if (stray) r.sink.warning('XG_DOWNSTREAM_TLS_IGNORED', r.ref, `${stray.annotation} has no effect without auth-tls-secret`, `metadata.annotations["${stray.annotation}"]`);
  }
  const tls = ctx.ingress?.spec?.tls;
  if (!failed && Object.keys(host).length && ctx.ingress && !(Array.isArray(tls) && tls.length)) {
    const first = (minV ?? maxV ?? cv ?? secret)!;
    r.sink.warning('XG_DOWNSTREAM_TLS_IGNORED', r.ref, `${first.annotation}: this Ingress has no spec.tls; the per-domain TLS settings apply only when its hosts are served over HTTPS (by this or another Ingress)`, `metadata.annotations["${first.annotation}"]`);
  }
  const result = failed ? { failed } : { failed, ...(Object.keys(host).length ? { host } : {}) };
  parsed.set(r, result);
  return result;
}

export const downstreamTlsFamily: AnnotationFamily = {
  name: 'downstream-tls',
  parse(r, ctx) {
    const res = readDownstreamTls(r, ctx);
    return res.failed ? { failClosed: { status: 403, reason: 'invalid TLS or client-certificate setting' } } : undefined;
  },
  parseHost(r, ctx) {
    return readDownstreamTls(r, ctx).host;
  },
};
