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
//
// A build counts as long by its time or by what it left in the old generation: a build
// shorter than `minBuildSeconds` that grew the old generation by at least
// `growth.minBytes` and `growth.ratio` of its size after the last collection arms the
// collections too. Scaling back up from 10 to 1,000 Ingresses with a warm pipeline is a
// 0.35 s build that grows it from ~36 to ~63 MiB; without this, nothing collected after
// it, and V8's reducer had not run 121 s later (B7: 176 MiB idle instead of ~115).
import { getHeapSpaceStatistics, getHeapStatistics, setFlagsFromString } from 'node:v8';
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

/** Bytes of V8's heap spaces other than the young generation (old, code, large objects…). */
export function oldGenerationBytes(): number {
  let n = 0;
  for (const s of getHeapSpaceStatistics()) if (s.space_name !== 'new_space' && s.space_name !== 'new_large_object_space') n += s.space_size;
  return n;
}

/** When a short build's growth of the old generation arms the collections (see above). */
export interface GrowthTrigger {
  readonly minBytes: number;
  /** Of the old generation's size after the last collection. */
  readonly ratio: number;
  /** Reads the old generation's size (tests give their own). */
  readonly oldGenBytes?: () => number;
}

export const DEFAULT_GROWTH_TRIGGER: GrowthTrigger = { minBytes: 16 * 1024 * 1024, ratio: 0.5 };

export class IdleCollector {
  /** The old generation's size after the last collection (or at construction). */
  private baseline: number;
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
   * @param growth a short build that grew the old generation this much arms the collections too (undefined: never)
   */
  constructor(
    private readonly delayMs: number,
    private readonly logger: IdleGcLogger,
    private readonly minHeapBytes = 64 * 1024 * 1024,
    private readonly minBuildSeconds = 0.5,
    private readonly afterCollect?: () => boolean | void,
    private readonly settleMs = 10_000,
    private readonly settleMaxHeapBytes = 256 * 1024 * 1024,
    private readonly growth: GrowthTrigger | undefined = DEFAULT_GROWTH_TRIGGER,
  ) {
    this.baseline = this.oldGen();
  }

  private oldGen(): number {
    return this.growth ? (this.growth.oldGenBytes ?? oldGenerationBytes)() : 0;
  }

  /** Whether the old generation grew enough since the last collection to count as a long build. */
  private grewEnough(): boolean {
    if (!this.growth) return false;
    const grew = this.oldGen() - this.baseline;
    return grew >= this.growth.minBytes && grew >= this.growth.ratio * this.baseline;
  }

  /** Called after every build: a long one arms the timer, any build pushes it back. */
  built(seconds: number): void {
    if (this.delayMs <= 0) return;
    const armed = this.timer !== undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (seconds < this.minBuildSeconds && !armed && !this.grewEnough()) {
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
    // After the warm-up: what it keeps is not a build's growth.
    this.baseline = this.oldGen();
    if (!warmed && this.settleMs > 0) this.armSettle();
  }

  private armSettle(): void {
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => {
      this.settleTimer = undefined;
      // No lower threshold: once per long build, and what it gives back (a young generation
      // of 32 MiB, emptied pages) matters most when the heap is small.
      if (getHeapStatistics().used_heap_size <= this.settleMaxHeapBytes) this.collectNow('idle since the last collection: heap settled', 0);
      this.baseline = this.oldGen();
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
