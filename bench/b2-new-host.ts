// B2 propagation through the real Envoy (benchmarks.md), the new-host part: with N
// Ingresses of the realistic mix served, add one Ingress with a new host and poll that
// host through Envoy (one keep-alive connection, a request every ~2 ms) until the
// example backend answers 200. Time from the Store change (what an informer event
// does) to that answer; p50/p99 over `repeats` additions per size.
import type { Benchmark, BenchContext, BenchOutcome } from './benchmark.js';
import { cpuTicksOf, ingress, startGateway } from './gateway.js';
import { percentile, pool, until200 } from './probe.js';
import { round, stats, table } from './report.js';

export const B2_TARGET = { p99MsAt10k: 250 } as const;

export const b2NewHost: Benchmark = {
  id: 'b2',
  name: 'b2-new-host',
  title: 'B2 propagation: a new Ingress host answers through Envoy (N Ingresses served)',
  async run(ctx: BenchContext): Promise<BenchOutcome> {
    const sizes = ctx.sizes ?? (ctx.quick ? [50] : [1000, 10_000]);
    const repeats = ctx.repeats ?? (ctx.quick ? 3 : 20);
    const errors: string[] = [];
    const results: Record<string, unknown>[] = [];
    const rows: (string | number)[][] = [];
    for (const n of sizes) {
      let gw: Awaited<ReturnType<typeof startGateway>> | undefined;
      const p = (gwPort: number) => pool(gwPort, 1);
      try {
        gw = await startGateway({ n, routeShards: ctx.routeShards, log: ctx.log, seed: ctx.seed ?? 1, envoyConcurrency: ctx.envoyWorkers ?? 1 });
        const client = p(gw.httpPort);
        const samples: number[] = [];
        const buildMs: number[] = [];
        // Envoy's CPU time during each addition (10 ms resolution): a slow addition with
        // Envoy busy is Envoy's own work (a DNS refresh, a stats flush), not the change.
        const envoyCpuMs: number[] = [];
        try {
          for (let i = 0; i < repeats; i++) {
            const host = `b2-new-${n}-${i}.example.com`;
            const built = gw.nextBuild();
            const ticks = cpuTicksOf(gw.envoy.pid);
            const since = performance.now();
            gw.apply([ingress(`b2-new-${i}`, [host], 'be0')]);
            void built.then(() => buildMs.push(round(performance.now() - since, 1)));
            const ms = await until200(client, host, since, 60_000);
            const cpu = ((cpuTicksOf(gw.envoy.pid) ?? 0) - (ticks ?? 0)) * 10;
            samples.push(round(ms, 1));
            envoyCpuMs.push(cpu);
            ctx.log(`b2 n=${n}: new host ${i + 1}/${repeats} answered after ${Math.round(ms)} ms (Envoy CPU ${cpu} ms)`);
            await new Promise((r) => setTimeout(r, 50));
          }
        } finally {
          await client.close();
        }
        const s = stats(samples);
        const p99 = percentile(samples, 99);
        results.push({ ingresses: n, samplesMs: samples, envoyCpuMs, controllerBuildMs: buildMs, ...s, p50: s.median, p99, buildMedianMs: stats(buildMs).median });
        rows.push([`${n}`, String(samples.length), s.median, p99, s.min, s.max, stats(buildMs).median]);
      } catch (e) {
        errors.push(`N=${n}: ${(e as Error).stack ?? String(e)}`);
      } finally {
        await gw?.close();
      }
    }
    return {
      parameters: { sizes, repeats, routeShards: ctx.routeShards ?? 1, envoyWorkers: ctx.envoyWorkers ?? 1, path: 'Store.upsert (informer event) → debounce 20 ms → build → ADS → Envoy RDS → 200 from the backend', poll: 'one keep-alive connection, a request every ~2 ms' },
      targets: B2_TARGET,
      results,
      errors,
      summary: table(['N Ingresses', 'additions', 'p50 ms', 'p99 ms', 'min', 'max', 'controller build ms (median)'], rows),
    };
  },
};
