// B5 fan-out (benchmarks.md): M lightweight ADS clients (bench/ads-fleet.ts; M = 100
// and 1,000), state of the world and delta, against the control plane in a child
// process (`xgate serve` on a manifests folder with N Ingresses of the B1 mix), so its
// memory is its own. B5_FLEET=grpc-js uses @grpc/grpc-js clients; B5_MODES=sotw (or
// delta) runs one protocol; --profile writes the child's CPU profile and summarises it
// over the changes. Measures: time from one change (a manifest file renamed into
// place) until each client has ACKed it (p50/p99 over clients, per change), bytes
// received per change, control-plane memory per idle connected client, and the time to
// resync every client after a control-plane restart, with what they were sent again.
// Beside the M clients, a few real Envoys (--envoys, default 2; 1 in quick mode) of the
// same protocol: their time to apply each change is read from their admin /stats
// (the RDS or EDS update_success counters, polled every 10 ms), and after the restart
// their update counters (xDS subscriptions only: a DNS cluster counts re-resolutions
// there too) show whether anything was sent to them again.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { repoRoot } from '../envoy/binary.js';
import { startEnvoy, type RunningEnvoy } from '../envoy/runner.js';
import { ENDPOINT, ROUTE } from '../control-plane/src/xds/type-urls.js';
import type { Benchmark, BenchContext, BenchOutcome } from './benchmark.js';
import { FleetClient, RawFleetClient, subscriptionFor, type AdsFleetClient } from './ads-fleet.js';
import { benchCert } from './cert.js';
import { freePorts } from './gateway.js';
import { BENCH_CLASS, generate } from './generate.js';
import { percentile } from './probe.js';
import { summarize, type Category, type CpuProfile, type ProfileSummary } from './profile.js';
import { round, stats, table } from './report.js';

export const B5_TARGETS = { ackP99Ms: 500, memoryPerIdleClientKiB: 150, resyncMs: 5000 } as const;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface ControlPlaneProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
}

function startChild(dir: string, xdsPort: number, adminPort: number, httpPort: number, httpsPort: number, profile?: { dir: string; name: string }, routeShards?: number): ControlPlaneProcess {
  const nodeArgs = profile ? ['--cpu-prof', '--cpu-prof-dir', profile.dir, '--cpu-prof-name', profile.name] : [];
  const child = spawn(
    process.execPath,
    [...nodeArgs, path.join(repoRoot(), 'bin', 'xgate.js'), 'serve', '--manifests', dir, '--xds-address', `127.0.0.1:${xdsPort}`, '--admin-address', `127.0.0.1:${adminPort}`, '--http-port', String(httpPort), '--https-port', String(httpsPort), '--bind-address', '127.0.0.1', '--log-level', 'warn', ...(routeShards && routeShards > 1 ? ['--route-shards', String(routeShards)] : [])],
    { stdio: ['ignore', 'ignore', 'ignore'], env: { ...process.env } },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, exited };
}

async function admin(adminPort: number, p: string): Promise<{ status: number; text: string }> {
  try {
    const res = await fetch(`http://127.0.0.1:${adminPort}${p}`);
    return { status: res.status, text: await res.text() };
  } catch {
    return { status: 0, text: '' };
  }
}

/**
 * Waits until the control plane has nothing in flight to these proxies: every type it sent
 * them is ACKed at the version sent (admin /debug/proxies). Their update counters can stand
 * still while it holds listeners and routes back for an ACK still to come (push-order.ts),
 * so counters alone do not say the last change has reached them.
 */
