import { describe, expect, it } from 'vitest';
import { IdleCollector } from '../../control-plane/src/pipeline/idle-gc.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('IdleCollector', () => {
  it('collects once, after a long build followed by quiet, and not after short builds alone', async () => {
    const logs: object[] = [];
    const c = new IdleCollector(60, { info: (o) => logs.push(o) }, 0, 0.5);
    c.built(0.02);
    await sleep(120);
    expect(logs).toEqual([]);
    c.built(2.5);
    await sleep(30);
    // Another build, short, pushes the collection back.
    c.built(0.01);
    await sleep(40);
    expect(logs).toEqual([]);
    await sleep(80);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({ ms: expect.any(Number), heapUsedMiB: [expect.any(Number), expect.any(Number)] });
    await sleep(100);
    expect(logs).toHaveLength(1);
    c.stop();
  });

  it('does nothing below its heap threshold or when off', async () => {
    const logs: object[] = [];
    const small = new IdleCollector(10, { info: (o) => logs.push(o) }, Number.MAX_SAFE_INTEGER);
    const off = new IdleCollector(0, { info: (o) => logs.push(o) }, 0);
    small.built(3);
    off.built(3);
    await sleep(60);
    expect(logs).toEqual([]);
  });
});
