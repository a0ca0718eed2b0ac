// Lightweight ADS clients for B5: each one its own HTTP/2 connection (as a proxy has) and
// one ADS stream, SotW or delta, subscribed to LDS and CDS (wildcard), RDS "http" and EDS
// (wildcard). A client ACKs every response at once, keeps only versions (never decodes a
// resource), records when and how many bytes it received, and after its stream breaks
// reconnects presenting what it holds (SotW version_info per type; delta
// initial_resource_versions) so a restarted control plane has nothing to send it.
//
// Two implementations with the same interface: FleetClient on @grpc/grpc-js (as B6 uses
// it), and RawFleetClient, which speaks gRPC over node:http2 itself and reads the
// top-level fields of each response where it lies in the received chunks, without
// joining them into one buffer or decoding it with protobufjs. A thousand grpc-js clients
// in the benchmark's process spent more CPU per pushed RouteConfiguration than the
// control plane serving them, on the same two cores; B5 uses RawFleetClient unless
// B5_FLEET=grpc-js.
import * as grpc from '@grpc/grpc-js';
import http2 from 'node:http2';
import { adsPackageDefinition } from '../protos/loader.js';
import { CLUSTER, ENDPOINT, LISTENER, ROUTE, SCOPED_ROUTE, type TypeUrl } from '../control-plane/src/xds/type-urls.js';
import { routeShardName } from '../control-plane/src/translate/route-shards.js';

const SERVICE = 'envoy.service.discovery.v3.AggregatedDiscoveryService';
const SUBSCRIBE: ReadonlyArray<readonly [TypeUrl, readonly string[]]> = [
  [LISTENER, []],
  [CLUSTER, []],
  [ROUTE, ['http']],
  [ENDPOINT, []],
];

/** What an Envoy subscribes to: with route shards, SRDS (wildcard) and every shard's route configuration instead of `http`. */
const subscriptions = new Map<number, ReadonlyArray<readonly [TypeUrl, readonly string[]]>>();

/** The subscription of a fleet client (one object per shard count: the clients share its lists). */
export function subscriptionFor(routeShards: number | undefined): ReadonlyArray<readonly [TypeUrl, readonly string[]]> {
  if (!routeShards || routeShards < 2) return SUBSCRIBE;
  let sub = subscriptions.get(routeShards);
  if (!sub) subscriptions.set(routeShards, (sub = shardSubscription(routeShards)));
  return sub;
}

function shardSubscription(routeShards: number): ReadonlyArray<readonly [TypeUrl, readonly string[]]> {
  return [
    [LISTENER, []],
    [CLUSTER, []],
    [SCOPED_ROUTE, []],
    [ROUTE, Array.from({ length: routeShards }, (_, i) => routeShardName(i))],
    [ENDPOINT, []],
  ];
}

export interface Received {
  readonly at: number;
  readonly typeUrl: string;
  readonly resources: number;
  readonly bytes: number;
  /** Delta only, when the client was made with recordNames: the names of the resources received. */
  readonly names?: readonly string[];
}

/** Envoy's default initial stream and connection window. */
const ENVOY_WINDOW = 256 * 1024 * 1024;

let ctor: grpc.ServiceClientConstructor | undefined;

/** The ADS client class, made once: loading the protos per client cost the bench seconds of CPU at M = 1,000. */
function clientConstructor(): grpc.ServiceClientConstructor {
  ctor ??= grpc.makeGenericClientConstructor(adsPackageDefinition()[SERVICE] as grpc.ServiceDefinition, SERVICE);
  return ctor;
}

type Call = grpc.ClientDuplexStream<Record<string, unknown>, Record<string, unknown>>;

export class FleetClient implements AdsFleetClient {
  private readonly client: grpc.Client;
  private call: Call | undefined;
  /** SotW: per type, the last ACKed version_info. */
  private readonly sotwVersions = new Map<string, string>();
  /** Delta: per type, resource name → version held. */
  private readonly held = new Map<string, Map<string, string>>();
  readonly received: Received[] = [];
  /** Per type: time of the last ACK sent. */
  readonly ackedAt = new Map<string, number>();
  streams = 0;
  private closed = false;

