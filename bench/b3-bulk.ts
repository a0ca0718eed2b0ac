// B3 bulk (benchmarks.md): apply 1,000 Ingresses at once (each its own host, spread
// over the real backends' Services) to a gateway serving nothing else, and time until
// every host has answered 200 through Envoy. The 1,000 objects go into the Store one
// upsert each in one tick (as a burst of informer events); the probe sweeps the hosts
// not yet answered, 32 requests in flight over keep-alive connections.
import type { Benchmark, BenchContext, BenchOutcome } from './benchmark.js';
import { ingress, startGateway, type Gateway } from './gateway.js';
import { get, pool } from './probe.js';
import { round, stats, table } from './report.js';

export const B3_TARGET = { allAnswerMs: 2000 } as const;

async function sweep(gw: Gateway, hosts: readonly string[], since: number, timeoutMs: number): Promise<{ ms: number; firstMs: number; sweeps: number; requests: number }> {
  const p = pool(gw.httpPort, 32);
  let pending = [...hosts];
  let sweeps = 0;
  let requests = 0;
  let firstMs = NaN;
  try {
    while (pending.length) {
      sweeps++;
      const still: string[] = [];
      let next = 0;
      const worker = async () => {
        while (next < pending.length) {
          const h = pending[next++]!;
          const a = await get(p, h);
          requests++;
          if (a.status === 200 && a.backend) {
            if (Number.isNaN(firstMs)) firstMs = performance.now() - since;
          } else still.push(h);
        }
      };
      await Promise.all(Array.from({ length: 32 }, worker));
      pending = still;
      if (performance.now() - since > timeoutMs) throw new Error(`${pending.length} of ${hosts.length} hosts still not answering after ${timeoutMs} ms`);
      if (pending.length) await new Promise((r) => setTimeout(r, 5));
    }
    return { ms: performance.now() - since, firstMs, sweeps, requests };
  } finally {
    await p.close();
  }
}

export const b3: Benchmark = {
  id: 'b3',
  name: 'b3-bulk',
  title: 'B3 bulk: 1,000 Ingresses applied at once → every host answers through Envoy',
  async run(ctx: BenchContext): Promise<BenchOutcome> {
    const count = ctx.sizes?.[0] ?? (ctx.quick ? 50 : 1000);
    const repeats = ctx.repeats ?? (ctx.quick ? 1 : 5);
    const errors: string[] = [];
    const samples: Record<string, unknown>[] = [];
    let gw: Gateway | undefined;
    try {
      gw = await startGateway({ n: 0, backends: 4, routeShards: ctx.routeShards, log: ctx.log, envoyConcurrency: ctx.envoyWorkers ?? 1 });
      for (let r = 0; r < repeats; r++) {
        const objs = Array.from({ length: count }, (_, i) => ingress(`b3-${r}-${i}`, [`b3-${r}-${i}.example.com`], `be${i % 4}`, { paths: ['/', '/api', '/static'] }));
        const hosts = objs.map((o) => `${o.metadata.name}.example.com`);
        const since = performance.now();
        let builtMs = NaN;
        void gw.nextBuild().then(() => (builtMs = performance.now() - since));
        gw.apply(objs);
        const s = await sweep(gw, hosts, since, 120_000);
        samples.push({ run: r, allAnswerMs: round(s.ms, 1), firstAnswerMs: round(s.firstMs, 1), firstBuildMs: round(builtMs, 1), sweeps: s.sweeps, requests: s.requests });
        ctx.log(`b3: ${count} Ingresses → all answer after ${Math.round(s.ms)} ms (first build ${Math.round(builtMs)} ms, ${s.sweeps} sweeps)`);
        // Remove them again, so each run starts from an empty gateway.
        const removed = gw.nextBuild();
        for (const o of objs) gw.remove(o);
        await removed;
        await new Promise((res) => setTimeout(res, 500));
      }
    } catch (e) {
      errors.push((e as Error).stack ?? String(e));
    } finally {
      await gw?.close();
    }
    const all = samples.map((s) => s['allAnswerMs'] as number);
    const st = stats(all);
    return {
      parameters: { ingresses: count, routeShards: ctx.routeShards ?? 1, envoyWorkers: ctx.envoyWorkers ?? 1, repeats, hostsPerIngress: 1, pathsPerIngress: 3, backends: 4, apply: 'one Store.upsert per Ingress in one tick', probe: '32 keep-alive connections sweep the hosts not answered yet' },
      targets: B3_TARGET,
      results: { samples, allAnswerMs: all, ...st },
      errors,
      summary: table(['B3', 'runs', 'median ms', 'min', 'max'], [[`${count} Ingresses → all answer`, String(all.length), st.median, st.min, st.max]]),
    };
  },
};
