// The Envoy runner against the real binary. No skip: without the binary these fail.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { envoyBinary, envoyVersion, PINNED_ENVOY_VERSION } from '../../envoy/binary.js';
import { runningEnvoyCount, startEnvoy, waitForHttp } from '../../envoy/runner.js';
import { request, testBackend } from '../helpers/backends.js';
import { testEnvoy } from '../helpers/envoy.js';
import { freePort, freePorts } from '../helpers/ports.js';

const here = dirname(fileURLToPath(import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** True while `pid` is a live (non-zombie) process. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function waitDead(pid: number, timeoutMs = 5_000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (alive(pid)) {
    if (Date.now() > until) return false;
    await sleep(20);
  }
  return true;
}

/** A bootstrap edit: no xDS, a static cluster `backend` and a listener on `port` routing example.com to it. */
function staticBackend(backend: { host: string; port: number }, port: number): (b: Record<string, unknown>) => void {
  const listenerPort = port;
  return (b) => {
    // No control plane: drop LDS/CDS so initialisation completes, add static pieces.
    b['dynamic_resources'] = {};
    const statics = b['static_resources'] as { clusters: unknown[]; listeners?: unknown[] };
    statics.clusters.push({
      name: 'backend',
      type: 'STATIC',
      connect_timeout: '1s',
      load_assignment: { cluster_name: 'backend', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: backend.host, port_value: backend.port } } } }] }] },
    });
    statics.listeners = [
      {
        name: 'http',
        address: { socket_address: { address: '127.0.0.1', port_value: listenerPort } },
        filter_chains: [
          {
            filters: [
              {
                name: 'envoy.filters.network.http_connection_manager',
                typed_config: {
                  '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
                  stat_prefix: 'http',
                  route_config: { name: 'r', virtual_hosts: [{ name: 'v', domains: ['example.com'], routes: [{ match: { prefix: '/' }, route: { cluster: 'backend' } }] }] },
                  http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }],
                },
              },
            ],
          },
        ],
      },
    ];
  };
}

describe('envoy binary', () => {
  it('is the pinned version', () => {
    expect(envoyVersion(envoyBinary()).version).toBe(PINNED_ENVOY_VERSION);
  });

  it('startEnvoy throws a clear error when the binary is missing', async () => {
    const saved = process.env['XGATE_ENVOY_BIN'];
    process.env['XGATE_ENVOY_BIN'] = '/nonexistent/envoy';
    try {
      await expect(startEnvoy({ xdsPort: 18000, nodeId: 'x' })).rejects.toThrow(/not found.*npm run install-envoy/s);
    } finally {
      if (saved === undefined) delete process.env['XGATE_ENVOY_BIN'];
      else process.env['XGATE_ENVOY_BIN'] = saved;
    }
  });
});

