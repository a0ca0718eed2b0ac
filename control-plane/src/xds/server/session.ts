// One ADS stream from open to close, whatever its protocol: takes the node from the
// first request (refusing the stream if it has none or `authorize` says no), follows
// the group's snapshots, hands requests of served types to the protocol handler,
// coalesces flushes, and on any end (half-close, cancel, error, shutdown) cleans up
// once and tells the observers.
import * as grpc from '@grpc/grpc-js';
import type { NodeInfo, SnapshotCache, XdsObserver } from '../cache/types.js';
import { isTypeUrl } from '../type-urls.js';
import type { Flushable, FlushQueue } from './flush-queue.js';
import type { XdsLogger } from './logger.js';
import type { ProtoNode } from './messages.js';
import { nodeInfoOf } from './node-info.js';
import type { ProtocolStream, StreamContext } from './stream-context.js';

/** What `authorize` may look at: the peer address, TLS auth context (client certificate) and metadata. */
export type AdsCall = Pick<grpc.ServerDuplexStream<unknown, unknown>, 'getPeer' | 'getAuthContext' | 'metadata'>;

/** Returns a reason to refuse the node (the stream ends with PERMISSION_DENIED), or undefined to serve it. */
export type Authorize = (node: NodeInfo, call: AdsCall) => string | undefined;

export interface SessionDeps {
  readonly cache: SnapshotCache;
  readonly observers: XdsObserver;
  readonly logger: XdsLogger;
  readonly authorize: Authorize | undefined;
  readonly maxNamesPerType: number;
  /** Where the streams' flushes wait their turn (one queue per server). */
  readonly flushes: FlushQueue;
}

export type StreamKind = 'sotw' | 'delta';

interface AdsRequest {
  node?: ProtoNode | null;
  type_url?: string;
}

/** Unknown type URLs one stream logs at warn level; later ones only at debug. */
const MAX_WARNED_TYPES = 8;

export class Session<Req extends AdsRequest, Res> implements Flushable {
  private handler: ProtocolStream<Req> | undefined;
  private closed = false;
  private connected = false;
  private unsubscribe: (() => void) | undefined;
  private nonces = 0;
  private readonly warnedTypes = new Set<string>();

  constructor(
    readonly id: number,
    readonly kind: StreamKind,
    private readonly call: grpc.ServerDuplexStream<Req, Res>,
    private readonly deps: SessionDeps,
    private readonly create: (ctx: StreamContext<Res>) => ProtocolStream<Req>,
    private readonly onClosed: (session: Session<Req, Res>) => void,
  ) {
    call.on('data', (req: Req) => this.receive(req));
    call.on('end', () => {
      this.cleanup('client closed the stream');
      if (!call.writableEnded) call.end();
    });
    call.on('cancelled', () => this.cleanup('cancelled'));
    call.on('error', (err: unknown) => this.cleanup(`error: ${String((err as Error)?.message ?? err)}`));
    call.on('close', () => this.cleanup('closed'));
  }

  /** Ends the stream with a status (UNAVAILABLE on shutdown makes proxies reconnect elsewhere). */
  finish(code: grpc.status, details: string): void {
    if (this.closed) return;
    this.cleanup(details);
    if (!this.call.cancelled && !this.call.writableEnded) {
      this.call.emit('error', { code, details, message: details });
    }
  }

  private receive(req: Req): void {
    if (this.closed) return;
    try {
      if (!this.handler && !this.start(req)) return;
      const typeUrl = req.type_url ?? '';
      if (!isTypeUrl(typeUrl)) {
        this.unknownType(typeUrl);
        return;
      }
      this.handler!.onRequest(typeUrl, req);
      this.scheduleFlush();
    } catch (err) {
      this.deps.logger.error({ err, stream: this.id }, 'xDS request handling failed');
      this.finish(grpc.status.INTERNAL, 'internal error');
    }
  }

  /** The first request: node, authorization, group, snapshot subscription. */
  private start(req: Req): boolean {
    if (!req.node) {
      this.finish(grpc.status.INVALID_ARGUMENT, 'the first request of a stream must carry the node');
      return false;
    }
    const node = nodeInfoOf(req.node);
    const refusal = this.deps.authorize?.(node, this.call);
    if (refusal !== undefined) {
      this.deps.logger.warn({ stream: this.id, node: node.id, peer: this.call.getPeer(), refusal }, 'xDS node refused');
      this.finish(grpc.status.PERMISSION_DENIED, refusal);
      return false;
    }
    const group = this.deps.cache.groupOf(node);
    const ctx: StreamContext<Res> = {
      id: this.id,
      node,
      group,
      observers: this.deps.observers,
      logger: this.deps.logger,
      maxNamesPerType: this.deps.maxNamesPerType,
      snapshot: () => this.deps.cache.current(group),
      nextNonce: () => `${this.id.toString(36)}-${(++this.nonces).toString(36)}`,
      send: (res) => {
        if (!this.closed && !this.call.destroyed && !this.call.writableEnded) this.call.write(res);
      },
      refuse: (reason) => this.finish(grpc.status.RESOURCE_EXHAUSTED, reason),
    };
    this.handler = this.create(ctx);
    this.connected = true;
    this.deps.observers.connected(this.id, node, this.kind);
    this.unsubscribe = this.deps.cache.onChange((g) => {
      if (g === group) this.scheduleFlush();
    });
    // A group without a snapshot yet (proxyless gRPC before its first client) is made now.
    this.deps.cache.demand?.(group);
    this.deps.logger.debug({ stream: this.id, node: node.id, group, kind: this.kind }, 'xDS stream started');
    return true;
  }

  /** Flushes once after the current burst of requests and snapshot changes. */
  private scheduleFlush(): void {
    if (!this.closed) this.deps.flushes.schedule(this);
  }

  /** Sends what the stream's requests and the current snapshot call for (FlushQueue calls it). */
  flushNow(): void {
    if (this.closed) return;
    try {
      this.handler?.flush();
    } catch (err) {
      this.deps.logger.error({ err, stream: this.id }, 'xDS push failed');
      this.finish(grpc.status.INTERNAL, 'internal error');
    }
  }

  private unknownType(typeUrl: string): void {
    const first = !this.warnedTypes.has(typeUrl) && this.warnedTypes.size < MAX_WARNED_TYPES;
    if (first) this.warnedTypes.add(typeUrl);
    (first ? this.deps.logger.warn : this.deps.logger.debug).call(
      this.deps.logger,
      { stream: this.id, typeUrl: typeUrl.slice(0, 200) },
      'request for a type xgate does not serve, ignored',
    );
  }

  private cleanup(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.deps.flushes.cancel(this);
    this.unsubscribe?.();
    if (this.connected) this.deps.observers.disconnected(this.id);
    this.onClosed(this);
    this.deps.logger.debug({ stream: this.id, reason }, 'xDS stream ended');
  }
}
