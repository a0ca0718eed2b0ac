// A running xDS server on 127.0.0.1:0 with a MemoryCache, a ProxyRegistry and a
// recording observer; small Envoy resources to build snapshots from.
import { ENVOY_GROUP, MemoryCache } from '../../control-plane/src/xds/cache/memory-cache.js';
import { SnapshotEncoder } from '../../control-plane/src/xds/cache/snapshot.js';
import type { NodeInfo, Snapshot, XdsObserver } from '../../control-plane/src/xds/cache/types.js';
import type { JsonObject } from '../../control-plane/src/xds/encode.js';
import { ProxyRegistry } from '../../control-plane/src/xds/proxies.js';
import type { Authorize } from '../../control-plane/src/xds/server/session.js';
import { startXdsServer, type XdsServer } from '../../control-plane/src/xds/server/server.js';
import type { EnvoyResources } from '../../control-plane/src/translate/resources.js';
import type { TypeUrl } from '../../control-plane/src/xds/type-urls.js';
import { AdsClient } from '../helpers/ads-client.js';

export type ObservedEvent =
  | { event: 'connected'; streamId: number; node: NodeInfo; kind: string }
  | { event: 'disconnected'; streamId: number }
  | { event: 'sent'; streamId: number; typeUrl: TypeUrl; version: string; names: readonly string[]; nonce: string }
  | { event: 'acked'; streamId: number; typeUrl: TypeUrl; version: string; names: readonly string[] }
  | { event: 'nacked'; streamId: number; typeUrl: TypeUrl; version: string; message: string };

export class RecordingObserver implements XdsObserver {
  readonly events: ObservedEvent[] = [];
  connected(streamId: number, node: NodeInfo, kind: string): void {
    this.events.push({ event: 'connected', streamId, node, kind });
  }
  disconnected(streamId: number): void {
    this.events.push({ event: 'disconnected', streamId });
  }
  sent(streamId: number, typeUrl: TypeUrl, version: string, names: readonly string[], nonce: string): void {
    this.events.push({ event: 'sent', streamId, typeUrl, version, names, nonce });
  }
  acked(streamId: number, typeUrl: TypeUrl, version: string, names: readonly string[]): void {
    this.events.push({ event: 'acked', streamId, typeUrl, version, names });
  }
  nacked(streamId: number, typeUrl: TypeUrl, version: string, message: string): void {
    this.events.push({ event: 'nacked', streamId, typeUrl, version, message });
  }
  of<E extends ObservedEvent['event']>(event: E): Extract<ObservedEvent, { event: E }>[] {
    return this.events.filter((e): e is Extract<ObservedEvent, { event: E }> => e.event === event);
  }
}

export interface Harness {
  readonly cache: MemoryCache;
  readonly registry: ProxyRegistry;
  readonly recorder: RecordingObserver;
  readonly server: XdsServer;
  /** Encodes and publishes resources for group "envoy"; returns the snapshot. */
  publish(r: Partial<EnvoyResources>): Snapshot;
  /** A new client on the server (closed by close()). */
  client(): AdsClient;
  close(): Promise<void>;
}

export async function startHarness(opts: { authorize?: Authorize } = {}): Promise<Harness> {
  const cache = new MemoryCache();
  const registry = new ProxyRegistry({ groupOf: (n) => cache.groupOf(n) });
  const recorder = new RecordingObserver();
  const server = await startXdsServer({
    host: '127.0.0.1',
    port: 0,
    cache,
    observers: [registry, recorder],
    shutdownGraceMs: 500,
    ...(opts.authorize ? { authorize: opts.authorize } : {}),
  });
  const encoder = new SnapshotEncoder();
  const clients: AdsClient[] = [];
  return {
    cache,
    registry,
    recorder,
    server,
    publish(r) {
      const snap = encoder.build({ listeners: [], routes: [], clusters: [], endpoints: [], secrets: [], ...r });
      cache.set(ENVOY_GROUP, snap);
      return snap;
    },
    client() {
      const c = new AdsClient(server.port);
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients) c.close();
      await server.close();
    },
  };
}

/** Polls `check` until it returns true or `timeoutMs` passes. */
export async function until(check: () => boolean, timeoutMs = 2_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

// ---- resources ----

export function cluster(name: string, connectTimeout = '1s'): JsonObject {
  return {
    name,
    type: 'EDS',
    eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' } },
    connect_timeout: connectTimeout,
  };
}

export function endpoints(clusterName: string, port = 8080): JsonObject {
  return {
    cluster_name: clusterName,
    endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } }] }],
  };
}

export function listener(name: string, routeName: string, port = 10080): JsonObject {
  return {
    name,
    address: { socket_address: { address: '0.0.0.0', port_value: port } },
    filter_chains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
              stat_prefix: name,
              rds: { route_config_name: routeName, config_source: { ads: {}, resource_api_version: 'V3' } },
              http_filters: [
                {
                  name: 'envoy.filters.http.router',
                  typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' },
                },
              ],
            },
          },
        ],
      },
    ],
  };
}

/** A route configuration sending / to the given clusters, equally weighted. */
export function route(name: string, clusters: string[]): JsonObject {
  const action: JsonObject =
    clusters.length === 1
      ? { cluster: clusters[0]! }
      : { weighted_clusters: { clusters: clusters.map((c) => ({ name: c, weight: 1 })) } };
  return {
    name,
    virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: action }] }],
  };
}

export function secret(name: string, cert = 'CERT'): JsonObject {
  return { name, tls_certificate: { certificate_chain: { inline_string: cert }, private_key: { inline_string: 'KEY' } } };
}