describe('startEnvoy', () => {
  it('starts with nothing on the xDS port, answers on 127.0.0.1 admin, and stop() leaves no process', async () => {
    const xdsPort = await freePort();
    const envoy = await startEnvoy({ xdsPort, nodeId: 'runner-test-1' });
    expect(alive(envoy.pid)).toBe(true);
    expect(envoy.adminUrl).toBe(`http://127.0.0.1:${envoy.adminPort}`);

    const info = JSON.parse((await envoy.admin('/server_info')).body) as {
      version: string;
      state: string;
      command_line_options: { service_node: string; service_cluster: string; concurrency: number };
      node: { id: string; cluster: string };
    };
    expect(info.version).toContain('/1.39.3/');
    expect(info.node).toMatchObject({ id: 'runner-test-1', cluster: 'xgate-gateway' });
    // No control plane: Envoy waits for its first LDS/CDS, so it is not LIVE.
    expect(['PRE_INITIALIZING', 'INITIALIZING']).toContain(info.state);
    expect((await envoy.admin('/ready')).status).toBe(503);

    const stats = await envoy.stats();
    expect(typeof stats['server.live']).toBe('number');
    expect(stats['control_plane.connected_state']).toBe(0);
    const dump = (await envoy.configDump()) as { configs: Array<Record<string, unknown>> };
    const boot = JSON.stringify(dump.configs[0]);
    expect(boot).toContain('"api_type":"DELTA_GRPC"');
    expect(boot).toContain(`"port_value":${xdsPort}`);
    // Stats are flushed when the admin endpoint asks, not every 5 s (bootstrap.yaml), and
    // the admin's server gauges are current all the same.
    expect(boot).toContain('"stats_flush_on_admin":true');
    const up = (await envoy.stats('^server\\.uptime$'))['server.uptime']!;
    await new Promise((r) => setTimeout(r, 2100));
    expect((await envoy.stats('^server\\.uptime$'))['server.uptime']).toBeGreaterThanOrEqual(up + 2);
    expect(readFileSync(envoy.logFile, 'utf8')).toContain('starting main dispatch loop');

    await envoy.stop();
    expect(alive(envoy.pid)).toBe(false);
    expect(existsSync(envoy.workDir)).toBe(false);
    await envoy.stop(); // idempotent
  });

  it('connects to the xDS port over HTTP/2 with a delta ADS stream (sotw when asked)', async () => {
    const seen: Array<{ path: string; contentType: string; firstMessage: Buffer }> = [];
    const server = http2.createServer();
    server.on('stream', (stream, headers) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => {
        chunks.push(c);
        if (chunks.length === 1) seen.push({ path: String(headers[':path']), contentType: String(headers['content-type']), firstMessage: Buffer.concat(chunks) });
      });
      stream.on('error', () => undefined);
    });
    const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
    try {
      const delta = await testEnvoy({ xdsPort: port, nodeId: 'delta-node' });
      const sotw = await testEnvoy({ xdsPort: port, nodeId: 'sotw-node', xdsApi: 'sotw' });
      const until = Date.now() + 10_000;
      while (seen.length < 2 && Date.now() < until) await sleep(20);
      const paths = seen.map((s) => s.path).sort();
      expect(paths).toEqual([
        '/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources',
        '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources',
      ]);
      expect(seen.every((s) => s.contentType === 'application/grpc')).toBe(true);
      const byPath = (p: string): string => seen.find((s) => s.path.endsWith(p))!.firstMessage.toString('latin1');
      expect(byPath('DeltaAggregatedResources')).toContain('delta-node');
      expect(byPath('StreamAggregatedResources')).toContain('sotw-node');
      await Promise.all([delta.stop(), sotw.stop()]);
    } finally {
      server.close();
    }
  });

  it('runs several Envoys at once (no hot-restart base id to collide)', async () => {
    const xdsPort = await freePort();
    const envoys = await Promise.all([1, 2, 3].map((i) => testEnvoy({ xdsPort, nodeId: `parallel-${i}` })));
    expect(new Set(envoys.map((e) => e.adminPort)).size).toBe(3);
    for (const e of envoys) expect((await e.admin('/server_info')).status).toBe(200);
    await Promise.all(envoys.map((e) => e.stop()));
    expect(envoys.every((e) => !alive(e.pid))).toBe(true);
  });

  it('serves a static listener to an example backend: waitReady, waitForListener, waitForHttp', async () => {
    const backend = await testBackend({ name: 'static-backend', host: '127.0.0.2' });
    const [listenerPort] = await freePorts(1);
    const envoy = await testEnvoy({ xdsPort: 1, nodeId: 'static-node', configure: staticBackend(backend, listenerPort) });
    await envoy.waitReady(10_000);
    expect(await envoy.waitForListener('http', 5_000)).toEqual({ address: '127.0.0.1', port: listenerPort });
    const url = `http://127.0.0.1:${listenerPort}/a/b?c=d`;
    await waitForHttp(url, { host: 'example.com', status: 200 });
    const res = await request(url, { host: 'example.com', headers: { 'x-test': '1' } });
    expect(res.status).toBe(200);
    expect(res.echo).toMatchObject({ backend: 'static-backend', method: 'GET', path: '/a/b?c=d', host: 'example.com' });
    expect(res.echo?.headers['x-test']).toBe('1');
    expect((await request(url, { host: 'other.example' })).status).toBe(404);
    const stats = await envoy.stats('^cluster\\.backend\\.upstream_rq_total$');
    expect(stats['cluster.backend.upstream_rq_total']).toBeGreaterThanOrEqual(2);
    expect(backend.requests).toBeGreaterThanOrEqual(2);
    await expect(envoy.waitForListener('nope', 200)).rejects.toThrow(/listener nope not active/);
  });

  it("makes a cluster's traffic stats when it first carries a request (bootstrap deferred_stat_options), its other stats with it", async () => {
    const backend = await testBackend({ name: 'deferred-backend', host: '127.0.0.2' });
    const [listenerPort] = await freePorts(1);
    const envoy = await testEnvoy({ xdsPort: 1, nodeId: 'deferred-stats', configure: staticBackend(backend, listenerPort!) });
    try {
      await envoy.waitReady(10_000);
      await envoy.waitForListener('http', 5_000);
      const before = await envoy.stats('^cluster\\.backend\\.');
      expect(before['cluster.backend.membership_healthy']).toBe(1);
      expect(before['cluster.backend.upstream_rq_total']).toBeUndefined();
      const url = `http://127.0.0.1:${listenerPort}/`;
      await waitForHttp(url, { host: 'example.com', status: 200 });
      expect((await request(url, { host: 'example.com' })).status).toBe(200);
      const after = await envoy.stats('^cluster\\.backend\\.');
      expect(after['cluster.backend.upstream_rq_total']).toBeGreaterThanOrEqual(2);
      expect(after['cluster.backend.upstream_rq_2xx']).toBeGreaterThanOrEqual(2);
    } finally {
      await envoy.stop();
    }
  });

  it('keeps only the chosen per-cluster stats (clusterStats: essential, none), every other stat as before', async () => {
    const backend = await testBackend({ name: 'stats-backend', host: '127.0.0.2' });
    const seen: Record<string, Record<string, number>> = {};
    for (const mode of ['all', 'essential', 'none'] as const) {
      const [listenerPort] = await freePorts(1);
      const envoy = await testEnvoy({ xdsPort: 1, nodeId: `stats-${mode}`, clusterStats: mode, configure: staticBackend(backend, listenerPort!) });
      await envoy.waitReady(10_000);
      const url = `http://127.0.0.1:${listenerPort}/`;
      await waitForHttp(url, { host: 'example.com', status: 200 });
      expect((await request(url, { host: 'example.com' })).status).toBe(200);
      seen[mode] = await envoy.stats();
      await envoy.stop();
    }
    const backendStats = (m: string) => Object.keys(seen[m]!).filter((k) => k.startsWith('cluster.backend.'));
    // Every stat outside `cluster.` is kept whatever the mode (the listener's, the HTTP connection manager's, the server's).
    for (const m of ['essential', 'none']) {
      for (const k of ['http.http.downstream_rq_total', 'listener_manager.total_listeners_active', 'server.live', 'cluster_manager.active_clusters']) expect(seen[m]![k], `${m}: ${k}`).toBeTypeOf('number');
    }
    expect(seen['all']!['http.http.downstream_rq_2xx']).toBeGreaterThanOrEqual(2);
    expect(seen['essential']!['http.http.downstream_rq_2xx']).toBeGreaterThanOrEqual(2);
    // essential: requests and connections, not the ~100 others.
    expect(seen['essential']!['cluster.backend.upstream_rq_total']).toBeGreaterThanOrEqual(2);
    expect(seen['essential']!['cluster.backend.upstream_rq_2xx']).toBeGreaterThanOrEqual(2);
    expect(seen['essential']!['cluster.backend.membership_healthy']).toBe(1);
    expect(seen['essential']!['cluster.backend.upstream_cx_tx_bytes_total']).toBeUndefined();
    expect(seen['all']!['cluster.backend.upstream_cx_tx_bytes_total']).toBeGreaterThan(0);
    expect(backendStats('essential').length).toBeLessThan(backendStats('all').length / 4);
    expect(backendStats('none')).toEqual([]);
  });

  it('rejects with the log when Envoy exits during start', async () => {
    const before = runningEnvoyCount();
    await expect(
      startEnvoy({ xdsPort: 1, nodeId: 'bad', configure: (b) => (b['static_resources'] = { clusters: [{ name: 'x', type: 'NOPE' }] }) }),
    ).rejects.toThrow(/exited during start[\s\S]*NOPE/);
    expect(runningEnvoyCount()).toBe(before);
  });
});

