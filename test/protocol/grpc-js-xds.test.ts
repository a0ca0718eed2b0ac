// A proxyless gRPC client written by others (@grpc/grpc-js-xds) resolves
// xds:///echo.grpc.test through our control plane (LDS API listener → RDS "http" →
// CDS → EDS) and calls real gRPC backends; an EndpointSlice edit reaches it live.
//
// The bootstrap is given per channel with grpc-js-xds's channel option
// `grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config` (a JSON string): the
// channel gets its own XdsClient, and no process-wide env var (GRPC_XDS_BOOTSTRAP*)
// or grpc-js-xds's cached singleton bootstrap is involved.
import * as grpc from '@grpc/grpc-js';
import * as grpcXds from '@grpc/grpc-js-xds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRPC_GROUP } from '../../control-plane/src/xds/cache/memory-cache.js';
import type { ProxyStatus } from '../../control-plane/src/xds/proxies.js';
import { LISTENER, ROUTE } from '../../control-plane/src/xds/type-urls.js';
import { routeShardOf } from '../../control-plane/src/translate/route-shards.js';
import { INGRESS_CLASS_YAML, testControlPlane, type TestControlPlane } from '../helpers/control-plane.js';
import { echo, startGrpcEcho, type GrpcEcho } from '../helpers/grpc-echo.js';

const HOST = 'echo.grpc.test';
const NODE_ID = 'grpc-client-1';
const BOOTSTRAP_OPTION = 'grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config';

/** The echo Service with one EndpointSlice per backend (their ports differ). */
function echoServiceYaml(backends: readonly GrpcEcho[]): string {
  const slices = backends.map(
    (b) => `---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: echo-${b.name}, namespace: default, labels: { kubernetes.io/service-name: echo } }
addressType: IPv4
ports: [{ name: grpc, port: ${b.port} }]
endpoints:
  - addresses: ["${b.host}"]
    conditions: { ready: true }
`,
  );
  return `apiVersion: v1
kind: Service
metadata: { name: echo, namespace: default }
spec:
  ports: [{ name: grpc, port: 50051 }]
${slices.join('')}`;
}

const INGRESS_YAML = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: echo, namespace: default }
spec:
  ingressClassName: xgate
  rules:
    - host: ${HOST}
      http:
        paths:
          - { path: /, pathType: Prefix, backend: { service: { name: echo, port: { name: grpc } } } }
`;

function bootstrap(xdsPort: number): string {
  return JSON.stringify({
    xds_servers: [{ server_uri: `127.0.0.1:${xdsPort}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
    node: { id: NODE_ID, cluster: 'xgate-test', locality: {}, metadata: { app: 'grpc-js-xds-test' } },
  });
}

/** Thrown by a probe: stop retrying. */
class FatalError extends Error {}

/** Retries `probe` every `intervalMs` until it returns a value, or throws the last error after `timeoutMs` (a FatalError at once). */
async function eventually<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      if (err instanceof FatalError) throw err;
      last = err;
    }
    if (Date.now() >= deadline) {
      throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last error: ${(last as Error).message ?? String(last)})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

