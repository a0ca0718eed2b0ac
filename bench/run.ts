// npm run bench [-- options]: runs the benchmarks of benchmarks.md, writes one JSON
// report per benchmark to bench/results/<id>-<timestamp>.json (b1-…) and prints a table.
//
//   --quick                 small sizes, few repeats (CI smoke test; asserts nothing about time)
//   --only b1[,b2]          run only these benchmarks
//   --n 1000,10000          sizes instead of the benchmark's own
//   --repeats 5             timed repetitions of the main measurement
//   --incremental-repeats 20
//   --seed 1
//   --route-shards N        the control plane splits the HTTP hosts over N route configurations
//   --envoys N              B5: real Envoys beside the lightweight clients (default 2; 1 with --quick)
//   --envoy-workers N       B2, B3, B4, B6: the gateway Envoy's worker threads (default 1; the Helm chart runs 2)
//   --proxyless             B1: also build the proxyless gRPC group (built once a proxyless client connects)
//   --profile               also write CPU profiles (.cpuprofile) of the measured sections
//   --out DIR               where reports go (default bench/results)
//
// New benchmarks: a module exporting a Benchmark (bench/benchmark.ts), added to BENCHMARKS.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { b1 } from './b1-translate.js';
import { b2 as b2Weight } from './b2-propagation.js';
import { b2NewHost } from './b2-new-host.js';
import { b3 } from './b3-bulk.js';
import { b4 } from './b4-no-loss.js';
import { b5 } from './b5-fanout.js';
import { b6 } from './b6-endpoint-churn.js';
import { b7 } from './b7-memory.js';
import type { Benchmark, BenchContext } from './benchmark.js';
import { environment, resultsDir, speedProbe, writeReport } from './report.js';

export const BENCHMARKS: readonly Benchmark[] = [b1, b2NewHost, b2Weight, b3, b4, b5, b6, b7];

const USAGE = `usage: npm run bench -- [--quick] [--only b1[,…]] [--n N[,N…]] [--repeats R] [--incremental-repeats R] [--seed S] [--route-shards N] [--envoys N] [--envoy-workers N] [--proxyless] [--profile] [--out DIR]
benchmarks: ${BENCHMARKS.map((b) => `${b.id} (${b.title})`).join('; ')}`;

function positiveInts(s: string, flag: string): number[] {
  const xs = s.split(',').map((x) => Number(x.trim().replace(/_/g, '')));
  if (!xs.length || xs.some((x) => !Number.isInteger(x) || x <= 0)) throw new Error(`${flag} wants positive integers, got ${JSON.stringify(s)}`);
  return xs;
}

function nonNegativeInt(s: string, flag: string): number {
  const x = Number(s.trim());
  if (!Number.isInteger(x) || x < 0) throw new Error(`${flag} wants a whole number ≥ 0, got ${JSON.stringify(s)}`);
  return x;
}

export async function main(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      n: { type: 'string' },
      repeats: { type: 'string' },
      'incremental-repeats': { type: 'string' },
      seed: { type: 'string' },
      profile: { type: 'boolean', default: false },
      'route-shards': { type: 'string' },
      proxyless: { type: 'boolean', default: false },
      envoys: { type: 'string' },
      'envoy-workers': { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const wanted = values.only ? values.only.split(',').map((s) => s.trim().toLowerCase()) : BENCHMARKS.map((b) => b.id);
  const unknown = wanted.filter((id) => !BENCHMARKS.some((b) => b.id === id || b.name === id));
  if (unknown.length) throw new Error(`unknown benchmark ${unknown.join(', ')}\n${USAGE}`);
  const selected = BENCHMARKS.filter((b) => wanted.includes(b.id) || wanted.includes(b.name));

  const outDir = values.out ? resolve(values.out) : resultsDir();
  const profileDir = values.profile ? join(outDir, 'profiles') : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
  const ctx: BenchContext = {
    quick: values.quick,
    ...(values.n ? { sizes: positiveInts(values.n, '--n') } : {}),
    ...(values.repeats ? { repeats: positiveInts(values.repeats, '--repeats')[0]! } : {}),
    ...(values['incremental-repeats'] ? { incrementalRepeats: positiveInts(values['incremental-repeats'], '--incremental-repeats')[0]! } : {}),
    ...(values.seed ? { seed: positiveInts(values.seed, '--seed')[0]! } : {}),
    ...(profileDir ? { profileDir } : {}),
    ...(values['route-shards'] ? { routeShards: positiveInts(values['route-shards'], '--route-shards')[0]! } : {}),
    ...(values.proxyless ? { proxyless: true } : {}),
    ...(values.envoys !== undefined ? { envoys: nonNegativeInt(values.envoys, '--envoys') } : {}),
    ...(values['envoy-workers'] ? { envoyWorkers: positiveInts(values['envoy-workers'], '--envoy-workers')[0]! } : {}),
    log,
  };

  const env = environment();
  log(`node ${env.node}, ${env.machine.cpus.count} × ${env.machine.cpus.model}, envoy ${env.envoy?.version ?? 'not installed'}${ctx.quick ? ', quick' : ''}; speed probe ${env.machine.speedProbeMs} ms`);
  let failed = false;
  for (const bench of selected) {
    const speedBefore = speedProbe();
    const started = new Date();
    log(`${bench.title}`);
    let outcome;
    try {
      outcome = await bench.run(ctx);
    } catch (e) {
      outcome = { parameters: null, results: null, errors: [(e as Error).stack ?? String(e)], summary: `failed: ${(e as Error).message}` };
    }
    const finished = new Date();
    const speedAfter = speedProbe();
    log(`${bench.id}: speed probe ${speedBefore} ms before, ${speedAfter} ms after (lower is faster)`);
    const report = {
      benchmark: bench.name,
      title: bench.title,
      quick: ctx.quick,
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      durationMs: finished.getTime() - started.getTime(),
      ...env,
      /** The machine's speed right before and after this benchmark (report.ts speedProbe). */
      speedProbeMs: { before: speedBefore, after: speedAfter },
      parameters: outcome.parameters,
      ...(outcome.targets !== undefined ? { targets: outcome.targets } : {}),
      results: outcome.results,
      errors: outcome.errors,
    };
    const file = writeReport(outDir, bench.id, started, report);
    process.stdout.write(`\n${bench.title}\n${outcome.summary}\nreport: ${file}\n`);
    if (outcome.errors.length) failed = true;
  }
  return failed ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`bench: ${(e as Error).message}\n`);
      process.exitCode = 2;
    },
  );
}
