// Envoy must never NACK what xgate sends. When one does, say so loudly: an error log
// line naming the proxy, the type, the version and Envoy's message, and a diagnostic
// that stays in /debug/diagnostics (and the metrics) until that proxy ACKs the type again.
// The server has already kept the proxy on its last good version.
import type { Diagnostic } from '../diagnostics.js';
import type { NodeInfo, XdsObserver } from './cache/types.js';
import { SHORT_NAMES, type TypeUrl } from './type-urls.js';

export interface NackLogger {
  error(obj: object, msg?: string): void;
}

export class NackReporter implements XdsObserver {
  private readonly nodes = new Map<number, string>();
  private readonly current = new Map<string, Diagnostic>();

  constructor(
    private readonly logger: NackLogger,
    private readonly onChange: () => void = () => undefined,
  ) {}

  connected(streamId: number, node: NodeInfo): void {
    this.nodes.set(streamId, node.id);
  }

  disconnected(streamId: number): void {
    this.nodes.delete(streamId);
    let changed = false;
    for (const key of [...this.current.keys()]) {
      if (key.startsWith(`${streamId}\u0000`)) changed = this.current.delete(key) || changed;
    }
    if (changed) this.onChange();
  }

  sent(): void {}

  acked(streamId: number, typeUrl: TypeUrl): void {
    if (this.current.delete(`${streamId}\u0000${typeUrl}`)) this.onChange();
  }

  nacked(streamId: number, typeUrl: TypeUrl, version: string, message: string): void {
    const node = this.nodes.get(streamId) ?? `stream-${streamId}`;
    const type = SHORT_NAMES[typeUrl];
    this.logger.error(
      { node, type, version, envoyMessage: message },
      `PROXY REJECTED CONFIGURATION: ${node} NACKed ${type} version ${version}; it keeps serving its last good ${type} config. This is an xgate bug — please report it with this line. Envoy said: ${message}`,
    );
    this.current.set(`${streamId}\u0000${typeUrl}`, {
      code: 'XG_XDS_NACK',
      level: 'error',
      object: { kind: 'Proxy', namespace: '', name: node },
      message: `rejected ${type} version ${version} and keeps its last good ${type} config: ${message.slice(0, 2000)}`,
    });
    this.onChange();
  }

  diagnostics(): Diagnostic[] {
    return [...this.current.values()];
  }
}
