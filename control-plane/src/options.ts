// Command-line options, parsed and validated once at start. Nothing deeper in the
// code reads flags or the environment.
import { parseArgs } from 'node:util';
import { DEFAULT_TRUST_DOMAIN, isTrustDomain } from './xds/mtls.js';
import { DEFAULT_PIPELINE_OPTIONS, type PipelineOptions } from './pipeline/translate-store.js';
import { MAX_ROUTE_SHARDS } from './translate/route-shards.js';
import { isDnsLabel, isPort } from './model/names.js';
import { isIP } from 'node:net';
import { cidrString, parseCidrList } from './annotations/access/cidr.js';
import { existsSync } from 'node:fs';
import os from 'node:os';
import type { KubeconfigSource } from './sources/kube/config.js';
import type { LoadBalancerIngress } from './status/ingress-status.js';
import { DEFAULT_ELECTION_TIMING } from './status/leader.js';
import type { PublishSpec } from './status/publish-address.js';
import type { ElectionOptions } from './status/runtime.js';

export class UsageError extends Error {}

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** `serve --kube`: the Kubernetes source, leader election, Ingress status and Events. */
export interface KubeOptions {
  readonly kubeconfig: KubeconfigSource;
  /** Watch only these namespaces (empty: all). */
  readonly namespaces: readonly string[];
  /** Where Ingress status addresses come from; none: status is not written. */
  readonly publish?: PublishSpec;
  readonly election: ElectionOptions;
  /** This replica's name: Lease holder identity and Event source host. */
  readonly identity: string;
}

export interface ServeOptions {
  /** The manifest folder (empty with --kube). */
  readonly manifests: string;
  readonly xds: HostPort;
  readonly admin: HostPort;
  readonly pipeline: PipelineOptions;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  readonly debounceMs: number;
  readonly maxDelayMs: number;
  /** Quiet time after a full build before one garbage collection (pipeline/idle-gc.ts); 0: never; default 1000. */
  readonly idleGcMs?: number;
  /** xDS over mTLS: client certificates from this CA, node ids bound to certificate identities. */
  readonly xdsTls?: { readonly caFile: string; readonly certFile: string; readonly keyFile: string; readonly trustDomain: string };
  /** Set by --kube: read the cluster instead of a manifest folder. */
  readonly kube?: KubeOptions;
}

export interface TranslateCommandOptions {
  readonly file: string;
  readonly output: 'yaml' | 'json';
  readonly group: 'envoy' | 'grpc';
  readonly pipeline: PipelineOptions;
}

const PIPELINE_FLAGS = {
  'ingress-class': { type: 'string' },
  'controller-name': { type: 'string' },
  'watch-ingress-without-class': { type: 'boolean' },
  'bind-address': { type: 'string' },
  'http-port': { type: 'string' },
  'https-port': { type: 'string' },
  'ca-bundle': { type: 'string' },
  http3: { type: 'boolean' },
  'http3-alt-svc-port': { type: 'string' },
  'allow-source-range': { type: 'string' },
  'deny-source-range': { type: 'string' },
  'trusted-hops': { type: 'string' },
  'waf-module': { type: 'string' },
  'route-shards': { type: 'string' },
} as const;

function pipelineOptions(v: Record<string, string | boolean | undefined>): PipelineOptions {
  const bind = (v['bind-address'] as string | undefined) ?? DEFAULT_PIPELINE_OPTIONS.bindAddress;
  if (isIP(bind) === 0) throw new UsageError(`--bind-address ${bind} is not an IP address`);
  const cls = (v['ingress-class'] as string | undefined) ?? DEFAULT_PIPELINE_OPTIONS.ingressClass;
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(cls)) throw new UsageError(`--ingress-class ${cls} is not a valid IngressClass name`);
  const controller = (v['controller-name'] as string | undefined) ?? DEFAULT_PIPELINE_OPTIONS.controllerName;
  if (!/^[a-z0-9.-]+\/[A-Za-z0-9._/-]+$/.test(controller)) throw new UsageError(`--controller-name ${controller} must look like example.com/name`);
  return {
    ingressClass: cls,
    controllerName: controller,
    watchWithoutClass: v['watch-ingress-without-class'] === true,
    bindAddress: bind,
    httpPort: port(v['http-port'], DEFAULT_PIPELINE_OPTIONS.httpPort, '--http-port'),
    httpsPort: port(v['https-port'], DEFAULT_PIPELINE_OPTIONS.httpsPort, '--https-port'),
    caBundle: caBundle(v['ca-bundle']),
    ...http3(v),
    ...accessOptions(v),
    ...(v['route-shards'] !== undefined ? { routeShards: int(v['route-shards'], 1, '--route-shards', 1, MAX_ROUTE_SHARDS) } : {}),
  };
}

