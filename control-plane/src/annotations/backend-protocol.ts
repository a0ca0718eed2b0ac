// N/H/M/X `backend-protocol` (HTTP | HTTP2 | HTTPS | GRPC | GRPCS; AJP and FCGI are not
// supported) and the upstream TLS keys of ingress-nginx: `proxy-ssl-secret`
// (`[namespace/]name`, same namespace only; `ca.crt`, `tls.crt` + `tls.key`),
// `proxy-ssl-verify` (on | off, default off as nginx), `proxy-ssl-name`,
// `proxy-ssl-server-name` (on | off), `proxy-ssl-protocols`, `proxy-ssl-ciphers`,
// `proxy-ssl-verify-depth`. Read from an Ingress (for its backends) and from a Service;
// model/cluster-policy.ts decides which one a cluster gets.
//
// A wrong value never downgrades silently to plaintext or to unverified TLS: the routes
// of the Ingress that carries it answer 503 instead (fail closed).
import { resolveSecretFiles, type CaBundle, type ClientCertificate } from '../model/tls.js';
import type { StoreSnapshot } from '../sources/store.js';
import type { AnnotationFamily } from './family.js';
import type { AnnotationReader, AnnotationValue } from './reader.js';
import { parseCipherList, parseOnOff, parseSecretRef, parseTlsVersionList, type TlsVersion } from './tls-values.js';

export type BackendProtocol = 'HTTP' | 'HTTP2' | 'HTTPS' | 'GRPC' | 'GRPCS';

export interface UpstreamTls {
  /** Verify the backend's certificate chain against `ca` (required with verify). */
  readonly verify: boolean;
  readonly ca?: CaBundle;
  /** Presented to the backend (mutual TLS). */
  readonly client?: ClientCertificate;
  /** proxy-ssl-name: the name the certificate must carry (verify on) and the SNI (server-name on). */
  readonly name?: string;
  /** proxy-ssl-server-name on: send SNI (`name`, else `<service>.<namespace>.svc`). */
  readonly serverName: boolean;
  readonly minVersion?: TlsVersion;
  readonly maxVersion?: TlsVersion;
  readonly ciphers?: readonly string[];
  readonly verifyDepth?: number;
}

export interface UpstreamProtocolSpec {
  readonly protocol: BackendProtocol;
  readonly tls?: UpstreamTls;
  /** The annotation the protocol came from (diagnostics). */
  readonly annotation: string;
}

declare module '../model/ir.js' {
  interface RoutePolicy {
    /** The protocol (and TLS) to speak to this Ingress's backends (cluster-level, see model/cluster-policy.ts). */
    readonly backendProtocol?: UpstreamProtocolSpec;
  }
}

const PROTOCOLS: ReadonlySet<string> = new Set(['HTTP', 'HTTP2', 'HTTPS', 'GRPC', 'GRPCS']);
const NOT_SUPPORTED: ReadonlySet<string> = new Set(['AJP', 'FCGI']);
const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/;

const TLS_KEYS = ['proxy-ssl-secret', 'proxy-ssl-verify', 'proxy-ssl-name', 'proxy-ssl-server-name', 'proxy-ssl-protocols', 'proxy-ssl-ciphers', 'proxy-ssl-verify-depth'] as const;

export type BackendProtocolResult =
  | { readonly ok: true; readonly spec?: UpstreamProtocolSpec }
  /** A value that must not be served around: the routes answer 503. */
  | { readonly ok: false; readonly reason: string };

/**
 * Reads the keys from an Ingress's or a Service's annotations (`namespace`: its
 * namespace, where `proxy-ssl-secret` is looked up).
 */
