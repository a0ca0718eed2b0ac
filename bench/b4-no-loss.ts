// B4 no loss (benchmarks.md): steady load through Envoy over long-lived keep-alive
// connections (an undici pool that lives for the whole run, plus idle connections that
// send one request a second) while 1,000 changes are applied: edits of the loaded
// route (a path added and removed, a header-canary toggled between two real backends),
// unrelated Ingresses added and removed, and endpoint churn of the loaded Service
// (a third backend joining and leaving). Counts non-2xx answers, transport errors and
// connections the proxy closed (undici 'disconnect' events).
import type { WatchedObject } from '../control-plane/src/sources/k8s-types.js';
import type { Benchmark, BenchContext, BenchOutcome } from './benchmark.js';
import { endpointSlice, ingress, startGateway, type Gateway } from './gateway.js';
import { get, pool } from './probe.js';
import { round, table } from './report.js';

const HOST = 'b4.example.com';
const N_PREFIX = 'nginx.ingress.kubernetes.io/';

export const b4: Benchmark = {
  id: 'b4',
  name: 'b4-no-loss',
  title: 'B4 no loss: 1,000 changes under steady load with long-lived connections',
  async run(ctx: BenchContext): Promise<BenchOutcome> {
    const changes = ctx.repeats ?? (ctx.quick ? 60 : 1000);
    const n = ctx.sizes?.[0] ?? (ctx.quick ? 0 : 1000);
    const loadConnections = 8;
    const idleConnections = 8;
    const changeIntervalMs = 15;
    const errors: string[] = [];
    let gw: Gateway | undefined;
    const tally = { requests: 0, ok: 0, non2xx: 0, transportErrors: 0, byStatus: {} as Record<string, number>, byBackend: {} as Record<string, number>, errors: {} as Record<string, number> };
    const idleTally = { requests: 0, ok: 0, non2xx: 0, transportErrors: 0 };
    const disconnects = { load: 0, idle: 0, reasons: {} as Record<string, number> };
    const changeLog: Record<string, number> = {};
    let closedDuringRun = 0;
    let elapsedMs = 0;
    try {
      gw = await startGateway({ n, backends: 3, routeShards: ctx.routeShards, log: ctx.log, seed: ctx.seed ?? 1, envoyConcurrency: ctx.envoyWorkers ?? 1 });
      const [b0, b1, b2] = gw.backends;
      const base = ingress('b4', [HOST], 'be0', { paths: ['/'] });
      const built = gw.nextBuild();
      gw.apply([base, ...serviceWith('b4-svc', [b0!, b1!]), ingress('b4', [HOST], 'b4-svc')]);
      await built;
      const load = pool(gw.httpPort, loadConnections);
      const idle = pool(gw.httpPort, idleConnections);
      load.on('disconnect', (_o, _t, err) => {
        disconnects.load++;
        const k = (err as { code?: string })?.code ?? err?.message ?? 'unknown';
        disconnects.reasons[k] = (disconnects.reasons[k] ?? 0) + 1;
      });
      idle.on('disconnect', () => disconnects.idle++);
      // Wait until the loaded host answers.
      for (const t0 = performance.now(); ; ) {
        const a = await get(load, HOST);
        if (a.status === 200) break;
        if (performance.now() - t0 > 60_000) throw new Error(`${HOST} never answered: ${JSON.stringify(a)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      let running = true;
      const loadWorker = async () => {
        while (running) {
          const a = await get(load, HOST, '/load');
          tally.requests++;
          if (a.error) {
            tally.transportErrors++;
            tally.errors[a.error] = (tally.errors[a.error] ?? 0) + 1;
          } else if (a.status >= 200 && a.status < 300) tally.ok++;
          else tally.non2xx++;
          tally.byStatus[a.status] = (tally.byStatus[a.status] ?? 0) + 1;
          if (a.backend) tally.byBackend[a.backend] = (tally.byBackend[a.backend] ?? 0) + 1;
        }
      };
      const idleWorker = async () => {
        while (running) {
          const a = await get(idle, HOST, '/idle');
          idleTally.requests++;
          if (a.error) idleTally.transportErrors++;
          else if (a.status >= 200 && a.status < 300) idleTally.ok++;
          else idleTally.non2xx++;
          await new Promise((r) => setTimeout(r, 1000));
        }
      };
      const workers = [...Array.from({ length: loadConnections }, loadWorker), ...Array.from({ length: idleConnections }, idleWorker)];
      const disconnectsBefore = disconnects.load + disconnects.idle;
      const t0 = performance.now();
      const unrelated: WatchedObject[] = [];
      for (let i = 0; i < changes; i++) {
        const kind = i % 4;
        if (kind === 0) {
          // route edit on the loaded host: an extra path added / removed
          gw.apply([ingress('b4', [HOST], 'b4-svc', { paths: i % 8 === 0 ? ['/', `/extra-${i}`] : ['/'] })]);
          changeLog['route-path'] = (changeLog['route-path'] ?? 0) + 1;
        } else if (kind === 1) {
          // route edit: a header canary to another real backend, toggled on and off
          const on = i % 8 === 1;
          const c = ingress('b4-canary', [HOST], 'be2', { annotations: { [`${N_PREFIX}canary`]: 'true', [`${N_PREFIX}canary-by-header`]: 'x-canary' } });
          if (on) gw.apply([c]);
          else gw.remove(c);
          changeLog['route-canary'] = (changeLog['route-canary'] ?? 0) + 1;
        } else if (kind === 2) {
          // unrelated Ingress added (and the oldest removed once there are 20)
          const u = ingress(`b4-other-${i}`, [`b4-other-${i}.example.com`], 'be1');
          gw.apply([u]);
          unrelated.push(u);
          if (unrelated.length > 20) gw.remove(unrelated.shift()!);
          changeLog['unrelated-ingress'] = (changeLog['unrelated-ingress'] ?? 0) + 1;
        } else {
          // endpoint churn of the loaded Service: a third backend joins and leaves
          gw.apply([endpointSlice('b4-svc', i % 8 === 3 ? [b0!, b1!, b2!] : [b0!, b1!])]);
          changeLog['endpoints'] = (changeLog['endpoints'] ?? 0) + 1;
        }
        await new Promise((r) => setTimeout(r, changeIntervalMs));
      }
      // Let the last changes land, with the load still on.
      await new Promise((r) => setTimeout(r, 2000));
      elapsedMs = performance.now() - t0;
      running = false;
      await Promise.all(workers);
      const lost = disconnects.load + disconnects.idle - disconnectsBefore;
      closedDuringRun = lost;
      ctx.log(`b4: ${changes} changes in ${Math.round(elapsedMs)} ms; ${tally.requests} requests, ${tally.non2xx} non-2xx, ${tally.transportErrors} transport errors, ${lost} connections closed`);
      await load.close();
      await idle.close();
    } catch (e) {
      errors.push((e as Error).stack ?? String(e));
    } finally {
      await gw?.close();
    }
    const rps = elapsedMs ? round((tally.requests / elapsedMs) * 1000, 0) : 0;
    return {
      parameters: { changes, routeShards: ctx.routeShards ?? 1, envoyWorkers: ctx.envoyWorkers ?? 1, backgroundIngresses: n, loadConnections, idleConnections, changeIntervalMs, changeMix: 'cycled: loaded route path edit, loaded host header-canary on/off (real backend), unrelated Ingress add (remove beyond 20), loaded Service endpoints 2 ↔ 3 backends' },
      targets: { non2xx: 0, connectionResets: 0 },
      results: { elapsedMs: round(elapsedMs, 0), requestsPerSecond: rps, load: tally, idle: idleTally, connectionsClosedDuringRun: closedDuringRun, disconnectEventsInclClose: disconnects, changes: changeLog },
      errors,
      summary: table(
        ['B4', 'changes', 'requests', 'req/s', 'non-2xx', 'transport errors', 'connections closed'],
        [[`${n} background Ingresses`, String(changes), tally.requests + idleTally.requests, rps, String(tally.non2xx + idleTally.non2xx), String(tally.transportErrors + idleTally.transportErrors), String(closedDuringRun)]],
      ),
    };
  },
};

function serviceWith(name: string, backends: Parameters<typeof endpointSlice>[1]): WatchedObject[] {
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'bench-live' }, spec: { ports: [{ name: 'http', port: 80 }] } } as unknown as WatchedObject,
    endpointSlice(name, backends),
  ];
}
