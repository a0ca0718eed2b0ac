// A promise-based ADS client for tests: real @grpc/grpc-js streams (SotW or delta)
// to an xDS server, with "next response within N ms" and "nothing within N ms".
import * as grpc from '@grpc/grpc-js';
import { adsPackageDefinition } from '../../protos/loader.js';
import { lookupType } from '../../control-plane/src/xds/encode.js';

const SERVICE = 'envoy.service.discovery.v3.AggregatedDiscoveryService';

export interface TestNode {
  id: string;
  cluster?: string;
  user_agent_name?: string;
  metadata?: { fields: Record<string, { string_value?: string; bool_value?: boolean }> };
}

export const ENVOY_NODE: TestNode = { id: 'envoy-1', cluster: 'gateway', user_agent_name: 'envoy' };

export interface RpcStatus {
  code: number;
  message: string;
}

export interface SotwRequest {
  node?: TestNode;
  type_url: string;
  version_info?: string;
  resource_names?: string[];
  response_nonce?: string;
  error_detail?: RpcStatus;
}

export interface ReceivedAny {
  type_url: string;
  value: Buffer;
}

export interface SotwResponse {
  version_info: string;
  resources: ReceivedAny[];
  type_url: string;
  nonce: string;
}

export interface DeltaRequest {
  node?: TestNode;
  type_url: string;
  resource_names_subscribe?: string[];
  resource_names_unsubscribe?: string[];
  initial_resource_versions?: Record<string, string>;
  response_nonce?: string;
  error_detail?: RpcStatus;
}

export interface DeltaResponse {
  system_version_info: string;
  resources: { name: string; version: string; resource: ReceivedAny }[];
  removed_resources: string[];
  type_url: string;
  nonce: string;
}

/** One bidirectional ADS stream. */
export class AdsStream<Req, Res> {
  private readonly queue: Res[] = [];
  private waiter: { resolve: (r: Res) => void; reject: (e: Error) => void } | undefined;
  private failure: Error | undefined;
  /** Resolves with the stream's final status (OK, CANCELLED, UNAVAILABLE…). */
  readonly status: Promise<grpc.StatusObject>;