async function waitAllAcked(adminPort: number, nodeIds: readonly string[], timeoutMs = 30_000): Promise<void> {
  type Status = { nodeId: string; types: Record<string, { sent?: { version: string }; acked?: { version: string }; nack?: { version: string; message: string } }> };
  const t0 = performance.now();
  for (;;) {
    const r = await admin(adminPort, '/debug/proxies');
    const list = r.status === 200 ? ((JSON.parse(r.text) as { proxies: Status[] }).proxies ?? []) : [];
    const mine = list.filter((p) => nodeIds.includes(p.nodeId));
    if (mine.length === nodeIds.length && mine.every((p) => Object.values(p.types).every((t) => !t.sent || t.acked?.version === t.sent.version))) return;
    // A NACK of what was sent last will not turn into an ACK: say so now.
    const refused = mine.flatMap((p) => Object.entries(p.types).filter(([, t]) => t.sent && t.nack?.version === t.sent.version).map(([type, t]) => `${p.nodeId} ${type}: ${t.nack!.message.trim()}`));
    if (refused.length) throw new Error(`proxies refused what the control plane sent: ${refused.join('; ')}`);
    if (performance.now() - t0 > timeoutMs) {
      const pending = mine.flatMap((p) => Object.entries(p.types).filter(([, t]) => t.sent && t.acked?.version !== t.sent.version).map(([type, t]) => `${p.nodeId} ${type}: ${JSON.stringify(t)}`));
      throw new Error(`proxies ${nodeIds.join(', ')}: responses still unACKed after ${timeoutMs} ms (${mine.length} of ${nodeIds.length} connected; ${pending.join('; ')})`);
    }
    await sleep(50);
  }
}

async function waitReady(adminPort: number, timeoutMs = 60_000): Promise<void> {
  const t0 = performance.now();
  while ((await admin(adminPort, '/readyz')).status !== 200) {
    if (performance.now() - t0 > timeoutMs) throw new Error('control plane not ready');
    await sleep(50);
  }
}

/** Sum of a metric's samples in the Prometheus text (all label sets). */
function metric(text: string, name: string): number {
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    const v = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(v)) {
      sum += v;
      found = true;
    }
  }
  return found ? sum : NaN;
}

async function memoryOf(adminPort: number): Promise<{ rssMiB: number; heapMiB: number }> {
  const rss: number[] = [];
  const heap: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = (await admin(adminPort, '/metrics')).text;
    rss.push(metric(t, 'xgate_process_resident_memory_bytes') / 2 ** 20);
    heap.push(metric(t, 'xgate_nodejs_heap_size_used_bytes') / 2 ** 20);
    await sleep(500);
  }
  return { rssMiB: round(stats(rss).median, 1), heapMiB: round(stats(heap).median, 1) };
}

function b5Ingress(extraPath: number): Record<string, unknown> {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'b5', namespace: 'bench-b5', creationTimestamp: '2030-01-01T00:00:00Z' },
    spec: { ingressClassName: BENCH_CLASS, rules: [{ host: 'b5.example.com', http: { paths: ['/', `/v${extraPath}`].map((p) => ({ path: p, pathType: 'Prefix', backend: { service: { name: 'b5', port: { number: 80 } } } })) } }] },
  };
}

function b5Endpoints(count: number): Record<string, unknown>[] {
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'b5', namespace: 'bench-b5' }, spec: { ports: [{ name: 'http', port: 80 }] } },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'b5-1', namespace: 'bench-b5', labels: { 'kubernetes.io/service-name': 'b5' } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080 }],
      endpoints: Array.from({ length: count }, (_, i) => ({ addresses: [`10.5.0.${i + 1}`], conditions: { ready: true } })),
    },
  ];
}

/** The update counters of a real Envoy's xDS subscriptions (not the static xds_cluster's). */
interface EnvoyUpdates {
  /** update_success of the route configurations (RDS; with shards, each shard's). */
  readonly rds: number;
  /** update_success of the clusters' EDS subscriptions. */
  readonly eds: number;
  /** update_success + update_rejected of every subscription: responses applied or refused. */
  readonly all: number;
  /** control_plane.connected_state (1: its ADS stream is up). */
  readonly connected: number;
  /** The update_success and update_rejected counters by name. */
  readonly counters: Readonly<Record<string, number>>;
}

