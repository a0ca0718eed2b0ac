// The only thing the xDS server knows about where resources come from.
// Translation produces snapshots; the server streams them. Each Resource is encoded
// once per version, and the same bytes are shared by every stream and every group.
import type { TypeUrl } from '../type-urls.js';

export interface Resource {
  readonly typeUrl: TypeUrl;
  readonly name: string;
  /** Content hash of `bytes`: the same content always has the same version. */
  readonly version: string;
  /** The encoded message (what goes into the Any's `value`). */
  readonly bytes: Uint8Array;
}

export interface TypeSnapshot {
  /** A hash of the (name, version) pairs, whatever their order (cache/type-version.ts): the SotW `version_info`. */
  readonly version: string;
  readonly resources: ReadonlyMap<string, Resource>;
}

export interface Snapshot {
  /** Hash over the type versions. */
  readonly version: string;
  readonly types: Readonly<Record<TypeUrl, TypeSnapshot>>;
}

/** What the server knows of a node from the first request of a stream. */
export interface NodeInfo {
  readonly id: string;
  readonly cluster: string;
  readonly userAgentName: string;
  readonly metadata: Readonly<Record<string, unknown>>;
}

/**
 * Snapshots per group of nodes. Envoy proxies get group "envoy"; proxyless gRPC
 * clients get group "grpc" (API listeners instead of socket listeners).
 */
export interface SnapshotCache {
  groupOf(node: NodeInfo): string;
  /** undefined until the first complete snapshot: nothing is served before it. */
  current(group: string): Snapshot | undefined;
  /** Called after a group's snapshot changed. Returns an unsubscribe function. */
  onChange(listener: (group: string, snapshot: Snapshot) => void): () => void;
  /** A stream of `group` started: snapshots may be made for a group only once one is wanted. */
  demand?(group: string): void;
}

/** What the server reports about proxies; the admin API, metrics and readiness gates read it. */
export interface XdsObserver {
  connected(streamId: number, node: NodeInfo, kind: 'sotw' | 'delta'): void;
  disconnected(streamId: number): void;
  sent(streamId: number, typeUrl: TypeUrl, version: string, names: readonly string[], nonce: string): void;
  acked(streamId: number, typeUrl: TypeUrl, version: string, names: readonly string[]): void;
  nacked(streamId: number, typeUrl: TypeUrl, version: string, message: string): void;
}
