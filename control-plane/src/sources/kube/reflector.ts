// One list+watch of one kind (in all namespaces or one), on client-node's ListWatch,
// feeding a sink (the Store). ListWatch relists by itself on 410 Gone (an ERROR event
// or an HTTP 410) and re-watches when a stream ends cleanly; on any other failure it
// only reports an error, so this restarts it with exponential backoff. `synced`
// resolves once the first list has been applied to the sink.
//
// ListWatch checks for stop() only before it lists: a list or a watch request in flight
// when stop() is called would still open a watch afterwards. The list wrapper and
// ClosableWatch below close those gaps, so a stopped Reflector holds no connection.
import { ListWatch, Watch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { WatchedKind, WatchedObject } from '../k8s-types.js';
import { objectKey } from '../store.js';
import { describeError, httpStatus } from './api-errors.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import { joinSelectors, type KindSpec, type KubeApis } from './kinds.js';
import type { KubeLogger } from './logger.js';
import { normalizeObject } from './normalize.js';

/** A Watch that aborts every request it opens once closed. */
class ClosableWatch extends Watch {
  private closed = false;

  override async watch(path: string, queryParams: Record<string, string | number | boolean | undefined>, callback: (phase: string, apiObj: any, watchObj?: any) => void, done: (err: any) => void): Promise<AbortController> {
    const controller = await super.watch(path, queryParams, callback, done);
    if (this.closed) controller.abort();
    return controller;
  }

  close(): void {
    this.closed = true;
  }

  reopen(): void {
    this.closed = false;
  }
}

export interface ReflectorSink {
  upsert(obj: WatchedObject): void;
  remove(kind: WatchedKind, key: string): void;
}

export interface ReflectorOptions {
  readonly kubeConfig: KubeConfig;
  readonly apis: KubeApis;
  readonly spec: KindSpec;
  /** Watch one namespace; all when undefined (cluster-scoped kinds ignore it). */
  readonly namespace?: string;
  /** Added to the kind's own field selector. */
  readonly fieldSelector?: string;
  readonly sink: ReflectorSink;
  readonly logger: KubeLogger;
  readonly backoff?: BackoffOptions;
  /** A run that lasted this long resets the backoff (default 30 s). */
  readonly backoffResetMs?: number;
}

export interface ReflectorStats {
  /** Completed lists (the first one, and every relist after a 410). */
  lists: number;
  /** Failures that needed a restart (dropped watches, failed lists or watches). */
  errors: number;
  /** Objects added, updated and deleted in the sink. */
  events: number;
}

export class Reflector {
  readonly name: string;
  readonly stats: ReflectorStats = { lists: 0, errors: 0, events: 0 };
  private readonly informer: ListWatch<KubernetesObject>;
  private readonly watch: ClosableWatch;
  private readonly backoff: Backoff;
  private restartTimer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private stopped = true;
  private synced_ = false;
  private resolveSynced!: () => void;
  /** Resolves once the first list is in the sink. */
  readonly synced: Promise<void> = new Promise((resolve) => (this.resolveSynced = resolve));

  constructor(private readonly opts: ReflectorOptions) {
    const { spec, namespace } = opts;
    const ns = spec.namespaced ? namespace : undefined;
    const fieldSelector = joinSelectors(spec.fieldSelector, opts.fieldSelector);
    this.name = `${spec.kind}${ns ? ` in ${ns}` : ''}${opts.fieldSelector ? ` (${opts.fieldSelector})` : ''}`;
    this.backoff = new Backoff(opts.backoff);
    const list = async () => {
      const result = await spec.list(opts.apis, { namespace: ns, fieldSelector });
      if (this.stopped) throw new Error('stopped'); // do not let ListWatch go on to watch
      this.stats.lists++;
      // ListWatch applies the items right after this promise settles, in the same turn.
      setImmediate(() => this.markSynced());
      return result;
    };
    this.watch = new ClosableWatch(opts.kubeConfig);
    this.informer = new ListWatch(spec.path(ns), this.watch, list, false, undefined, fieldSelector);
    const upsert = (raw: KubernetesObject) => {
      this.stats.events++;
      const obj = normalizeObject(raw, spec.kind, spec.apiVersion);
      if (spec.keep && !spec.keep(obj)) opts.sink.remove(spec.kind, objectKey(obj));
      else opts.sink.upsert(obj);
    };
    this.informer.on('add', upsert);
    this.informer.on('update', upsert);
    this.informer.on('delete', (raw) => {
      this.stats.events++;
      opts.sink.remove(spec.kind, objectKey(normalizeObject(raw, spec.kind, spec.apiVersion)));
    });
    this.informer.on('error', (err) => this.failed(err));
  }

  isSynced(): boolean {
    return this.synced_;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.watch.reopen();
    this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watch.close();
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    await this.informer.stop();
  }

  private run(): void {
    this.startedAt = Date.now();
    this.informer.start().catch((err: unknown) => this.failed(err));
  }

  private markSynced(): void {
    if (this.synced_) return;
    this.synced_ = true;
    this.opts.logger.info({ informer: this.name }, 'initial list synced');
    this.resolveSynced();
  }

  private failed(err: unknown): void {
    if (this.stopped || this.restartTimer) return;
    this.stats.errors++;
    if (Date.now() - this.startedAt >= (this.opts.backoffResetMs ?? 30_000)) this.backoff.reset();
    const delayMs = this.backoff.next();
    const status = httpStatus(err);
    this.opts.logger.warn({ informer: this.name, status, err: describeError(err), retryInMs: delayMs }, 'list/watch failed; restarting with backoff');
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.stopped) this.run();
    }, delayMs);
  }
}
