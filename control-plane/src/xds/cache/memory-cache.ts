// The in-memory SnapshotCache: one snapshot per node group.
import type { NodeInfo, Snapshot, SnapshotCache } from './types.js';

export const ENVOY_GROUP = 'envoy';
export const GRPC_GROUP = 'grpc';

/** Envoy says user_agent_name "envoy"; gRPC libraries say "gRPC …" (grpc-js-xds: "gRPC Node Pure JS"). */
export function defaultGroupOf(node: NodeInfo): string {
  if (node.metadata['xgate.io/proxyless'] === true || node.metadata['xgate.io/proxyless'] === 'true') return GRPC_GROUP;
  if (/^grpc/i.test(node.userAgentName)) return GRPC_GROUP;
  return ENVOY_GROUP;
}

export class MemoryCache implements SnapshotCache {
  private readonly snapshots = new Map<string, Snapshot>();
  private readonly listeners = new Set<(group: string, snapshot: Snapshot) => void>();
  private readonly demanded = new Set<string>();
  private readonly demandListeners = new Set<(group: string) => void>();

  constructor(private readonly grouper: (node: NodeInfo) => string = defaultGroupOf) {}

  groupOf(node: NodeInfo): string {
    return this.grouper(node);
  }

  current(group: string): Snapshot | undefined {
    return this.snapshots.get(group);
  }

  groups(): string[] {
    return [...this.snapshots.keys()].sort();
  }

  /** Publishes a snapshot; a snapshot with the same version as the current one is a no-op. */
  set(group: string, snapshot: Snapshot): boolean {
    if (this.snapshots.get(group)?.version === snapshot.version) return false;
    this.snapshots.set(group, snapshot);
    for (const l of this.listeners) l(group, snapshot);
    return true;
  }

  onChange(listener: (group: string, snapshot: Snapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A stream of this group started: the group is wanted from now on (listeners hear of a group once). */
  demand(group: string): void {
    if (this.demanded.has(group)) return;
    this.demanded.add(group);
    for (const l of this.demandListeners) l(group);
  }

  /** The groups some stream has asked for since the cache was made. */
  demandedGroups(): ReadonlySet<string> {
    return this.demanded;
  }

  /** Called when a group is first demanded. Returns an unsubscribe function. */
  onDemand(listener: (group: string) => void): () => void {
    this.demandListeners.add(listener);
    return () => this.demandListeners.delete(listener);
  }
}