/** Instance-level IP lists, trusted X-Forwarded-For hops, the WAF module (docs/access-control.md). */
function accessOptions(v: Record<string, string | boolean | undefined>): Pick<PipelineOptions, 'sourceRanges' | 'trustedHops' | 'wafModule'> {
  const list = (flag: string): string[] => {
    const s = v[flag] as string | undefined;
    if (s === undefined) return [];
    const r = parseCidrList(s);
    if (!r.ok) throw new UsageError(`--${flag}: ${r.why}`);
    return r.cidrs.map(cidrString);
  };
  const allow = list('allow-source-range');
  const deny = list('deny-source-range');
  const waf = v['waf-module'] as string | undefined;
  if (waf !== undefined && (!waf.startsWith('/') || /[\0\n\r]/.test(waf))) throw new UsageError(`--waf-module ${waf} must be an absolute path (in the Envoy pod)`);
  return {
    ...(allow.length || deny.length ? { sourceRanges: { allow, deny } } : {}),
    ...(v['trusted-hops'] !== undefined ? { trustedHops: int(v['trusted-hops'], 0, '--trusted-hops', 0, 10) } : {}),
    ...(waf !== undefined ? { wafModule: waf } : {}),
  };
}

function http3(v: Record<string, string | boolean | undefined>): Pick<PipelineOptions, 'http3'> {
  if (v['http3'] !== true) {
    if (v['http3-alt-svc-port'] !== undefined) throw new UsageError('--http3-alt-svc-port needs --http3');
    return {};
  }
  const p = v['http3-alt-svc-port'];
  return { http3: p === undefined ? {} : { altSvcPort: port(p, 0, '--http3-alt-svc-port') } };
}

function caBundle(v: unknown): string {
  if (v === undefined) return DEFAULT_PIPELINE_OPTIONS.caBundle;
  const s = String(v);
  if (!s.startsWith('/') || /[\0\n\r]/.test(s)) throw new UsageError(`--ca-bundle ${s} must be an absolute path (in the Envoy pod)`);
  return s;
}

function port(v: unknown, dflt: number, flag: string): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!isPort(n)) throw new UsageError(`${flag} ${String(v)} is not a port number`);
  return n;
}

function hostPort(v: unknown, dflt: HostPort, flag: string): HostPort {
  if (v === undefined) return dflt;
  const m = /^(.+):(\d+)$/.exec(String(v));
  if (!m) throw new UsageError(`${flag} ${String(v)} must be HOST:PORT`);
  const p = Number(m[2]);
  if (!(Number.isInteger(p) && p >= 0 && p <= 65535)) throw new UsageError(`${flag}: ${m[2]} is not a port`);
  return { host: m[1]!, port: p };
}

