// bench/gc-pauses.ts: the collector's pauses inside a timed range are counted, those
// outside are not. Allocating ~100 MB of short-lived objects makes scavenges happen
// without --expose-gc; nothing here is about how long they take.
import { describe, expect, it } from 'vitest';
import { GcPauseRecorder } from '../../bench/gc-pauses.js';

function churn(): number {
  let kept = 0;
  for (let i = 0; i < 1_000_000; i++) {
    const o = { a: i, b: [i, i + 1], c: `x${i}` };
    if (o.b.length === 3) kept++;
  }
  return kept;
}

describe('GcPauseRecorder', () => {
  it('counts the scavenges of a range and none of an empty one', async () => {
    const rec = new GcPauseRecorder().start();
    try {
      const start = performance.now();
      churn();
      const end = performance.now();
      const p = await rec.pausesIn({ start, end });
      expect(p.minor.count).toBeGreaterThan(0);
      expect(p.minor.ms).toBeGreaterThan(0);
      expect(p.totalMs).toBeCloseTo(p.minor.ms + p.major.ms + p.other.ms, 1);
      expect(p.totalMs).toBeLessThanOrEqual(end - start + 1);
      const none = await rec.pausesIn({ start: end + 1e6, end: end + 2e6 });
      expect(none).toEqual({ minor: { count: 0, ms: 0 }, major: { count: 0, ms: 0 }, other: { count: 0, ms: 0 }, totalMs: 0 });
    } finally {
      rec.stop();
    }
  });
});
