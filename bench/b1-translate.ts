// B1 translate (benchmarks.md): full translation of N Ingresses into encoded Envoy
// resources, and one Ingress changed among N. The measured work is what the
// Controller does for a full rebuild (pipeline/controller.ts): translateStore, the
// consistency check of every group, and SnapshotEncoder.buildGroups (JSON → protobuf
// bytes, content hashes, sorted type snapshots). Debounce, publishing to the cache
// and logging diagnostics are not measured.
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { formatDiagnostic, sortDiagnostics } from '../control-plane/src/diagnostics.js';
import { buildModel } from '../control-plane/src/model/build.js';
import { buildEndpoints } from '../control-plane/src/model/endpoints.js';
import { checkConsistency } from '../control-plane/src/pipeline/consistency.js';
import { DEFAULT_PIPELINE_OPTIONS, fromScratch, translateStore, type PipelineOptions, type TranslateResult } from '../control-plane/src/pipeline/translate-store.js';
import { WATCHED_KINDS } from '../control-plane/src/sources/k8s-types.js';
import { Store, type StoreSnapshot } from '../control-plane/src/sources/store.js';
import { resourceName, resourcesOf, type EnvoyResources, type GroupResources } from '../control-plane/src/translate/resources.js';
import { ALL_GROUPS, translate } from '../control-plane/src/translate/translate.js';
import { ENVOY_GROUP } from '../control-plane/src/xds/cache/memory-cache.js';
import { SnapshotEncoder, hash } from '../control-plane/src/xds/cache/snapshot.js';
import type { Resource, Snapshot } from '../control-plane/src/xds/cache/types.js';
import { encodeMessage, type JsonObject } from '../control-plane/src/xds/encode.js';
import { sotwBody } from '../control-plane/src/xds/server/body-writer.js';
import { CLUSTER, ENDPOINT, LISTENER, ROUTE, SECRET, SHORT_NAMES, TYPE_URLS, type TypeUrl } from '../control-plane/src/xds/type-urls.js';
import type { Benchmark, BenchContext, BenchOutcome } from './benchmark.js';
import { benchCert } from './cert.js';
import { CHANGE_KINDS, changeTargets, generate, modifyIngress, rng, type ChangeKind, type Generated } from './generate.js';
import { profile, saveProfile, summarize, type Category, type ProfileSummary } from './profile.js';
import { gc, memory, round, stats, table, timestamp, type MemorySample, type Stats } from './report.js';
import { GcPauseRecorder, type GcPauses } from './gc-pauses.js';

export interface B1Options {
  /** Numbers of Ingresses. */
  readonly sizes: readonly number[];
  /** Timed full translations per size, after one warm-up run. */
  readonly fullRepeats: number;
  /** Timed one-Ingress changes per size, after `incrementalWarmup` untimed ones. */
  readonly incrementalRepeats: number;
  readonly incrementalWarmup: number;
  /** Extra runs per size timed stage by stage (not part of the samples above). */
  readonly phaseRepeats: number;
  readonly seed: number;
  /** --route-shards (unset: one route configuration). */
  readonly routeShards?: number;
  /**
   * --proxyless: build the proxyless gRPC group too, as the Controller does once a
   * proxyless client has connected (unset: the "envoy" group only, the Controller's default).
   */
  readonly proxyless?: boolean;
  /** Write CPU profiles of one full and several incremental builds at the largest size to this folder. */
  readonly profileDir?: string;
  readonly log?: (line: string) => void;
}

export const B1_DEFAULTS: Omit<B1Options, 'log' | 'profileDir'> = {
  sizes: [1000, 10_000],
  fullRepeats: 5,
  incrementalRepeats: 20,
  incrementalWarmup: 3,
  phaseRepeats: 3,
  seed: 1,
};

export const B1_QUICK: Omit<B1Options, 'log' | 'profileDir'> = {
  sizes: [200, 1000],
  fullRepeats: 2,
  incrementalRepeats: 5,
  incrementalWarmup: 1,
  phaseRepeats: 1,
  seed: 1,
};

/** The figures to beat (from the issue). */
/** The figures to beat: issue 2 (< 2 s, < 20 ms) and issue 8 (≤ 1 s, ≤ 5 ms). */
export const B1_TARGETS = { fullMsAt10k: 2000, incrementalMs: 20, issue8: { fullMsAt10k: 1000, incrementalMs: 5 } } as const;

