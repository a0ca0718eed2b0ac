// The gateway the through-Envoy benchmarks (B2–B4, B6) run against: the control plane
// in this process (startControlPlane on a manifests folder holding the IngressClass and
// the Services of real example backends), one real Envoy, and N background Ingresses
// of the realistic B1 mix (bench/generate.ts) put into the Store. Changes go straight
// to the Store, as the Kubernetes informers deliver them; the manifests folder never
// changes after the start, so the file source never replaces what the benchmark put in.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { silentLogger } from '../control-plane/src/log.js';
import { DEFAULT_PIPELINE_OPTIONS } from '../control-plane/src/pipeline/translate-store.js';
import { startControlPlane, type RunningControlPlane } from '../control-plane/src/serve.js';
import { WATCHED_KINDS, type WatchedObject } from '../control-plane/src/sources/k8s-types.js';
import { startEnvoy, type ClusterStats, type RunningEnvoy } from '../envoy/runner.js';
import { startBackend, type Backend } from '../scripts/example-backend.js';
import { freePort, freePorts } from '../scripts/free-ports.js';
import { benchCert } from './cert.js';
import { BENCH_CLASS, generate } from './generate.js';

export { freePort, freePorts };

export const NS = 'bench-live';

export function serviceObjects(name: string, backends: readonly Backend[], ns = NS): WatchedObject[] {
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: { ports: [{ name: 'http', port: 80 }] } },
    endpointSlice(name, backends, ns),
  ] as unknown as WatchedObject[];
}

