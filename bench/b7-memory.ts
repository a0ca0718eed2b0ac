// B7 memory (benchmarks.md): the control plane's RSS and heap with N Ingresses of the
// B1 mix, scaling 0 → 1k → 10k → 10 (and back to 1k), measured in a fresh child process
// that runs the real pipeline (startControlPlane: store, controller, encoder, cache,
// xDS and admin servers; no proxy connected). Each step replaces the store's content,
// waits for the build, forces two full GCs and reads process.memoryUsage(). The
// generated objects are what the store holds (the generator's own garbage is collected).
//
// Then (not in --quick) the child stays idle until V8's memory reducer has run, and reads
// again: what a quiet control plane holds. Forced GCs do not shrink the young generation
// (up to 2 × 16 MiB semi-spaces once a build has filled it) nor wait for freed pages to
// be unmapped; the memory reducer does both on its own after some seconds without much
// allocation. The idle reading waits for that (the young generation shrunk), at most
// IDLE_MAX_MS, and says whether it happened.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { constants as perfConstants, PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import { silentLogger } from '../control-plane/src/log.js';
import { DEFAULT_PIPELINE_OPTIONS } from '../control-plane/src/pipeline/translate-store.js';
import { startControlPlane } from '../control-plane/src/serve.js';
import { WATCHED_KINDS } from '../control-plane/src/sources/k8s-types.js';
import type { Benchmark, BenchContext, BenchOutcome } from './benchmark.js';
import { benchCert } from './cert.js';
import { freePorts } from './gateway.js';
import { BENCH_CLASS, generate } from './generate.js';
import { table } from './report.js';
import { repoRoot } from '../envoy/binary.js';

export const B7_TARGETS = { rssMiBAt1k: 150, rssMiBAt10k: 500, note: 'back near the 1k figure after scaling down' } as const;

interface Reading {
  readonly rssMiB: number;
  readonly heapUsedMiB: number;
  readonly heapTotalMiB: number;
  readonly externalMiB: number;
  readonly arrayBuffersMiB: number;
  /** V8's young generation (both semi-spaces), part of heapTotal. */
  readonly newSpaceMiB: number;
  /** Resident part of glibc's main malloc heap ([heap] in /proc/self/smaps; undefined elsewhere): array buffers and other native allocations, and what malloc keeps after freeing them. */
  readonly brkMiB?: number;
}

interface Step extends Reading {
  readonly step: string;
  readonly ingresses: number;
  readonly buildMs: number;
  /** The reading once idle (not in --quick). */
  readonly idle?: Reading & {
    /** Seconds idle before the reading. */
    readonly afterS: number;
    /**
     * Whether the heap had been reduced by then: a full GC after the step's own forced ones
     * (V8's memory reducer, or the control plane's settling collection: pipeline/idle-gc.ts)
     * and the young generation shrunk.
     */
    readonly reduced: boolean;
    /** Whether V8's memory reducer ran (a full GC nothing forced) while idle. */
    readonly reducerRan: boolean;
  };
}

const MiB = 2 ** 20;
const r1 = (x: number) => Math.round(x * 10) / 10;
/** How long a step waits, idle, for V8's memory reducer (it usually runs within a minute). */
const IDLE_MAX_MS = 120_000;

function newSpaceBytes(): number {
  return v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
}

/** Resident KiB of the [heap] mapping (glibc's main arena), Linux only. */
function brkMiB(): number | undefined {
  if (!existsSync('/proc/self/smaps')) return undefined;
  const text = readFileSync('/proc/self/smaps', 'utf8');
  const at = text.indexOf(' [heap]\n');
  if (at < 0) return 0;
  const rss = /\nRss:\s+(\d+) kB/.exec(text.slice(at));
  return rss ? r1(Number(rss[1]) / 1024) : undefined;
}

function reading(): Reading {
  const m = process.memoryUsage();
  const brk = brkMiB();
  return {
    rssMiB: r1(m.rss / MiB),
    heapUsedMiB: r1(m.heapUsed / MiB),
    heapTotalMiB: r1(m.heapTotal / MiB),
    externalMiB: r1(m.external / MiB),
    arrayBuffersMiB: r1(m.arrayBuffers / MiB),
    newSpaceMiB: r1(newSpaceBytes() / MiB),
    ...(brk === undefined ? {} : { brkMiB: brk }),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Full GCs, and those nothing forced (at idle: the memory reducer's), counted by a PerformanceObserver. */
let majorGcs = 0;
let unforcedMajorGcs = 0;
function observeGcs(): void {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const d = (e as { detail?: { kind?: number; flags?: number } }).detail;
      if (d?.kind !== perfConstants.NODE_PERFORMANCE_GC_MAJOR) continue;
      majorGcs++;
      if (!((d.flags ?? 0) & perfConstants.NODE_PERFORMANCE_GC_FLAGS_FORCED)) unforcedMajorGcs++;
    }
  }).observe({ entryTypes: ['gc'] });
}

/**
 * Stays idle until the heap has been reduced (a full GC after the reading's own, the
 * memory reducer's or the control plane's settling one, after which the young generation
 * is back to its minimum) or maxMs passed; then reads.
 */
async function idleReading(maxMs: number): Promise<NonNullable<Step['idle']>> {
  const t0 = performance.now();
  // The observer reports a GC in a later turn: after this, the reading's own forced ones are counted.
  await sleep(100);
  const gcs = majorGcs;
  const unforced = unforcedMajorGcs;
  const small = Math.max(newSpaceBytes() / 2, 2 * MiB);
  let reduced = false;
  while (!reduced && performance.now() - t0 < maxMs) {
    await sleep(1000);
    reduced = majorGcs > gcs && newSpaceBytes() <= small;
  }
  // Freed pages are unmapped by a background task after the GC.
  await sleep(1000);
  return { ...reading(), afterS: Math.round((performance.now() - t0) / 1000), reduced, reducerRan: unforcedMajorGcs > unforced };
}

