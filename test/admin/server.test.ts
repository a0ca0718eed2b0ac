import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { Metrics } from '../../control-plane/src/admin/metrics.js';
import { buildAdminApp, startAdmin, type AdminServer, type ProxiesView } from '../../control-plane/src/admin/server.js';
import { createLogger } from '../../control-plane/src/log.js';
import { CLUSTER, SECRET } from '../../control-plane/src/xds/type-urls.js';
import { DIAGNOSTICS, FakeState, envoyResources, fakeSnapshot, publishedState } from './fakes.js';

const noProxies: ProxiesView = { list: () => [] };

function app(state = publishedState(), proxies: ProxiesView = noProxies, metrics = new Metrics({ defaultMetrics: false })) {
  return buildAdminApp({ state, metrics, proxies });
}

describe('GET /healthz', () => {
  it('is 200 ok, even before ready', async () => {
    const res = await app(new FakeState()).inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json()).toEqual({ status: 'ok' });
    expect(res.body).toContain('\n  "status"'); // indented for curl
  });
});

describe('GET /readyz', () => {
  it('flips from 503 to 200 with the state', async () => {
    const state = new FakeState();
    const a = app(state);
    let res = await a.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ status: 'not ready', reason: expect.stringContaining('no complete snapshot') });

    state.snaps = { envoy: fakeSnapshot(envoyResources()) };
    res = await a.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json().reason).toContain('envoy');

    state.ready = true;
    res = await a.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ready' });

    state.ready = false;
    res = await a.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
  });
});

describe('GET /metrics', () => {
  it('serves the Prometheus text of the registry with its content type', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    metrics.observeTranslation('full', 0.02);
    metrics.xdsObserver().connected(1, { id: 'n1', cluster: 'c', userAgentName: 'envoy', metadata: {} }, 'sotw');
    const res = await app(publishedState(), noProxies, metrics).inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe(metrics.contentType);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.body).toContain('xgate_translation_duration_seconds_count{scope="full"} 1');
    expect(res.body).toContain('xgate_connected_proxies{group="envoy",kind="sotw"} 1');
  });
});