export interface ResourceCounts {
  /** Per xDS type, for the `envoy` group. */
  readonly envoy: Record<string, number>;
  /** API listeners for proxyless gRPC (the `grpc` group shares routes and clusters with `envoy`; its endpoints have their own content). */
  readonly grpcListeners: number;
  /** Distinct encoded resources over all groups (one shared by groups counts once): what resources/s counts. */
  readonly distinct: number;
  readonly distinctBytes: number;
  /** The plain HTTP RouteConfiguration `http` holds every virtual host. */
  readonly httpRouteConfig: { readonly virtualHosts: number; readonly routes: number; readonly jsonBytes: number; readonly protoBytes: number };
}

export interface IncrementalSample {
  readonly ms: number;
  /** CPU time of this process (all threads, GC included) during the sample: less noisy than wall time on a shared machine. */
  readonly cpuMs: number;
  readonly change: string;
  readonly ingress: string;
  /** Resources whose bytes were encoded anew (the rest came from the memo). */
  readonly reencoded: number;
  readonly reencodedBytes: number;
  /**
   * Untimed above: writing a SotW response body for each changed resource once (what the
   * server does before the first stream sends it; server/body-writer.ts). A changed
   * RouteConfiguration is written from its virtual hosts' bytes: the one `http`
   * RouteConfiguration is a 15 MB copy at 10k. `reencodedBytes` are those bodies' bytes.
   */
  readonly assembleMs: number;
}

export interface SizeResult {
  readonly n: number;
  /** os.loadavg() (1, 5, 15 min) when the size started and ended: the machines are shared. */
  readonly loadavg: { readonly before: readonly number[]; readonly after: readonly number[] };
  readonly generated: Generated['counts'];
  readonly objectsInStore: number;
  readonly resources: ResourceCounts;
  readonly diagnostics: { readonly errors: number; readonly warnings: number };
  readonly full: {
    /** The warm-up run: certificate checks not cached yet, and (at the first size) a cold JIT. */
    readonly firstRunMs: number;
    readonly samplesMs: readonly number[];
    readonly stats: Stats;
    /** CPU time per sample (this process, all threads). */
    readonly cpuSamplesMs: readonly number[];
    readonly cpuStats: Stats;
    /** The collector's pauses of the main thread in each sample (bench/gc-pauses.ts). */
    readonly gcSamples: readonly GcPauses[];
    /** Per sample: wall time minus the collector's pauses (the program's own time). */
    readonly mutatorSamplesMs: readonly number[];
    readonly gcStats: { readonly scavengeMs: Stats; readonly markCompactMs: Stats; readonly totalMs: Stats; readonly mutatorMs: Stats };
    readonly resourcesPerSecond: number;
    readonly ingressesPerSecond: number;
    readonly encodedMiBPerSecond: number;
  };
  readonly incremental: {
    readonly samples: readonly IncrementalSample[];
    readonly samplesMs: readonly number[];
    readonly stats: Stats;
    readonly cpuStats: Stats;
  };
  /** Medians over `phaseRepeats` runs, in ms. */
  readonly phases: {
    readonly full: Record<string, number>;
    readonly incremental: Record<string, number>;
  };
  readonly memory: {
    readonly beforeGenerate: MemorySample;
    /** The objects are generated and in the store. */
    readonly storeFilled: MemorySample;
    /** After the full runs, holding the store only (after a GC): what the full runs left behind. */
    readonly afterFull: MemorySample;
    /** After the incremental runs, holding the store, the encoder (memo: JSON text and bytes of every resource) and the last snapshots. */
    readonly afterIncremental: MemorySample;
  };
  readonly profiles?: { readonly full: ProfileDigest; readonly incremental: ProfileDigest };
}

export interface ProfileDigest {
  readonly file: string;
  readonly summary: ProfileSummary;
}

export interface B1Result {
  readonly parameters: Omit<B1Options, 'log'> & {
    readonly pipeline: PipelineOptions;
    readonly mix: Record<string, unknown>;
    readonly cert: string;
    readonly notes: readonly string[];
  };
  readonly targets: typeof B1_TARGETS;
  readonly results: readonly SizeResult[];
  readonly errors: readonly string[];
}

