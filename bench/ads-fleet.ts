// Lightweight ADS clients for B5: each one its own gRPC channel (its own HTTP/2
// connection, as a proxy has) and one ADS stream, SotW or delta, subscribed to LDS and
// CDS (wildcard), RDS "http" and EDS (wildcard). A client ACKs every response at once,
// keeps only versions (never decodes a resource), records when and how many bytes it
// received, and after its stream breaks reconnects presenting what it holds (SotW
// version_info per type; delta initial_resource_versions) so a restarted control plane
// has nothing to send it.
import * as grpc from '@grpc/grpc-js';
import { adsPackageDefinition } from '../protos/loader.js';
import { CLUSTER, ENDPOINT, LISTENER, ROUTE, type TypeUrl } from '../control-plane/src/xds/type-urls.js';

const SERVICE = 'envoy.service.discovery.v3.AggregatedDiscoveryService';
const SUBSCRIBE: ReadonlyArray<readonly [TypeUrl, readonly string[]]> = [
  [LISTENER, []],
  [CLUSTER, []],
  [ROUTE, ['http']],
  [ENDPOINT, []],
];

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

export class FleetClient {
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
