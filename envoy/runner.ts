// Runs a real Envoy (the pinned binary) with envoy/bootstrap.yaml for tests, the demo
// and benchmarks: ADS pointed at a local control plane port, admin on 127.0.0.1 with an
// ephemeral port, everything in a fresh temp dir. Several can run at once on one
// machine (no hot restart, so no shared memory and no base id).
//
// Every Envoy started here is killed when this Node process exits (exit handler, and
// SIGINT/SIGTERM/SIGHUP handlers installed while one runs); where util-linux `setpriv`
// exists, Envoy also gets a parent-death signal, so even a SIGKILLed test worker
// leaves no Envoy behind.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { envoyBinary, repoRoot } from './binary.js';

export type EnvoyLogLevel = 'trace' | 'debug' | 'info' | 'warning' | 'error' | 'critical' | 'off';

export interface StartEnvoyOptions {
  /** Port of the control plane's ADS server (the xds_cluster endpoint). */
  readonly xdsPort: number;
  /** Host of the ADS server; an IP address. Default 127.0.0.1. */
  readonly xdsHost?: string;
  /** xDS node id (`--service-node`); pods use their pod name. */
  readonly nodeId: string;
  /** xDS node cluster (`--service-cluster`). Default `xgate-gateway`, as in the pods. */
  readonly cluster?: string;
  /** Parent directory for the fresh temp dir. Default os.tmpdir(). */
  readonly workDir?: string;
  /** Default `info`. */
  readonly logLevel?: EnvoyLogLevel;
  /** Passed to `--component-log-level`, e.g. `upstream:debug,config:debug`. */
  readonly componentLogLevel?: string;
  /** Extra command-line arguments, appended last. */
  readonly extraArgs?: readonly string[];
  /** ADS flavour: `delta` (DELTA_GRPC, the bootstrap's) or `sotw` (GRPC). Default `delta`. */
  readonly xdsApi?: 'delta' | 'sotw';
  /** Worker threads (`--concurrency`). Default 1: tests run several Envoys on 2 cores. */
  readonly concurrency?: number;
  /** Bootstrap to start from. Default <repo>/envoy/bootstrap.yaml. */
  readonly bootstrapPath?: string;
  /** Per-cluster stats kept (envoy/cluster-stats.yaml, Helm `gateway.clusterStats`). Default `all`. */
  readonly clusterStats?: ClusterStats;
  /** Last edit of the parsed bootstrap before it is written (after the port rewrites). */
  readonly configure?: (bootstrap: Record<string, unknown>) => void;
  /** How long to wait for the admin interface. Default 20 s. */
  readonly startTimeoutMs?: number;
  /** Keep the temp dir (config, log) after stop(). Also: XGATE_KEEP_ENVOY_DIR=1. */
  readonly keepWorkDir?: boolean;
}

export interface ListenerAddress {
  readonly address: string;
  readonly port: number;
}

export interface AdminResponse {
  readonly status: number;
  readonly body: string;
}

export interface RunningEnvoy {
  readonly adminPort: number;
  /** http://127.0.0.1:<adminPort> */
  readonly adminUrl: string;
  readonly pid: number;
  /** Envoy's stdout and stderr (its log), in the temp dir. */
  readonly logFile: string;
  /** The fresh temp dir holding bootstrap.yaml and envoy.log; removed by stop(). */
  readonly workDir: string;
  readonly configFile: string;
  readonly nodeId: string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  isRunning(): boolean;
  /** SIGTERM, SIGKILL after `graceMs` (default 5 s), wait for exit, remove the temp dir. Idempotent. */
  stop(opts?: { graceMs?: number }): Promise<void>;
  /** Waits until the named listener is active (listed by admin /listeners); returns its bound address. */
  waitForListener(name: string, timeoutMs?: number): Promise<ListenerAddress>;
  /** Counters and gauges from admin /stats?format=json (histograms left out). `filter` is Envoy's regex filter. */
  stats(filter?: string): Promise<Record<string, number>>;
  /** Admin /config_dump parsed; `query` e.g. `include_eds` or `resource=dynamic_active_clusters`. */
  configDump(query?: string): Promise<unknown>;
  /** Waits until admin /ready answers 200 LIVE (initial LDS/CDS received and warmed). */
  waitReady(timeoutMs?: number): Promise<void>;
  /** Any admin request, e.g. admin('/drain_listeners', { method: 'POST' }). */
  admin(path: string, opts?: { method?: string }): Promise<AdminResponse>;
  /** The whole log so far. */
  readLog(): Promise<string>;
  /** The last `lines` lines of the log (sync; for failure messages). */
  logTail(lines?: number): string;
}

// ---- process bookkeeping -----------------------------------------------------------

/** Running Envoys → their temp dir (undefined when it is to be kept). */
const live = new Map<ChildProcess, string | undefined>();
let hooksInstalled = false;