const MIX = {
  namespaces: 20,
  hostsPerIngress: '1–3 (3 % of Ingresses have a one-label wildcard first host)',
  pathsPerHost: '2–5 (70 % Prefix, 20 % Exact, 10 % ImplementationSpecific; 20 % name the Service port by name)',
  servicesPerIngress: '1–3, each with one EndpointSlice of 1–3 ready IPv4 endpoints over 3 zones; 20 % have a second port',
  tls: 'half of the Ingresses, each with its own kubernetes.io/tls Secret holding the one shared self-signed certificate',
  canary: 'a third of the Ingresses are nginx canaries (canary, canary-weight 1–50, half canary-by-header) of an earlier primary in the same namespace: same hosts, paths and pathTypes, own canary Service, primary annotations copied (as Kruise Rollout does), no TLS section',
  auth: '20 % of the primaries carry auth-url/auth-signin or whitelist-source-range annotations (copied to their canaries)',
  incrementalChanges: 'cycled: on a primary without canary, rename the first path of the first host / switch its backend Service / add an Exact path; on a canary, a new canary-weight (a Kruise Rollout step)',
};

const NOTES = [
  'Canary annotations become weighted or header-matched routes of their primaries; auth-url/auth-signin become the ext_authz filter (enabled per route) with its cluster, whitelist-source-range an RBAC per route.',
  'Timed work per run = translateStore + checkConsistency per group + SnapshotEncoder.buildGroups (what Controller.rebuild does, without publishing and logging).',
  'Groups: the "envoy" group only, as the Controller builds until a proxyless gRPC client connects; with --proxyless, the "grpc" group too (API listeners, route configurations without path_separated_prefix, proxyless clusters and endpoints).',
  'Full runs are from scratch, as the first build of a new process (pipeline/translate-store.ts fromScratch): a store of new objects (a structuredClone of the generated ones, made untimed), a fresh model builder, endpoint model, certificate verdicts, translation memos, consistency state and SnapshotEncoder; only the JIT is warm. Before 2026-11-23 01:10 UTC the translation memos and the memos keyed by input object stayed from run to run, so a "full" run reused the last run’s translated objects by name and content (translate ~0.15 s instead of ~0.57 s at 10k, consistency ~0 instead of ~0.34 s). The last full run’s result is let go before the next starts (as at start-up, only the store is held); incremental runs reuse the state of the build before them, and include store.upsert and store.snapshot().',
  'One GC is forced after the full build the incremental runs start from (an idle control plane has collected its start-up garbage before the first change comes). No GC is forced between timed samples (steady state, as in the Controller: a sample may pay for the garbage of the one before). A forced full GC before each sample made samples ~1.5x slower in a trial, so it is used only before memory readings.',
  'The machines are shared: os.loadavg() is recorded before and after each size.',
];

/** The pipeline options of the run (the defaults, with the route shards asked for). */
let pipeline: PipelineOptions = DEFAULT_PIPELINE_OPTIONS;
/** The node groups built (see B1Options.proxyless). */
let groups: ReadonlySet<string> = new Set([ENVOY_GROUP]);

export async function runB1(opts: B1Options): Promise<B1Result> {
  pipeline = opts.routeShards && opts.routeShards > 1 ? { ...DEFAULT_PIPELINE_OPTIONS, routeShards: opts.routeShards } : DEFAULT_PIPELINE_OPTIONS;
  groups = opts.proxyless ? ALL_GROUPS : new Set([ENVOY_GROUP]);
  const log = opts.log ?? (() => undefined);
  const errors: string[] = [];
  const cert = benchCert();
  const results: SizeResult[] = [];
  const largest = Math.max(...opts.sizes);
  for (const n of opts.sizes) {
    try {
      results.push(await runSize(n, opts, cert, errors, log, opts.profileDir !== undefined && n === largest ? opts.profileDir : undefined));
    } catch (e) {
      errors.push(`N=${n}: ${(e as Error).stack ?? String(e)}`);
      log(`B1 N=${n}: failed: ${(e as Error).message}`);
    }
  }
  const { log: _l, ...params } = opts;
  return {
    parameters: { ...params, pipeline: pipeline, mix: MIX, cert: cert.source, notes: NOTES },
    targets: B1_TARGETS,
    results,
    errors,
  };
}

