// Diagnostics about Ingresses become core/v1 Events on them, so `kubectl describe
// ingress` says what was rejected and why.
// - One Event per (object uid, code, field, message), with a deterministic name, so the
//   same problem reported again bumps count and lastTimestamp of its Event (also after
//   a restart or a leader change) instead of creating another.
// - A problem is reported when it appears, and again when the Ingress itself changes
//   (spec, annotations or labels) while the problem remains; not on every rebuild.
// - Rate limited by a token bucket per object and one overall; over the limit, reports
//   are dropped (and counted).
// - A fixed Ingress gets no more Warnings: one Normal "Accepted" Event says it is served
//   cleanly now (sent only on that transition, and only while the Ingress is served).
// - Only the leader writes. A new leader makes sure each current problem has its Event,
//   adopting existing ones without counting them again.
import { createHash } from 'node:crypto';
import type { Diagnostic, ObjectRef } from '../diagnostics.js';
import { describeError, httpStatus } from '../sources/kube/api-errors.js';
import type { KubeLogger } from '../sources/kube/logger.js';
import { withTimeout } from './deadline.js';
import { formatTime } from '../sources/kube/normalize.js';
import { KeyedTokenBuckets, TokenBucket, type RateLimit } from './token-bucket.js';

export interface EventBody {
  readonly name: string;
  readonly type: 'Warning' | 'Normal';
  readonly reason: string;
  readonly message: string;
  readonly count: number;
  readonly firstTimestamp: string;
  readonly lastTimestamp: string;
  readonly involvedObject: { apiVersion: string; kind: string; namespace: string; name: string; uid?: string; resourceVersion?: string };
  readonly source: { component: string; host?: string };
  readonly reportingComponent: string;
  readonly reportingInstance: string;
}

export interface EventPatch {
  readonly count: number;
  readonly lastTimestamp: string;
  readonly message: string;
}

export interface EventApi {
  /** Rejects with an HTTP 409 error when an Event of that name exists. */
  create(namespace: string, event: EventBody): Promise<void>;
  /**
   * Merge-patches an Event and returns its count after the patch; undefined when it does
   * not exist (any more: Events expire). An empty patch reads the count (only `create`
   * and `patch` are needed on events, no `get`).
   */
  patch(namespace: string, name: string, patch: EventPatch | Record<string, never>): Promise<{ count: number } | undefined>;
}

export interface ObjectInfo {
  readonly uid?: string;
  readonly resourceVersion?: string;
  /** Changes when the object's spec, labels or annotations change (not its status). */
  readonly contentVersion: string;
}

export interface EventRecorderOptions {
  readonly api: EventApi;
  /** source.component and reportingComponent (default xgate). */
  readonly component?: string;
  /** source.host and reportingInstance: this replica's identity. */
  readonly instance: string;
  readonly logger: KubeLogger;
  /** The current state of an Ingress, or undefined when it no longer exists. */
  lookup(ref: ObjectRef): ObjectInfo | undefined;
  isServed(ref: ObjectRef): boolean;
  /** Writes are made only while this is true. */
  isLeader(): boolean;
  /** Per Ingress (default burst 10, then one per 10 s). */
  readonly perObject?: RateLimit;
  /** For all Events (default burst 100, then 10 per second). */
  readonly overall?: RateLimit;
  /** Send one Normal "Accepted" Event when an Ingress with problems becomes clean (default true). */
  readonly accepted?: boolean;
  readonly requestTimeoutMs?: number;
  readonly now?: () => number;
}

export const ACCEPTED_REASON = 'Accepted';
const ACCEPTED_MESSAGE = 'The Ingress is served without errors or warnings; the problems reported before are fixed';
const MAX_MESSAGE = 1024;
const MAX_KNOWN = 10_000;
const MAX_ATTEMPTS = 3;

interface Active {
  readonly ref: ObjectRef;
  readonly info: ObjectInfo;
  readonly diags: Map<string, Diagnostic>;
}

interface Pending {
  readonly namespace: string;
  readonly name: string;
  readonly body: Omit<EventBody, 'count' | 'firstTimestamp' | 'lastTimestamp'>;
  /** New occurrences to add; 0 for "make sure it exists" (a new leader's sweep). */
  occurrences: number;
  lastTimestamp: string;
  attempts: number;
}