  constructor(
    target: string,
    readonly id: string,
    readonly mode: 'sotw' | 'delta',
    private readonly subscribe: ReadonlyArray<readonly [TypeUrl, readonly string[]]> = SUBSCRIBE,
    private readonly recordNames = false,
  ) {
    this.client = new (clientConstructor())(target, grpc.credentials.createInsecure(), {
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 500,
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
      // HTTP/2 flow-control window of the connection and stream, as Envoy's xDS client has
      // (Http2ProtocolOptions initial_stream/connection_window_size default: 256 MiB). With
      // Node's 64 KiB default a 190 KB RouteConfiguration needs WINDOW_UPDATE round trips.
      // B5_CLIENT_WINDOW overrides it (65535: Node's default).
      'grpc-node.flow_control_window': Number(process.env['B5_CLIENT_WINDOW'] ?? ENVOY_WINDOW),
    });
  }

  /** Opens the stream (again). */
  connect(): void {
    if (this.closed) return;
    const method = this.mode === 'sotw' ? 'StreamAggregatedResources' : 'DeltaAggregatedResources';
    const call = (this.client as unknown as Record<string, (o: grpc.CallOptions) => Call>)[method]!.call(this.client, { deadline: Infinity }) as Call;
    this.call = call;
    this.streams++;
    const node = { id: this.id, cluster: 'bench', user_agent_name: 'envoy' };
    call.on('data', (m: Record<string, unknown>) => this.onResponse(call, m));
    call.on('error', () => undefined);
    call.on('status', () => {
      if (this.call !== call || this.closed) return;
      this.call = undefined;
      setTimeout(() => this.connect(), 100 + Math.random() * 100);
    });
    let first = true;
    for (const [typeUrl, names] of this.subscribe) {
      if (this.mode === 'sotw') {
        call.write({ ...(first ? { node } : {}), type_url: typeUrl, resource_names: [...names], version_info: this.sotwVersions.get(typeUrl) ?? '' });
      } else {
        const held = this.held.get(typeUrl);
        call.write({
          ...(first ? { node } : {}),
          type_url: typeUrl,
          resource_names_subscribe: [...names],
          ...(held?.size ? { initial_resource_versions: Object.fromEntries(held) } : {}),
        });
      }
      first = false;
    }
  }

  private onResponse(call: Call, m: Record<string, unknown>): void {
    const at = performance.now();
    const typeUrl = String(m['type_url'] ?? '');
    let bytes = 0;
    if (this.mode === 'sotw') {
      const rs = (m['resources'] as { value: Buffer }[] | undefined) ?? [];
      for (const r of rs) bytes += r.value.length;
      this.received.push({ at, typeUrl, resources: rs.length, bytes });
      this.sotwVersions.set(typeUrl, String(m['version_info'] ?? ''));
      const names = this.subscribe.find(([t]) => t === typeUrl)?.[1] ?? [];
      call.write({ type_url: typeUrl, version_info: m['version_info'], response_nonce: m['nonce'], resource_names: [...names] });
    } else {
      const rs = (m['resources'] as { name: string; version: string; resource?: { value: Buffer } }[] | undefined) ?? [];
      let held = this.held.get(typeUrl);
      if (!held) this.held.set(typeUrl, (held = new Map()));
      for (const r of rs) {
        bytes += r.resource?.value.length ?? 0;
        held.set(r.name, r.version);
      }
      for (const n of (m['removed_resources'] as string[] | undefined) ?? []) held.delete(n);
      this.received.push({ at, typeUrl, resources: rs.length, bytes, ...(this.recordNames ? { names: rs.map((r) => r.name) } : {}) });
      call.write({ type_url: typeUrl, response_nonce: m['nonce'] });
    }
    this.ackedAt.set(typeUrl, performance.now());
  }

  /** Responses of a type received since `since`. */
  since(since: number, typeUrl?: string): Received[] {
    return this.received.filter((r) => r.at >= since && (!typeUrl || r.typeUrl === typeUrl));
  }

  close(): void {
    this.closed = true;
    this.call?.cancel();
    this.client.close();
  }
}

/** What B5 needs of a fleet client. */
export interface AdsFleetClient {
  readonly received: readonly Received[];
  readonly ackedAt: ReadonlyMap<string, number>;
  readonly streams: number;
  connect(): void;
  since(since: number, typeUrl?: string): Received[];
  close(): void;
}

type Serialize = (value: unknown) => Buffer;

let serializers: { sotw: Serialize; delta: Serialize } | undefined;