/**
 * The clusters of an Envoy that get their endpoints by EDS. A DNS cluster's
 * update_success counts its own re-resolutions (every few seconds), not xDS updates.
 */
async function edsClusters(e: RunningEnvoy): Promise<ReadonlySet<string>> {
  const dump = (await e.configDump('resource=dynamic_active_clusters')) as { configs?: Array<{ cluster?: { name?: string; type?: string } }> };
  return new Set((dump.configs ?? []).filter((c) => c.cluster?.type === 'EDS').map((c) => c.cluster!.name!));
}

async function envoyUpdates(e: RunningEnvoy, eds: ReadonlySet<string>): Promise<EnvoyUpdates> {
  const s = await e.stats('update_success|update_rejected|connected_state');
  let rds = 0;
  let edsUpdates = 0;
  let all = 0;
  const counters: Record<string, number> = {};
  for (const [k, v] of Object.entries(s)) {
    if (k.includes('xds_cluster')) continue;
    const success = k.endsWith('.update_success');
    if (!success && !k.endsWith('.update_rejected')) continue;
    const cluster = k.startsWith('cluster.') ? k.slice('cluster.'.length, k.lastIndexOf('.')) : undefined;
    if (cluster !== undefined && !eds.has(cluster)) continue;
    all += v;
    counters[k] = v;
    if (!success) continue;
    if (k.includes('.rds.')) rds += v;
    else if (cluster !== undefined) edsUpdates += v;
  }
  return { rds, eds: edsUpdates, all, connected: s['control_plane.connected_state'] ?? 0, counters };
}

/** Polls until the Envoy has applied one more update of `kind` than `before`; ms since `t0`. */
async function envoyApplied(e: RunningEnvoy, eds: ReadonlySet<string>, kind: 'route' | 'endpoints', before: EnvoyUpdates, t0: number, timeoutMs: number): Promise<number> {
  for (;;) {
    const now = await envoyUpdates(e, eds);
    if (kind === 'route' ? now.rds > before.rds : now.eds > before.eds) return round(performance.now() - t0, 1);
    if (performance.now() - t0 > timeoutMs) throw new Error(`Envoy ${e.nodeId}: ${kind} change not applied within ${timeoutMs} ms`);
    await sleep(10);
  }
}

interface ChangeResult {
  readonly kind: 'route' | 'endpoints';
  readonly ackMs: readonly number[];
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly bytesPerClient: number;
  readonly responsesPerClient: number;
  /** Per real Envoy: ms from the change until its update_success counter moved (admin polled every 10 ms). */
  readonly envoyMs: readonly number[];
  /** From the control plane's metrics: translations during the change and their time; publish → all ACKed (xgate_push_duration_seconds). */
  /** CPU of this process (the client fleet) over the same stretch. */
  readonly fleetCpuMs: number;
  readonly controlPlane: { readonly translations: number; readonly translationMs: number; readonly pushes: number; readonly pushMs: number; readonly cpuMs: number; readonly gcMs: number; readonly majorGcs: number };
}

/** Translation and push-duration histogram totals (all label sets). */
function timings(text: string): { translations: number; translationS: number; pushes: number; pushS: number; cpuS: number; gcS: number; gcMajor: number } {
  const z = (x: number) => (Number.isFinite(x) ? x : 0);
  const major = /^xgate_nodejs_gc_duration_seconds_count\{kind="major"\} (\S+)$/m.exec(text);
  return {
    translations: z(metric(text, 'xgate_translation_duration_seconds_count')),
    translationS: z(metric(text, 'xgate_translation_duration_seconds_sum')),
    pushes: z(metric(text, 'xgate_push_duration_seconds_count')),
    pushS: z(metric(text, 'xgate_push_duration_seconds_sum')),
    cpuS: z(metric(text, 'xgate_process_cpu_seconds_total')),
    gcS: z(metric(text, 'xgate_nodejs_gc_duration_seconds_sum')),
    gcMajor: major ? Number(major[1]) : 0,
  };
}