describe('@grpc/grpc-js-xds against our ADS server', () => {
  let a: GrpcEcho, b: GrpcEcho;
  let t: TestControlPlane;
  let client: grpc.Client;

  beforeAll(async () => {
    grpcXds.register();
    [a, b] = await Promise.all([startGrpcEcho({ name: 'a', host: '127.0.0.2' }), startGrpcEcho({ name: 'b', host: '127.0.0.3' })]);
    t = await testControlPlane({
      '00-class.yaml': INGRESS_CLASS_YAML,
      '10-echo-service.yaml': echoServiceYaml([a, b]),
      '20-ingress.yaml': INGRESS_YAML,
    });
    client = new grpc.Client(`xds:///${HOST}`, grpc.credentials.createInsecure(), { [BOOTSTRAP_OPTION]: bootstrap(t.cp.xdsPort) });
  });

  afterAll(async () => {
    // The client first: its ADS stream ends before the control plane (closed by the helper) goes.
    client?.close();
    await Promise.all([a?.close(), b?.close()]);
  });

  it('resolves xds:///echo.grpc.test and round-robins over both backends', async () => {
    const started = Date.now();
    // The first call waits for LDS → RDS → CDS → EDS and a connection.
    const first = await eventually('first RPC through xDS', 15_000, () => echo(client, 'hello', { waitForReady: true, deadlineMs: 5_000 }));
    expect(first.message).toBe('hello');
    expect(['a', 'b']).toContain(first.backend);
    const firstMs = Date.now() - started;

    // Round robin picks among READY subchannels: once the second backend is connected too,
    // consecutive calls alternate strictly.
    const both = new Set<string>([first.backend]);
    await eventually('both backends answering', 5_000, async () => {
      both.add((await echo(client, 'warmup')).backend);
      return both.size === 2 ? true : undefined;
    }, 0);
    const seen = new Map<string, number>();
    const order: string[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await echo(client, `m${i}`);
      expect(r.message).toBe(`m${i}`);
      order.push(r.backend);
      seen.set(r.backend, (seen.get(r.backend) ?? 0) + 1);
    }
    expect(Object.fromEntries(seen)).toEqual({ a: 10, b: 10 });
    for (let i = 1; i < order.length; i++) expect(order[i]).not.toBe(order[i - 1]);
    console.info(`grpc-js-xds: first RPC after ${firstMs} ms; 20 RPCs split ${JSON.stringify(Object.fromEntries(seen))}`);
  });

  it('shows the client in ProxyRegistry, group "grpc", having ACKed LDS/RDS/CDS/EDS', async () => {
    const p = await eventually('grpc-js-xds ACKs of every type', 5_000, async (): Promise<ProxyStatus | undefined> => {
      const found = t.cp.proxies.list().find((x) => x.nodeId === NODE_ID);
      const types = found?.types;
      return types?.lds?.acked && types.rds?.acked && types.cds?.acked && types.eds?.acked ? found : undefined;
    });
    expect(p.group).toBe(GRPC_GROUP);
    expect(p.userAgent).toMatch(/^gRPC/);
    expect(p.cluster).toBe('xgate-test');
    for (const k of ['lds', 'rds', 'cds', 'eds'] as const) {
      const s = p.types[k]!;
      expect(s.nack, `${k} NACK: ${s.nack?.message}`).toBeUndefined();
      expect(s.acked!.version).toBe(s.sent!.version);
      expect(s.acked!.resources).toBeGreaterThanOrEqual(1);
    }
    // The client asked for exactly the listener named after the host, and the "http" route configuration.
    const stream = p.streamId;
    expect(t.cp.proxies.ackedNames(stream, LISTENER)).toEqual([HOST]);
    expect(t.cp.proxies.ackedNames(stream, ROUTE)).toEqual(['http']);
    expect(t.cp.proxies.allAcked(GRPC_GROUP, LISTENER, HOST)).toBe(true);
  });

  it('follows an EndpointSlice edit: a removed backend gets no more RPCs within seconds', async () => {
    const edsBefore = t.cp.proxies.list().find((x) => x.nodeId === NODE_ID)!.types.eds!.acked!.version;
    const started = Date.now();
    t.write('10-echo-service.yaml', echoServiceYaml([a]));

    // Wait until 10 consecutive RPCs all land on "a". A NACK of the new EDS version
    // fails at once, with the client's reason.
    let streak = 0;
    await eventually('only backend a answering', 10_000, async () => {
      const nack = t.cp.proxies.list().find((x) => x.nodeId === NODE_ID)?.types.eds?.nack;
      if (nack) return Promise.reject(new FatalError(`grpc-js-xds NACKed EDS version ${nack.version}: ${nack.message}`));
      const r = await echo(client, 'x', { deadlineMs: 2_000 });
      streak = r.backend === 'a' ? streak + 1 : 0;
      return streak >= 10 ? true : undefined;
    }, 0);
    const switchMs = Date.now() - started;

    // And it stays that way; the calls to "b" stopped.
    const bCalls = b.calls;
    for (let i = 0; i < 20; i++) expect((await echo(client, `after${i}`)).backend).toBe('a');
    expect(b.calls).toBe(bCalls);

    // The client ACKed the new EDS version.
    const p = await eventually('EDS ACK of the edit', 5_000, async () => {
      const found = t.cp.proxies.list().find((x) => x.nodeId === NODE_ID);
      return found?.types.eds?.acked && found.types.eds.acked.version !== edsBefore ? found : undefined;
    });
    expect(p.types.eds!.nack).toBeUndefined();
    console.info(`grpc-js-xds: EndpointSlice edit → RPCs only to a after ${switchMs} ms`);
  });
});

describe('@grpc/grpc-js-xds with route shards', () => {
  let a: GrpcEcho;
  let t: TestControlPlane;
  let client: grpc.Client;

  beforeAll(async () => {
    grpcXds.register();
    a = await startGrpcEcho({ name: 'a', host: '127.0.0.2' });
    t = await testControlPlane({ '00-class.yaml': INGRESS_CLASS_YAML, '10-echo-service.yaml': echoServiceYaml([a]), '20-ingress.yaml': INGRESS_YAML }, { routeShards: 8 });
    client = new grpc.Client(`xds:///${HOST}`, grpc.credentials.createInsecure(), { [BOOTSTRAP_OPTION]: bootstrap(t.cp.xdsPort) });
  });

  afterAll(async () => {
    client?.close();
    await a?.close();
  });

  it("resolves through the host's shard route configuration only", async () => {
    const r = await eventually('first RPC through xDS', 15_000, () => echo(client, 'hello', { waitForReady: true, deadlineMs: 5_000 }));
    expect(r.backend).toBe('a');
    const p = await eventually('RDS ACK', 5_000, async () => t.cp.proxies.list().find((x) => x.nodeId === NODE_ID && x.types.rds?.acked));
    expect(p.types.rds!.nack).toBeUndefined();
    expect(t.cp.proxies.ackedNames(p.streamId, ROUTE)).toEqual([`http/${routeShardOf(HOST, 8)}`]);
  });
});
