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

  /**
   * @param delayMs quiet time after a full build before collecting (0: never collect)
   * @param minHeapBytes collect only when the heap holds at least this much
   * @param minBuildSeconds builds at least this long arm the collection
   */
  constructor(
    private readonly delayMs: number,
    private readonly logger: IdleGcLogger,
    private readonly minHeapBytes = 64 * 1024 * 1024,
    private readonly minBuildSeconds = 0.5,
    /** Called after each idle collection (serve warms the pipeline up here: Controller.warmUp). */
    private readonly afterCollect?: () => void,
  ) {}

  /** Called after every build: a long one arms the timer, any build pushes it back. */
  built(seconds: number): void {
    if (this.delayMs <= 0) return;
    const armed = this.timer !== undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (seconds < this.minBuildSeconds && !armed) return;
    this.timer = setTimeout(() => this.collect(), this.delayMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private collect(): void {
    this.timer = undefined;
    const before = getHeapStatistics();
    if (before.used_heap_size < this.minHeapBytes) return this.afterCollect?.();
    const started = performance.now();
    collectGarbage();
    const after = getHeapStatistics();
    const mib = (n: number) => Math.round(n / 1048576);
    this.logger.info(
      { ms: Math.round(performance.now() - started), heapUsedMiB: [mib(before.used_heap_size), mib(after.used_heap_size)], heapTotalMiB: [mib(before.total_heap_size), mib(after.total_heap_size)] },
      'idle after a full build: garbage collected',
    );
    this.afterCollect?.();
  }
}
