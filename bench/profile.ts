// In-process CPU profiles of a measured section (node:inspector), and a summary:
// self time per function, inclusive time of named functions, and a breakdown that
// gives every sample to the innermost frame matching a category (so shares add up).
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { basename } from 'node:path';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
  readonly columnNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Runs `fn` under the V8 sampling profiler. */
export async function profile<T>(fn: () => T | Promise<T>, intervalMicros = 200): Promise<{ result: T; profile: CpuProfile }> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: intervalMicros });
    await session.post('Profiler.start');
    let result: T;
    try {
      result = await fn();
    } catch (e) {
      // stop even when fn throws, so the next profile can start
      await session.post('Profiler.stop').catch(() => undefined);
      throw e;
    }
    const { profile: p } = await session.post('Profiler.stop');
    return { result, profile: p as unknown as CpuProfile };
  } finally {
    await session.post('Profiler.disable').catch(() => undefined);
    session.disconnect();
  }
}

export function saveProfile(file: string, p: CpuProfile): void {
  writeFileSync(file, JSON.stringify(p));
}

/** A category: a sample belongs to it when a frame on its stack matches. */
export interface Category {
  readonly name: string;
  readonly match: (frame: CallFrame) => boolean;
}

export interface ProfileSummary {
  readonly totalMs: number;
  readonly samples: number;
  /** Innermost matching category per sample; `other` for the rest. Shares add up to 1. */
  readonly breakdown: ReadonlyArray<{ readonly category: string; readonly ms: number; readonly share: number }>;
  /** Samples with the function anywhere on the stack. */
  readonly inclusive: ReadonlyArray<{ readonly function: string; readonly ms: number; readonly share: number }>;
  readonly topSelf: ReadonlyArray<{ readonly function: string; readonly ms: number; readonly share: number }>;
}

export function frameLabel(f: CallFrame): string {
  const name = f.functionName || '(anonymous)';
  return f.url ? `${name} ${basename(f.url)}:${f.lineNumber + 1}` : name;
}

export function summarize(p: CpuProfile, categories: readonly Category[], inclusiveNames: readonly string[], top = 20): ProfileSummary {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  // weight of sample i: the time until the next sample (the last gets the mean)
  const total = p.timeDeltas.reduce((a, b) => a + b, 0);
  const mean = p.samples.length ? total / p.samples.length : 0;
  const weight = (i: number) => (i + 1 < p.timeDeltas.length ? p.timeDeltas[i + 1]! : mean);

  const cat = new Map<string, number>();
  const incl = new Map<string, number>();
  const self = new Map<string, number>();
  // stacks repeat a lot: memoise per leaf node
  const stackCat = new Map<number, string>();
  const stackIncl = new Map<number, readonly string[]>();
  for (let i = 0; i < p.samples.length; i++) {
    const leaf = p.samples[i]!;
    const w = weight(i);
    let c = stackCat.get(leaf);
    let inc = stackIncl.get(leaf);
    if (c === undefined || inc === undefined) {
      c = 'other';
      const seen = new Set<string>();
      for (let id: number | undefined = leaf; id !== undefined; id = parent.get(id)) {
        const f = byId.get(id)!.callFrame;
        if (c === 'other') {
          const hit = categories.find((k) => k.match(f));
          if (hit) c = hit.name;
        }
        if (inclusiveNames.includes(f.functionName)) seen.add(f.functionName);
      }
      inc = [...seen];
      stackCat.set(leaf, c);
      stackIncl.set(leaf, inc);
    }
    cat.set(c, (cat.get(c) ?? 0) + w);
    for (const name of inc) incl.set(name, (incl.get(name) ?? 0) + w);
    const label = frameLabel(byId.get(leaf)!.callFrame);
    self.set(label, (self.get(label) ?? 0) + w);
  }
  const ms = (us: number) => Math.round(us / 100) / 10;
  const share = (us: number) => (total ? Math.round((us / total) * 1000) / 1000 : 0);
  return {
    totalMs: ms(total),
    samples: p.samples.length,
    breakdown: [...cat].sort((a, b) => b[1] - a[1]).map(([category, us]) => ({ category, ms: ms(us), share: share(us) })),
    inclusive: inclusiveNames.map((f) => ({ function: f, ms: ms(incl.get(f) ?? 0), share: share(incl.get(f) ?? 0) })),
    topSelf: [...self].sort((a, b) => b[1] - a[1]).slice(0, top).map(([f, us]) => ({ function: f, ms: ms(us), share: share(us) })),
  };
}
