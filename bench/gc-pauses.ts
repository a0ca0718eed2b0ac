// The garbage collector's pauses of the main thread during timed sections, from the
// perf_hooks `gc` entries: how much of a sample was the program (wall − pauses) and how
// much the collector. On this machine a 10k full build spends ~30 % of its wall time in
// scavenges (copying what survives), and a mark-compact that lands in a sample (the last
// run's garbage) adds 20–300 ms: the samples' spread is mostly that, and a change to the
// program shows in the mutator figure more clearly than in the wall time.
import { PerformanceObserver, constants, type PerformanceEntry } from 'node:perf_hooks';

export interface GcPauses {
  /** Scavenges (young generation). */
  readonly minor: { readonly count: number; readonly ms: number };
  /** Mark-compact (old generation): the final, atomic pause. */
  readonly major: { readonly count: number; readonly ms: number };
  /** Incremental marking steps and weak callbacks (small, many). */
  readonly other: { readonly count: number; readonly ms: number };
  readonly totalMs: number;
}

interface Range {
  readonly start: number;
  readonly end: number;
}

/**
 * Collects `gc` entries from start() to stop(). The entries arrive asynchronously, so
 * pausesIn() waits for the event loop to deliver them before counting the ones that
 * started inside a timed range (performance.now() values).
 */
export class GcPauseRecorder {
  private readonly entries: PerformanceEntry[] = [];
  private readonly observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) this.entries.push(e);
  });

  start(): this {
    this.observer.observe({ entryTypes: ['gc'] });
    return this;
  }

  stop(): void {
    this.observer.disconnect();
  }

  async pausesIn(range: Range): Promise<GcPauses> {
    // Entries are queued by the collector's epilogue and delivered on a later turn.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const minor = { count: 0, ms: 0 };
    const major = { count: 0, ms: 0 };
    const other = { count: 0, ms: 0 };
    for (const e of this.entries) {
      if (e.startTime < range.start || e.startTime >= range.end) continue;
      const kind = ((e as { detail?: unknown }).detail as { kind?: number } | undefined)?.kind;
      const into = kind === constants.NODE_PERFORMANCE_GC_MINOR ? minor : kind === constants.NODE_PERFORMANCE_GC_MAJOR ? major : other;
      into.count++;
      into.ms += e.duration;
    }
    const r = (x: { count: number; ms: number }) => ({ count: x.count, ms: Math.round(x.ms * 10) / 10 });
    return { minor: r(minor), major: r(major), other: r(other), totalMs: Math.round((minor.ms + major.ms + other.ms) * 10) / 10 };
  }
}
