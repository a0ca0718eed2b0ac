// What the control plane knows of every connected proxy, from the xDS server's
// observer calls: who it is, what was sent, ACKed and NACKed per type, and counters.
// Read by /debug/proxies (list), metrics-like views (counters) and readiness gates
// (pendingAcks / allAcked / whenAllAcked).
import { defaultGroupOf } from './cache/memory-cache.js';
import type { NodeInfo, XdsObserver } from './cache/types.js';
import { SHORT_NAMES, TYPE_URLS, type TypeUrl } from './type-urls.js';

export type ShortType = (typeof SHORT_NAMES)[TypeUrl];

export interface TypeStatus {
  sent?: { version: string; nonce: string; resources: number; at: string };
  acked?: { version: string; resources: number; at: string };
  nack?: { version: string; message: string; at: string };
}

/** One connected stream, JSON-ready (times are ISO strings). */
export interface ProxyStatus {
  streamId: number;
  nodeId: string;
  cluster: string;
  userAgent: string;
  group: string;
  kind: 'sotw' | 'delta';
  connectedAt: string;
  types: Partial<Record<ShortType, TypeStatus>>;
}

export interface TypeCounters {
  pushes: number;
  acks: number;
  nacks: number;
}

export interface ProxyCounters {
  /** Streams connected now. */
  connected: number;
  /** Streams connected since start. */
  connections: number;
  byType: Record<ShortType, TypeCounters>;
}

export interface ProxyRegistryOptions {
  /** How a node maps to a group; pass the SnapshotCache's `groupOf`. Default: defaultGroupOf. */
  groupOf?: (node: NodeInfo) => string;
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number;
}

interface TypeRecord {
  sent?: { version: string; nonce: string; resources: number; at: number };
  acked?: { version: string; names: readonly string[]; at: number };
  nack?: { version: string; message: string; at: number };
}

interface StreamRecord {
  readonly streamId: number;
  readonly node: NodeInfo;
  readonly group: string;
  readonly kind: 'sotw' | 'delta';
  readonly connectedAt: number;
  readonly types: Map<TypeUrl, TypeRecord>;
}

/** Longest NACK message kept per stream and type. */
const MAX_NACK_MESSAGE = 4096;

export class ProxyRegistry implements XdsObserver {
  private readonly streams = new Map<number, StreamRecord>();
  private readonly typeCounters = new Map<TypeUrl, TypeCounters>(
    TYPE_URLS.map((t) => [t, { pushes: 0, acks: 0, nacks: 0 }]),
  );
  private connections = 0;
  private readonly listeners = new Set<() => void>();
  /** Name lookups for ACKed name lists; the server shares one list among streams. */
  private readonly nameSets = new WeakMap<readonly string[], Set<string>>();
  private readonly groupOf: (node: NodeInfo) => string;
  private readonly now: () => number;

  constructor(opts: ProxyRegistryOptions = {}) {
    this.groupOf = opts.groupOf ?? defaultGroupOf;
    this.now = opts.now ?? Date.now;
  }

  // ---- XdsObserver ----

  connected(streamId: number, node: NodeInfo, kind: 'sotw' | 'delta'): void {
    this.streams.set(streamId, {
      streamId,
      node,
      group: this.groupOf(node),
      kind,
      connectedAt: this.now(),
      types: new Map(),
    });
    this.connections++;
    this.changed();
  }

  disconnected(streamId: number): void {
    if (this.streams.delete(streamId)) this.changed();
  }

  sent(streamId: number, typeUrl: TypeUrl, version: string, names: readonly string[], nonce: string): void {
    this.typeCounters.get(typeUrl)!.pushes++;
    const t = this.typeRecord(streamId, typeUrl);
    if (t) t.sent = { version, nonce, resources: names.length, at: this.now() };
  }

  acked(streamId: number, typeUrl: TypeUrl, version: string, names: readonly string[]): void {
    this.typeCounters.get(typeUrl)!.acks++;
    const t = this.typeRecord(streamId, typeUrl);
    if (t) t.acked = { version, names, at: this.now() };
    this.changed();
  }

