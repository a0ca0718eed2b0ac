// What a new Envoy costs at N Ingresses of the bench mix, and what a new host costs it then,
// with the bootstrap's deferral settings on or off (docs/benchmarks.md, "Fifteenth pass").
// Starts the bench gateway (bench/gateway.ts: an in-process control plane, the pinned
// Envoy, two example backends), reads Envoy's CPU time (/proc) and RSS once it is idle,
// then adds `additions` Ingresses with a new host each (on one Service) and reports each
// one's time to answer 200 through Envoy and Envoy's CPU for it.
//
//   npm run build && node scripts/envoy-at-scale.mjs [settings=both] [workers=1] [ingresses=10000] [clusterStats=all] [additions=6]
//
// TLS_SHARE=0.2 in the environment: that share of the Ingresses has TLS (default 0.5).
// settings: `both` (the bootstrap as it is), `stats` (deferred stats only), `clusters`
// (deferred cluster creation only), `none` (neither).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [settings = 'both', workersArg = '1', nArg = '10000', clusterStats = 'all', additionsArg = '6'] = process.argv.slice(2);
if (!['both', 'stats', 'clusters', 'none'].includes(settings)) throw new Error(`settings: both, stats, clusters or none, not ${settings}`);
const dist = resolve('dist');
const { startGateway, cpuTicksOf, ingress } = await import(pathToFileURL(resolve(dist, 'bench/gateway.js')).href);
const { pool, until200 } = await import(pathToFileURL(resolve(dist, 'bench/probe.js')).href);

const configureEnvoy = (doc) => {
  if (settings === 'clusters' || settings === 'none') delete doc.deferred_stat_options;
  if ((settings === 'stats' || settings === 'none') && doc.cluster_manager) delete doc.cluster_manager.enable_deferred_cluster_creation;
};
const rssMiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
const label = `settings=${settings} workers=${workersArg} n=${nArg} clusterStats=${clusterStats}`;

const gw = await startGateway({
  n: Number(nArg),
  log: (line) => console.log(line),
  seed: 1,
  envoyConcurrency: Number(workersArg),
  configureEnvoy,
  ...(clusterStats !== 'all' ? { clusterStats } : {}),
  ...(process.env.TLS_SHARE ? { tlsShare: Number(process.env.TLS_SHARE) } : {}),
});
const client = pool(gw.httpPort, 1);
try {
  console.log(`${label}: Envoy CPU to get ready ${cpuTicksOf(gw.envoy.pid) * 10} ms, RSS ${Math.round(rssMiB(gw.envoy.pid))} MiB`);
  const ms = [];
  const cpu = [];
  for (let i = 0; i < Number(additionsArg); i++) {
    const host = `at-scale-${i}.example.com`;
    const ticks = cpuTicksOf(gw.envoy.pid);
    const since = performance.now();
    gw.apply([ingress(`at-scale-${i}`, [host], 'be0')]);
    ms.push(Math.round(await until200(client, host, since, 60_000)));
    cpu.push((cpuTicksOf(gw.envoy.pid) - ticks) * 10);
    await new Promise((r) => setTimeout(r, 300));
  }
  console.log(`${label}: new hosts answered after ${ms.join(' ')} ms; Envoy CPU ${cpu.join(' ')} ms; RSS then ${Math.round(rssMiB(gw.envoy.pid))} MiB`);
} finally {
  await client.close();
  await gw.close();
}