export function readBackendProtocol(r: AnnotationReader, namespace: string, store: StoreSnapshot): BackendProtocolResult {
  const bp = r.get('backend-protocol');
  const vals: Partial<Record<(typeof TLS_KEYS)[number], AnnotationValue>> = {};
  let anyTls: AnnotationValue | undefined;
  for (const k of TLS_KEYS) {
    const v = r.get(k);
    if (!v) continue;
    vals[k] = v;
    anyTls ??= v;
  }
  // Most Ingresses and Services set none of the keys.
  if (!bp && !anyTls) return PLAIN;
  let protocol: BackendProtocol = 'HTTP';
  if (bp) {
    const s = bp.value.trim().toUpperCase();
    if (NOT_SUPPORTED.has(s)) {
      r.sink.error('XG_BACKEND_PROTOCOL_UNSUPPORTED', r.ref, `${bp.annotation}=${JSON.stringify(bp.value)}: Envoy does not speak ${s} to backends; the routes answer 503`, `metadata.annotations["${bp.annotation}"]`);
      return { ok: false, reason: `backend protocol ${s} is not supported` };
    }
    if (!PROTOCOLS.has(s)) {
      r.invalid(bp, 'must be HTTP, HTTP2, HTTPS, GRPC or GRPCS; the routes answer 503 rather than guess the protocol');
      return { ok: false, reason: 'invalid backend-protocol' };
    }
    protocol = s as BackendProtocol;
  }
  if (protocol !== 'HTTPS' && protocol !== 'GRPCS') {
    if (anyTls) r.sink.warning('XG_UPSTREAM_TLS_IGNORED', r.ref, `${anyTls.annotation} has no effect: the backend protocol is ${protocol} (proxy-ssl-* apply to HTTPS and GRPCS)`, `metadata.annotations["${anyTls.annotation}"]`);
    return { ok: true, ...(bp ? { spec: { protocol, annotation: bp.annotation } } : {}) };
  }
  const bad = (v: AnnotationValue, why: string): BackendProtocolResult => {
    r.sink.error('XG_UPSTREAM_TLS_INVALID', r.ref, `${v.annotation}=${JSON.stringify(v.value.slice(0, 200))}: ${why}; the routes answer 503`, `metadata.annotations["${v.annotation}"]`);
    return { ok: false, reason: 'invalid upstream TLS setting' };
  };
  const onOff = (v: AnnotationValue | undefined, dflt: boolean): boolean | AnnotationValue => {
    if (!v) return dflt;
    const b = parseOnOff(v.value);
    return b === undefined ? v : b;
  };
  const verify = onOff(vals['proxy-ssl-verify'], false);
  if (typeof verify !== 'boolean') return bad(verify, 'must be on or off');
  const serverName = onOff(vals['proxy-ssl-server-name'], false);
  if (typeof serverName !== 'boolean') return bad(serverName, 'must be on or off');
  let name: string | undefined;
  const n = vals['proxy-ssl-name'];
  if (n) {
    name = n.value.trim().toLowerCase();
    if (!DNS_NAME.test(name)) return bad(n, 'must be a DNS name');
  }
  let minVersion: TlsVersion | undefined;
  let maxVersion: TlsVersion | undefined;
  const p = vals['proxy-ssl-protocols'];
  if (p) {
    const parsed = parseTlsVersionList(p.value);
    if ('why' in parsed) return bad(p, parsed.why);
    minVersion = parsed.min;
    maxVersion = parsed.max;
  }
  let ciphers: string[] | undefined;
  const c = vals['proxy-ssl-ciphers'];
  if (c) {
    const parsed = parseCipherList(c.value);
    if ('why' in parsed) return bad(c, parsed.why);
    ciphers = parsed.ciphers;
  }
  let verifyDepth: number | undefined;
  const d = vals['proxy-ssl-verify-depth'];
  if (d) {
    const s = d.value.trim();
    if (!/^\d{1,3}$/.test(s) || Number(s) > 100) return bad(d, 'must be a whole number from 0 to 100');
    verifyDepth = Number(s);
  }
  let ca: CaBundle | undefined;
  let client: ClientCertificate | undefined;
  const sec = vals['proxy-ssl-secret'];
  if (sec) {
    const ref = parseSecretRef(sec.value, namespace);
    if ('why' in ref) return bad(sec, ref.why);
    const files = resolveSecretFiles(namespace, ref.name, store, { requireCa: false, wantClient: true });
    if (!files.ok) return bad(sec, files.message);
    if (!files.ca && !files.client) return bad(sec, `Secret ${namespace}/${ref.name} has neither ca.crt nor tls.crt and tls.key`);
    ca = files.ca;
    client = files.client;
  }
  if (verify && !ca) return bad(vals['proxy-ssl-verify']!, 'needs proxy-ssl-secret naming a Secret with ca.crt (the CA that signed the backend\'s certificate)');
  const tls: UpstreamTls = {
    verify,
    ...(verify && ca ? { ca } : {}),
    ...(client ? { client } : {}),
    ...(name ? { name } : {}),
    serverName,
    ...(minVersion ? { minVersion, maxVersion: maxVersion! } : {}),
    ...(ciphers ? { ciphers } : {}),
    ...(verifyDepth !== undefined ? { verifyDepth } : {}),
  };
  return { ok: true, spec: { protocol, tls, annotation: bp!.annotation } };
}

const PLAIN: BackendProtocolResult = Object.freeze({ ok: true });

export const backendProtocolFamily: AnnotationFamily = {
  name: 'backend-protocol',
  parse(r, ctx) {
    const res = readBackendProtocol(r, ctx.namespace, ctx.store);
    if (!res.ok) return { failClosed: { status: 503, reason: res.reason } };
    return res.spec ? { backendProtocol: res.spec } : undefined;
  },
};