function int(v: unknown, dflt: number, flag: string, min: number, max: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${flag} must be a whole number from ${min} to ${max}`);
  return n;
}

const KUBE_FLAGS = {
  kube: { type: 'boolean' },
  kubeconfig: { type: 'string' },
  namespaces: { type: 'string' },
  'publish-service': { type: 'string' },
  'publish-address': { type: 'string' },
  'election-namespace': { type: 'string' },
  'election-id': { type: 'string' },
  'pod-name': { type: 'string' },
  'lease-duration-ms': { type: 'string' },
  'renew-deadline-ms': { type: 'string' },
  'retry-period-ms': { type: 'string' },
} as const;

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/;

/** The environment serve reads (only here): POD_NAME, POD_NAMESPACE, and whether it runs in a pod. */
export interface ServeEnv {
  readonly POD_NAME?: string;
  readonly POD_NAMESPACE?: string;
  readonly KUBERNETES_SERVICE_HOST?: string;
  readonly KUBECONFIG?: string;
}

function kubeOptions(v: Record<string, string | boolean | undefined>, env: ServeEnv): KubeOptions {
  const str = (k: string) => v[k] as string | undefined;
  let kubeconfig: KubeconfigSource;
  if (str('kubeconfig')) {
    if (!existsSync(str('kubeconfig')!)) throw new UsageError(`--kubeconfig ${str('kubeconfig')}: no such file`);
    kubeconfig = { kind: 'file', path: str('kubeconfig')! };
  }
  else if (env.KUBERNETES_SERVICE_HOST && !env.KUBECONFIG) kubeconfig = { kind: 'in-cluster' };
  else kubeconfig = { kind: 'default' };

  const namespaces = [...new Set((str('namespaces') ?? '').split(',').map((n) => n.trim()).filter(Boolean))].sort();
  for (const ns of namespaces) if (!isDnsLabel(ns)) throw new UsageError(`--namespaces: ${ns} is not a namespace name`);

  let publish: PublishSpec | undefined;
  if (str('publish-service') && str('publish-address')) throw new UsageError('--publish-service and --publish-address are mutually exclusive');
  if (str('publish-service')) {
    const m = /^([^/]+)\/([^/]+)$/.exec(str('publish-service')!);
    if (!m || !isDnsLabel(m[1]) || !isDnsLabel(m[2])) throw new UsageError('--publish-service must be NAMESPACE/NAME');
    publish = { kind: 'service', namespace: m[1]!, name: m[2]! };
  } else if (str('publish-address')) {
    const addresses = str('publish-address')!
      .split(',')
      .map((a) => a.trim())
      .filter(Boolean)
      .map((a): LoadBalancerIngress => {
        if (isIP(a)) return { ip: a };
        if (HOSTNAME.test(a)) return { hostname: a };
        throw new UsageError(`--publish-address: ${a} is neither an IP address nor a DNS name`);
      });
    if (!addresses.length) throw new UsageError('--publish-address needs an IP address or a DNS name');
    publish = { kind: 'addresses', addresses };
  }

  const identity = str('pod-name') ?? env.POD_NAME ?? os.hostname();
  if (!/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,251}[A-Za-z0-9])?$/.test(identity)) throw new UsageError(`--pod-name ${JSON.stringify(identity)} is not a valid identity (letters, digits, - _ .)`);
  const namespace = str('election-namespace') ?? env.POD_NAMESPACE ?? 'default';
  if (!isDnsLabel(namespace)) throw new UsageError(`--election-namespace ${namespace} is not a namespace name`);
  const id = str('election-id') ?? 'xgate-leader';
  if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(id)) throw new UsageError(`--election-id ${id} is not a valid Lease name`);
  const leaseDurationMs = int(v['lease-duration-ms'], DEFAULT_ELECTION_TIMING.leaseDurationMs, '--lease-duration-ms', 1000, 3_600_000);
  const renewDeadlineMs = int(v['renew-deadline-ms'], DEFAULT_ELECTION_TIMING.renewDeadlineMs, '--renew-deadline-ms', 100, 3_600_000);
  const retryPeriodMs = int(v['retry-period-ms'], DEFAULT_ELECTION_TIMING.retryPeriodMs, '--retry-period-ms', 50, 3_600_000);
  // client-go's rules: the leader gives up before its Lease can be taken, and retries (with 1.2 jitter) within the deadline.
  if (renewDeadlineMs >= leaseDurationMs) throw new UsageError('--renew-deadline-ms must be less than --lease-duration-ms');
  if (retryPeriodMs * 1.2 >= renewDeadlineMs) throw new UsageError('--retry-period-ms × 1.2 must be less than --renew-deadline-ms');

  return { kubeconfig, namespaces, publish, identity, election: { namespace, id, leaseDurationMs, renewDeadlineMs, retryPeriodMs } };
}

export function parseServe(args: string[], env: ServeEnv = process.env): ServeOptions {
  const { values: v } = parseArgs({
    args,
    strict: true,
    options: {
      ...KUBE_FLAGS,
      manifests: { type: 'string' },
      'xds-address': { type: 'string' },
      'admin-address': { type: 'string' },
      'log-level': { type: 'string' },
      'debounce-ms': { type: 'string' },
      'max-delay-ms': { type: 'string' },
      'idle-gc-ms': { type: 'string' },
      'xds-tls-ca': { type: 'string' },
      'xds-tls-cert': { type: 'string' },
      'xds-tls-key': { type: 'string' },
      'xds-tls-trust-domain': { type: 'string' },
      ...PIPELINE_FLAGS,
    },
  });
  const tls = [v['xds-tls-ca'], v['xds-tls-cert'], v['xds-tls-key']];
  if (tls.some((f) => f !== undefined) !== tls.every((f) => f !== undefined)) throw new UsageError('--xds-tls-ca, --xds-tls-cert and --xds-tls-key go together');
  const trustDomain = v['xds-tls-trust-domain'] ?? DEFAULT_TRUST_DOMAIN;
  if (v['xds-tls-trust-domain'] !== undefined && tls[0] === undefined) throw new UsageError('--xds-tls-trust-domain needs --xds-tls-ca, --xds-tls-cert and --xds-tls-key');
  if (!isTrustDomain(trustDomain)) throw new UsageError(`--xds-tls-trust-domain ${trustDomain}: lower-case letters, digits, '.', '-' or '_'`);
  if (v.kube && v.manifests) throw new UsageError('--manifests and --kube are mutually exclusive');
  if (!v.kube) {
    const stray = Object.keys(KUBE_FLAGS).find((k) => v[k as keyof typeof v] !== undefined);
    if (stray) throw new UsageError(`--${stray} needs --kube`);
  }
  if (!v.manifests && !v.kube) throw new UsageError('serve needs --manifests DIR or --kube');
  const level = (v['log-level'] ?? 'info') as ServeOptions['logLevel'];
  if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new UsageError('--log-level must be debug, info, warn or error');
  return {
    manifests: v.manifests ?? '',
    xds: hostPort(v['xds-address'], { host: '127.0.0.1', port: 18000 }, '--xds-address'),
    admin: hostPort(v['admin-address'], { host: '127.0.0.1', port: 18080 }, '--admin-address'),
    pipeline: pipelineOptions(v),
    logLevel: level,
    debounceMs: int(v['debounce-ms'], 20, '--debounce-ms', 0, 10_000),
    maxDelayMs: int(v['max-delay-ms'], 500, '--max-delay-ms', 1, 60_000),
    idleGcMs: int(v['idle-gc-ms'], 1000, '--idle-gc-ms', 0, 600_000),
    ...(v.kube ? { kube: kubeOptions(v, env) } : {}),
    ...(tls[0] !== undefined ? { xdsTls: { caFile: tls[0], certFile: tls[1]!, keyFile: tls[2]!, trustDomain } } : {}),
  };
}

export function parseTranslate(args: string[], command: string): TranslateCommandOptions {
  const { values: v } = parseArgs({
    args,
    strict: true,
    options: {
      file: { type: 'string', short: 'f' },
      output: { type: 'string', short: 'o' },
      group: { type: 'string' },
      ...PIPELINE_FLAGS,
    },
  });
  if (!v.file) throw new UsageError(`${command} needs -f FILE|DIR`);
  const output = v.output ?? 'yaml';
  if (output !== 'yaml' && output !== 'json') throw new UsageError('-o must be yaml or json');
  const group = v.group ?? 'envoy';
  if (group !== 'envoy' && group !== 'grpc') throw new UsageError('--group must be envoy or grpc');
  return { file: v.file, output, group, pipeline: pipelineOptions(v) };
}