/** A stretch of the child's run (CLOCK_MONOTONIC µs, the clock of V8's profiles) to summarise. */
interface ProfileWindow {
  readonly label: string;
  readonly fromUs: number;
  readonly toUs: number;
}

const CATEGORIES: readonly Category[] = [
  { name: 'gc', match: (f) => f.functionName === '(garbage collector)' },
  { name: 'xds server', match: (f) => f.url.includes('/xds/server/') },
  { name: 'xds observers (proxies, metrics)', match: (f) => /\/xds\/(proxies|nack-reporter)|\/admin\/metrics/.test(f.url) },
  { name: 'snapshot encode', match: (f) => /\/xds\/(cache|encode)/.test(f.url) },
  { name: 'translate', match: (f) => f.url.includes('/translate/') },
  { name: 'model', match: (f) => f.url.includes('/model/') },
  { name: 'pipeline/sources', match: (f) => /\/(pipeline|sources)\//.test(f.url) },
  { name: 'protobufjs', match: (f) => f.url.includes('protobufjs') },
  { name: 'grpc-js', match: (f) => f.url.includes('@grpc/grpc-js') },
  { name: 'node http2/net', match: (f) => /node:internal\/(http2|net|stream|streams)/.test(f.url) },
  { name: 'node other', match: (f) => f.url.startsWith('node:') },
  { name: 'idle', match: (f) => f.functionName === '(idle)' },
  { name: 'program (native)', match: (f) => f.functionName === '(program)' },
];

/** The samples of a --cpu-prof profile that fall in the windows, summarised; undefined if there is no profile. */
function summarizeWindows(file: string, windows: readonly ProfileWindow[]): ProfileSummary | undefined {
  if (!existsSync(file) || windows.length === 0) return undefined;
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const samples: number[] = [];
  // summarize() weighs sample j by delta j+1: each kept sample takes its own weight along
  const deltas: number[] = [0];
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i]!;
    if (windows.some((w) => t >= w.fromUs && t < w.toUs)) {
      samples.push(p.samples[i]!);
      deltas.push(i + 1 < p.timeDeltas.length ? p.timeDeltas[i + 1]! : 0);
    }
  }
  return summarize({ ...p, samples, timeDeltas: deltas.slice(0, samples.length) }, CATEGORIES, [], 15);
}

function formatSummary(s: ProfileSummary): string {
  const cat = s.breakdown.map((b) => `    ${b.category}: ${b.ms} ms (${Math.round(b.share * 100)}%)`).join('\n');
  const top = s.topSelf.map((b) => `    ${b.ms} ms ${b.function}`).join('\n');
  return `  by category:\n${cat}\n  top self time:\n${top}`;
}