function killAllNow(): void {
  for (const [child, dir] of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
  live.clear();
}

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killAllNow);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      killAllNow();
      // Nobody else handles it: restore the default action (terminate) and re-raise.
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    process.once(sig, onSignal);
  }
}

/** SIGKILLs every Envoy this process started (they are also killed on process exit). */
export function killAllEnvoys(): void {
  killAllNow();
}

/** Number of Envoy processes started here and still running. */
export function runningEnvoyCount(): number {
  return live.size;
}

let setprivOk: boolean | undefined;
function hasSetprivPdeathsig(): boolean {
  if (setprivOk === undefined) {
    const r = existsSync('/usr/bin/setpriv') ? spawnSync('/usr/bin/setpriv', ['--help'], { encoding: 'utf8', timeout: 5_000 }) : undefined;
    setprivOk = r !== undefined && r.status === 0 && r.stdout.includes('--pdeathsig');
  }
  return setprivOk;
}

// ---- small HTTP helpers ------------------------------------------------------------

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface HttpResult {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

function httpRequest(url: string, opts: { method?: string; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? 'GET', headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(opts.timeoutMs ?? 5_000, () => req.destroy(new Error(`timeout after ${opts.timeoutMs ?? 5_000} ms: ${url}`)));
    req.on('error', reject);
    req.end();
  });
}

export interface WaitForHttpOptions {
  /** Default 15 s. */
  readonly timeoutMs?: number;
  /** Host header (virtual host selection). */
  readonly host?: string;
  readonly headers?: Record<string, string>;
  /** Accept only this status (e.g. 200). Default: any HTTP response. */
  readonly status?: number;
  /** Accept only responses this returns true for (checked after `status`). */
  readonly until?: (res: HttpResult) => boolean;
  /** Poll interval. Default 50 ms. */
  readonly intervalMs?: number;
}

/**
 * Polls `url` (a new connection each time) until an HTTP response is accepted: ready
 * when the listener answers. Rejects with the last status or error on timeout.
 */
