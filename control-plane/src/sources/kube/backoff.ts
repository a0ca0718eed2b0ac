// Exponential backoff with jitter, for reconnecting dropped watches and failed lists.
export interface BackoffOptions {
  /** First delay (default 500 ms). */
  readonly initialMs?: number;
  /** Largest delay (default 30 s). */
  readonly maxMs?: number;
  readonly factor?: number;
  /** Each delay is stretched by up to this fraction at random (default 0.2). */
  readonly jitter?: number;
}

export class Backoff {
  private attempt = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly factor: number;
  private readonly jitter: number;

  constructor(opts: BackoffOptions = {}, private readonly random: () => number = Math.random) {
    this.initialMs = opts.initialMs ?? 500;
    this.maxMs = opts.maxMs ?? 30_000;
    this.factor = opts.factor ?? 2;
    this.jitter = opts.jitter ?? 0.2;
  }

  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * this.factor ** this.attempt);
    this.attempt++;
    return Math.round(Math.min(this.maxMs, base * (1 + this.jitter * this.random())));
  }

  reset(): void {
    this.attempt = 0;
  }
}