export const b5: Benchmark = {
  id: 'b5',
  name: 'b5-fanout',
  title: 'B5 fan-out: M lightweight ADS clients (SotW and delta): ACK latency, bytes, memory per client, resync after restart',
  async run(ctx: BenchContext): Promise<BenchOutcome> {
    const fleet = ctx.sizes ?? (ctx.quick ? [10] : [100, 1000]);
    // B5_MODES=sotw (or delta) runs one protocol only (profiling, quicker iterations).
    const modes = (['sotw', 'delta'] as const).filter((x) => !process.env['B5_MODES'] || process.env['B5_MODES'].split(',').includes(x));
    const n = ctx.quick ? 20 : 100;
    const changesPerKind = ctx.repeats ?? (ctx.quick ? 1 : 5);
    const envoyCount = ctx.envoys ?? (ctx.quick ? 1 : 2);
    const errors: string[] = [];
    const results: Record<string, unknown>[] = [];
    const rows: (string | number)[][] = [];
    const dir = mkdtempSync(path.join(os.tmpdir(), 'xgate-b5-'));
    const write = (file: string, docs: readonly Record<string, unknown>[]) => {
      const tmp = path.join(dir, `.${file}.tmp`);
      writeFileSync(tmp, docs.map((d) => stringify(d)).join('---\n'));
      renameSync(tmp, path.join(dir, file));
    };
    const gen = generate({ ingresses: n, cert: benchCert(), seed: ctx.seed ?? 1 });
    write('00-base.yaml', [{ apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: BENCH_CLASS }, spec: { controller: 'xgate.io/ingress-controller' } }, ...(gen.objects as unknown as Record<string, unknown>[])]);
    try {
      for (const m of fleet) {
        for (const mode of modes) {
          let extra = 0;
          let eps = 2;
          write('10-b5-ingress.yaml', [b5Ingress(extra)]);
          write('11-b5-endpoints.yaml', b5Endpoints(eps));
          const [xdsPort, adminPort, httpPort, httpsPort] = (await freePorts(4)) as [number, number, number, number];
          const prof = (phase: string) => (ctx.profileDir ? { dir: ctx.profileDir, name: `b5-${mode}-M${m}-${phase}.cpuprofile` } : undefined);
          const windows: ProfileWindow[] = [];
          let cp: ControlPlaneProcess | undefined = startChild(dir, xdsPort, adminPort, httpPort, httpsPort, prof('run'), ctx.routeShards);
          const clients: AdsFleetClient[] = [];
          const envoys: RunningEnvoy[] = [];
          try {
            await waitReady(adminPort);
            // The real Envoys first: their memory is in the baseline the clients' is measured from.
            for (let i = 0; i < envoyCount; i++) {
              const e = await startEnvoy({ xdsPort, nodeId: `b5-envoy-${mode}-${i}`, xdsApi: mode, logLevel: 'warning' });
              envoys.push(e);
            }
            for (const e of envoys) await e.waitReady(60_000);
            await sleep(1000);
            const eds = await Promise.all(envoys.map(edsClusters));
            const updatesOf = () => Promise.all(envoys.map((e, i) => envoyUpdates(e, eds[i]!)));
            const idleBefore = await memoryOf(adminPort);
            const tConnect = performance.now();
            for (let i = 0; i < m; i++) {
              const c = process.env['B5_FLEET'] === 'grpc-js' ? new FleetClient(`127.0.0.1:${xdsPort}`, `b5-${mode}-${i}`, mode, subscriptionFor(ctx.routeShards)) : new RawFleetClient(`127.0.0.1:${xdsPort}`, `b5-${mode}-${i}`, mode, subscriptionFor(ctx.routeShards));
              clients.push(c);
              c.connect();
              if (i % 50 === 49) await sleep(20);
            }
            const allHave = async (pred: (c: AdsFleetClient) => boolean, timeoutMs: number, what: string) => {
              const t0 = performance.now();
              while (!clients.every(pred)) {
                if (performance.now() - t0 > timeoutMs) throw new Error(`${clients.filter((c) => !pred(c)).length} of ${m} clients: ${what} not within ${timeoutMs} ms`);
                await sleep(5);
              }
            };
            await allHave((c) => c.ackedAt.size >= subscriptionFor(ctx.routeShards).length, 120_000, 'initial config');
            const initialMs = round(performance.now() - tConnect, 0);
            const initialBytes = clients.reduce((a, c) => a + c.received.reduce((b, r) => b + r.bytes, 0), 0);
            await sleep(2000);
            const idleAfter = await memoryOf(adminPort);
            const perClientKiB = round(((idleAfter.rssMiB - idleBefore.rssMiB) * 1024) / m, 1);
            const perClientHeapKiB = round(((idleAfter.heapMiB - idleBefore.heapMiB) * 1024) / m, 1);
            ctx.log(`b5 ${mode} M=${m}: all configured in ${initialMs} ms; RSS ${idleBefore.rssMiB} → ${idleAfter.rssMiB} MiB (${perClientKiB} KiB/client), heap ${idleBefore.heapMiB} → ${idleAfter.heapMiB} MiB`);

            const changes: ChangeResult[] = [];
            for (let k = 0; k < changesPerKind * 2; k++) {
              const kind = k % 2 === 0 ? 'route' : 'endpoints';
              const typeUrl = kind === 'route' ? ROUTE : ENDPOINT;
              const before = timings((await admin(adminPort, '/metrics')).text);
              const envoysBefore = await updatesOf();
              const hr0 = process.hrtime.bigint();
              const cpu0 = process.cpuUsage();
              const t0 = performance.now();
              if (kind === 'route') write('10-b5-ingress.yaml', [b5Ingress(++extra)]);
              else write('11-b5-endpoints.yaml', b5Endpoints((eps = eps === 2 ? 3 : 2)));
              const envoyMsP = Promise.all(envoys.map((e, i) => envoyApplied(e, eds[i]!, kind, envoysBefore[i]!, t0, 60_000)));
              await allHave((c) => (c.ackedAt.get(typeUrl) ?? 0) > t0, 60_000, `${kind} change`);
              const envoyMs = await envoyMsP;
              await sleep(300); // stragglers of the same push (other types)
              const cpu = process.cpuUsage(cpu0);
              const fleetCpuMs = round((cpu.user + cpu.system) / 1000, 0);
              const after = timings((await admin(adminPort, '/metrics')).text);
              const ackMs = clients.map((c) => round(c.ackedAt.get(typeUrl)! - t0, 1));
              const bytes = clients.reduce((a, c) => a + c.since(t0).reduce((b, r) => b + r.bytes, 0), 0);
              const responses = clients.reduce((a, c) => a + c.since(t0).length, 0);
              const max = Math.max(...ackMs);
              windows.push({ label: `${kind} ${k >> 1}`, fromUs: Number(hr0 / 1000n), toUs: Number(hr0 / 1000n) + Math.round(max * 1000) });
              // The control plane's own view: translation time(s) of this change, and publish → all ACKed.
              const controlPlane = {
                translations: after.translations - before.translations,
                translationMs: round((after.translationS - before.translationS) * 1000, 1),
                pushes: after.pushes - before.pushes,
                pushMs: round((after.pushS - before.pushS) * 1000, 1),
                // CPU of the whole process (every thread) and GC pauses from the change until 300 ms after the last ACK
                cpuMs: round((after.cpuS - before.cpuS) * 1000, 0),
                gcMs: round((after.gcS - before.gcS) * 1000, 1),
                majorGcs: after.gcMajor - before.gcMajor,
              };
              changes.push({ kind, ackMs, p50: percentile(ackMs, 50), p99: percentile(ackMs, 99), max, bytesPerClient: Math.round(bytes / m), responsesPerClient: round(responses / m, 2), envoyMs, controlPlane, fleetCpuMs });
              ctx.log(`b5 ${mode} M=${m}: ${kind} change → all ACKed: p50 ${percentile(ackMs, 50)} ms, p99 ${percentile(ackMs, 99)} ms, ${Math.round(bytes / m)} bytes/client; ${envoys.length} real Envoy(s) applied it after ${envoyMs.join(', ')} ms; control plane: ${controlPlane.translations} translation(s) ${controlPlane.translationMs} ms, publish → all ACKed ${controlPlane.pushes ? `${controlPlane.pushMs} ms` : 'not observed'}, CPU ${controlPlane.cpuMs} ms, GC ${controlPlane.gcMs} ms (${controlPlane.majorGcs} major); fleet CPU ${fleetCpuMs} ms`);
              await sleep(300);
            }

            // Restart: the clients reconnect presenting what they hold.
            const streamsBefore = clients.map((c) => c.streams);
            // The Envoys' counters once they have settled (everything sent to them ACKed, then two
            // readings 300 ms apart agree): an update of the last change still on its way must not
            // count as sent after the restart.
            await waitAllAcked(adminPort, envoys.map((e) => e.nodeId));
            let envoysBeforeRestart = await updatesOf();
            for (let settled = false, tries = 0; !settled && tries < 20; tries++) {
              await sleep(300);
              const again = await updatesOf();
              settled = again.every((u, i) => u.all === envoysBeforeRestart[i]!.all);
              envoysBeforeRestart = again;
            }
            const tKill = performance.now();
            cp.child.kill('SIGTERM');
            await cp.exited;
            const tSpawn = performance.now();
            const shutdownMs = round(tSpawn - tKill, 0);
            cp = startChild(dir, xdsPort, adminPort, httpPort, httpsPort, prof('restarted'), ctx.routeShards);
            await waitReady(adminPort);
            const readyMs = round(performance.now() - tSpawn, 0);
            await allHave((c, ) => c.streams > streamsBefore[clients.indexOf(c)]!, 60_000, 'reconnect');
            // connected on the new process: its gauge counts streams that sent their first request
            for (const t0 = performance.now(); ; ) {
              const connected = metric((await admin(adminPort, '/metrics')).text, 'xgate_connected_proxies');
              if (connected >= m + envoys.length) break;
              if (performance.now() - t0 > 60_000) throw new Error(`only ${connected} of ${m} clients and ${envoys.length} Envoys reconnected`);
              await sleep(20);
            }
            const resyncMs = round(performance.now() - tSpawn, 0);
            await sleep(1000);
            // What the Envoys were sent again: responses applied or refused since the restart (update_attempt counts reconnections).
            const envoysAfterRestart = await updatesOf();
            const envoyUpdatesResent = envoysAfterRestart.reduce((a, u, i) => a + u.all - envoysBeforeRestart[i]!.all, 0);
            const envoysConnected = envoysAfterRestart.filter((u) => u.connected === 1).length;
            const envoyCountersMoved = envoysAfterRestart.flatMap((u, i) => Object.entries(u.counters).filter(([k, v]) => v !== (envoysBeforeRestart[i]!.counters[k] ?? 0)).map(([k, v]) => `${envoys[i]!.nodeId} ${k} +${v - (envoysBeforeRestart[i]!.counters[k] ?? 0)}`));
            const after = clients.map((c) => c.since(tKill));
            const resent = after.reduce((a, rs) => a + rs.reduce((b, r) => b + r.resources, 0), 0);
            const resentBytes = after.reduce((a, rs) => a + rs.reduce((b, r) => b + r.bytes, 0), 0);
            const resentResponses = after.reduce((a, rs) => a + rs.length, 0);
            ctx.log(`b5 ${mode} M=${m}: restart (old process exited ${shutdownMs} ms after SIGTERM) → all ${m} resynced ${resyncMs} ms after the new process was spawned (ready after ${readyMs} ms); ${resentResponses} responses, ${resent} resources, ${resentBytes} bytes sent again; ${envoysConnected} of ${envoys.length} real Envoys connected, ${envoyUpdatesResent} updates applied or refused by them since${envoyCountersMoved.length ? ` (${envoyCountersMoved.join(', ')})` : ''}`);

            if (ctx.profileDir) {
              writeFileSync(path.join(ctx.profileDir, `b5-${mode}-M${m}-windows.json`), JSON.stringify(windows));
              for (const kind of ['route', 'endpoints']) {
                const file = path.join(ctx.profileDir, `b5-${mode}-M${m}-run.cpuprofile`);
                const w = windows.filter((x) => x.label.startsWith(kind));
                const summary = summarizeWindows(file, w);
                if (summary) ctx.log(`b5 ${mode} M=${m}: control-plane CPU during the ${w.length} ${kind} changes (${summary.totalMs} ms of samples)\n${formatSummary(summary)}`);
              }
            }

            const route = changes.filter((c) => c.kind === 'route');
            const ep = changes.filter((c) => c.kind === 'endpoints');
            const med = (xs: readonly ChangeResult[], f: (c: ChangeResult) => number) => stats(xs.map(f)).median;
            results.push({
              mode,
              clients: m,
              ingresses: n,
              initial: { allConfiguredMs: initialMs, bytesPerClient: Math.round(initialBytes / m) },
              memory: { before: idleBefore, after: idleAfter, perIdleClientKiB: perClientKiB, perIdleClientHeapKiB: perClientHeapKiB },
              changes,
              envoys: { count: envoys.length, routeMs: route.map((c) => Math.max(...c.envoyMs, 0)), endpointsMs: ep.map((c) => Math.max(...c.envoyMs, 0)), connectedAfterRestart: envoysConnected, updatesAfterRestart: envoyUpdatesResent, countersMovedAfterRestart: envoyCountersMoved },
              medians: { routeP50: med(route, (c) => c.p50), routeP99: med(route, (c) => c.p99), envoyRouteMax: med(route, (c) => Math.max(...c.envoyMs, 0)), envoyEndpointsMax: med(ep, (c) => Math.max(...c.envoyMs, 0)), endpointsP50: med(ep, (c) => c.p50), endpointsP99: med(ep, (c) => c.p99), routeBytesPerClient: med(route, (c) => c.bytesPerClient), endpointBytesPerClient: med(ep, (c) => c.bytesPerClient) },
              restart: { oldProcessShutdownMs: shutdownMs, newProcessReadyMs: readyMs, allResyncedAfterSpawnMs: resyncMs, responsesResent: resentResponses, resourcesResent: resent, bytesResent: resentBytes },
            });
            rows.push([`${mode} M=${m}`, med(route, (c) => c.p50), med(route, (c) => c.p99), med(route, (c) => Math.max(...c.envoyMs, 0)), med(route, (c) => c.bytesPerClient), med(ep, (c) => c.p50), med(ep, (c) => c.p99), med(ep, (c) => Math.max(...c.envoyMs, 0)), med(ep, (c) => c.bytesPerClient), perClientKiB, resyncMs, `${resent} / ${envoyUpdatesResent}`]);
          } catch (e) {
            errors.push(`${mode} M=${m}: ${(e as Error).stack ?? String(e)}`);
          } finally {
            for (const c of clients) c.close();
            await Promise.all(envoys.map((e) => e.stop()));
            if (cp) {
              cp.child.kill('SIGTERM');
              await Promise.race([cp.exited, sleep(5000)]);
              if (cp.child.exitCode === null) cp.child.kill('SIGKILL');
            }
          }
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return {
      parameters: { clients: fleet, modes, ingresses: n, changesPerKind, realEnvoys: envoyCount, envoyAck: 'real Envoys of the same protocol: ms from the change until admin /stats shows the RDS (route) or EDS (endpoints) update_success counter moved, polled every 10 ms; after the restart, update_success + update_rejected of every subscription (responses applied or refused) since it',  routeShards: ctx.routeShards ?? 1, subscriptions: ctx.routeShards && ctx.routeShards > 1 ? 'LDS, CDS, SRDS, EDS wildcard; RDS http/0 … http/N-1' : 'LDS, CDS, EDS wildcard; RDS "http"', fleet: process.env['B5_FLEET'] === 'grpc-js' ? '@grpc/grpc-js clients' : 'raw node:http2 gRPC clients (bench/ads-fleet.ts RawFleetClient)', clientWindow: Number(process.env['B5_CLIENT_WINDOW'] ?? 256 * 1024 * 1024), change: 'manifest file renamed into place (file source → store → build → push)', memory: 'control-plane RSS/heap (admin /metrics, median of 3 readings) before and 2 s after M idle clients connected' },
      targets: B5_TARGETS,
      results,
      errors,
      summary: table(['B5', 'route p50 ms', 'route p99 ms', 'route Envoys ms (max)', 'route B/client', 'EDS p50 ms', 'EDS p99 ms', 'EDS Envoys ms (max)', 'EDS B/client', 'KiB/idle client', 'resync ms (from spawn)', 'resent: resources / Envoy updates'], rows),
    };
  },
};
