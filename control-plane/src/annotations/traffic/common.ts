// Grammars shared by the traffic families: header names and values, Service references.
import type { IngressBackend } from '../../sources/k8s-types.js';
import type { StoreSnapshot } from '../../sources/store.js';
import { isDnsLabel, isPort } from '../../model/names.js';

/** RFC 7230 token: what an HTTP header name may be. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,256}$/;

/**
 * Headers a route must never add, set or remove: pseudo-headers and Host (Envoy refuses
 * them), and the hop-by-hop and framing headers whose rewriting could desynchronise the
 * upstream connection (request smuggling).
 */
const PROTECTED = new Set(['host', 'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'content-length']);

/** Why `name` is not a header name a route may modify, or undefined when it is one. */
export function headerNameProblem(name: string): string | undefined {
  if (name.startsWith(':')) return `${JSON.stringify(name)} is a pseudo-header; it cannot be modified`;
  if (!TOKEN.test(name)) return `${JSON.stringify(name.slice(0, 64))} is not an HTTP header name (RFC 7230 token characters, at most 256)`;
  const lower = name.toLowerCase();
  if (lower === 'host') return 'Host cannot be modified (use upstream-vhost)';
  if (PROTECTED.has(lower)) return `${name} is a connection or framing header; it cannot be modified`;
  return undefined;
}

/** A header value: visible ASCII, spaces and tabs (no CR, LF or other controls), at most 4096 characters. */
const VALUE = /^[\x20-\x7e\t]{0,4096}$/;

export function headerValueProblem(value: string): string | undefined {
  if (!VALUE.test(value)) return /[\r\n]/.test(value) ? 'a header value cannot hold CR or LF' : 'a header value must be printable ASCII (spaces and tabs allowed), at most 4096 characters';
  return undefined;
}

/**
 * Envoy reads `%…%` in a header value it adds as a command operator (e.g.
 * `%DOWNSTREAM_REMOTE_ADDRESS%`); `%%` is a literal `%`. Every value is escaped, so
 * an annotation can never inject a formatter.
 */
export function escapeHeaderValue(value: string): string {
  return value.replace(/%/g, '%%');
}

export interface ServiceRef {
  readonly namespace?: string;
  readonly name: string;
  /** A port number, a port name, or undefined for the Service's first port. */
  readonly port?: number | string;
}

/** `[namespace/]name[:port]`, port by number or name. */
export function parseServiceRef(value: string): ServiceRef | undefined {
  const m = /^(?:([^/:\s]+)\/)?([^/:\s]+)(?::([^/:\s]+))?$/.exec(value.trim());
  if (!m) return undefined;
  const [, ns, name, port] = m;
  if (ns !== undefined && !isDnsLabel(ns)) return undefined;
  if (!isDnsLabel(name)) return undefined;
  let p: number | string | undefined;
  if (port !== undefined) {
    if (/^\d{1,5}$/.test(port)) {
      p = Number(port);
      if (!isPort(p)) return undefined;
    } else if (isDnsLabel(port)) p = port;
    else return undefined;
  }
  return { ...(ns !== undefined ? { namespace: ns } : {}), name: name!, ...(p !== undefined ? { port: p } : {}) };
}

/** The Ingress backend a ServiceRef stands for; without a port, the Service's first port (as Higress and ingress-nginx). */
export function serviceBackend(ref: ServiceRef, namespace: string, store: StoreSnapshot): IngressBackend {
  let port = ref.port;
  if (port === undefined) {
    const svc = store.services.get(`${namespace}/${ref.name}`);
    const first = Array.isArray(svc?.spec?.ports) ? svc!.spec!.ports[0] : undefined;
    // A missing Service has no first port: any number lets resolveBackend say the Service is missing.
    port = svc ? first?.port : 1;
  }
  return { service: { name: ref.name, port: typeof port === 'number' ? { number: port } : typeof port === 'string' ? { name: port } : {} } };
}
