// What B1's full build could gain from the second core, measured before building it: the
// ceiling of "per-Ingress work on both cores without copying". Each worker thread holds a
// store of its own with half the namespaces (as if fed by its own namespaced watch
// streams) and builds it from scratch as B1 does (translate, consistency check, fresh
// encoder; Envoy group). Nothing is copied between threads and no merge step is counted,
// so a real split (hosts claimed across namespaces, clusters and the `http`
// RouteConfiguration merged) could only be slower than this.
//
// Per round: one worker with every namespace; two workers with half each, started at once
// (wall until both are done); the same two halves one after the other (each alone).
//
//   node --expose-gc scripts/parallel-ceiling.mjs [dist=dist] [ingresses=10000] [rounds=5]
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

if (isMainThread) {
  const [dirArg, nArg, roundsArg] = process.argv.slice(2);
  const dir = resolve(dirArg ?? 'dist');
  const n = Number(nArg ?? 10000);
  const rounds = Number(roundsArg ?? 5);
  if (typeof globalThis.gc !== 'function') {
    console.error('usage: node --expose-gc scripts/parallel-ceiling.mjs [dist] [ingresses] [rounds]');
    process.exit(2);
  }
  const start = (part, parts) => {
    const w = new Worker(fileURLToPath(import.meta.url), { workerData: { dir, n, part, parts } });
    return new Promise((ready, fail) => {
      w.once('error', fail);
      w.once('message', () => ready(w));
    });
  };
  const ask = (w, msg) => new Promise((r) => { w.once('message', r); w.postMessage(msg); });
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const one = [await start(0, 1)];
  const two = [await start(0, 2), await start(1, 2)];
  const rows = { one: [], both: [], halves: [] };
  for (let i = 0; i < rounds; i++) {
    await ask(one[0], 'prepare');
    rows.one.push(await ask(one[0], 'build'));
    await Promise.all(two.map((w) => ask(w, 'prepare')));
    const t = performance.now();
    await Promise.all(two.map((w) => ask(w, 'build')));
    rows.both.push(performance.now() - t);
    const alone = [];
    for (const w of two) {
      await ask(w, 'prepare');
      alone.push(await ask(w, 'build'));
    }
    rows.halves.push(alone);
    console.log(`round ${i + 1}: one worker ${rows.one[i].toFixed(0)} ms; two at once ${rows.both[i].toFixed(0)} ms; each half alone ${alone.map((x) => x.toFixed(0)).join(' + ')} ms`);
  }
  const m1 = median(rows.one);
  const m2 = median(rows.both);
  const mh = median(rows.halves.map(([a, b]) => Math.max(a, b)));
  console.log(`medians (${n} Ingresses): one worker ${m1.toFixed(0)} ms; two at once ${m2.toFixed(0)} ms (x${(m1 / m2).toFixed(2)}); slower half alone ${mh.toFixed(0)} ms`);
  await Promise.all([...one, ...two].map((w) => w.terminate()));
} else {
  const { dir, n, part, parts } = workerData;
  const m = (p) => import(pathToFileURL(resolve(dir, p)).href);
  const { Store } = await m('control-plane/src/sources/store.js');
  const { WATCHED_KINDS } = await m('control-plane/src/sources/k8s-types.js');
  const { DEFAULT_PIPELINE_OPTIONS, translateStore, fromScratch } = await m('control-plane/src/pipeline/translate-store.js');
  const { checkConsistency } = await m('control-plane/src/pipeline/consistency.js');
  const { SnapshotEncoder } = await m('control-plane/src/xds/cache/snapshot.js');
  const { generate } = await m('bench/generate.js');
  const { benchCert } = await m('bench/cert.js');
  const gen = generate({ ingresses: n, cert: benchCert(), seed: 1 + n });
  // The bench's namespaces are team-00 … team-19; cluster-scoped objects (the IngressClass) go to every worker.
  const mine = gen.objects.filter((o) => !o.metadata.namespace || Number(o.metadata.namespace.replace(/\D/g, '')) % parts === part);
  const prepare = () => {
    const s = new Store();
    s.replace(structuredClone(mine), WATCHED_KINDS);
    return s.snapshot();
  };
  const groups = new Set(['envoy']);
  const build = (snap) =>
    fromScratch(() => {
      const r = translateStore(snap, DEFAULT_PIPELINE_OPTIONS, groups);
      for (const [g, x] of Object.entries(r.resources)) checkConsistency(x, g);
      return new SnapshotEncoder().buildGroups(r.resources);
    });
  for (let i = 0; i < 2; i++) build(prepare()); // JIT warm, as B1's timed runs
  let snap;
  let last;
  parentPort.on('message', async (msg) => {
    if (msg === 'prepare') {
      last = undefined; // as B1: the last result is let go before the next build
      snap = prepare();
      globalThis.gc();
      await new Promise((r) => setTimeout(r, 20));
      parentPort.postMessage(0);
      return;
    }
    const t = performance.now();
    last = build(snap);
    parentPort.postMessage(performance.now() - t);
  });
  parentPort.postMessage('ready');
}
