// B6 endpoint churn (benchmarks.md): with N = 1,000 Ingresses of the B1 mix served to a
// real Envoy, 30 EndpointSlice changes a second across the services (one endpoint's
// address replaced, as when a pod is replaced), for `seconds`. A delta ADS client
// subscribed to EDS records when each changed cluster's ClusterLoadAssignment arrives:
// EDS propagation = Store change → that assignment received (p50/p99). Proof that
// nothing else was rebuilt: the listener, route and cluster type versions of the
// published snapshot do not move, and the controller ran no full build (its
// translation_duration_seconds_count{scope="full"} does not move). CPU: this process
// (control plane + the measuring client) and Envoy's, over the churn window.
import { readFileSync } from 'node:fs';
import { clusterName } from '../control-plane/src/model/ir.js';
import type { EndpointSlice, Service, WatchedObject } from '../control-plane/src/sources/k8s-types.js';
import { ENVOY_GROUP } from '../control-plane/src/xds/cache/memory-cache.js';
import { CLUSTER, ENDPOINT, LISTENER, ROUTE } from '../control-plane/src/xds/type-urls.js';
import type { Benchmark, BenchContext, BenchOutcome } from './benchmark.js';
import { FleetClient } from './ads-fleet.js';
import { startGateway, type Gateway } from './gateway.js';
import { percentile } from './probe.js';
import { round, stats, table } from './report.js';

export const B6_TARGET = { edsP99Ms: 200 } as const;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function procCpuSeconds(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in clock ticks (100 Hz)
  } catch {
    return NaN;
  }
}

async function fullBuilds(adminPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('xgate_translation_duration_seconds_count') && l.includes('scope="full"'));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