function requestSerializers(): { sotw: Serialize; delta: Serialize } {
  if (!serializers) {
    const def = adsPackageDefinition()[SERVICE] as grpc.ServiceDefinition;
    serializers = {
      sotw: def['StreamAggregatedResources']!.requestSerialize as Serialize,
      delta: def['DeltaAggregatedResources']!.requestSerialize as Serialize,
    };
  }
  return serializers;
}

/** The encoded names field of a request (SotW resource_names, delta resource_names_subscribe), per list. */
const namesCache = new WeakMap<readonly string[], Buffer>();
function namesBytes(serialize: Serialize, mode: 'sotw' | 'delta', names: readonly string[]): Buffer {
  let b = namesCache.get(names);
  if (!b) namesCache.set(names, (b = serialize(mode === 'sotw' ? { resource_names: [...names] } : { resource_names_subscribe: [...names] })));
  return b;
}

/** The encoded initial_resource_versions entry of (name, version), shared by the fleet. */
const entryCache = new Map<string, Buffer>();
function entryBytes(serialize: Serialize, name: string, version: string): Buffer {
  const key = `${name}\u0000${version}`;
  let b = entryCache.get(key);
  if (!b) {
    if (entryCache.size > 200_000) entryCache.clear();
    entryCache.set(key, (b = serialize({ initial_resource_versions: { [name]: version } })));
  }
  return b;
}

/** A gRPC message: its 5-byte prefix, then the protobuf bytes. */
function frame(message: Buffer): Buffer {
  const out = Buffer.allocUnsafe(message.length + 5);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  message.copy(out, 5);
  return out;
}

/** Reads protobuf wire data that lies across several chunks, without joining them. */
class Cursor {
  private i = 0;
  private off = 0;
  /** Bytes read so far. */
  pos = 0;

  constructor(private readonly parts: readonly Buffer[]) {}

  private byte(): number {
    let part = this.parts[this.i]!;
    while (this.off >= part.length) {
      part = this.parts[++this.i]!;
      this.off = 0;
    }
    this.pos++;
    return part[this.off++]!;
  }

  varint(): number {
    let v = 0;
    let mul = 1;
    for (;;) {
      const b = this.byte();
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
    }
  }

  skip(n: number): void {
    this.pos += n;
    while (n > 0) {
      const left = this.parts[this.i]!.length - this.off;
      if (n < left) {
        this.off += n;
        return;
      }
      n -= left;
      this.i++;
      this.off = 0;
    }
  }

  string(n: number): string {
    const part = this.parts[this.i]!;
    if (this.off + n <= part.length) {
      const s = part.toString('utf8', this.off, this.off + n);
      this.off += n;
      this.pos += n;
      return s;
    }
    const b = Buffer.allocUnsafe(n);
    for (let k = 0; k < n; k++) b[k] = this.byte();
    return b.toString('utf8');
  }

  /** Skips a field of wire type `wt` (after its tag). */
  skipField(wt: number): void {
    if (wt === 0) this.varint();
    else if (wt === 1) this.skip(8);
    else if (wt === 2) this.skip(this.varint());
    else if (wt === 5) this.skip(4);
    else throw new Error(`wire type ${wt}`);
  }
}

/** The length of the `value` of a google.protobuf.Any that ends at `end`. */
function anyValueLength(c: Cursor, end: number): number {
  let n = 0;
  while (c.pos < end) {
    const tag = c.varint();
    if (tag >>> 3 === 2 && (tag & 7) === 2) {
      const len = c.varint();
      n += len;
      c.skip(len);
    } else c.skipField(tag & 7);
  }
  return n;
}

interface Parsed {
  typeUrl: string;
  version: string;
  nonce: string;
  resources: number;
  bytes: number;
  /** Delta: name → version of each resource. */
  updates: [string, string][];
  removed: string[];
}

