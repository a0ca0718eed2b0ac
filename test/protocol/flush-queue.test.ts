// The FlushQueue: flushes in the order asked, once per stream however often it asks,
// a slice of time per turn of the event loop, and none for a cancelled stream.
import { describe, expect, it } from 'vitest';
import { FlushQueue, type Flushable } from '../../control-plane/src/xds/server/flush-queue.js';

const turn = () => new Promise<void>((r) => setImmediate(r));

describe('FlushQueue', () => {
  it('flushes each scheduled stream once, in order', async () => {
    const q = new FlushQueue(1_000);
    const seen: number[] = [];
    const fs: Flushable[] = [0, 1, 2].map((i) => ({ flushNow: () => seen.push(i) }));
    q.schedule(fs[2]!);
    q.schedule(fs[0]!);
    q.schedule(fs[2]!);
    q.schedule(fs[1]!);
    expect(seen).toEqual([]);
    await turn();
    expect(seen).toEqual([2, 0, 1]);
    expect(q.size()).toBe(0);
  });

  it('stops at the end of its slice and goes on at the next turn', async () => {
    let clock = 0;
    const q = new FlushQueue(5, () => clock);
    const seen: number[] = [];
    for (let i = 0; i < 10; i++) q.schedule({ flushNow: () => (seen.push(i), (clock += 2)) });
    await turn();
    expect(seen).toEqual([0, 1, 2]); // 0, 2, 4: the third flush ends the slice at 6
    await turn();
    expect(seen).toEqual([0, 1, 2, 3, 4, 5]);
    await turn();
    await turn();
    expect(seen).toHaveLength(10);
  });

  it('always makes progress, even when one flush outlasts the slice', async () => {
    let clock = 0;
    const q = new FlushQueue(1, () => clock);
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) q.schedule({ flushNow: () => (seen.push(i), (clock += 50)) });
    for (let t = 0; t < 3; t++) await turn();
    expect(seen).toEqual([0, 1, 2]);
  });

  it('drops a cancelled stream', async () => {
    const q = new FlushQueue();
    const seen: string[] = [];
    const a = { flushNow: () => seen.push('a') };
    const b = { flushNow: () => seen.push('b') };
    q.schedule(a);
    q.schedule(b);
    q.cancel(a);
    await turn();
    expect(seen).toEqual(['b']);
  });

  it('lets a stream scheduled during a slice wait for the next one when the slice is over', async () => {
    let clock = 0;
    const q = new FlushQueue(5, () => clock);
    const seen: string[] = [];
    const late = { flushNow: () => seen.push('late') };
    q.schedule({ flushNow: () => (seen.push('first'), q.schedule(late), (clock += 10)) });
    await turn();
    expect(seen).toEqual(['first']);
    await turn();
    expect(seen).toEqual(['first', 'late']);
  });
});