export const b6: Benchmark = {
  id: 'b6',
  name: 'b6-endpoint-churn',
  title: 'B6 endpoint churn: 30 EndpointSlice changes/s across the services of N Ingresses',
  async run(ctx: BenchContext): Promise<BenchOutcome> {
    const n = ctx.sizes?.[0] ?? (ctx.quick ? 50 : 1000);
    const seconds = ctx.repeats ?? (ctx.quick ? 3 : 20);
    const rate = 30;
    const errors: string[] = [];
    let gw: Gateway | undefined;
    let client: FleetClient | undefined;
    let results: Record<string, unknown> = {};
    let summary = '';
    try {
      gw = await startGateway({ n, routeShards: ctx.routeShards, log: ctx.log, seed: ctx.seed ?? 1, envoyConcurrency: ctx.envoyWorkers ?? 1 });
      const services = new Map<string, Service>();
      for (const o of gw.background) if (o.kind === 'Service') services.set(`${o.metadata.namespace}/${o.metadata.name}`, o);
      // Only slices of Services that some cluster uses (a Service no Ingress names has no EDS resource).
      const served = gw.cp.cache.current(ENVOY_GROUP)!.types[ENDPOINT].resources;
      const clustersOf = (s: EndpointSlice): string[] => {
        const svcName = s.metadata.labels?.['kubernetes.io/service-name'] ?? '';
        const ports = services.get(`${s.metadata.namespace}/${svcName}`)?.spec?.ports ?? [];
        return ports.map((p) => clusterName(s.metadata.namespace!, svcName, p.port)).filter((c) => served.has(c));
      };
      const slices = gw.background.filter((o): o is EndpointSlice => o.kind === 'EndpointSlice' && clustersOf(o).length > 0);
      const current = new Map(slices.map((s) => [`${s.metadata.namespace}/${s.metadata.name}`, s]));
      client = new FleetClient(`127.0.0.1:${gw.cp.xdsPort}`, `b6-${process.pid}`, 'delta', [[ENDPOINT, []]], true);
      client.connect();
      for (const t0 = performance.now(); !client.ackedAt.has(ENDPOINT); ) {
        if (performance.now() - t0 > 60_000) throw new Error('EDS client got nothing');
        await sleep(10);
      }
      const snap0 = gw.cp.cache.current(ENVOY_GROUP)!;
      const before = { listeners: snap0.types[LISTENER].version, routes: snap0.types[ROUTE].version, clusters: snap0.types[CLUSTER].version, fullBuilds: await fullBuilds(gw.cp.adminPort) };
      const cpu0 = { self: process.cpuUsage(), envoy: procCpuSeconds(gw.envoy.pid) };
      const changes: { at: number; clusters: string[] }[] = [];
      const t0 = performance.now();
      let rv = 10_000_000;
      let i = 0;
      while (performance.now() - t0 < seconds * 1000) {
        const due = t0 + (i * 1000) / rate;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        const s = slices[(i * 7919) % slices.length]!;
        const key = `${s.metadata.namespace}/${s.metadata.name}`;
        const prev = current.get(key)!;
        const eps = prev.endpoints ?? [];
        const k = i % eps.length;
        // A pod replaced: one endpoint gets an address never used before (every change is a real change).
        const next: EndpointSlice = {
          ...prev,
          metadata: { ...prev.metadata, resourceVersion: String(rv++) },
          endpoints: eps.map((e, j) => (j !== k ? e : { ...e, addresses: [`10.${200 + ((i >> 16) & 15)}.${(i >> 8) & 255}.${i & 255}`] })),
        };
        current.set(key, next);
        changes.push({ at: performance.now(), clusters: clustersOf(s) });
        gw.apply([next as unknown as WatchedObject]);
        i++;
      }
      const churnMs = performance.now() - t0;
      // Until the last change has arrived (bounded), then a little more.
      const last = changes[changes.length - 1];
      for (const tw = performance.now(); last && performance.now() - tw < 30_000; ) {
        if (client.received.some((r) => r.typeUrl === ENDPOINT && r.at >= last.at && r.names?.some((nm) => last.clusters.includes(nm)))) break;
        await sleep(20);
      }
      await sleep(500);
      const cpu1 = { self: process.cpuUsage(cpu0.self), envoy: procCpuSeconds(gw.envoy.pid) };
      const windowS = (performance.now() - t0) / 1000;
      const snap1 = gw.cp.cache.current(ENVOY_GROUP)!;
      const after = { listeners: snap1.types[LISTENER].version, routes: snap1.types[ROUTE].version, clusters: snap1.types[CLUSTER].version, fullBuilds: await fullBuilds(gw.cp.adminPort) };
      // Propagation per change: the first EDS response after it that carries one of its clusters.
      const eds = client.received.filter((r) => r.typeUrl === ENDPOINT);
      const latencies: number[] = [];
      let missing = 0;
      for (const c of changes) {
        const hit = eds.find((r) => r.at >= c.at && r.names?.some((nm) => c.clusters.includes(nm)));
        if (hit) latencies.push(round(hit.at - c.at, 1));
        else missing++;
      }
      const st = stats(latencies);
      const p99 = percentile(latencies, 99);
      const cpuSelfPct = round(((cpu1.self.user + cpu1.self.system) / 1e6 / windowS) * 100, 1);
      const cpuEnvoyPct = round(((cpu1.envoy - cpu0.envoy) / windowS) * 100, 1);
      const rebuilt = before.listeners !== after.listeners || before.routes !== after.routes || before.clusters !== after.clusters || before.fullBuilds !== after.fullBuilds;
      if (rebuilt) errors.push(`something besides EDS changed during the churn: ${JSON.stringify({ before, after })}`);
      if (missing) errors.push(`${missing} of ${changes.length} changes never showed up in EDS`);
      results = {
        ingresses: n,
        changes: changes.length,
        churnMs: round(churnMs, 0),
        achievedRate: round((changes.length / churnMs) * 1000, 1),
        latenciesMs: latencies,
        ...st,
        p50: st.median,
        p99,
        edsResponses: eds.length,
        unchanged: { before, after, listenersRoutesClustersUnchanged: !rebuilt },
        cpu: { benchProcessPercent: cpuSelfPct, envoyPercent: cpuEnvoyPct, note: 'the bench process holds the control plane and the measuring client' },
      };
      ctx.log(`b6: ${changes.length} changes in ${Math.round(churnMs)} ms → EDS p50 ${st.median} ms, p99 ${p99} ms; CPU ${cpuSelfPct} % (control plane + client), Envoy ${cpuEnvoyPct} %; full builds ${before.fullBuilds} → ${after.fullBuilds}`);
      summary = table(['B6', 'changes', 'EDS p50 ms', 'EDS p99 ms', 'max', 'CPU % (cp)', 'CPU % (Envoy)', 'LDS/RDS/CDS unchanged'], [[`N=${n}, ${rate}/s`, String(changes.length), st.median, p99, st.max, cpuSelfPct, cpuEnvoyPct, rebuilt ? 'NO' : 'yes']]);
    } catch (e) {
      errors.push((e as Error).stack ?? String(e));
    } finally {
      client?.close();
      await gw?.close();
    }
    return { parameters: { ingresses: n, routeShards: ctx.routeShards ?? 1, envoyWorkers: ctx.envoyWorkers ?? 1, seconds, rate, change: 'one endpoint of one EndpointSlice (of a Service some cluster uses) gets a new address (a pod replaced; resourceVersion bumped)', measure: 'delta ADS client subscribed to EDS (wildcard), in the control plane process' }, targets: B6_TARGET, results, errors, summary };
  },
};