/** The fields of a DiscoveryResponse or DeltaDiscoveryResponse that a fleet client reads. */
function parseResponse(parts: readonly Buffer[], length: number, delta: boolean): Parsed {
  const c = new Cursor(parts);
  const out: Parsed = { typeUrl: '', version: '', nonce: '', resources: 0, bytes: 0, updates: [], removed: [] };
  while (c.pos < length) {
    const tag = c.varint();
    const field = tag >>> 3;
    if ((tag & 7) !== 2) {
      c.skipField(tag & 7);
      continue;
    }
    const len = c.varint();
    const end = c.pos + len;
    if (field === 1) out.version = c.string(len);
    else if (field === 4) out.typeUrl = c.string(len);
    else if (field === 5) out.nonce = c.string(len);
    else if (field === 2) {
      out.resources++;
      if (!delta) out.bytes += anyValueLength(c, end);
      else {
        // envoy.service.discovery.v3.Resource: version 1, resource 2 (Any), name 3
        let name = '';
        let version = '';
        while (c.pos < end) {
          const t = c.varint();
          if ((t & 7) !== 2) {
            c.skipField(t & 7);
            continue;
          }
          const l = c.varint();
          if (t >>> 3 === 3) name = c.string(l);
          else if (t >>> 3 === 1) version = c.string(l);
          else if (t >>> 3 === 2) out.bytes += anyValueLength(c, c.pos + l);
          else c.skip(l);
        }
        out.updates.push([name, version]);
      }
    } else if (field === 6 && delta) out.removed.push(c.string(len));
    else c.skip(len);
  }
  return out;
}

/** Splits a gRPC response stream into messages, keeping each message's chunks as they came. */
class MessageReader {
  private parts: Buffer[] = [];
  private have = 0;
  private need = -1;

  constructor(private readonly onMessage: (parts: readonly Buffer[], length: number) => void) {}

  push(chunk: Buffer): void {
    this.parts.push(chunk);
    this.have += chunk.length;
    for (;;) {
      if (this.need < 0) {
        if (this.have < 5) return;
        const head = this.take(5);
        this.need = head.readUInt32BE(1);
      }
      if (this.have < this.need) return;
      const length = this.need;
      this.need = -1;
      this.onMessage(this.takeParts(length), length);
    }
  }

  /** The first n bytes as parts (views on the chunks). */
  private takeParts(n: number): Buffer[] {
    const out: Buffer[] = [];
    while (n > 0) {
      const p = this.parts[0]!;
      if (p.length <= n) {
        out.push(p);
        this.parts.shift();
        n -= p.length;
        this.have -= p.length;
      } else {
        out.push(p.subarray(0, n));
        this.parts[0] = p.subarray(n);
        this.have -= n;
        n = 0;
      }
    }
    return out;
  }

  private take(n: number): Buffer {
    const parts = this.takeParts(n);
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }
}

export class RawFleetClient implements AdsFleetClient {
  private session: http2.ClientHttp2Session | undefined;
  private stream: http2.ClientHttp2Stream | undefined;
  private readonly sotwVersions = new Map<string, string>();
  private readonly held = new Map<string, Map<string, string>>();
  readonly received: Received[] = [];
  readonly ackedAt = new Map<string, number>();
  streams = 0;
  private closed = false;
  /** Failed attempts in a row: the reconnect delay grows with them (100 ms → 500 ms). */
  private failures = 0;
  private readonly serialize: Serialize;

  constructor(
    private readonly target: string,
    readonly id: string,
    readonly mode: 'sotw' | 'delta',
    private readonly subscribe: ReadonlyArray<readonly [TypeUrl, readonly string[]]> = SUBSCRIBE,
    private readonly recordNames = false,
  ) {
    this.serialize = mode === 'sotw' ? requestSerializers().sotw : requestSerializers().delta;
  }

