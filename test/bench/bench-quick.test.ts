// The quick mode of every benchmark of `npm run bench` (B2–B7; B1 has its own smoke
// test): each must run to the end through the real Envoy (or the control plane in a
// child process) and produce a report without errors. Nothing here is about time
// (benchmarks.md: benchmarks are a command, never timed assertions in tests). B5 and B7
// run the compiled control plane (dist/, built by `npm test`'s pretest).
import { describe, expect, it } from 'vitest';
import type { BenchOutcome } from '../../bench/benchmark.js';
import { BENCHMARKS } from '../../bench/run.js';

async function quick(id: string, routeShards?: number): Promise<BenchOutcome> {
  const bench = BENCHMARKS.find((b) => b.id === id)!;
  const outcome = await bench.run({ quick: true, log: () => undefined, ...(routeShards ? { routeShards } : {}) });
  expect(outcome.errors).toEqual([]);
  expect(outcome.summary.length).toBeGreaterThan(0);
  return outcome;
}

type Rec = Record<string, unknown>;

interface B5Result {
  mode: string;
  restart: { resourcesResent: number };
  changes: Array<{ envoyMs: number[] }>;
  envoys: { count: number; connectedAfterRestart: number; updatesAfterRestart: number; countersMovedAfterRestart: string[] };
}

/** A route and an endpoint change reached the clients and the real Envoy; the restart resent nothing to either. */
function expectB5(x: B5Result): void {
  expect(x.changes.length).toBe(2);
  expect(x.restart.resourcesResent).toBe(0);
  expect(x.envoys.count).toBe(1);
  for (const c of x.changes) expect(c.envoyMs).toHaveLength(1);
  expect(x.envoys.connectedAfterRestart).toBe(1);
  expect(x.envoys.countersMovedAfterRestart).toEqual([]);
  expect(x.envoys.updatesAfterRestart).toBe(0);
}

describe('npm run bench --quick (smoke, through the real Envoy)', () => {
  it('lists B1–B7', () => {
    expect(BENCHMARKS.map((b) => b.id)).toEqual(['b1', 'b2', 'b2w', 'b3', 'b4', 'b5', 'b6', 'b7']);
  });

  it('B2: new hosts answer through Envoy', { timeout: 300_000 }, async () => {
    const r = (await quick('b2')).results as Rec[];
    expect(r).toHaveLength(1);
    expect((r[0]!['samplesMs'] as number[]).length).toBe(3);
  });

  it('B2w: canary weight changes are seen in traffic', { timeout: 300_000 }, async () => {
    const r = (await quick('b2w')).results as Rec[];
    expect(r.length).toBeGreaterThan(0);
  });

  it('B3: every host of a bulk apply answers', { timeout: 300_000 }, async () => {
    const r = (await quick('b3')).results as Rec;
    expect((r['allAnswerMs'] as number[]).length).toBe(1);
  });

  it('B4: changes under load lose nothing', { timeout: 300_000 }, async () => {
    const r = (await quick('b4')).results as { load: { requests: number; non2xx: number; transportErrors: number }; connectionsClosedDuringRun: number };
    expect(r.load.requests).toBeGreaterThan(0);
    // what B4 is about (counts, not time)
    expect(r.load.non2xx).toBe(0);
    expect(r.load.transportErrors).toBe(0);
    expect(r.connectionsClosedDuringRun).toBe(0);
  });

  it('B4 with route shards: changes under load lose nothing', { timeout: 300_000 }, async () => {
    const r = (await quick('b4', 8)).results as { load: { requests: number; non2xx: number; transportErrors: number }; connectionsClosedDuringRun: number };
    expect(r.load.requests).toBeGreaterThan(0);
    expect(r.load.non2xx).toBe(0);
    expect(r.load.transportErrors).toBe(0);
    expect(r.connectionsClosedDuringRun).toBe(0);
  });

  it('B5 with route shards: clients subscribed like Envoy (SRDS + every shard) ACK and resync with nothing resent', { timeout: 300_000 }, async () => {
    const r = (await quick('b5', 8)).results as B5Result[];
    expect(r.map((x) => x.mode)).toEqual(['sotw', 'delta']);
    for (const x of r) expectB5(x);
  });

  it('B5: ADS clients and a real Envoy ACK changes and resync after a restart with nothing resent', { timeout: 300_000 }, async () => {
    const r = (await quick('b5')).results as B5Result[];
    expect(r.map((x) => x.mode)).toEqual(['sotw', 'delta']);
    for (const x of r) expectB5(x);
  });

  it('B6: endpoint churn reaches EDS without rebuilding routes or clusters', { timeout: 300_000 }, async () => {
    const r = (await quick('b6')).results as { unchanged: { listenersRoutesClustersUnchanged: boolean }; latenciesMs: number[] };
    expect(r.unchanged.listenersRoutesClustersUnchanged).toBe(true);
    expect(r.latenciesMs.length).toBeGreaterThan(0);
  });

  it('B7: memory readings at each step', { timeout: 300_000 }, async () => {
    const r = (await quick('b7')).results as { steps: Array<{ rssMiB: number }> };
    expect(r.steps.length).toBe(4);
    expect(r.steps.every((s) => s.rssMiB > 0)).toBe(true);
  });
});