export interface EventRecorderStats {
  created: number;
  updated: number;
  adopted: number;
  /** Reports dropped by the rate limits. */
  rateLimited: number;
  failed: number;
}

const refKey = (r: ObjectRef) => `${r.namespace}/${r.name}`;
const diagKey = (d: Diagnostic) => `${d.code}\u0000${d.field ?? ''}\u0000${d.message}`;

/** `<object name>.<16 hex digits>`: deterministic, and a valid DNS subdomain within 253 characters. */
export function eventName(objectName: string, identity: string): string {
  const hash = createHash('sha256').update(identity).digest('hex').slice(0, 16);
  const base = objectName.slice(0, 253 - 17).replace(/[-.]+$/, '');
  return `${base}.${hash}`;
}

export class EventRecorder {
  readonly stats: EventRecorderStats = { created: 0, updated: 0, adopted: 0, rateLimited: 0, failed: 0 };
  private active = new Map<string, Active>();
  private readonly known = new Map<string, number>();
  private readonly pending = new Map<string, Pending>();
  private readonly retries = new Set<NodeJS.Timeout>();
  private draining: Promise<void> | undefined;
  private readonly perObject: KeyedTokenBuckets;
  private readonly overall: TokenBucket;
  private readonly now: () => number;
  private stopped = false;

  constructor(private readonly opts: EventRecorderOptions) {
    this.now = opts.now ?? Date.now;
    this.perObject = new KeyedTokenBuckets(opts.perObject ?? { burst: 10, perSecond: 0.1 }, this.now);
    this.overall = new TokenBucket(opts.overall ?? { burst: 100, perSecond: 10 }, this.now);
  }

  /** The full current set of diagnostics, after every build. */
  update(all: readonly Diagnostic[]): void {
    const next = new Map<string, Active>();
    for (const d of all) {
      if (d.object.kind !== 'Ingress') continue;
      const k = refKey(d.object);
      let a = next.get(k);
      if (!a) {
        const info = this.opts.lookup(d.object);
        if (!info) continue;
        a = { ref: { kind: 'Ingress', namespace: d.object.namespace, name: d.object.name }, info, diags: new Map() };
        next.set(k, a);
      }
      a.diags.set(diagKey(d), d);
    }
    for (const [k, a] of next) {
      const prev = this.active.get(k);
      const changed = !prev || prev.info.uid !== a.info.uid || prev.info.contentVersion !== a.info.contentVersion;
      for (const [dk, d] of a.diags) if (changed || !prev.diags.has(dk)) this.report(a, d, 1);
    }
    if (this.opts.accepted ?? true) {
      for (const [k, prev] of this.active) {
        if (next.has(k)) continue;
        const info = this.opts.lookup(prev.ref);
        if (info && info.uid === prev.info.uid && this.opts.isServed(prev.ref)) this.reportAccepted({ ...prev, info });
      }
    }
    this.active = next;
  }

  /** Call when leadership changes: a new leader makes sure every current problem has its Event. */
  leadershipChanged(): void {
    this.known.clear();
    if (!this.opts.isLeader()) {
      this.pending.clear();
      return;
    }
    for (const a of this.active.values()) for (const d of a.diags.values()) this.report(a, d, 0);
  }

  /** Resolves when nothing is queued or in flight (for tests and shutdown). */
  async idle(): Promise<void> {
    while (this.draining || this.pending.size || this.retries.size) {
      if (this.draining) await this.draining;
      else await new Promise((r) => setTimeout(r, 10));
    }
  }

  stop(): void {
    this.stopped = true;
    this.pending.clear();
    for (const t of this.retries) clearTimeout(t);
    this.retries.clear();
  }

  private report(a: Active, d: Diagnostic, occurrences: 0 | 1): void {
    const message = (d.field ? `${d.field}: ${d.message}` : d.message).slice(0, MAX_MESSAGE);
    this.enqueue(a, eventName(a.ref.name, `${a.info.uid ?? ''}\u0000${diagKey(d)}`), 'Warning', d.code, message, occurrences);
  }