/** What Controller.rebuild does for a full rebuild, minus publishing. */
function rebuild(store: StoreSnapshot, encoder: SnapshotEncoder): { result: TranslateResult; snapshots: Record<string, Snapshot> } {
  const result = translateStore(store, pipeline, groups);
  const problems = Object.entries(result.resources).flatMap(([g, r]) => checkConsistency(r, g).map((p) => `${g}: ${p}`));
  if (problems.length) throw new Error(`inconsistent resources: ${problems.slice(0, 5).join('; ')}`);
  const snapshots = encoder.buildGroups(result.resources);
  return { result, snapshots };
}

async function runSize(
  n: number,
  opts: B1Options,
  cert: ReturnType<typeof benchCert>,
  errors: string[],
  log: (line: string) => void,
  profileDir: string | undefined,
): Promise<SizeResult> {
  const loadBefore = loadavg().map((x) => round(x, 2));
  gc();
  const beforeGenerate = memory();
  const gen = generate({ ingresses: n, cert, seed: opts.seed + n });
  const store = new Store();
  store.replace(gen.objects, WATCHED_KINDS);
  const snapshot = store.snapshot();
  gc();
  const storeFilled = memory();
  log(`B1 N=${n}: ${gen.objects.length} objects (${gen.counts.hosts} hosts, ${gen.counts.paths} paths, ${gen.counts.secrets} TLS Secrets)`);

  // Full translation: one warm-up, then the timed runs, each with an empty memo.
  let t = performance.now();
  // Each full run gets a store of new objects (made untimed), as informers give a new
  // process: memos keyed by input object (an Ingress's plan, a Secret's check) start empty.
  const freshSnapshot = (): StoreSnapshot => {
    const s = new Store();
    s.replace(structuredClone(gen.objects), WATCHED_KINDS);
    return s.snapshot();
  };
  let input = freshSnapshot();
  let last = fromScratch(() => rebuild(input, new SnapshotEncoder()));
  const firstRunMs = round(performance.now() - t);
  const diagnostics = {
    errors: last.result.diagnostics.filter((d) => d.level === 'error').length,
    warnings: last.result.diagnostics.filter((d) => d.level === 'warning').length,
  };
  if (diagnostics.errors) {
    const first = last.result.diagnostics.filter((d) => d.level === 'error').slice(0, 5).map(formatDiagnostic);
    errors.push(`N=${n}: ${diagnostics.errors} error diagnostics on generated input, e.g. ${first.join(' | ')}`);
  }
  const fullMs: number[] = [];
  const fullCpuMs: number[] = [];
  const fullGc: GcPauses[] = [];
  const recorder = new GcPauseRecorder().start();
  for (let i = 0; i < opts.fullRepeats; i++) {
    // As at start-up, only the store is held during a full translation: the last run's
    // result is let go first (not collected: no GC is forced).
    if (i > 0) last = undefined as unknown as typeof last;
    input = freshSnapshot();
    const c0 = process.cpuUsage();
    t = performance.now();
    last = fromScratch(() => rebuild(input, new SnapshotEncoder()));
    const end = performance.now();
    fullMs.push(round(end - t));
    fullCpuMs.push(cpuMs(c0));
    fullGc.push(await recorder.pausesIn({ start: t, end }));
  }
  recorder.stop();
  const mutatorMs = fullMs.map((ms, i) => round(ms - fullGc[i]!.totalMs));
  const resources = countResources(last.result.resources, last.snapshots);
  const fullStats = stats(fullMs);
  last = undefined as unknown as typeof last; // only the store stays for the memory reading and the stages below
  input = undefined as unknown as StoreSnapshot;
  gc();
  const afterFull = memory();
  log(`B1 N=${n}: full ${fullStats.median} ms, CPU ${stats(fullCpuMs).median} ms (median of ${fullMs.length}; first run ${firstRunMs} ms)`);
  const gcStats = {
    scavengeMs: stats(fullGc.map((g) => g.minor.ms)),
    markCompactMs: stats(fullGc.map((g) => g.major.ms)),
    totalMs: stats(fullGc.map((g) => g.totalMs)),
    mutatorMs: stats(mutatorMs),
  };
  log(
    `B1 N=${n}: full runs' GC pauses (median): scavenges ${gcStats.scavengeMs.median} ms (${stats(fullGc.map((g) => g.minor.count)).median} of them), ` +
      `mark-compact ${gcStats.markCompactMs.median} ms (in ${fullGc.filter((g) => g.major.count > 0).length} of ${fullGc.length} runs), all ${gcStats.totalMs.median} ms; ` +
      `wall − GC ${gcStats.mutatorMs.median} ms (${gcStats.mutatorMs.min}–${gcStats.mutatorMs.max})`,
  );

  const fullPhases = medianPhases(Array.from({ length: opts.phaseRepeats }, () => {
    const fresh = freshSnapshot();
    return fromScratch(() => fullPhaseRun(fresh));
  }));

  // Incremental: the encoder's memo holds the previous build, as in the Controller.
  const encoder = new SnapshotEncoder();
  let prev = encoder.buildGroups(translateStore(snapshot, pipeline, groups).resources);
  // A control plane is idle between its start-up build and the first change: the
  // collection of that build's garbage (~1 GB allocated at 10k) is done by then, not
  // spread over the first changes. No GC is forced between samples.
  gc();
  const current = [...gen.ingresses];
  const pickRng = rng(opts.seed * 7919 + n);
  let step = 0;
  const targets = new Map<ChangeKind, number[]>(CHANGE_KINDS.map((k) => [k, changeTargets(gen, k)]));
  const kinds = CHANGE_KINDS.filter((k) => targets.get(k)!.length > 0);
  const change = () => {
    const kind = kinds[step % kinds.length]!;
    const pool = targets.get(kind)!;
    const idx = pool[Math.floor(pickRng() * pool.length)]!;
    const modified = modifyIngress(current[idx]!, kind, step);
    current[idx] = modified;
    step++;
    return { modified, kind, key: `${modified.metadata.namespace}/${modified.metadata.name}` };
  };
  const incremental: IncrementalSample[] = [];
  const incrementalOnce = (record: boolean) => {
    const c = change();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    store.upsert(c.modified);
    const { snapshots } = rebuild(store.snapshot(), encoder);
    const ms = round(performance.now() - t0);
    const cpu = cpuMs(c0);
    const a0 = performance.now();
    const re = reencoded(prev, snapshots);
    const assembleMs = round(performance.now() - a0);
    prev = snapshots;
    if (record) incremental.push({ ms, cpuMs: cpu, change: c.kind, ingress: c.key, reencoded: re.count, reencodedBytes: re.bytes, assembleMs });
  };
  for (let i = 0; i < opts.incrementalWarmup; i++) incrementalOnce(false);
  for (let i = 0; i < opts.incrementalRepeats; i++) incrementalOnce(true);
  const incrementalMs = incremental.map((s) => s.ms);
  const incStats = stats(incrementalMs);
  log(`B1 N=${n}: one change ${incStats.median} ms, CPU ${stats(incremental.map((x) => x.cpuMs)).median} ms (median of ${incrementalMs.length}); then writing a response body for each changed resource ${stats(incremental.map((x) => x.assembleMs)).median} ms (untimed)`);

  const incPhaseRuns: Record<string, number>[] = [];
  for (let i = 0; i < opts.phaseRepeats; i++) {
    const c = change();
    incPhaseRuns.push(incrementalPhaseRun(store, c.modified, encoder));
  }
  const incPhases = medianPhases(incPhaseRuns);
  gc();
  const afterIncremental = memory();

  let profiles: SizeResult['profiles'];
  if (profileDir) {
    const stamp = timestamp();
    const fresh = freshSnapshot();
    const full = await profile(() => fromScratch(() => rebuild(fresh, new SnapshotEncoder())));
    const fullFile = join(profileDir, `b1-full-${n}-${stamp}.cpuprofile`);
    saveProfile(fullFile, full.profile);
    const inc = await profile(() => {
      for (let i = 0; i < 10; i++) {
        const c = change();
        store.upsert(c.modified);
        rebuild(store.snapshot(), encoder);
      }
    });
    const incFile = join(profileDir, `b1-incremental-${n}-${stamp}.cpuprofile`);
    saveProfile(incFile, inc.profile);
    profiles = {
      full: { file: fullFile, summary: summarize(full.profile, CATEGORIES, INCLUSIVE) },
      incremental: { file: incFile, summary: summarize(inc.profile, CATEGORIES, INCLUSIVE) },
    };
    log(`B1 N=${n}: CPU profiles in ${fullFile} and ${incFile}`);
  }

  const seconds = fullStats.median / 1000;
  return {
    n,
    loadavg: { before: loadBefore, after: loadavg().map((x) => round(x, 2)) },
    generated: gen.counts,
    objectsInStore: gen.objects.length,
    resources,
    diagnostics,
    full: {
      firstRunMs,
      samplesMs: fullMs,
      stats: fullStats,
      cpuSamplesMs: fullCpuMs,
      cpuStats: stats(fullCpuMs),
      gcSamples: fullGc,
      mutatorSamplesMs: mutatorMs,
      gcStats,
      resourcesPerSecond: Math.round(resources.distinct / seconds),
      ingressesPerSecond: Math.round(n / seconds),
      encodedMiBPerSecond: round(resources.distinctBytes / (1024 * 1024) / seconds, 1),
    },
    incremental: { samples: incremental, samplesMs: incrementalMs, stats: incStats, cpuStats: stats(incremental.map((x) => x.cpuMs)) },
    phases: { full: fullPhases, incremental: incPhases },
    memory: { beforeGenerate, storeFilled, afterFull, afterIncremental },
    ...(profiles ? { profiles } : {}),
  };
}

