// A full garbage collection once the control plane is idle after a full build. A full
// build at 10k Ingresses allocates ~1 GB; left to V8, that garbage is collected during
// the next changes (the first change after start-up took 100–200 ms more, half of it GC)
// and the heap keeps the fragmentation of the build. One collection when nothing has
// happened for a while after the build moves that cost out of the next change's way and
// gives memory back. V8 offers no idle-time collection to embedders, so the collection is
// asked for as `--expose-gc` would (the flag is set at run time, then `gc` is taken from a
// new context): a stop-the-world pause of ~0.1 s per 100 MiB of heap, only after a build
// long enough to have made that much garbage (start-up, a bulk change, a scale-down: not
// the 10–30 ms build of one changed Ingress), only when no build followed it within
// `delayMs`.
//
// That first collection comes right after the build, while V8 still measures a high
// allocation rate: it keeps the young generation at its largest (32 MiB of semi-spaces)
// and the old generation's emptied pages. V8 shrinks both in a collection made after
// more than ~5 s with (almost) no allocation, which its memory reducer usually makes
// within a minute, but not always (B7: back at 1k Ingresses, 165 MiB idle when it ran,
// 194–197 MiB in three runs of four where it had not within 121 s). So a second, settling
// collection follows `settleMs` later, unless a build came in between (each build pushes
// it back) or the collection was followed by a warm-up (a full collection undoes it; the
// warm-up runs for large stores only, where the pause would also be long), and only while
// the heap is below `settleMaxHeapBytes` (at 10k Ingresses, 350 MiB, a full collection
// pauses ~0.4 s, and V8's reducer has run within 35 s in every B7 report).
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface IdleGcLogger {
  info(obj: object, msg?: string): void;
}

let gcFn: (() => void) | undefined;

/** A full garbage collection now (what `gc()` does under --expose-gc), without the flag at start. */
export function collectGarbage(): void {
  if (!gcFn) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (exposed) gcFn = exposed;
    else {
      setFlagsFromString('--expose-gc');
      gcFn = runInNewContext('gc') as () => void;
    }
  }
  gcFn();
}

export class IdleCollector {
  private timer: NodeJS.Timeout | undefined;
  /** The settling collection's timer (armed after the first collection's turn, unless a warm-up followed). */
  private settleTimer: NodeJS.Timeout | undefined;

  /**
   * @param delayMs quiet time after a full build before collecting (0: never collect)
   * @param minHeapBytes collect only when the heap holds at least this much
   * @param minBuildSeconds builds at least this long arm the collection
   * @param afterCollect called after the first idle collection (serve warms the pipeline up
   *   here: Controller.warmUp); true when it warmed something a second collection would undo
   * @param settleMs quiet time after the first collection before the settling one (0: none)
   * @param settleMaxHeapBytes no settling collection when the heap holds more than this
   */
  constructor(
    private readonly delayMs: number,
    private readonly logger: IdleGcLogger,
    private readonly minHeapBytes = 64 * 1024 * 1024,
    private readonly minBuildSeconds = 0.5,
    private readonly afterCollect?: () => boolean | void,
    private readonly settleMs = 10_000,
    private readonly settleMaxHeapBytes = 256 * 1024 * 1024,
  ) {}

  /** Called after every build: a long one arms the timer, any build pushes it back. */
  built(seconds: number): void {
    if (this.delayMs <= 0) return;
    const armed = this.timer !== undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (seconds < this.minBuildSeconds && !armed) {
      // A short build pushes a pending settling collection back.
      if (this.settleTimer) this.armSettle();
      return;
    }
    // The first collection starts over (and the settling one follows it).
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.settleTimer = undefined;
    this.timer = setTimeout(() => this.collect(), this.delayMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.timer = undefined;
    this.settleTimer = undefined;
  }

  private collect(): void {
    this.timer = undefined;
    this.collectNow('idle after a full build: garbage collected');
    // Also when the heap was too small for the first: V8 may still hold a young generation
    // and pages sized for the build (B7 scaled down to 10 Ingresses: 34 MiB of heap used).
    const warmed = this.afterCollect?.() === true;
    if (!warmed && this.settleMs > 0) this.armSettle();
  }

  private armSettle(): void {
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => {
      this.settleTimer = undefined;
      // No lower threshold: once per long build, and what it gives back (a young generation
      // of 32 MiB, emptied pages) matters most when the heap is small.
      if (getHeapStatistics().used_heap_size <= this.settleMaxHeapBytes) this.collectNow('idle since the last collection: heap settled', 0);
    }, this.settleMs);
    this.settleTimer.unref();
  }

  /** A full collection, when the heap holds at least minHeapBytes. */
  private collectNow(msg: string, minHeapBytes = this.minHeapBytes): void {
    const before = getHeapStatistics();
    if (before.used_heap_size < minHeapBytes) return;
    const started = performance.now();
    collectGarbage();
    const after = getHeapStatistics();
    const mib = (n: number) => Math.round(n / 1048576);
    this.logger.info(
      { ms: Math.round(performance.now() - started), heapUsedMiB: [mib(before.used_heap_size), mib(after.used_heap_size)], heapTotalMiB: [mib(before.total_heap_size), mib(after.total_heap_size)] },
      msg,
    );
  }
}
