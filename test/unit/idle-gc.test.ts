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

  it('settles with a second collection after more quiet, unless a warm-up followed the first', async () => {
    const msgs: string[] = [];
    const logger = { info: (_o: object, m?: string) => msgs.push(m ?? '') };
    const c = new IdleCollector(20, logger, 0, 0.5, () => false, 400);
    c.built(1);
    await sleep(150);
    expect(msgs).toEqual(['idle after a full build: garbage collected']);
    // A short build while it waits pushes the settling collection back (to ~650 ms).
    await sleep(100);
    c.built(0.01);
    await sleep(250);
    expect(msgs).toHaveLength(1);
    await sleep(400);
    expect(msgs).toEqual(['idle after a full build: garbage collected', 'idle since the last collection: heap settled']);
    await sleep(100);
    expect(msgs).toHaveLength(2);

    const warmed: string[] = [];
    const w = new IdleCollector(20, { info: (_o: object, m?: string) => warmed.push(m ?? '') }, 0, 0.5, () => true, 30);
    w.built(1);
    await sleep(120);
    expect(warmed).toEqual(['idle after a full build: garbage collected']);

    // A long build while it waits starts over from the first collection.
    const again: string[] = [];
    const a = new IdleCollector(20, { info: (_o: object, m?: string) => again.push(m ?? '') }, 0, 0.5, undefined, 60);
    a.built(1);
    await sleep(50);
    a.built(2);
    await sleep(50);
    expect(again).toEqual(['idle after a full build: garbage collected', 'idle after a full build: garbage collected']);
    a.stop();
    await sleep(100);
    expect(again).toHaveLength(2);

    // Not above its heap ceiling.
    const big: string[] = [];
    const b = new IdleCollector(20, { info: (_o: object, m?: string) => big.push(m ?? '') }, 0, 0.5, undefined, 30, 1);
    b.built(1);
    await sleep(150);
    expect(big).toEqual(['idle after a full build: garbage collected']);
    c.stop();
    w.stop();
  });

  it('arms after a short build that grew the old generation enough since the last collection', async () => {
    const msgs: string[] = [];
    const logger = { info: (_o: object, m?: string) => msgs.push(m ?? '') };
    const MiB = 1024 * 1024;
    let old = 40 * MiB;
    const c = new IdleCollector(20, logger, 0, 0.5, undefined, 40, undefined, { minBytes: 16 * MiB, ratio: 0.5, oldGenBytes: () => old });
    // Grown, but less than half of 40 MiB: nothing.
    old = 55 * MiB;
    c.built(0.3);
    await sleep(80);
    expect(msgs).toEqual([]);
    // 27 MiB over the baseline (≥ 16 MiB and ≥ 20 MiB): a short build arms both collections.
    old = 67 * MiB;
    c.built(0.3);
    await sleep(150);
    expect(msgs).toEqual(['idle after a full build: garbage collected', 'idle since the last collection: heap settled']);
    // The baseline is now the size after the collections: the same size arms nothing.
    c.built(0.3);
    await sleep(100);
    expect(msgs).toHaveLength(2);
    // Without a growth trigger, only the build's time counts.
    const none: string[] = [];
    const n = new IdleCollector(20, { info: (_o: object, m?: string) => none.push(m ?? '') }, 0, 0.5, undefined, 0, undefined, undefined);
    n.built(0.3);
    await sleep(60);
    expect(none).toEqual([]);
    c.stop();
    n.stop();
  });
});