export function endpointSlice(name: string, backends: readonly Backend[], ns = NS, suffix = '1'): WatchedObject {
  const port = backends[0]!.port;
  if (backends.some((b) => b.port !== port)) throw new Error('endpointSlice: backends on different ports');
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${name}-${suffix}`, namespace: ns, labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port }],
    endpoints: backends.map((b) => ({ addresses: [b.host], conditions: { ready: true } })),
  } as unknown as WatchedObject;
}

export function ingress(name: string, hosts: readonly string[], service: string, opts: { annotations?: Record<string, string>; paths?: readonly string[]; ns?: string } = {}): WatchedObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: opts.ns ?? NS, creationTimestamp: '2030-01-01T00:00:00Z', ...(opts.annotations ? { annotations: opts.annotations } : {}) },
    spec: {
      ingressClassName: BENCH_CLASS,
      rules: hosts.map((host) => ({
        host,
        http: { paths: (opts.paths ?? ['/']).map((p) => ({ path: p, pathType: 'Prefix', backend: { service: { name: service, port: { number: 80 } } } })) },
      })),
    },
  } as unknown as WatchedObject;
}

export interface Gateway {
  readonly cp: RunningControlPlane;
  readonly envoy: RunningEnvoy;
  readonly httpPort: number;
  /** Real backends, all on the same port number (127.0.0.2, .3, …); Service be<i> → backend i. */
  readonly backends: readonly Backend[];
  /** The background objects put into the Store. */
  readonly background: readonly WatchedObject[];
  /** Upserts objects (each one a Store change, as informer events). */
  apply(objs: readonly WatchedObject[]): void;
  remove(obj: WatchedObject): void;
  /** Resolves after the controller's next build. */
  nextBuild(): Promise<void>;
  close(): Promise<void>;
}

export interface GatewayOptions {
  /** Background Ingresses of the realistic mix (0: none). */
  readonly n: number;
  /** Real backends to start (127.0.0.2 …). */
  readonly backends?: number;
  readonly seed?: number;
  readonly log: (line: string) => void;
  readonly envoyConcurrency?: number;
  /** Per-cluster stats the Envoy keeps (envoy/cluster-stats.yaml). Default `all`. */
  readonly clusterStats?: ClusterStats;
  /** The control plane's route shards (unset: one route configuration). */
  readonly routeShards?: number;
  /** Share of the background Ingresses with TLS (generate's default: 0.5). */
  readonly tlsShare?: number;
  /** Changes to the Envoy bootstrap (envoy/runner.ts renderBootstrap's `configure`). */
  readonly configureEnvoy?: (bootstrap: Record<string, unknown>) => void;
  /** Extra objects in the Store from the start (services of the backends are added by the harness). */
  readonly initial?: (backends: readonly Backend[]) => readonly WatchedObject[];
}

export async function startGateway(o: GatewayOptions): Promise<Gateway> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'xgate-bench-gw-'));
  const backends: Backend[] = [];
  let cp: RunningControlPlane | undefined;
  let envoy: RunningEnvoy | undefined;
  try {
    // One port number on every 127.0.0.x address, so one EndpointSlice can list several backends.
    const backendPort = await freePort();
    for (let i = 0; i < (o.backends ?? 2); i++) backends.push(await startBackend({ name: `be${i}`, host: `127.0.0.${2 + i}`, port: backendPort }));
    writeFileSync(path.join(dir, '00-class.yaml'), stringify({ apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: BENCH_CLASS }, spec: { controller: 'xgate.io/ingress-controller' } }));
    const [httpPort, httpsPort, xdsPort] = (await freePorts(3)) as [number, number, number];
    cp = await startControlPlane(
      {
        manifests: dir,
        xds: { host: '127.0.0.1', port: xdsPort },
        admin: { host: '127.0.0.1', port: 0 },
        pipeline: { ...DEFAULT_PIPELINE_OPTIONS, ...(o.routeShards ? { routeShards: o.routeShards } : {}), bindAddress: '127.0.0.1', httpPort, httpsPort },
        logLevel: 'warn',
        debounceMs: 20,
        maxDelayMs: 500,
      },
      silentLogger(),
    );
    const gen = o.n > 0 ? generate({ ingresses: o.n, cert: benchCert(), seed: o.seed ?? 1, ...(o.tlsShare !== undefined ? { tlsShare: o.tlsShare } : {}) }) : undefined;
    const background = gen ? gen.objects : [];
    const own = backends.flatMap((b, i) => serviceObjects(`be${i}`, [b]));
    const classObj = { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: BENCH_CLASS }, spec: { controller: 'xgate.io/ingress-controller' } } as unknown as WatchedObject;
    const built = cp.controller.nextBuild();
    cp.store.replace([classObj, ...background, ...own, ...(o.initial?.(backends) ?? [])], WATCHED_KINDS);
    const t0 = performance.now();
    await built;
    o.log(`gateway: ${o.n} background Ingresses (${background.length} objects) translated in ${Math.round(performance.now() - t0)} ms`);
    envoy = await startEnvoy({ xdsPort: cp.xdsPort, nodeId: `bench-${process.pid}-${Date.now()}`, logLevel: 'warning', concurrency: o.envoyConcurrency ?? 1, startTimeoutMs: 60_000, ...(o.clusterStats ? { clusterStats: o.clusterStats } : {}), ...(o.configureEnvoy ? { configure: o.configureEnvoy } : {}) });
    const t1 = performance.now();
    await envoy.waitReady(300_000);
    await envoy.waitForListener('http', 300_000);
    o.log(`gateway: Envoy ready in ${Math.round(performance.now() - t1)} ms`);
    // The listener is there before Envoy has applied every route table and endpoint of the
    // initial load; measured changes start once Envoy's CPU use has settled.
    const t2 = performance.now();
    await envoyIdle(envoy.pid, 120_000);
    o.log(`gateway: Envoy idle after ${Math.round(performance.now() - t2)} ms more`);
    const running = { cp, envoy };
    return {
      cp,
      envoy,
      httpPort,
      backends,
      background,
      apply: (objs) => {
        for (const x of objs) running.cp.store.upsert(x);
      },
      remove: (obj) => running.cp.store.remove(obj.kind, `${(obj.metadata as { namespace?: string }).namespace}/${obj.metadata.name}`),
      nextBuild: () => running.cp.controller.nextBuild(),
      close: async () => {
        await envoy?.stop();
        await cp?.close();
        for (const b of backends) await b.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await envoy?.stop().catch(() => undefined);
    await cp?.close().catch(() => undefined);
    for (const b of backends) await b.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/** A process's CPU time so far (utime + stime) in clock ticks (100 per second); undefined once it is gone. */
export function cpuTicksOf(pid: number): number | undefined {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return undefined;
  }
}

/** Resolves once the process used under 5 % of a core over two 250 ms windows in a row (or after `timeoutMs`). */
export async function envoyIdle(pid: number, timeoutMs: number): Promise<void> {
  const ticks = (): number | undefined => cpuTicksOf(pid);
  const end = performance.now() + timeoutMs;
  let quiet = 0;
  let last = ticks();
  while (last !== undefined && quiet < 2 && performance.now() < end) {
    await new Promise((r) => setTimeout(r, 250));
    const now = ticks();
    if (now === undefined) return;
    quiet = now - last <= 1 ? quiet + 1 : 0;
    last = now;
  }
}