describe('GET /debug/snapshot', () => {
  it('shows every group and type with versions and redacted resources', async () => {
    const state = publishedState();
    const snap = state.snaps['envoy']!;
    const res = await app(state).inject({ method: 'GET', url: '/debug/snapshot' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    const envoy = body.groups.envoy;
    expect(envoy.version).toBe(snap.version);
    expect(Object.keys(envoy.types).sort()).toEqual(['cds', 'eds', 'lds', 'rds', 'sds', 'srds']);
    expect(envoy.types.cds).toMatchObject({ typeUrl: CLUSTER, version: snap.types[CLUSTER].version, count: 2 });
    // sorted by name, each with the version from the Snapshot
    expect(envoy.types.cds.resources.map((r: { name: string }) => r.name)).toEqual(['ns/api/8080', 'ns/svc/80']);
    expect(envoy.types.cds.resources[1]).toEqual({
      name: 'ns/svc/80',
      version: snap.types[CLUSTER].resources.get('ns/svc/80')!.version,
      resource: { name: 'ns/svc/80', type: 'EDS' },
    });
    const secret = envoy.types.sds.resources[0];
    expect(secret.version).toBe(snap.types[SECRET].resources.get('ns/s')!.version);
    expect(secret.resource.tls_certificate.private_key).toBe('[redacted]');
    expect(secret.resource.tls_certificate.certificate_chain.inline_string).toBe('CERT');
  });

  it('never shows a private key, filtered or not', async () => {
    const state = publishedState();
    // A key inlined outside the secrets too (defense in depth).
    state.groupResources = {
      envoy: { ...envoyResources(), listeners: [{ name: 'l', tls: { private_key: { inline_string: 'KEY' } } }] },
      grpc: envoyResources(),
    };
    const a = app(state);
    for (const url of ['/debug/snapshot', '/debug/snapshot?type=sds', '/debug/snapshot?group=grpc&type=sds', '/debug/snapshot?type=lds']) {
      const res = await a.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      expect(res.body, url).not.toContain('KEY');
    }
    // the fake state itself was not modified
    expect(state.groupResources['envoy']!.secrets[0]).toMatchObject({ tls_certificate: { private_key: { inline_string: 'KEY' } } });
  });

  it('filters by group and type (short name, type URL, or a list)', async () => {
    const state = publishedState();
    state.groupResources = { ...state.groupResources, grpc: envoyResources() };
    const a = app(state);
    let body = (await a.inject({ method: 'GET', url: '/debug/snapshot?group=envoy&type=cds' })).json();
    expect(Object.keys(body.groups)).toEqual(['envoy']);
    expect(Object.keys(body.groups.envoy.types)).toEqual(['cds']);

    body = (await a.inject({ method: 'GET', url: `/debug/snapshot?type=${encodeURIComponent(SECRET)},eds` })).json();
    expect(Object.keys(body.groups).sort()).toEqual(['envoy', 'grpc']);
    expect(Object.keys(body.groups.envoy.types)).toEqual(['sds', 'eds']);
    // grpc has resources but no published snapshot yet: versions are null
    expect(body.groups.grpc.version).toBeNull();
    expect(body.groups.grpc.types.eds.resources[0]).toMatchObject({ name: 'ns/svc/80', version: null });
  });

  it('rejects unknown types (400) and groups (404)', async () => {
    const a = app();
    let res = await a.inject({ method: 'GET', url: '/debug/snapshot?type=xds' });
    expect(res.statusCode).toBe(400);
    expect(res.json().types).toEqual(expect.arrayContaining(['lds', 'rds', 'cds', 'eds', 'sds']));
    res = await a.inject({ method: 'GET', url: '/debug/snapshot?group=nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json().groups).toEqual(['envoy']);
  });

  it('is empty before anything is translated', async () => {
    const res = await app(new FakeState()).inject({ method: 'GET', url: '/debug/snapshot' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ groups: {} });
  });
});

describe('GET /debug/proxies', () => {
  it('lists what the registry lists, JSON-friendly and redacted', async () => {
    const proxies: ProxiesView = {
      list: () => [
        {
          streamId: 1,
          node: { id: 'envoy-1', cluster: 'gw', metadata: { password: 'PW' } },
          kind: 'sotw',
          acked: new Map([['cds', 'v1']]),
          subscribed: new Set(['a', 'b']),
        },
      ],
    };
    const res = await app(publishedState(), proxies).inject({ method: 'GET', url: '/debug/proxies' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      count: 1,
      proxies: [
        {
          streamId: 1,
          node: { id: 'envoy-1', cluster: 'gw', metadata: { password: '[redacted]' } },
          kind: 'sotw',
          acked: { cds: 'v1' },
          subscribed: ['a', 'b'],
        },
      ],
    });
  });
});

describe('GET /debug/diagnostics', () => {
  it('lists every diagnostic, sorted, with counts by level', async () => {
    const state = publishedState();
    state.diags = [...DIAGNOSTICS];
    const body = (await app(state).inject({ method: 'GET', url: '/debug/diagnostics' })).json();
    expect(body.counts).toEqual({ total: 3, error: 2, warning: 1, byCode: { XG_SERVICE_NOT_FOUND: 2, XG_ANNOTATION_UNKNOWN: 1 } });
    expect(body.diagnostics.map((d: { object: { namespace: string } }) => d.object.namespace)).toEqual(['blog', 'shop', 'shop']);
    expect(body.diagnostics[0].text).toBe('error XG_SERVICE_NOT_FOUND Ingress blog/site: Service blog/gone does not exist');
  });

  it('filters by namespace and name', async () => {
    const state = publishedState();
    state.diags = [...DIAGNOSTICS];
    const a = app(state);
    let body = (await a.inject({ method: 'GET', url: '/debug/diagnostics?namespace=shop&name=web' })).json();
    expect(body.counts).toMatchObject({ total: 2, error: 1, warning: 1 });
    body = (await a.inject({ method: 'GET', url: '/debug/diagnostics?namespace=shop&name=site' })).json();
    expect(body).toEqual({ counts: { total: 0, error: 0, warning: 0, byCode: {} }, diagnostics: [] });
    body = (await a.inject({ method: 'GET', url: '/debug/diagnostics?level=error' })).json();
    expect(body.counts.total).toBe(2);
  });
});

describe('errors', () => {
  it('a failing state read is a 500, logged as an error', async () => {
    const state = publishedState();
    state.diagnostics = () => {
      throw new Error('state broke');
    };
    const logStream = new PassThrough();
    let logged = '';
    logStream.on('data', (c: Buffer) => (logged += c.toString()));
    const a = buildAdminApp({
      state,
      metrics: new Metrics({ defaultMetrics: false }),
      proxies: noProxies,
      logger: createLogger({ level: 'info', destination: logStream }),
    });
    const res = await a.inject({ method: 'GET', url: '/debug/diagnostics' });
    expect(res.statusCode).toBe(500);
    await a.inject({ method: 'GET', url: '/healthz' }); // successful probes are not logged at info
    const lines = logged.trim().split('\n').map((l) => JSON.parse(l) as { level: string; msg: string; err?: { message: string } });
    expect(lines.some((l) => l.level === 'error' && l.err?.message === 'state broke')).toBe(true);
    expect(lines.some((l) => l.msg === 'request completed')).toBe(false);
  });
});

describe('startAdmin', () => {
  let server: AdminServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('listens on 127.0.0.1 and an ephemeral port, serves real HTTP, and closes', async () => {
    const state = publishedState();
    state.diags = [...DIAGNOSTICS];
    const logStream = new PassThrough();
    let logged = '';
    logStream.on('data', (c: Buffer) => (logged += c.toString()));
    server = await startAdmin({
      port: 0,
      state,
      metrics: new Metrics(),
      proxies: noProxies,
      logger: createLogger({ level: 'info', destination: logStream }),
    });
    expect(server.host).toBe('127.0.0.1');
    expect(server.port).toBeGreaterThan(0);
    const base = `http://127.0.0.1:${server.port}`;

    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    expect((await fetch(`${base}/readyz`)).status).toBe(200);

    const metrics = await fetch(`${base}/metrics`);
    const text = await metrics.text();
    expect(text).toContain('xgate_process_cpu_user_seconds_total'); // default process metrics, prefixed
    expect(text).toContain('xgate_nodejs_eventloop_lag_seconds');

    const snap = await (await fetch(`${base}/debug/snapshot`)).text();
    expect(snap).not.toContain('KEY');
    expect(snap).toContain('[redacted]');
    expect((await fetch(`${base}/debug/proxies`)).status).toBe(200);
    const diags = (await (await fetch(`${base}/debug/diagnostics?namespace=blog`)).json()) as { counts: { total: number } };
    expect(diags.counts.total).toBe(1);
    expect((await fetch(`${base}/nope`)).status).toBe(404);

    expect(logged).toContain('admin server listening');
    await server.close();
    await server.close(); // idempotent
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
    server = undefined;
  });
});
