// The shape of one benchmark (B1–B7, one module each), as bench/run.ts runs it.
export interface BenchContext {
  /** Small sizes and few repeats: a smoke test that asserts nothing about time. */
  readonly quick: boolean;
  /** --n: sizes to run instead of the benchmark's own. */
  readonly sizes?: readonly number[];
  /** --repeats: timed repetitions of the main measurement. */
  readonly repeats?: number;
  /** --incremental-repeats: timed repetitions of a secondary measurement. */
  readonly incrementalRepeats?: number;
  readonly seed?: number;
  /** --route-shards: the control plane's route shards (translate/route-shards.ts); unset: one route configuration. */
  readonly routeShards?: number;
  /** --envoy-workers: worker threads of the gateway Envoy in B2, B3, B4 and B6 (default 1; the Helm chart runs 2). */
  readonly envoyWorkers?: number;
  /** --envoys: real Envoys beside B5's lightweight clients (default 2; 1 in quick mode). */
  readonly envoys?: number;
  /** --proxyless: B1 also builds the proxyless gRPC group (the Controller builds it once a proxyless client connects). */
  readonly proxyless?: boolean;
  /** --profile: write CPU profiles of the measured sections here. */
  readonly profileDir?: string;
  /** Progress lines (stderr). */
  readonly log: (line: string) => void;
}

export interface BenchOutcome {
  readonly parameters: unknown;
  readonly targets?: unknown;
  /** Raw samples and medians. */
  readonly results: unknown;
  /** Anything that went wrong; empty on a clean run. */
  readonly errors: readonly string[];
  /** A short human-readable table. */
  readonly summary: string;
}

export interface Benchmark {
  /** `b1`: what --only takes; the report file is `<id>-<timestamp>.json`. */
  readonly id: string;
  /** `b1-translate`: the report's `benchmark` field (--only takes it too). */
  readonly name: string;
  readonly title: string;
  run(ctx: BenchContext): Promise<BenchOutcome>;
}
