// Leader election on a coordination.k8s.io/v1 Lease, the client-go way: acquire when
// the Lease is free or its holder stopped renewing for a lease duration (measured on
// our own clock, from when we last saw the record change, so clocks need not agree);
// renew every retry period; step down when renewals fail for the renew deadline;
// release on shutdown so another replica takes over at once. Conflicting writes are
// settled by the Lease's resourceVersion (409 on a stale update).
import { httpStatus, describeError } from '../sources/kube/api-errors.js';
import type { KubeLogger } from '../sources/kube/logger.js';
import { microTime, withTimeout } from './deadline.js';

export interface LeaseRecord {
  readonly holderIdentity?: string;
  readonly leaseDurationSeconds?: number;
  readonly acquireTime?: string;
  readonly renewTime?: string;
  readonly leaseTransitions?: number;
}

/** The Lease as seen through the API (client-node in production, fakes in unit tests). */
export interface LeaseStore {
  get(): Promise<{ readonly record: LeaseRecord; readonly resourceVersion: string } | undefined>;
  /** Rejects with an HTTP 409 error when the Lease exists. */
  create(record: LeaseRecord): Promise<void>;
  /** Rejects with an HTTP 409 error when `resourceVersion` is stale. */
  update(record: LeaseRecord, resourceVersion: string): Promise<void>;
}

export interface ElectionTiming {
  /** How long a non-renewed Lease holds (client-go default 15 s). */
  readonly leaseDurationMs: number;
  /** A leader that could not renew for this long steps down (default 10 s; < lease duration). */
  readonly renewDeadlineMs: number;
  /** Between attempts (default 2 s). */
  readonly retryPeriodMs: number;
}

export const DEFAULT_ELECTION_TIMING: ElectionTiming = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

export interface LeaderElectorOptions extends ElectionTiming {
  readonly store: LeaseStore;
  readonly identity: string;
  readonly logger: KubeLogger;
  /** Lease name, for logs. */
  readonly lease?: string;
  onStartedLeading?(): void;
  onStoppedLeading?(): void;
  readonly now?: () => number;
}

export class LeaderElector {
  private leading = false;
  private lastRenew = 0;
  private observedRv: string | undefined;
  private observedAt = 0;
  private observedHolder: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private readonly now: () => number;

  constructor(private readonly opts: LeaderElectorOptions) {
    this.now = opts.now ?? Date.now;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** True while this replica holds the Lease and renewed it within the renew deadline. */
  isLeader(): boolean {
    return this.leading && this.now() - this.lastRenew < this.opts.renewDeadlineMs;
  }

  /** The holder seen on the last read of the Lease. */
  holder(): string | undefined {
    return this.leading ? this.opts.identity : this.observedHolder;
  }

  /** Stops trying; a leader releases the Lease (bounded by the retry period). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    if (this.leading) {
      await withTimeout(this.release(), Math.max(this.opts.retryPeriodMs, 1000), 'releasing the Lease').catch((err: unknown) =>
        this.opts.logger.warn({ lease: this.opts.lease, err: describeError(err) }, 'could not release the Lease; another replica takes over when it expires'),
      );
      this.stepDown('shutting down');
    }
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => (this.running = undefined));
    }, ms);
  }

  private async tick(): Promise<void> {
    let ok = false;
    try {
      ok = await withTimeout(this.tryAcquireOrRenew(), this.opts.renewDeadlineMs, 'a Lease update');
    } catch (err) {
      this.opts.logger.warn({ lease: this.opts.lease, err: describeError(err) }, this.leading ? 'renewing the Lease failed' : 'acquiring the Lease failed');
    }
    if (this.stopped) return;
    if (ok) {
      this.lastRenew = this.now();
      if (!this.leading) {
        this.leading = true;
        this.opts.logger.info({ lease: this.opts.lease, identity: this.opts.identity }, 'became the leader');
        this.opts.onStartedLeading?.();
      }
    } else if (this.leading && (this.now() - this.lastRenew >= this.opts.renewDeadlineMs || (this.observedHolder !== undefined && this.observedHolder !== this.opts.identity))) {
      this.stepDown(this.observedHolder !== this.opts.identity ? `the Lease is held by ${this.observedHolder}` : 'renew deadline passed');
    }
    // Candidates retry with jitter (client-go's factor 1.2) so replicas do not move in step.
    this.schedule(this.leading ? this.opts.retryPeriodMs : Math.round(this.opts.retryPeriodMs * (1 + 0.2 * Math.random())));
  }

  private stepDown(why: string): void {
    if (!this.leading) return;
    this.leading = false;
    this.opts.logger.warn({ lease: this.opts.lease, identity: this.opts.identity, why }, 'stopped leading');
    this.opts.onStoppedLeading?.();
  }

  private leaseSeconds(): number {
    return Math.max(1, Math.ceil(this.opts.leaseDurationMs / 1000));
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const me = this.opts.identity;
    const now = this.now();
    const stamp = microTime(now);
    const cur = await this.opts.store.get();
    if (!cur) {
      try {
        await this.opts.store.create({ holderIdentity: me, leaseDurationSeconds: this.leaseSeconds(), acquireTime: stamp, renewTime: stamp, leaseTransitions: 0 });
      } catch (err) {
        if (httpStatus(err) === 409) return false;
        throw err;
      }
      this.observedHolder = me;
      return true;
    }
    const rec = cur.record;
    if (cur.resourceVersion !== this.observedRv) {
      this.observedRv = cur.resourceVersion;
      this.observedAt = now;
    }
    const holder = rec.holderIdentity ?? '';
    this.observedHolder = holder || undefined;
    if (holder && holder !== me) {
      const validMs = (Number(rec.leaseDurationSeconds) > 0 ? Number(rec.leaseDurationSeconds) : this.leaseSeconds()) * 1000;
      if (this.observedAt + validMs > now) return false;
    }
    const next: LeaseRecord = {
      holderIdentity: me,
      leaseDurationSeconds: this.leaseSeconds(),
      acquireTime: holder === me && rec.acquireTime ? rec.acquireTime : stamp,
      renewTime: stamp,
      leaseTransitions: holder === me ? (rec.leaseTransitions ?? 0) : (rec.leaseTransitions ?? 0) + 1,
    };
    try {
      await this.opts.store.update(next, cur.resourceVersion);
    } catch (err) {
      if (httpStatus(err) === 409) return false;
      throw err;
    }
    if (holder !== me) this.opts.logger.info({ lease: this.opts.lease, previous: holder || undefined }, 'took the Lease');
    this.observedHolder = me;
    return true;
  }

  private async release(): Promise<void> {
    const cur = await this.opts.store.get();
    if (!cur || cur.record.holderIdentity !== this.opts.identity) return;
    const stamp = microTime(this.now());
    await this.opts.store.update({ holderIdentity: '', leaseDurationSeconds: 1, acquireTime: stamp, renewTime: stamp, leaseTransitions: cur.record.leaseTransitions ?? 0 }, cur.resourceVersion);
    this.opts.logger.info({ lease: this.opts.lease }, 'released the Lease');
  }
}