  nacked(streamId: number, typeUrl: TypeUrl, version: string, message: string): void {
    this.typeCounters.get(typeUrl)!.nacks++;
    const t = this.typeRecord(streamId, typeUrl);
    if (t) t.nack = { version, message: message.slice(0, MAX_NACK_MESSAGE), at: this.now() };
    this.changed();
  }

  // ---- reads ----

  /** Every connected stream, oldest first: the /debug/proxies view. */
  list(): ProxyStatus[] {
    return [...this.streams.values()].map((s) => this.view(s));
  }

  get(streamId: number): ProxyStatus | undefined {
    const s = this.streams.get(streamId);
    return s && this.view(s);
  }

  /** Names of type `typeUrl` the stream last ACKed (for delta: every name it holds). */
  ackedNames(streamId: number, typeUrl: TypeUrl): readonly string[] | undefined {
    return this.streams.get(streamId)?.types.get(typeUrl)?.acked?.names;
  }

  counters(): ProxyCounters {
    const byType = {} as Record<ShortType, TypeCounters>;
    for (const [t, c] of this.typeCounters) byType[SHORT_NAMES[t]] = { ...c };
    return { connected: this.streams.size, connections: this.connections, byType };
  }

  /** Connected proxies of `group` whose last ACK of `typeUrl` does not contain `name`. */
  pendingAcks(group: string, typeUrl: TypeUrl, name: string): ProxyStatus[] {
    const out: ProxyStatus[] = [];
    for (const s of this.streams.values()) {
      if (s.group !== group) continue;
      const names = s.types.get(typeUrl)?.acked?.names;
      if (!names || !this.nameSet(names).has(name)) out.push(this.view(s));
    }
    return out;
  }

  /** True if every connected proxy of `group` has ACKed a `typeUrl` version containing `name` (true when none is connected). */
  allAcked(group: string, typeUrl: TypeUrl, name: string): boolean {
    return this.pendingAcks(group, typeUrl, name).length === 0;
  }

  /** Resolves true once allAcked holds, or false after `timeoutMs`. */
  whenAllAcked(group: string, typeUrl: TypeUrl, name: string, timeoutMs: number): Promise<boolean> {
    if (this.allAcked(group, typeUrl, name)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        off();
        resolve(ok);
      };
      const off = this.onChange(() => {
        if (this.allAcked(group, typeUrl, name)) done(true);
      });
      const timer = setTimeout(() => done(false), timeoutMs);
    });
  }

  /** Called after every connect, disconnect, ACK and NACK. Returns an unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private typeRecord(streamId: number, typeUrl: TypeUrl): TypeRecord | undefined {
    const s = this.streams.get(streamId);
    if (!s) return undefined;
    let t = s.types.get(typeUrl);
    if (!t) {
      t = {};
      s.types.set(typeUrl, t);
    }
    return t;
  }

  private nameSet(names: readonly string[]): Set<string> {
    let set = this.nameSets.get(names);
    if (!set) {
      set = new Set(names);
      this.nameSets.set(names, set);
    }
    return set;
  }

  private changed(): void {
    for (const l of [...this.listeners]) {
      try {
        l();
      } catch {
        // A reader's failure is its own; the registry keeps recording.
      }
    }
  }

  private view(s: StreamRecord): ProxyStatus {
    const iso = (ms: number): string => new Date(ms).toISOString();
    const types: Partial<Record<ShortType, TypeStatus>> = {};
    for (const t of TYPE_URLS) {
      const r = s.types.get(t);
      if (!r) continue;
      const v: TypeStatus = {};
      if (r.sent) v.sent = { ...r.sent, at: iso(r.sent.at) };
      if (r.acked) v.acked = { version: r.acked.version, resources: r.acked.names.length, at: iso(r.acked.at) };
      if (r.nack) v.nack = { ...r.nack, at: iso(r.nack.at) };
      types[SHORT_NAMES[t]] = v;
    }
    return {
      streamId: s.streamId,
      nodeId: s.node.id,
      cluster: s.node.cluster,
      userAgent: s.node.userAgentName,
      group: s.group,
      kind: s.kind,
      connectedAt: iso(s.connectedAt),
      types,
    };
  }
}