function cpuMs(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return round((d.user + d.system) / 1000);
}

interface Timer {
  readonly out: Record<string, number>;
  mark(phase: string): void;
}

function timer(): Timer {
  const out: Record<string, number> = {};
  let t = performance.now();
  return {
    out,
    mark(phase) {
      const now = performance.now();
      out[phase] = round(now - t);
      t = now;
    },
  };
}

/**
 * One full build stage by stage, with the exported stage functions translateStore
 * is made of, plus two re-creations of the work inside buildGroups (encode every
 * distinct resource; hash the bytes) to split it up.
 */
function fullPhaseRun(store: StoreSnapshot): Record<string, number> {
  const stage = timer();
  const mark = (p: string) => stage.mark(p);
  const built = buildModel(store, pipeline);
  mark('buildModel');
  const endpoints = buildEndpoints(built.model.clusters, store);
  mark('buildEndpoints');
  const resources = translate(built.model, endpoints, pipeline, groups, built.changes);
  mark('translate');
  sortDiagnostics(built.diagnostics);
  mark('sortDiagnostics');
  for (const [g, r] of Object.entries(resources)) checkConsistency(r, g);
  mark('checkConsistency');
  new SnapshotEncoder().buildGroups(resources);
  mark('buildGroups');
  const total = Object.values(stage.out).reduce((a, b) => a + b, 0);
  // Re-creations, timed apart (not part of the total above).
  const seen = new Map<string, { typeUrl: TypeUrl; r: JsonObject }>();
  for (const group of Object.values(resources)) {
    for (const typeUrl of TYPE_URLS) {
      for (const r of resourcesOf(group, typeUrl)) seen.set(`${typeUrl}\u0000${resourceName(r)}`, { typeUrl, r });
    }
  }
  const re = timer();
  const split = (p: string) => re.mark(p);
  const bytes: Uint8Array[] = [];
  for (const { typeUrl, r } of seen.values()) bytes.push(encodeMessage(typeUrl, r));
  split('buildGroups.re-created: encodeMessage every distinct resource');
  for (const b of bytes) hash(b);
  split('buildGroups.re-created: sha256 of every distinct resource');
  return { ...stage.out, total: round(total), ...re.out };
}

