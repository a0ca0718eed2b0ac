// The measurement scripts beside `npm run bench` (scripts/ab-full-build.mjs,
// scripts/parallel-ceiling.mjs) run the compiled tree (dist/, built by `npm test`'s
// pretest): each must run to the end at a small size and print its summary line. Nothing
// here is about time.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

async function script(args: readonly string[]): Promise<string> {
  const { stdout } = await run(process.execPath, ['--expose-gc', ...args], { timeout: 120_000, maxBuffer: 1 << 20 });
  return stdout;
}

describe('benchmark scripts (smoke)', () => {
  it('parallel-ceiling: one worker, two at once, each half alone', { timeout: 150_000 }, async () => {
    const out = await script(['scripts/parallel-ceiling.mjs', 'dist', '200', '1']);
    expect(out).toMatch(/^round 1: one worker \d+ ms; two at once \d+ ms; each half alone \d+ \+ \d+ ms$/m);
    expect(out).toMatch(/^medians \(200 Ingresses\): one worker \d+ ms; two at once \d+ ms \(x[\d.]+\); slower half alone \d+ ms$/m);
  });

  it('ab-full-build: a tree against itself', { timeout: 150_000 }, async () => {
    const out = await script(['scripts/ab-full-build.mjs', 'dist', 'dist', '1', '200']);
    expect(out).toMatch(/^A dist: wall \d+ ms; median wall \d+ ms, median CPU \d+ ms, median wall − GC pauses \d+ ms$/m);
    expect(out).toMatch(/^B\/A wall − GC per pair: [\d.]+; median [\d.]+$/m);
    expect(out).toMatch(/^B\/A wall per pair: [\d.]+; median [\d.]+$/m);
  });
});
