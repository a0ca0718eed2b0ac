// Compares B1's full build (from scratch: a store of new objects and fromScratch, or on
// trees older than fromScratch a fresh model builder only; translate, consistency check,
// fresh encoder; 10k Ingresses of the bench mix, Envoy group) between two built trees in one
// process, alternating runs, so that both meet the same machine speed. This VM's speed
// varies 2–7x between windows, which makes separate benchmark reports of two commits hard
// to compare; a ratio per alternating pair is steadier. Both trees' heaps are live at
// once, so absolute times are higher than B1's.
//
//   git worktree add /tmp/base <commit> && (cd /tmp/base && ln -s "$PWD/node_modules" . && npx tsc -p .)
//   node --expose-gc scripts/ab-full-build.mjs /tmp/base/dist dist [pairs=8] [ingresses=10000]
import { resolve } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const [a, b, pairsArg, nArg] = process.argv.slice(2);
if (!a || !b) {
  console.error('usage: node --expose-gc scripts/ab-full-build.mjs <dist A> <dist B> [pairs=8] [ingresses=10000]');
  process.exit(2);
}
const pairs = Number(pairsArg ?? 8);
const n = Number(nArg ?? 10000);

async function side(dir) {
  const m = (p) => import(pathToFileURL(resolve(dir, p)).href);
  const { Store } = await m('control-plane/src/sources/store.js');
  const { WATCHED_KINDS } = await m('control-plane/src/sources/k8s-types.js');
  const { DEFAULT_PIPELINE_OPTIONS, translateStore, fromScratch } = await m('control-plane/src/pipeline/translate-store.js');
  const { withFreshModelBuilder } = await m('control-plane/src/model/build.js');
  const { checkConsistency } = await m('control-plane/src/pipeline/consistency.js');
  const { SnapshotEncoder } = await m('control-plane/src/xds/cache/snapshot.js');
  const { generate } = await m('bench/generate.js');
  const { benchCert } = await m('bench/cert.js');
  const gen = generate({ ingresses: n, cert: benchCert(), seed: 1 + n });
  // New input objects for each run (made untimed, in prepare), as a new process gets them.
  const prepare = () => {
    const store = new Store();
    store.replace(fromScratch ? structuredClone(gen.objects) : gen.objects, WATCHED_KINDS);
    return store.snapshot();
  };
  const groups = new Set(['envoy']);
  const scratch = fromScratch ?? withFreshModelBuilder;
  const run = (snap) =>
    scratch(() => {
      const r = translateStore(snap, DEFAULT_PIPELINE_OPTIONS, groups);
      for (const [g, x] of Object.entries(r.resources)) checkConsistency(x, g);
      return new SnapshotEncoder().buildGroups(r.resources);
    });
  return { prepare, run, wall: [], cpu: [], mutator: [] };
}

// The collector's pauses of the main thread (perf_hooks gc entries), to give each run's
// wall time without them: the program's own time, which a mark-compact landing in one
// side's run does not blur.
const gcEntries = [];
new PerformanceObserver((list) => gcEntries.push(...list.getEntries())).observe({ entryTypes: ['gc'] });
const pausedIn = async (start, end) => {
  await new Promise((r) => setTimeout(r, 20));
  return gcEntries.filter((e) => e.startTime >= start && e.startTime < end).reduce((a, e) => a + e.duration, 0);
};

const sides = { A: await side(a), B: await side(b) };
for (const s of Object.values(sides)) s.run(s.prepare()); // warm-up
for (let i = 0; i < pairs; i++) {
  for (const k of i % 2 ? ['B', 'A'] : ['A', 'B']) {
    const s = sides[k];
    const snap = s.prepare();
    globalThis.gc?.();
    await new Promise((r) => setTimeout(r, 50));
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    let out = s.run(snap);
    const t1 = performance.now();
    s.wall.push(t1 - t0);
    const c = process.cpuUsage(c0);
    s.cpu.push((c.user + c.system) / 1000);
    out = undefined;
    s.mutator.push(t1 - t0 - (await pausedIn(t0, t1)));
  }
}
const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
for (const [k, s] of Object.entries(sides)) {
  console.log(`${k} ${k === 'A' ? a : b}: wall ${s.wall.map((x) => x.toFixed(0)).join(' ')} ms; median wall ${median(s.wall).toFixed(0)} ms, median CPU ${median(s.cpu).toFixed(0)} ms, median wall − GC pauses ${median(s.mutator).toFixed(0)} ms`);
}
const ratios = sides.A.wall.map((x, i) => sides.B.wall[i] / x);
console.log(`B/A wall per pair: ${ratios.map((x) => x.toFixed(2)).join(' ')}; median ${median(ratios).toFixed(2)}`);
const mratios = sides.A.mutator.map((x, i) => sides.B.mutator[i] / x);
console.log(`B/A wall − GC per pair: ${mratios.map((x) => x.toFixed(2)).join(' ')}; median ${median(mratios).toFixed(2)}`);