/** One change stage by stage, with the warm encoder. */
function incrementalPhaseRun(store: Store, modified: Parameters<Store['upsert']>[0], encoder: SnapshotEncoder): Record<string, number> {
  const stage = timer();
  const mark = (p: string) => stage.mark(p);
  store.upsert(modified);
  mark('store.upsert');
  const snap = store.snapshot();
  mark('store.snapshot');
  const built = buildModel(snap, pipeline);
  mark('buildModel');
  const endpoints = buildEndpoints(built.model.clusters, snap);
  mark('buildEndpoints');
  const resources = translate(built.model, endpoints, pipeline, groups, built.changes);
  mark('translate');
  sortDiagnostics(built.diagnostics);
  mark('sortDiagnostics');
  for (const [g, r] of Object.entries(resources)) checkConsistency(r, g);
  mark('checkConsistency');
  encoder.buildGroups(resources);
  mark('buildGroups');
  return { ...stage.out, total: round(Object.values(stage.out).reduce((a, b) => a + b, 0)) };
}

function medianPhases(runs: readonly Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  if (!runs.length) return out;
  for (const k of Object.keys(runs[0]!)) out[k] = stats(runs.map((r) => r[k] ?? NaN)).median;
  return out;
}


function countResources(groups: GroupResources, snapshots: Record<string, Snapshot>): ResourceCounts {
  const envoy = groups['envoy'];
  const grpc = groups['grpc'];
  const perType: Record<string, number> = {};
  for (const typeUrl of TYPE_URLS) perType[SHORT_NAMES[typeUrl]] = envoy ? resourcesOf(envoy, typeUrl).length : 0;
  // Distinct encoded resources: the encoder shares one Resource between groups when the content is the same.
  const distinct = new Set<Resource>();
  for (const snap of Object.values(snapshots)) {
    for (const typeUrl of TYPE_URLS) for (const r of snap.types[typeUrl].resources.values()) distinct.add(r);
  }
  const http = envoy?.routes.find((r) => r['name'] === 'http');
  const vhosts = (http?.['virtual_hosts'] as Array<{ routes: unknown[] }> | undefined) ?? [];
  return {
    envoy: perType,
    grpcListeners: grpc ? grpc.listeners.length : 0,
    distinct: distinct.size,
    distinctBytes: [...distinct].reduce((a, r) => a + r.bytes.length, 0),
    httpRouteConfig: {
      virtualHosts: vhosts.length,
      routes: vhosts.reduce((a, v) => a + v.routes.length, 0),
      jsonBytes: http ? Buffer.byteLength(JSON.stringify(http)) : 0,
      protoBytes: snapshots['envoy']?.types[ROUTE].resources.get('http')?.bytes.length ?? 0,
    },
  };
}