export async function waitForHttp(url: string, opts: WaitForHttpOptions = {}): Promise<HttpResult> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const deadline = Date.now() + timeoutMs;
  let last = 'no attempt';
  for (;;) {
    try {
      const headers = { ...opts.headers, ...(opts.host ? { host: opts.host } : {}) };
      const res = await httpRequest(url, { headers, timeoutMs: Math.max(500, Math.min(5_000, deadline - Date.now())) });
      if ((opts.status === undefined || res.status === opts.status) && (!opts.until || opts.until(res))) return res;
      last = `HTTP ${res.status} ${res.body.slice(0, 200)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() >= deadline) throw new Error(`waitForHttp ${url}${opts.host ? ` (Host: ${opts.host})` : ''}: not ready after ${timeoutMs} ms; last: ${last}`);
    await sleep(opts.intervalMs ?? 50);
  }
}

// ---- bootstrap ----------------------------------------------------------------------

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function obj(parent: Obj, key: string, where: string): Obj {
  const v = parent[key];
  if (!isObj(v)) throw new Error(`bootstrap: missing ${where}`);
  return v;
}

export type ClusterStats = 'all' | 'essential' | 'none';

/** The stats_config of a `clusterStats` setting (undefined for `all`), from envoy/cluster-stats.yaml. */
export function clusterStatsConfig(mode: ClusterStats): Obj | undefined {
  if (mode === 'all') return undefined;
  const doc: unknown = parse(readFileSync(join(repoRoot(), 'envoy', 'cluster-stats.yaml'), 'utf8'));
  const matcher = isObj(doc) ? doc[mode] : undefined;
  if (!isObj(matcher)) throw new Error(`envoy/cluster-stats.yaml: no ${mode} matcher`);
  return { stats_matcher: matcher };
}

/** The bootstrap with the ADS endpoint, admin port 0 and ADS flavour set. Exported for tests and the demo. */
export function renderBootstrap(opts: Pick<StartEnvoyOptions, 'xdsPort' | 'xdsHost' | 'xdsApi' | 'bootstrapPath' | 'clusterStats' | 'configure'>): Obj {
  const path = opts.bootstrapPath ?? join(repoRoot(), 'envoy', 'bootstrap.yaml');
  const doc: unknown = parse(readFileSync(path, 'utf8'));
  if (!isObj(doc)) throw new Error(`bootstrap ${path} is not a YAML mapping`);
  const statics = obj(doc, 'static_resources', 'static_resources');
  const clusters = statics['clusters'];
  const xds = Array.isArray(clusters) ? clusters.find((c): c is Obj => isObj(c) && c['name'] === 'xds_cluster') : undefined;
  if (!xds) throw new Error(`bootstrap ${path}: no static cluster xds_cluster`);
  xds['load_assignment'] = {
    cluster_name: 'xds_cluster',
    endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: opts.xdsHost ?? '127.0.0.1', port_value: opts.xdsPort } } } }] }],
  };
  doc['admin'] = { ...(isObj(doc['admin']) ? doc['admin'] : {}), address: { socket_address: { address: '127.0.0.1', port_value: 0 } } };
  const ads = obj(obj(doc, 'dynamic_resources', 'dynamic_resources'), 'ads_config', 'dynamic_resources.ads_config');
  if (opts.xdsApi) ads['api_type'] = opts.xdsApi === 'sotw' ? 'GRPC' : 'DELTA_GRPC';
  const stats = clusterStatsConfig(opts.clusterStats ?? 'all');
  if (stats) doc['stats_config'] = stats;
  opts.configure?.(doc);
  return doc;
}

// ---- start --------------------------------------------------------------------------

function tailOf(file: string, lines: number): string {
  try {
    const all = readFileSync(file, 'utf8').split('\n');
    return all.slice(Math.max(0, all.length - lines - 1)).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Starts Envoy and resolves once its admin interface answers on 127.0.0.1. */
export async function startEnvoy(opts: StartEnvoyOptions): Promise<RunningEnvoy> {
  const bin = envoyBinary(); // throws with "run npm run install-envoy" when missing
  if (!Number.isInteger(opts.xdsPort) || opts.xdsPort <= 0 || opts.xdsPort > 65535) throw new Error(`startEnvoy: bad xdsPort ${opts.xdsPort}`);
  const dir = mkdtempSync(join(opts.workDir ?? tmpdir(), 'xgate-envoy-'));
  const configFile = join(dir, 'bootstrap.yaml');
  const logFile = join(dir, 'envoy.log');
  const adminPathFile = join(dir, 'admin-address');
  const keep = opts.keepWorkDir ?? process.env['XGATE_KEEP_ENVOY_DIR'] === '1';
  await writeFile(configFile, stringify(renderBootstrap(opts)));

  const envoyArgs = [
    '-c', configFile,
    '--service-node', opts.nodeId,
    '--service-cluster', opts.cluster ?? 'xgate-gateway',
    '--admin-address-path', adminPathFile,
    '--disable-hot-restart',
    '--concurrency', String(opts.concurrency ?? 1),
    '--log-level', opts.logLevel ?? 'info',
    ...(opts.componentLogLevel ? ['--component-log-level', opts.componentLogLevel] : []),
    ...(opts.extraArgs ?? []),
  ];
  const [cmd, args] = hasSetprivPdeathsig() ? ['/usr/bin/setpriv', ['--pdeathsig', 'KILL', '--', bin, ...envoyArgs]] : [bin, envoyArgs];

  const logFd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(cmd, args, { stdio: ['ignore', logFd, logFd], cwd: dir });
  } finally {
    closeSync(logFd);
  }
  installExitHooks();
  live.set(child, keep ? undefined : dir);
  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      live.delete(child);
      resolve(exitInfo);
    });
  });
  const spawnError = new Promise<Error>((resolve) =>
    child.once('error', (err) => {
      live.delete(child);
      resolve(err);
    }),
  );

  const cleanup = async (): Promise<void> => {
    if (!keep) await rm(dir, { recursive: true, force: true });
  };
  const killNow = async (): Promise<void> => {
    if (!exitInfo) {
      child.kill('SIGKILL');
      await exited;
    }
  };

  // Wait for the admin address file (written once admin listens).
  const startTimeoutMs = opts.startTimeoutMs ?? 20_000;
  const deadline = Date.now() + startTimeoutMs;
  let adminPort = 0;
  let failure: string | undefined;
  const failed = Promise.race([spawnError.then((e) => `spawn ${bin}: ${e.message}`), exited.then((e) => `Envoy exited during start (code ${e.code}, signal ${e.signal})`)]);
  failed.then((f) => (failure = f), () => undefined);
  while (!adminPort) {
    if (failure) break;
    try {
      const text = (await readFile(adminPathFile, 'utf8')).trim();
      const m = /:(\d+)$/.exec(text);
      if (m) adminPort = Number(m[1]);
    } catch {
      // not yet written
    }
    if (adminPort) break;
    if (Date.now() > deadline) {
      failure = `Envoy admin did not come up within ${startTimeoutMs} ms`;
      break;
    }
    await sleep(20);
  }
  if (failure || !adminPort) {
    const tail = tailOf(logFile, 40);
    await killNow();
    await cleanup();
    throw new Error(`${failure ?? 'Envoy did not start'}\n--- ${logFile} (tail) ---\n${tail}`);
  }

  const adminUrl = `http://127.0.0.1:${adminPort}`;
  const admin = async (path: string, o: { method?: string } = {}): Promise<AdminResponse> => {
    const r = await httpRequest(adminUrl + (path.startsWith('/') ? path : `/${path}`), { method: o.method ?? 'GET' });
    return { status: r.status, body: r.body };
  };

  let stopping: Promise<void> | undefined;
  const envoy: RunningEnvoy = {
    adminPort,
    adminUrl,
    pid: child.pid ?? -1,
    logFile,
    workDir: dir,
    configFile,
    nodeId: opts.nodeId,
    exited,
    isRunning: () => exitInfo === undefined,
    stop(o = {}) {
      stopping ??= (async () => {
        if (!exitInfo) {
          child.kill('SIGTERM');
          const graceMs = o.graceMs ?? 5_000;
          const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), graceMs).unref());
          if ((await Promise.race([exited, timer])) === 'timeout') await killNow();
        }
        await cleanup();
      })();
      return stopping;
    },
    async waitForListener(name, timeoutMs = 15_000) {
      // What a timeout reports: xDS update counters, the listeners Envoy holds (active,
      // warming, draining) and the log's end, so a failure in CI can be told apart.
      const listenerDiagnostics = async (): Promise<string> => {
        const parts: string[] = [];
        try {
          const stats = await admin('/stats?filter=(listener_manager|sds|control_plane|lds|rds|cds)');
          parts.push(`stats:\n${stats.body.split('\n').filter((l) => /update_(attempt|success|rejected)|total_listeners|connected_state|lds\.|init_fetch_timeout/.test(l)).slice(0, 60).join('\n')}`);
        } catch (err) {
          parts.push(`stats: ${(err as Error).message}`);
        }
        try {
          const dump = await admin('/config_dump?resource=dynamic_listeners');
          const held = (JSON.parse(dump.body) as { configs?: Array<Record<string, unknown>> }).configs ?? [];
          parts.push(`dynamic listeners: ${held.map((c) => `${String(c['name'])}[${['active_state', 'warming_state', 'draining_state', 'error_state'].filter((k) => k in c).join(',')}]`).join(' ')}`);
        } catch (err) {
          parts.push(`config_dump: ${(err as Error).message}`);
        }
        parts.push(`log:\n${tailOf(logFile, 30)}`);
        return parts.join('\n');
      };
      const until = Date.now() + timeoutMs;
      let last = '';
      for (;;) {
        if (exitInfo) throw new Error(`Envoy exited while waiting for listener ${name}\n${tailOf(logFile, 40)}`);
        try {
          const r = await admin('/listeners?format=json');
          last = r.body;
          const parsed = JSON.parse(r.body) as { listener_statuses?: Array<{ name?: string; local_address?: { socket_address?: { address?: string; port_value?: number } } }> };
          const l = parsed.listener_statuses?.find((s) => s.name === name);
          const sa = l?.local_address?.socket_address;
          if (sa?.address !== undefined) return { address: sa.address, port: sa.port_value ?? 0 };
        } catch (err) {
          last = (err as Error).message;
        }
        if (Date.now() > until) throw new Error(`listener ${name} not active after ${timeoutMs} ms; admin /listeners: ${last.slice(0, 500)}\n${await listenerDiagnostics()}`);
        await sleep(50);
      }
    },
    async stats(filter) {
      const r = await admin(`/stats?format=json${filter ? `&filter=${encodeURIComponent(filter)}` : ''}`);
      if (r.status !== 200) throw new Error(`admin /stats: HTTP ${r.status} ${r.body.slice(0, 200)}`);
      const out: Record<string, number> = {};
      const parsed = JSON.parse(r.body) as { stats?: Array<{ name?: string; value?: number | string }> };
      for (const s of parsed.stats ?? []) {
        if (typeof s.name === 'string' && s.value !== undefined) out[s.name] = Number(s.value);
      }
      return out;
    },
    async configDump(query) {
      const r = await admin(`/config_dump${query ? `?${query}` : ''}`);
      if (r.status !== 200) throw new Error(`admin /config_dump: HTTP ${r.status} ${r.body.slice(0, 200)}`);
      return JSON.parse(r.body) as unknown;
    },
    async waitReady(timeoutMs = 20_000) {
      const until = Date.now() + timeoutMs;
      let last = '';
      for (;;) {
        if (exitInfo) throw new Error(`Envoy exited while waiting for /ready\n${tailOf(logFile, 40)}`);
        try {
          const r = await admin('/ready');
          if (r.status === 200 && r.body.trim() === 'LIVE') return;
          last = `HTTP ${r.status} ${r.body.trim()}`;
        } catch (err) {
          last = (err as Error).message;
        }
        if (Date.now() > until) throw new Error(`Envoy not ready after ${timeoutMs} ms (last /ready: ${last})`);
        await sleep(50);
      }
    },
    admin,
    readLog: () => readFile(logFile, 'utf8'),
    logTail: (lines = 40) => tailOf(logFile, lines),
  };
  return envoy;
}
