// A tiny gRPC echo service for tests, defined at runtime with JSON serialisers (no
// .proto): unary /xgate.test.Echo/Echo answers { backend, message } with the name of
// the server that answered. Servers started here close themselves after the test file.
//
//   const a = await startGrpcEcho({ name: 'a', host: '127.0.0.2' });
//   const client = new grpc.Client(`${a.host}:${a.port}`, grpc.credentials.createInsecure());
//   const reply = await echo(client, 'hi'); // { backend: 'a', message: 'hi' }
import * as grpc from '@grpc/grpc-js';
import { afterAll } from 'vitest';

export interface EchoRequest {
  readonly message: string;
}

export interface EchoReply {
  readonly backend: string;
  readonly message: string;
}

const json = {
  serialize: (v: unknown): Buffer => Buffer.from(JSON.stringify(v), 'utf8'),
  deserialize: (b: Buffer): unknown => JSON.parse(b.toString('utf8')),
};

export const ECHO_METHOD_PATH = '/xgate.test.Echo/Echo';

export const echoServiceDefinition = {
  Echo: {
    path: ECHO_METHOD_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize as (b: Buffer) => EchoRequest,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize as (b: Buffer) => EchoReply,
    originalName: 'echo',
  },
} satisfies grpc.ServiceDefinition;

/** One unary Echo call with a deadline (default 5 s). */
export function echo(client: grpc.Client, message: string, opts: { deadlineMs?: number; waitForReady?: boolean } = {}): Promise<EchoReply> {
  const deadline = new Date(Date.now() + (opts.deadlineMs ?? 5_000));
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest<EchoRequest, EchoReply>(
      ECHO_METHOD_PATH,
      json.serialize,
      json.deserialize as (b: Buffer) => EchoReply,
      { message },
      new grpc.Metadata(),
      { deadline, ...(opts.waitForReady ? { waitForReady: true } : {}) },
      (err, reply) => (err || !reply ? reject(err ?? new Error('empty reply')) : resolve(reply)),
    );
  });
}

export interface GrpcEcho {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** Calls answered so far (live count). */
  readonly calls: number;
  /** Stops the server, cutting calls in flight after a short grace. Idempotent. */
  close(): Promise<void>;
}

const open = new Set<GrpcEcho>();

afterAll(async () => {
  const all = [...open];
  open.clear();
  await Promise.all(all.map((s) => s.close()));
});

/** Starts an insecure echo server on host:0 (host default 127.0.0.1). */
export async function startGrpcEcho(opts: { name: string; host?: string }): Promise<GrpcEcho> {
  const host = opts.host ?? '127.0.0.1';
  const server = new grpc.Server();
  let calls = 0;
  server.addService(echoServiceDefinition, {
    Echo: (call: grpc.ServerUnaryCall<EchoRequest, EchoReply>, callback: grpc.sendUnaryData<EchoReply>) => {
      calls++;
      callback(null, { backend: opts.name, message: call.request.message });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:0`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  let closing: Promise<void> | undefined;
  const s: GrpcEcho = {
    name: opts.name,
    host,
    port,
    get calls() {
      return calls;
    },
    close() {
      open.delete(s);
      closing ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 1_000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      return closing;
    },
  };
  open.add(s);
  return s;
}