function reencoded(prev: Record<string, Snapshot>, next: Record<string, Snapshot>): { count: number; bytes: number } {
  const seen = new Set<unknown>();
  let count = 0;
  let bytes = 0;
  for (const [group, snap] of Object.entries(next)) {
    for (const typeUrl of TYPE_URLS) {
      const before = prev[group]?.types[typeUrl].resources;
      for (const [name, r] of snap.types[typeUrl].resources) {
        if (before?.get(name) === r || seen.has(r)) continue;
        seen.add(r);
        count++;
        // What the server does with it: a response body that carries it (a RouteConfiguration written from its parts).
        bytes += sotwBody(typeUrl, r.version, [r]).length;
      }
    }
  }
  return { count, bytes };
}

// Profile categories: each sample goes to the innermost frame that matches one.
const url = (f: { url: string }, end: string) => f.url.endsWith(end);
const CATEGORIES: readonly Category[] = [
  { name: 'GC', match: (f) => f.functionName === '(garbage collector)' },
  { name: 'JSON.stringify', match: (f) => f.functionName === 'stringify' && !f.url },
  { name: 'sha256 (node:crypto hash)', match: (f) => f.url.includes('internal/crypto/hash') },
  { name: 'protobufjs verify', match: (f) => f.functionName.endsWith('$verify') || (f.functionName === 'verify' && f.url.includes('protobufjs')) },
  { name: 'protobufjs fromObject', match: (f) => f.functionName.endsWith('$fromObject') || (f.functionName === 'fromObject' && f.url.includes('protobufjs')) },
  { name: 'protobufjs encode (generated + Writer)', match: (f) => f.functionName.endsWith('$encode') || url(f, 'writer.js') || url(f, 'writer_buffer.js') || (f.functionName === 'encode' && f.url.includes('protobufjs')) },
  { name: 'encode.ts convertMessage (JSON mapping → protobufjs object)', match: (f) => url(f, '/xds/encode.js') || url(f, '/xds/encode.ts') },
  { name: 'SnapshotEncoder self time (JSON.stringify runs here: V8 gives its time to the caller; memo compare, maps, sort)', match: (f) => /\/xds\/cache\/snapshot\.[jt]s$/.test(f.url) },
  { name: 'checkConsistency', match: (f) => /\/pipeline\/consistency\.[jt]s$/.test(f.url) },
  { name: 'model: certificate checks', match: (f) => /\/model\/tls\.[jt]s$/.test(f.url) },
  { name: 'model: endpoints', match: (f) => /\/model\/endpoints\.[jt]s$/.test(f.url) },
  { name: 'model: build (Ingresses → IR, incl. sorting)', match: (f) => /\/model\/[^/]+\.[jt]s$/.test(f.url) },
  { name: 'translate (IR → Envoy JSON)', match: (f) => /\/translate\/[^/]+\.[jt]s$/.test(f.url) },
  { name: 'sortDiagnostics', match: (f) => /\/diagnostics\.[jt]s$/.test(f.url) },
  { name: 'store upsert/snapshot', match: (f) => /\/sources\/store\.[jt]s$/.test(f.url) },
  { name: 'bench harness (untimed)', match: (f) => /\/bench\/[^/]+\.[jt]s$/.test(f.url) || f.functionName === 'structuredClone' },
];

