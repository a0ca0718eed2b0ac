// The leader writes status.loadBalancer.ingress of every Ingress xgate serves, and
// clears it from Ingresses that stop being ours (those it wrote, or that carry exactly
// our address). It writes only what differs from what the informer shows, as an update
// of the status subresource based on the informer's resourceVersion (a stale one gets
// 409 and is retried once the informer has caught up), never the same change twice for
// one resourceVersion, a few at a time, and retries failures with backoff.
import type { Ingress, WatchedKind } from '../sources/k8s-types.js';
import { describeError, httpStatus } from '../sources/kube/api-errors.js';
import { Backoff } from '../sources/kube/backoff.js';
import type { KubeLogger } from '../sources/kube/logger.js';
import type { Store, StoreSnapshot } from '../sources/store.js';
import { withTimeout } from './deadline.js';

export interface LoadBalancerIngress {
  readonly ip?: string;
  readonly hostname?: string;
}

export interface IngressStatusApi {
  /**
   * Replaces status.loadBalancer.ingress of this version of the Ingress (an empty list
   * removes it). Rejects with an HTTP 409 error when the version is stale.
   */
  updateStatus(ingress: Ingress, addresses: readonly LoadBalancerIngress[]): Promise<void>;
}

export interface IngressStatusWriterOptions {
  readonly store: Store;
  readonly api: IngressStatusApi;
  /** `namespace/name` of the Ingresses served from a snapshot. */
  served(snap: StoreSnapshot): ReadonlySet<string>;
  /** The addresses to publish; undefined while unknown (nothing is written then). */
  addresses(): readonly LoadBalancerIngress[] | undefined;
  /** Writes are made only while this is true. */
  isLeader(): boolean;
  readonly logger: KubeLogger;
  /** Status writes in flight at once (default 4). */
  readonly concurrency?: number;
  readonly requestTimeoutMs?: number;
  /** Quiet time before a reconcile (default 20 ms). */
  readonly settleMs?: number;
}

/** ip/hostname only, sorted: the form compared and written. */
export function canonicalAddresses(list: readonly LoadBalancerIngress[] | undefined): LoadBalancerIngress[] {
  return (list ?? [])
    .map((a): LoadBalancerIngress => (a.ip ? { ip: a.ip } : a.hostname ? { hostname: a.hostname } : {}))
    .filter((a) => a.ip || a.hostname)
    .sort((a, b) => {
      const ka = `${a.ip ?? ''}\u0000${a.hostname ?? ''}`;
      const kb = `${b.ip ?? ''}\u0000${b.hostname ?? ''}`;
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    });
}

interface Job {
  readonly key: string;
  readonly ingress: Ingress;
  readonly want: LoadBalancerIngress[];
  readonly wantKey: string;
  readonly fromRv: string | undefined;
}

const RELEVANT: ReadonlySet<WatchedKind> = new Set(['Ingress', 'IngressClass']);

export class IngressStatusWriter {
  /** Status writes made (for tests and metrics). */
  writes = 0;
  private readonly owned = new Set<string>();
  private readonly recent = new Map<string, { rv: string | undefined; want: string }>();
  private readonly backoff = new Backoff({ initialMs: 1000, maxMs: 30_000 });
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private unsubscribe: (() => void) | undefined;
  private stopped = false;

  constructor(private readonly opts: IngressStatusWriterOptions) {}

  start(): void {
    this.unsubscribe = this.opts.store.onChange((kinds) => {
      if ([...kinds].some((k) => RELEVANT.has(k))) this.kick();
    });
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.timer) clearTimeout(this.timer);
  }

  /** Call when leadership changes or the published addresses change. */
  kick(delayMs = this.opts.settleMs ?? 20): void {
    if (this.stopped || !this.opts.isLeader()) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.reconcile()
        .catch((err: unknown) => this.opts.logger.error({ err: describeError(err) }, 'Ingress status reconcile failed'))
        .finally(() => {
          this.running = undefined;
          if (this.again) {
            this.again = false;
            this.kick();
          }
        });
    }, delayMs);
  }

  /** Resolves when no reconcile is scheduled or running (for tests). */
  async idle(): Promise<void> {
    while (this.timer || this.running) {
      if (this.running) await this.running;
      else await new Promise((r) => setTimeout(r, 10));
    }
  }

  private plan(): Job[] {
    const addresses = this.opts.addresses();
    if (addresses === undefined) return [];
    const desired = canonicalAddresses(addresses);
    const desiredKey = JSON.stringify(desired);
    const snap = this.opts.store.snapshot();
    const served = this.opts.served(snap);
    const jobs: Job[] = [];
    for (const k of [...this.owned]) if (!snap.ingresses.has(k)) this.owned.delete(k);
    for (const k of [...this.recent.keys()]) if (!snap.ingresses.has(k)) this.recent.delete(k);
    for (const [key, ing] of snap.ingresses) {
      const cur = canonicalAddresses(ing.status?.loadBalancer?.ingress);
      const curKey = JSON.stringify(cur);
      let want: LoadBalancerIngress[];
      if (served.has(key)) want = desired;
      else if (cur.length && (this.owned.has(key) || curKey === desiredKey)) want = [];
      else {
        this.owned.delete(key);
        continue;
      }
      const wantKey = JSON.stringify(want);
      if (curKey === wantKey) {
        if (want.length) this.owned.add(key);
        else this.owned.delete(key);
        this.recent.delete(key);
        continue;
      }
      const r = this.recent.get(key);
      if (r && r.rv === ing.metadata.resourceVersion && r.want === wantKey) continue; // written; the watch has not caught up yet
      jobs.push({ key, ingress: ing, want, wantKey, fromRv: ing.metadata.resourceVersion });
    }
    return jobs;
  }

  private async reconcile(): Promise<void> {
    const jobs = this.plan();
    let failed = 0;
    const next = () => jobs.shift();
    const worker = async () => {
      for (let job = next(); job; job = next()) {
        if (this.stopped || !this.opts.isLeader()) return;
        try {
          await withTimeout(this.opts.api.updateStatus(job.ingress, job.want), this.opts.requestTimeoutMs ?? 10_000, 'writing Ingress status');
          this.writes++;
          this.recent.set(job.key, { rv: job.fromRv, want: job.wantKey });
          if (job.want.length) this.owned.add(job.key);
          else this.owned.delete(job.key);
          this.opts.logger.info({ ingress: job.key, loadBalancer: job.want }, job.want.length ? 'Ingress status written' : 'Ingress status cleared');
        } catch (err) {
          const status = httpStatus(err);
          if (status === 404) continue; // deleted meanwhile
          failed++;
          if (status === 409) this.opts.logger.debug({ ingress: job.key }, 'Ingress changed meanwhile; its status is written again from the newer version');
          else this.opts.logger.warn({ ingress: job.key, err: describeError(err) }, 'writing Ingress status failed');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, this.opts.concurrency ?? 4) }, worker));
    if (failed) {
      const delay = this.backoff.next();
      setTimeout(() => this.kick(0), delay).unref();
    } else this.backoff.reset();
  }
}
