// Calls every XdsObserver; a throwing observer is logged and never breaks a stream.
import type { NodeInfo, XdsObserver } from '../cache/types.js';
import type { TypeUrl } from '../type-urls.js';
import type { XdsLogger } from './logger.js';

export class ObserverFanout implements XdsObserver {
  constructor(
    private readonly observers: readonly XdsObserver[],
    private readonly logger: XdsLogger,
  ) {}

  connected(streamId: number, node: NodeInfo, kind: 'sotw' | 'delta'): void {
    this.each('connected', (o) => o.connected(streamId, node, kind));
  }

  disconnected(streamId: number): void {
    this.each('disconnected', (o) => o.disconnected(streamId));
  }

  sent(streamId: number, typeUrl: TypeUrl, version: string, names: readonly string[], nonce: string): void {
    this.each('sent', (o) => o.sent(streamId, typeUrl, version, names, nonce));
  }

  acked(streamId: number, typeUrl: TypeUrl, version: string, names: readonly string[]): void {
    this.each('acked', (o) => o.acked(streamId, typeUrl, version, names));
  }

  nacked(streamId: number, typeUrl: TypeUrl, version: string, message: string): void {
    this.each('nacked', (o) => o.nacked(streamId, typeUrl, version, message));
  }

  private each(event: string, call: (o: XdsObserver) => void): void {
    for (const o of this.observers) {
      try {
        call(o);
      } catch (err) {
        this.logger.error({ err, event }, 'xDS observer failed');
      }
    }
  }
}