  constructor(
    private readonly call: grpc.ClientDuplexStream<Req, unknown>,
    normalize: (raw: Record<string, unknown>) => Res,
  ) {
    call.on('data', (raw: Record<string, unknown>) => {
      const res = normalize(raw);
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = undefined;
        w.resolve(res);
      } else this.queue.push(res);
    });
    call.on('error', (err: Error) => this.fail(err));
    call.on('end', () => this.fail(new Error('stream ended')));
    this.status = new Promise((resolve) => call.on('status', resolve));
  }

  send(req: Req): void {
    this.call.write(req);
  }

  /** The next response; rejects after `timeoutMs` or if the stream ends first. */
  next(timeoutMs = 2_000): Promise<Res> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.failure) return Promise.reject(this.failure);
    if (this.waiter) return Promise.reject(new Error('next() is already waiting'));
    return new Promise<Res>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`no response within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
  }

  /** Rejects if any response arrives within `ms`. */
  async nothingWithin(ms = 300): Promise<void> {
    if (this.queue.length > 0) throw new Error(`unexpected response: ${describe(this.queue[0])}`);
    let res: Res | undefined;
    try {
      res = await this.next(ms);
    } catch {
      return;
    }
    throw new Error(`unexpected response: ${describe(res)}`);
  }

  /** Responses received and not yet taken. */
  buffered(): number {
    return this.queue.length;
  }

  cancel(): void {
    this.call.cancel();
  }

  /** Half-closes the stream (the server then ends it with OK). */
  end(): void {
    this.call.end();
  }

  private fail(err: Error): void {
    this.failure ??= err;
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(err);
  }
}

export type SotwStream = AdsStream<SotwRequest, SotwResponse>;
export type DeltaStream = AdsStream<DeltaRequest, DeltaResponse>;

/** An ADS client on one channel; close() cancels its streams and closes the channel. */
export class AdsClient {
  private readonly client: grpc.Client;
  private readonly streams = new Set<{ cancel(): void }>();

  constructor(target: string | number, credentials = grpc.credentials.createInsecure()) {
    const Ctor = grpc.makeGenericClientConstructor(adsPackageDefinition()[SERVICE] as grpc.ServiceDefinition, SERVICE);
    this.client = new Ctor(typeof target === 'number' ? `127.0.0.1:${target}` : target, credentials);
  }

  sotw(): SotwStream {
    const call = (this.client as unknown as Record<string, () => grpc.ClientDuplexStream<SotwRequest, unknown>>)
      .StreamAggregatedResources!.call(this.client);
    return this.track(new AdsStream<SotwRequest, SotwResponse>(call, normalizeSotw));
  }

  delta(): DeltaStream {
    const call = (this.client as unknown as Record<string, () => grpc.ClientDuplexStream<DeltaRequest, unknown>>)
      .DeltaAggregatedResources!.call(this.client);
    return this.track(new AdsStream<DeltaRequest, DeltaResponse>(call, normalizeDelta));
  }

  close(): void {
    for (const s of this.streams) s.cancel();
    this.streams.clear();
    this.client.close();
  }

  private track<S extends { cancel(): void }>(s: S): S {
    this.streams.add(s);
    return s;
  }
}

// ---- requests ----

/** The ACK of a SotW response: its version and nonce, with the names to keep subscribed. */
export function ack(res: SotwResponse, resourceNames: string[] = []): SotwRequest {
  return { type_url: res.type_url, version_info: res.version_info, response_nonce: res.nonce, resource_names: resourceNames };
}

/** The NACK of a SotW response: the last good version, the nonce, and the error. */
export function nack(res: SotwResponse, lastGoodVersion: string, message: string, resourceNames: string[] = []): SotwRequest {
  return {
    type_url: res.type_url,
    version_info: lastGoodVersion,
    response_nonce: res.nonce,
    resource_names: resourceNames,
    error_detail: { code: grpc.status.INVALID_ARGUMENT, message },
  };
}

export function deltaAck(res: DeltaResponse): DeltaRequest {
  return { type_url: res.type_url, response_nonce: res.nonce };
}

export function deltaNack(res: DeltaResponse, message: string): DeltaRequest {
  return { type_url: res.type_url, response_nonce: res.nonce, error_detail: { code: grpc.status.INVALID_ARGUMENT, message } };
}

// ---- reading responses ----

/** Decodes an Any into a plain object (proto field names, enums as strings). */
export function decodeAny(any: ReceivedAny): Record<string, unknown> {
  const t = lookupType(any.type_url);
  return t.toObject(t.decode(any.value), { enums: String, longs: String, defaults: false });
}

/** Names of the resources in a SotW response, in order. */
export function resourceNames(res: SotwResponse): string[] {
  return res.resources.map((a) => {
    const o = decodeAny(a);
    return String(o['name'] ?? o['cluster_name']);
  });
}

/** Names of the resources in a delta response, in order. */
export function deltaNames(res: DeltaResponse): string[] {
  return res.resources.map((r) => r.name);
}

function normalizeSotw(raw: Record<string, unknown>): SotwResponse {
  return {
    version_info: (raw['version_info'] as string | undefined) ?? '',
    resources: (raw['resources'] as ReceivedAny[] | undefined) ?? [],
    type_url: (raw['type_url'] as string | undefined) ?? '',
    nonce: (raw['nonce'] as string | undefined) ?? '',
  };
}

function normalizeDelta(raw: Record<string, unknown>): DeltaResponse {
  return {
    system_version_info: (raw['system_version_info'] as string | undefined) ?? '',
    resources: (raw['resources'] as DeltaResponse['resources'] | undefined) ?? [],
    removed_resources: (raw['removed_resources'] as string[] | undefined) ?? [],
    type_url: (raw['type_url'] as string | undefined) ?? '',
    nonce: (raw['nonce'] as string | undefined) ?? '',
  };
}

function describe(res: unknown): string {
  const r = res as { type_url?: string; nonce?: string };
  return `${r.type_url ?? '?'} nonce ${r.nonce ?? '?'}`;
}