/** Runs in the child (node --expose-gc dist/bench/b7-memory.js --child 1000,10000,10,1000 [idle max ms] [route shards]). */
async function child(sizes: number[], idleMaxMs: number, routeShards: number): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc!;
  if (idleMaxMs > 0) observeGcs();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'xgate-b7-'));
  writeFileSync(path.join(dir, '00-class.yaml'), `apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: ${BENCH_CLASS}}\nspec: {controller: xgate.io/ingress-controller}\n`);
  const [xdsPort, httpPort, httpsPort] = (await freePorts(3)) as [number, number, number];
  const cp = await startControlPlane(
    { manifests: dir, xds: { host: '127.0.0.1', port: xdsPort }, admin: { host: '127.0.0.1', port: 0 }, pipeline: { ...DEFAULT_PIPELINE_OPTIONS, ...(routeShards > 1 ? { routeShards } : {}), bindAddress: '127.0.0.1', httpPort, httpsPort }, logLevel: 'warn', debounceMs: 20, maxDelayMs: 500 },
    silentLogger(),
  );
  const cert = benchCert();
  const read = async (step: string, ingresses: number, buildMs: number): Promise<Step> => {
    await sleep(300);
    gc();
    gc();
    const now: Step = { step, ingresses, buildMs: Math.round(buildMs), ...reading() };
    return idleMaxMs > 0 ? { ...now, idle: await idleReading(idleMaxMs) } : now;
  };
  const out: Step[] = [await read('started, empty', 0, 0)];
  let prev = 0;
  for (const n of sizes) {
    const objects = generate({ ingresses: n, cert, seed: 1 }).objects;
    const built = cp.controller.nextBuild();
    const t0 = performance.now();
    cp.store.replace(objects, WATCHED_KINDS);
    await built;
    out.push(await read(n < prev ? `scaled down to ${n}` : `${n} Ingresses`, n, performance.now() - t0));
    prev = n;
  }
  await cp.close();
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

export const b7: Benchmark = {
  id: 'b7',
  name: 'b7-memory',
  title: 'B7 memory: control-plane RSS and heap at 1k and 10k Ingresses, and after scaling down',
  async run(ctx: BenchContext): Promise<BenchOutcome> {
    const sizes = ctx.sizes ?? (ctx.quick ? [100, 300, 10] : [1000, 10_000, 10, 1000]);
    const idleMaxMs = ctx.quick ? 0 : IDLE_MAX_MS;
    const errors: string[] = [];
    let steps: Step[] = [];
    try {
      // Under vitest this module is the .ts source: the child runs the compiled one (npm run build).
      const here = fileURLToPath(import.meta.url);
      const self = here.endsWith('.ts') ? path.join(repoRoot(), 'dist', 'bench', 'b7-memory.js') : here;
      const text = await new Promise<string>((resolve, reject) => {
        const c = spawn(process.execPath, ['--expose-gc', self, '--child', sizes.join(','), String(idleMaxMs), String(ctx.routeShards ?? 1)], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        c.stdout.on('data', (d: Buffer) => (out += d.toString()));
        c.stderr.on('data', (d: Buffer) => (err += d.toString()));
        c.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`B7 child exited ${code}: ${err.slice(-2000)}`))));
      });
      steps = JSON.parse(text.trim().split('\n').pop()!) as Step[];
      for (const s of steps) {
        const idle = s.idle ? `; idle ${s.idle.afterS} s${s.idle.reduced ? (s.idle.reducerRan ? '' : ' (reduced by the settling collection)') : ' (not reduced)'}: RSS ${s.idle.rssMiB} MiB, heap ${s.idle.heapUsedMiB} MiB` : '';
        ctx.log(`b7: ${s.step}: RSS ${s.rssMiB} MiB, heap ${s.heapUsedMiB} MiB (build ${s.buildMs} ms)${idle}`);
      }
    } catch (e) {
      errors.push((e as Error).stack ?? String(e));
    }
    return {
      parameters: {
        sizes,
        routeShards: ctx.routeShards ?? 1,
        process: 'fresh child: node --expose-gc, startControlPlane, no proxy connected',
        reading: 'after the build, 300 ms, two forced full GCs',
        idleReading: idleMaxMs > 0 ? `then idle until V8's memory reducer has shrunk the young generation (at most ${idleMaxMs / 1000} s), 1 s, no forced GC` : 'none (--quick)',
      },
      targets: B7_TARGETS,
      results: { steps },
      errors,
      summary: table(
        ['B7 step', 'RSS MiB', 'heap used MiB', 'heap total MiB', 'new space MiB', 'external MiB', 'malloc heap MiB', 'build ms', 'idle RSS MiB', 'idle heap total MiB', 'idle after s'],
        steps.map((s) => [s.step, s.rssMiB, s.heapUsedMiB, s.heapTotalMiB, s.newSpaceMiB, s.externalMiB, s.brkMiB ?? '', s.buildMs, s.idle ? `${s.idle.rssMiB}${s.idle.reduced ? '' : ' (not reduced)'}` : '', s.idle?.heapTotalMiB ?? '', s.idle?.afterS ?? '']),
      ),
    };
  },
};

if (process.argv[2] === '--child' && process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  child(process.argv[3]!.split(',').map(Number), Number(process.argv[4] ?? 0), Number(process.argv[5] ?? 1)).catch((e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
}