describe('Envoys outlive no Node process', () => {
  const exitOf = (child: ReturnType<typeof spawn>): Promise<unknown> =>
    new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r)));

  async function startChild(mode: 'exit' | 'wait'): Promise<{ child: ReturnType<typeof spawn>; pid: number; workDir: string }> {
    const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'fixtures', 'envoy-child.ts'), mode], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve, reject) => {
      let buf = '';
      child.stdout!.on('data', (c: Buffer) => {
        buf += c.toString();
        const nl = buf.indexOf('\n');
        if (nl >= 0) resolve(buf.slice(0, nl));
      });
      child.once('exit', (code) => reject(new Error(`child exited (${code}) before starting Envoy: ${buf}`)));
    });
    const { pid, workDir } = JSON.parse(line) as { pid: number; workDir: string };
    return { child, pid, workDir };
  }

  it('kills Envoy when the Node process exits', async () => {
    const { child, pid, workDir } = await startChild('exit');
    expect(await waitDead(pid)).toBe(true);
    await exitOf(child);
    expect(existsSync(workDir)).toBe(false); // the exit hook removes it too
  });

  it('kills Envoy when the Node process gets SIGTERM', async () => {
    const { child, pid, workDir } = await startChild('wait');
    expect(alive(pid)).toBe(true);
    child.kill('SIGTERM');
    expect(await waitDead(pid)).toBe(true);
    await exitOf(child);
    expect(existsSync(workDir)).toBe(false);
  });

  it('kills Envoy when the Node process is SIGKILLed (parent-death signal via setpriv)', async () => {
    const { child, pid, workDir } = await startChild('wait');
    expect(alive(pid)).toBe(true);
    child.kill('SIGKILL');
    expect(await waitDead(pid)).toBe(true);
    rmSync(workDir, { recursive: true, force: true }); // nobody else can
  });
});