const INCLUSIVE = [
  'translateStore',
  'buildModel',
  'buildEndpoints',
  'translate',
  'translateRouteConfiguration',
  'sortDiagnostics',
  'checkConsistency',
  'buildGroups',
  'encodeMessage',
  'convertMessage',
  'typeSnapshot',
  'hash',
  'stringify',
  'resolveTlsSecret',
  'upsert',
  'snapshot',
];

export function b1Summary(r: B1Result): string {
  const rows = r.results.map((s) => [
    String(s.n),
    s.resources.distinct,
    s.full.firstRunMs,
    s.full.stats.median,
    s.full.cpuStats.median,
    `${s.full.stats.min}–${s.full.stats.max}`,
    s.full.resourcesPerSecond,
    s.incremental.stats.median,
    s.incremental.cpuStats.median,
    `${s.incremental.stats.min}–${s.incremental.stats.max}`,
    s.memory.afterIncremental.heapUsedMiB,
    s.memory.afterIncremental.rssMiB,
    s.memory.afterIncremental.maxRssMiB,
  ]);
  const lines = [
    table(['N ingresses', 'resources', 'first ms', 'full ms (median)', 'full CPU ms', 'full min–max', 'resources/s', 'one change ms (median)', 'change CPU ms', 'change min–max', 'heap MiB', 'RSS MiB', 'peak RSS MiB'], rows),
  ];
  const at10k = r.results.find((s) => s.n === 10_000);
  const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
  if (at10k) {
    lines.push(
      `targets at N=10,000: full translation ${at10k.full.stats.median} ms (target < ${B1_TARGETS.fullMsAt10k} ms: ${verdict(at10k.full.stats.median < B1_TARGETS.fullMsAt10k)}); ` +
        `one change ${at10k.incremental.stats.median} ms (target < ${B1_TARGETS.incrementalMs} ms: ${verdict(at10k.incremental.stats.median < B1_TARGETS.incrementalMs)})`,
    );
  }
  for (const s of r.results) {
    const ph = Object.entries(s.phases.full).map(([k, v]) => `${k.replace('buildGroups.re-created: ', '~')} ${v}`).join(', ');
    lines.push(`N=${s.n} full stages (ms): ${ph}`);
    const ip = Object.entries(s.phases.incremental).map(([k, v]) => `${k} ${v}`).join(', ');
    lines.push(`N=${s.n} one-change stages (ms): ${ip}`);
  }
  for (const s of r.results) {
    if (!s.profiles) continue;
    for (const [which, d] of Object.entries(s.profiles)) {
      lines.push(`N=${s.n} ${which} profile (${d.summary.totalMs} ms sampled): ` + d.summary.breakdown.slice(0, 10).map((b) => `${b.category} ${(b.share * 100).toFixed(1)}%`).join(', '));
    }
  }
  if (r.errors.length) lines.push(`errors:\n  ${r.errors.join('\n  ')}`);
  return lines.join('\n');
}

export const b1: Benchmark = {
  id: 'b1',
  name: 'b1-translate',
  title: 'B1 translate: N Ingresses → encoded Envoy resources, full and one change',
  async run(ctx: BenchContext): Promise<BenchOutcome> {
    const base = ctx.quick ? B1_QUICK : B1_DEFAULTS;
    const opts: B1Options = {
      ...base,
      ...(ctx.sizes ? { sizes: ctx.sizes } : {}),
      ...(ctx.repeats !== undefined ? { fullRepeats: ctx.repeats } : {}),
      ...(ctx.incrementalRepeats !== undefined ? { incrementalRepeats: ctx.incrementalRepeats } : {}),
      ...(ctx.seed !== undefined ? { seed: ctx.seed } : {}),
      ...(ctx.profileDir ? { profileDir: ctx.profileDir } : {}),
      ...(ctx.routeShards ? { routeShards: ctx.routeShards } : {}),
      ...(ctx.proxyless ? { proxyless: true } : {}),
      log: ctx.log,
    };
    const r = await runB1(opts);
    return { parameters: r.parameters, targets: r.targets, results: r.results, errors: r.errors, summary: b1Summary(r) };
  },
};