  private reportAccepted(a: Active): void {
    this.enqueue(a, eventName(a.ref.name, `${a.info.uid ?? ''}\u0000${ACCEPTED_REASON}`), 'Normal', ACCEPTED_REASON, ACCEPTED_MESSAGE, 1);
  }

  private enqueue(a: Active, name: string, type: EventBody['type'], reason: string, message: string, occurrences: 0 | 1): void {
    if (this.stopped || !this.opts.isLeader()) return;
    // metav1.Time has whole seconds.
    const stamp = formatTime(new Date(Math.floor(this.now() / 1000) * 1000));
    const queued = this.pending.get(name);
    if (queued) {
      queued.occurrences += occurrences;
      queued.lastTimestamp = stamp;
      return;
    }
    if (!this.perObject.take(refKey(a.ref)) || !this.overall.take()) {
      this.stats.rateLimited++;
      this.opts.logger.debug({ object: a.ref, reason }, 'Event dropped by the rate limit');
      return;
    }
    const component = this.opts.component ?? 'xgate';
    this.pending.set(name, {
      namespace: a.ref.namespace,
      name,
      occurrences,
      lastTimestamp: stamp,
      attempts: 0,
      body: {
        name,
        type,
        reason,
        message,
        involvedObject: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', namespace: a.ref.namespace, name: a.ref.name, uid: a.info.uid, resourceVersion: a.info.resourceVersion },
        source: { component, host: this.opts.instance },
        reportingComponent: component,
        reportingInstance: this.opts.instance,
      },
    });
    this.drain();
  }

  private drain(): void {
    if (this.draining) return;
    this.draining = (async () => {
      while (this.pending.size && !this.stopped && this.opts.isLeader()) {
        const [name, p] = this.pending.entries().next().value as [string, Pending];
        this.pending.delete(name);
        try {
          await withTimeout(this.send(p), this.opts.requestTimeoutMs ?? 10_000, 'writing an Event');
        } catch (err) {
          this.retry(p, err);
        }
      }
    })().finally(() => (this.draining = undefined));
  }

  private retry(p: Pending, err: unknown): void {
    p.attempts++;
    if (p.attempts >= MAX_ATTEMPTS) {
      this.stats.failed++;
      this.opts.logger.warn({ event: p.name, namespace: p.namespace, err: describeError(err) }, 'writing an Event failed; giving up on it');
      return;
    }
    const t = setTimeout(() => {
      this.retries.delete(t);
      if (this.stopped || this.pending.has(p.name)) return;
      this.pending.set(p.name, p);
      this.drain();
    }, 500 * p.attempts);
    this.retries.add(t);
  }

  private remember(name: string, count: number): void {
    this.known.delete(name);
    this.known.set(name, count);
    if (this.known.size > MAX_KNOWN) this.known.delete(this.known.keys().next().value as string);
  }

  private async send(p: Pending): Promise<void> {
    const known = this.known.get(p.name);
    if (known !== undefined) {
      if (p.occurrences === 0) return;
      const count = known + p.occurrences;
      if (await this.opts.api.patch(p.namespace, p.name, { count, lastTimestamp: p.lastTimestamp, message: p.body.message })) {
        this.remember(p.name, count);
        this.stats.updated++;
        return;
      }
      this.known.delete(p.name); // expired meanwhile: create it again
    }
    const count = Math.max(1, p.occurrences);
    try {
      await this.opts.api.create(p.namespace, { ...p.body, count, firstTimestamp: p.lastTimestamp, lastTimestamp: p.lastTimestamp });
      this.remember(p.name, count);
      this.stats.created++;
      return;
    } catch (err) {
      if (httpStatus(err) !== 409) throw err;
    }
    // It exists (written before a restart or by a previous leader): adopt it.
    const existing = await this.opts.api.patch(p.namespace, p.name, {});
    const base = existing?.count ?? 0;
    if (p.occurrences === 0) {
      this.remember(p.name, base);
      this.stats.adopted++;
      return;
    }
    const next = base + p.occurrences;
    if (!(await this.opts.api.patch(p.namespace, p.name, { count: next, lastTimestamp: p.lastTimestamp, message: p.body.message }))) throw new Error(`Event ${p.namespace}/${p.name} vanished while being updated`);
    this.remember(p.name, next);
    this.stats.updated++;
  }
}