  connect(): void {
    if (this.closed) return;
    let stream: http2.ClientHttp2Stream;
    try {
      const session = this.openSession();
      stream = session.request(
        { ':method': 'POST', ':path': `/${SERVICE}/${this.mode === 'sotw' ? 'StreamAggregatedResources' : 'DeltaAggregatedResources'}`, 'content-type': 'application/grpc', te: 'trailers' },
        { endStream: false },
      );
    } catch {
      this.session?.destroy();
      this.session = undefined;
      this.retry();
      return;
    }
    this.stream = stream;
    this.streams++;
    const reader = new MessageReader((parts, length) => this.onResponse(stream, parts, length));
    stream.on('data', (chunk: Buffer) => reader.push(chunk));
    stream.on('error', () => undefined);
    // The server ended the call (status in the trailers): end our side too, as a gRPC client does.
    stream.on('end', () => stream.close());
    stream.on('close', () => {
      if (this.stream !== stream || this.closed) return;
      this.stream = undefined;
      this.retry();
    });
    const node = { id: this.id, cluster: 'bench', user_agent_name: 'envoy' };
    let first = true;
    for (const [typeUrl, names] of this.subscribe) {
      // Encoded in parts (a protobuf message is the concatenation of its fields): the names
      // list and each (name, version) entry are encoded once for the whole fleet, as 1,000
      // clients hold the same ones. Encoding each request whole took the bench process ~1 s
      // of CPU per restart at 256 route shards, on the cores the control plane uses.
      const head = this.serialize(this.mode === 'sotw' ? { ...(first ? { node } : {}), type_url: typeUrl, version_info: this.sotwVersions.get(typeUrl) ?? '' } : { ...(first ? { node } : {}), type_url: typeUrl });
      const parts = [head, namesBytes(this.serialize, this.mode, names)];
      if (this.mode === 'delta') for (const [name, version] of this.held.get(typeUrl) ?? []) parts.push(entryBytes(this.serialize, name, version));
      this.writeBytes(stream, Buffer.concat(parts));
      first = false;
    }
  }

  private openSession(): http2.ClientHttp2Session {
    const live = this.session;
    if (live && !live.closed && !live.destroyed) return live;
    const session = http2.connect(`http://${this.target}`, { settings: { initialWindowSize: Number(process.env['B5_CLIENT_WINDOW'] ?? ENVOY_WINDOW) } });
    session.on('error', () => undefined);
    session.once('connect', () => {
      const w = Number(process.env['B5_CLIENT_WINDOW'] ?? ENVOY_WINDOW);
      if (w > 65_535) session.setLocalWindowSize(w);
    });
    session.once('close', () => {
      if (this.session === session) this.session = undefined;
    });
    // The server is going away (shutting down): no new streams here, and close the
    // connection once its streams end, as grpc-js does, so the server need not wait for it.
    session.once('goaway', () => {
      if (this.session === session) this.session = undefined;
      session.close();
    });
    this.session = session;
    return session;
  }

  private retry(): void {
    if (this.closed) return;
    // grpc-js's reconnect backoff with B5's options: 100 ms × 1.6 per failure up to 500 ms, ±20 % jitter
    const delay = Math.min(500, 100 * 1.6 ** Math.min(this.failures, 4)) * (0.8 + 0.4 * Math.random());
    this.failures++;
    setTimeout(() => this.connect(), delay);
  }

  private write(stream: http2.ClientHttp2Stream, req: Record<string, unknown>): void {
    this.writeBytes(stream, this.serialize(req));
  }

  private writeBytes(stream: http2.ClientHttp2Stream, message: Buffer): void {
    if (!stream.destroyed && !stream.closed) stream.write(frame(message));
  }

  private onResponse(stream: http2.ClientHttp2Stream, parts: readonly Buffer[], length: number): void {
    const at = performance.now();
    this.failures = 0;
    const m = parseResponse(parts, length, this.mode === 'delta');
    if (this.mode === 'sotw') {
      this.received.push({ at, typeUrl: m.typeUrl, resources: m.resources, bytes: m.bytes });
      this.sotwVersions.set(m.typeUrl, m.version);
      const names = this.subscribe.find(([t]) => t === m.typeUrl)?.[1] ?? [];
      this.writeBytes(stream, Buffer.concat([this.serialize({ type_url: m.typeUrl, version_info: m.version, response_nonce: m.nonce }), namesBytes(this.serialize, 'sotw', names)]));
    } else {
      let held = this.held.get(m.typeUrl);
      if (!held) this.held.set(m.typeUrl, (held = new Map()));
      for (const [name, version] of m.updates) held.set(name, version);
      for (const n of m.removed) held.delete(n);
      this.received.push({ at, typeUrl: m.typeUrl, resources: m.resources, bytes: m.bytes, ...(this.recordNames ? { names: m.updates.map(([n]) => n) } : {}) });
      this.write(stream, { type_url: m.typeUrl, response_nonce: m.nonce });
    }
    this.ackedAt.set(m.typeUrl, performance.now());
  }

  since(since: number, typeUrl?: string): Received[] {
    return this.received.filter((r) => r.at >= since && (!typeUrl || r.typeUrl === typeUrl));
  }

  close(): void {
    this.closed = true;
    this.stream?.close();
    this.session?.destroy();
  }
}
