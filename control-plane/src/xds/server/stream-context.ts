// What a protocol handler (SotW or delta) may use of its stream, and what it offers.
import type { NodeInfo, Snapshot, XdsObserver } from '../cache/types.js';
import type { TypeUrl } from '../type-urls.js';
import type { XdsLogger } from './logger.js';

export interface StreamContext<Res> {
  readonly id: number;
  readonly node: NodeInfo;
  readonly group: string;
  readonly observers: XdsObserver;
  readonly logger: XdsLogger;
  /** Most names one stream may subscribe to per type; beyond it the stream is refused. */
  readonly maxNamesPerType: number;
  /** The group's snapshot; undefined until the first one: then nothing is sent. */
  snapshot(): Snapshot | undefined;
  /** A nonce unique to this stream (and, by its prefix, to this server). */
  nextNonce(): string;
  send(response: Res): void;
  /** Ends the stream with RESOURCE_EXHAUSTED. */
  refuse(reason: string): void;
}

export interface ProtocolStream<Req> {
  /** A request for a served type; the node was already taken from the first request. */
  onRequest(typeUrl: TypeUrl, request: Req): void;
  /** Sends whatever the current snapshot and subscriptions call for. */
  flush(): void;
}
