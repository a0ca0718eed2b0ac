// Starts the ADS gRPC server. Credentials are injectable (mTLS later); `authorize`
// can refuse a node at its stream's first request.
import * as grpc from '@grpc/grpc-js';
import type { SnapshotCache, XdsObserver } from '../cache/types.js';
import { AdsService, adsServiceDefinition } from './ads.js';
import { FlushQueue } from './flush-queue.js';
import { silentLogger, type XdsLogger } from './logger.js';
import { ObserverFanout } from './observers.js';
import type { Authorize } from './session.js';

export interface XdsServerOptions {
  /** Address to listen on, e.g. "0.0.0.0", "::" or "127.0.0.1". */
  readonly host: string;
  /** 0 picks an ephemeral port. */
  readonly port: number;
  readonly cache: SnapshotCache;
  /** Every observer is told of every connect, send, ACK, NACK and disconnect. */
  readonly observers?: readonly XdsObserver[];
  /** Default: insecure (plaintext). */
  readonly credentials?: grpc.ServerCredentials;
  readonly authorize?: Authorize;
  readonly logger?: XdsLogger;
  /** Most resource names one stream may subscribe to per type (default 200,000). */
  readonly maxNamesPerType?: number;
  /** How long close() lets streams end before cutting connections (default 2,000 ms). */
  readonly shutdownGraceMs?: number;
  /**
   * Longest run of stream flushes (sends) in one turn of the event loop, in ms (default 5):
   * between runs, what was sent goes out and ACKs come in.
   */
  readonly flushSliceMs?: number;
  /** Passed to grpc.Server (keepalive, message sizes…). */
  readonly grpcOptions?: grpc.ServerOptions;
}

export interface XdsServer {
  readonly port: number;
  /** Number of open ADS streams. */
  streams(): number;
  /** Ends every stream with UNAVAILABLE (proxies reconnect elsewhere) and stops the server. */
  close(): Promise<void>;
}

export async function startXdsServer(options: XdsServerOptions): Promise<XdsServer> {
  const logger = options.logger ?? silentLogger;
  const service = new AdsService({
    cache: options.cache,
    observers: new ObserverFanout(options.observers ?? [], logger),
    logger,
    authorize: options.authorize,
    maxNamesPerType: options.maxNamesPerType ?? 200_000,
    flushes: new FlushQueue(options.flushSliceMs ?? 5),
  });
  const server = new grpc.Server(options.grpcOptions);
  server.addService(adsServiceDefinition(), service.implementation());
  const address = `${options.host.includes(':') && !options.host.startsWith('[') ? `[${options.host}]` : options.host}:${options.port}`;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(address, options.credentials ?? grpc.ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    );
  });
  logger.info({ address, port }, 'xDS server listening');
  let closing: Promise<void> | undefined;
  return {
    port,
    streams: () => service.count(),
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        service.finishAll(grpc.status.UNAVAILABLE, 'xDS server shutting down');
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, options.shutdownGraceMs ?? 2_000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      return closing;
    },
  };
}
