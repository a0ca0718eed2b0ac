// B7 memory (benchmarks.md): the control plane's RSS and heap with N Ingresses of the
// B1 mix, scaling 0 → 1k → 10k → 10 (and back to 1k), measured in a fresh child process
// that runs the real pipeline (startControlPlane: store, controller, encoder, cache,
// xDS and admin servers; no proxy connected). Each step replaces the store's content,
// waits for the build, forces two full GCs and reads process.memoryUsage(). The
// generated objects are what the store holds (the generator's own garbage is collected).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { silentLogger } from '../control-plane/src/log.js';
import { DEFAULT_PIPELINE_OPTIONS } from '../control-plane/src/pipeline/translate-store.js';
import { startControlPlane } from '../control-plane/src/serve.js';
import { WATCHED_KINDS } from '../control-plane/src/sources/k8s-types.js';
import type { Benchmark, BenchContext, BenchOutcome } from './benchmark.js';
import { benchCert } from './cert.js';
import { freePort } from './gateway.js';
import { BENCH_CLASS, generate } from './generate.js';
import { table } from './report.js';
import { repoRoot } from '../envoy/binary.js';

export const B7_TARGETS = { rssMiBAt1k: 150, rssMiBAt10k: 500, note: 'back near the 1k figure after scaling down' } as const;

interface Step {
  readonly step: string;
  readonly ingresses: number;
  readonly buildMs: number;
  readonly rssMiB: number;
  readonly heapUsedMiB: number;
  readonly heapTotalMiB: number;
  readonly externalMiB: number;
  readonly arrayBuffersMiB: number;
}

const MiB = 2 ** 20;
const r1 = (x: number) => Math.round(x * 10) / 10;

/** Runs in the child (node --expose-gc dist/bench/b7-memory.js --child 1000,10000,10,1000). */
async function child(sizes: number[]): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc!;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'xgate-b7-'));
  writeFileSync(path.join(dir, '00-class.yaml'), `apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: ${BENCH_CLASS}}\nspec: {controller: xgate.io/ingress-controller}\n`);
  const [xdsPort, httpPort] = [await freePort(), await freePort()];
  const cp = await startControlPlane(
    { manifests: dir, xds: { host: '127.0.0.1', port: xdsPort }, admin: { host: '127.0.0.1', port: 0 }, pipeline: { ...DEFAULT_PIPELINE_OPTIONS, bindAddress: '127.0.0.1', httpPort, httpsPort: httpPort + 1 }, logLevel: 'warn', debounceMs: 20, maxDelayMs: 500 },
    silentLogger(),
  );
  const cert = benchCert();
  const read = async (step: string, ingresses: number, buildMs: number): Promise<Step> => {
    await new Promise((r) => setTimeout(r, 300));
    gc();
    gc();
    const m = process.memoryUsage();
    return { step, ingresses, buildMs: Math.round(buildMs), rssMiB: r1(m.rss / MiB), heapUsedMiB: r1(m.heapUsed / MiB), heapTotalMiB: r1(m.heapTotal / MiB), externalMiB: r1(m.external / MiB), arrayBuffersMiB: r1(m.arrayBuffers / MiB) };
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
    const errors: string[] = [];
    let steps: Step[] = [];
    try {
      // Under vitest this module is the .ts source: the child runs the compiled one (npm run build).
      const here = fileURLToPath(import.meta.url);
      const self = here.endsWith('.ts') ? path.join(repoRoot(), 'dist', 'bench', 'b7-memory.js') : here;
      const text = await new Promise<string>((resolve, reject) => {
        const c = spawn(process.execPath, ['--expose-gc', self, '--child', sizes.join(',')], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        c.stdout.on('data', (d: Buffer) => (out += d.toString()));
        c.stderr.on('data', (d: Buffer) => (err += d.toString()));
        c.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`B7 child exited ${code}: ${err.slice(-2000)}`))));
      });
      steps = JSON.parse(text.trim().split('\n').pop()!) as Step[];
      for (const s of steps) ctx.log(`b7: ${s.step}: RSS ${s.rssMiB} MiB, heap ${s.heapUsedMiB} MiB (build ${s.buildMs} ms)`);
    } catch (e) {
      errors.push((e as Error).stack ?? String(e));
    }
    return {
      parameters: { sizes, process: 'fresh child: node --expose-gc, startControlPlane, no proxy connected', reading: 'after the build, 300 ms, two forced full GCs' },
      targets: B7_TARGETS,
      results: { steps },
      errors,
      summary: table(['B7 step', 'RSS MiB', 'heap used MiB', 'heap total MiB', 'external MiB', 'build ms'], steps.map((s) => [s.step, s.rssMiB, s.heapUsedMiB, s.heapTotalMiB, s.externalMiB, s.buildMs])),
    };
  },
};

if (process.argv[2] === '--child' && process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  child(process.argv[3]!.split(',').map(Number)).catch((e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
}
