// Command-line options, parsed and validated once at start. Nothing deeper in the
// code reads flags or the environment.
import { parseArgs } from 'node:util';
import { DEFAULT_PIPELINE_OPTIONS, type PipelineOptions } from './pipeline/translate-store.js';
import { isPort } from './model/names.js';
import { isIP } from 'node:net';

export class UsageError extends Error {}

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export interface ServeOptions {
  readonly manifests: string;
  readonly xds: HostPort;
  readonly admin: HostPort;
  readonly pipeline: PipelineOptions;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  readonly debounceMs: number;
  readonly maxDelayMs: number;
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
  };
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

export function parseServe(args: string[]): ServeOptions {
  const { values: v } = parseArgs({
    args,
    strict: true,
    options: {
      manifests: { type: 'string' },
      'xds-address': { type: 'string' },
      'admin-address': { type: 'string' },
      'log-level': { type: 'string' },
      'debounce-ms': { type: 'string' },
      'max-delay-ms': { type: 'string' },
      ...PIPELINE_FLAGS,
    },
  });
  if (!v.manifests) throw new UsageError('serve needs --manifests DIR (the Kubernetes source comes with --kube in a later release)');
  const level = (v['log-level'] ?? 'info') as ServeOptions['logLevel'];
  if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new UsageError('--log-level must be debug, info, warn or error');
  return {
    manifests: v.manifests,
    xds: hostPort(v['xds-address'], { host: '127.0.0.1', port: 18000 }, '--xds-address'),
    admin: hostPort(v['admin-address'], { host: '127.0.0.1', port: 18080 }, '--admin-address'),
    pipeline: pipelineOptions(v),
    logLevel: level,
    debounceMs: int(v['debounce-ms'], 20, '--debounce-ms', 0, 10_000),
    maxDelayMs: int(v['max-delay-ms'], 500, '--max-delay-ms', 1, 60_000),
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
