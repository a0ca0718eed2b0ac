// Runs the streams' flushes in the order they were asked for, a slice of time at a
// time. A snapshot change makes every stream flush at once; run back to back, 1,000
// flushes of a large response hold the event loop for hundreds of milliseconds while
// nothing they wrote reaches a socket (HTTP/2 sends at the next turn of the loop) and no
// ACK is read. Between slices the loop writes out what the last slice queued and reads
// what came in, so the first proxies get their response while the last are still being
// served, and the buffers of written responses are not all alive at once.

export interface Flushable {
  flushNow(): void;
}

export class FlushQueue {
  private readonly waiting = new Set<Flushable>();
  private scheduled: NodeJS.Immediate | undefined;

  /** `sliceMs`: how long one turn of the event loop may spend flushing. */
  constructor(
    private readonly sliceMs = 5,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Flushes `f` soon; a stream already waiting keeps its place. */
  schedule(f: Flushable): void {
    this.waiting.add(f);
    this.scheduled ??= setImmediate(this.run);
  }

  cancel(f: Flushable): void {
    this.waiting.delete(f);
  }

  /** Streams waiting for their flush. */
  size(): number {
    return this.waiting.size;
  }

  private readonly run = (): void => {
    this.scheduled = undefined;
    const deadline = this.now() + this.sliceMs;
    let first = true;
    for (const f of this.waiting) {
      if (!first && this.now() >= deadline) break;
      first = false;
      this.waiting.delete(f);
      f.flushNow();
    }
    if (this.waiting.size > 0) this.scheduled = setImmediate(this.run);
  };
}
