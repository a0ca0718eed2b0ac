import { describe, expect, it } from 'vitest';
import { Metrics, countResources } from '../../control-plane/src/admin/metrics.js';
import type { NodeInfo, Snapshot } from '../../control-plane/src/xds/cache/types.js';
import { CLUSTER, ENDPOINT, LISTENER, ROUTE, SECRET, TYPE_URLS, type TypeUrl } from '../../control-plane/src/xds/type-urls.js';
import { DIAGNOSTICS, envoyResources, fakeSnapshot } from './fakes.js';

const envoyNode = (id: string): NodeInfo => ({ id, cluster: 'gw', userAgentName: 'envoy', metadata: {} });
const grpcNode = (id: string): NodeInfo => ({ id, cluster: 'app', userAgentName: 'gRPC Node Pure JS', metadata: {} });

/** The value of one sample line, e.g. sample(text, 'xgate_xds_acks_total{type="cds"}'). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

function clock() {
  let t = 1000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

/** Sends and ACKs every type of the snapshot on a stream, as a well-behaved Envoy would. */
function ackAll(m: Metrics, streamId: number, snap: Snapshot, types: readonly TypeUrl[] = TYPE_URLS) {
  const o = m.xdsObserver();
  for (const t of types) {
    o.sent(streamId, t, snap.types[t].version, [...snap.types[t].resources.keys()], `n${streamId}${t}`);
    o.acked(streamId, t, snap.types[t].version, [...snap.types[t].resources.keys()]);
  }
}

describe('Metrics', () => {
  it('exposes every xgate metric after the composition root and the observer report', async () => {
    const m = new Metrics();
    const o = m.xdsObserver();
    expect(m.xdsObserver()).toBe(o);

    m.observeTranslation('full', 0.05);
    m.observeTranslation('endpoints', 0.001);
    m.setResources('envoy', countResources(envoyResources()));
    m.setResources('grpc', { lds: 1 });
    m.setDiagnostics(DIAGNOSTICS);
    const snap = fakeSnapshot(envoyResources());
    m.snapshotPublished('envoy', snap.version, snap);

    o.connected(1, envoyNode('e1'), 'sotw');
    o.connected(2, envoyNode('e2'), 'delta');
    o.connected(3, grpcNode('g1'), 'sotw');
    o.sent(1, CLUSTER, 'v1', ['a'], 'n1');
    o.acked(1, CLUSTER, 'v1', ['a']);
    o.sent(1, LISTENER, 'v1', ['l'], 'n2');
    o.nacked(1, LISTENER, 'v1', 'bad listener');
    o.sent(2, SECRET, 'v1', ['s'], 'n3');
    o.sent(2, ENDPOINT, 'v1', ['e'], 'n4');
    o.sent(2, ROUTE, 'v1', ['r'], 'n5');

    const text = await m.text();
    for (const name of [
      'xgate_connected_proxies',
      'xgate_xds_pushes_total',
      'xgate_xds_acks_total',
      'xgate_xds_nacks_total',
      'xgate_translation_duration_seconds',
      'xgate_push_duration_seconds',
      'xgate_resources',
      'xgate_diagnostics',
      'xgate_diagnostics_total',
      'xgate_snapshot_version_info',
      'xgate_snapshots_total',
      'xgate_process_cpu_user_seconds_total',
    ]) {
      expect(text, name).toContain(`# TYPE ${name} `);
    }
    expect(sample(text, 'xgate_connected_proxies{group="envoy",kind="sotw"}')).toBe(1);
    expect(sample(text, 'xgate_connected_proxies{group="envoy",kind="delta"}')).toBe(1);
    expect(sample(text, 'xgate_connected_proxies{group="grpc",kind="sotw"}')).toBe(1);
    for (const [type, n] of [['cds', 1], ['lds', 1], ['sds', 1], ['eds', 1], ['rds', 1]] as const) {
      expect(sample(text, `xgate_xds_pushes_total{type="${type}"}`), type).toBe(n);
    }
    expect(sample(text, 'xgate_xds_acks_total{type="cds"}')).toBe(1);
    expect(sample(text, 'xgate_xds_nacks_total{type="lds"}')).toBe(1);
    expect(sample(text, 'xgate_translation_duration_seconds_count{scope="full"}')).toBe(1);
    expect(sample(text, 'xgate_translation_duration_seconds_sum{scope="endpoints"}')).toBe(0.001);
    expect(sample(text, 'xgate_resources{group="envoy",type="cds"}')).toBe(2);
    expect(sample(text, 'xgate_resources{group="envoy",type="sds"}')).toBe(1);
    expect(sample(text, 'xgate_resources{group="grpc",type="lds"}')).toBe(1);
    expect(sample(text, 'xgate_resources{group="grpc",type="cds"}')).toBe(0);
    expect(sample(text, 'xgate_diagnostics{code="XG_SERVICE_NOT_FOUND",level="error"}')).toBe(2);
    expect(sample(text, 'xgate_diagnostics{code="XG_ANNOTATION_UNKNOWN",level="warning"}')).toBe(1);
    expect(sample(text, 'xgate_diagnostics_total{code="XG_SERVICE_NOT_FOUND"}')).toBe(2);
    expect(sample(text, `xgate_snapshot_version_info{group="envoy",version="${snap.version}"}`)).toBe(1);
    expect(sample(text, 'xgate_snapshots_total{group="envoy"}')).toBe(1);

    o.disconnected(2);
    o.disconnected(2); // twice is harmless
    o.disconnected(99); // unknown stream is harmless
    expect(sample(await m.text(), 'xgate_connected_proxies{group="envoy",kind="delta"}')).toBe(0);
  });

  it('owns its registry: two instances do not collide and the global registry stays empty', async () => {
    const a = new Metrics({ defaultMetrics: false });
    const b = new Metrics({ defaultMetrics: false });
    a.observeTranslation('full', 1);
    expect(sample(await a.text(), 'xgate_translation_duration_seconds_count{scope="full"}')).toBe(1);
    expect(sample(await b.text(), 'xgate_translation_duration_seconds_count{scope="full"}')).toBeUndefined();
    const { register } = await import('prom-client');
    expect(await register.getSingleMetric('xgate_resources')).toBeUndefined();
    expect(a.contentType).toMatch(/^text\/plain/);
  });

  it('keeps one version label per group', async () => {
    const m = new Metrics({ defaultMetrics: false });
    m.snapshotPublished('envoy', 'v1');
    m.snapshotPublished('envoy', 'v2');
    m.snapshotPublished('grpc', 'g1');
    const text = await m.text();
    expect(sample(text, 'xgate_snapshot_version_info{group="envoy",version="v1"}')).toBeUndefined();
    expect(sample(text, 'xgate_snapshot_version_info{group="envoy",version="v2"}')).toBe(1);
    expect(sample(text, 'xgate_snapshot_version_info{group="grpc",version="g1"}')).toBe(1);
    expect(sample(text, 'xgate_snapshots_total{group="envoy"}')).toBe(2);
  });

  it('counts a diagnostic once while it persists, and shows 0 for a code that went away', async () => {
    const m = new Metrics({ defaultMetrics: false });
    m.setDiagnostics(DIAGNOSTICS);
    m.setDiagnostics(DIAGNOSTICS);
    let text = await m.text();
    expect(sample(text, 'xgate_diagnostics_total{code="XG_SERVICE_NOT_FOUND"}')).toBe(2);
    expect(sample(text, 'xgate_diagnostics{code="XG_SERVICE_NOT_FOUND",level="error"}')).toBe(2);

    m.setDiagnostics([DIAGNOSTICS[0]!]);
    text = await m.text();
    expect(sample(text, 'xgate_diagnostics{code="XG_SERVICE_NOT_FOUND",level="error"}')).toBe(1);
    expect(sample(text, 'xgate_diagnostics{code="XG_ANNOTATION_UNKNOWN",level="warning"}')).toBe(0);
    expect(sample(text, 'xgate_diagnostics_total{code="XG_SERVICE_NOT_FOUND"}')).toBe(2);

    m.setDiagnostics(DIAGNOSTICS); // the warning comes back: it is new again
    expect(sample(await m.text(), 'xgate_diagnostics_total{code="XG_ANNOTATION_UNKNOWN"}')).toBe(2);
  });

  it('setResources takes EnvoyResources directly', async () => {
    const m = new Metrics({ defaultMetrics: false });
    m.setResources('envoy', envoyResources());
    expect(sample(await m.text(), 'xgate_resources{group="envoy",type="lds"}')).toBe(1);
  });
});

describe('xgate_push_duration_seconds', () => {
  const count = async (m: Metrics, group = 'envoy') => sample(await m.text(), `xgate_push_duration_seconds_count{group="${group}"}`) ?? 0;
  const sum = async (m: Metrics, group = 'envoy') => sample(await m.text(), `xgate_push_duration_seconds_sum{group="${group}"}`);

  it('times publish → the last connected proxy of the group ACKed every type it receives', async () => {
    const c = clock();
    const m = new Metrics({ defaultMetrics: false, now: c.now });
    const o = m.xdsObserver();
    const v1 = fakeSnapshot(envoyResources());
    o.connected(1, envoyNode('e1'), 'sotw');
    o.connected(2, envoyNode('e2'), 'sotw');
    o.connected(3, grpcNode('g1'), 'sotw'); // another group: not waited for
    ackAll(m, 1, v1);
    ackAll(m, 2, v1);
    ackAll(m, 3, v1, [LISTENER]);

    const v2 = fakeSnapshot(envoyResources(), '-2');
    m.snapshotPublished('envoy', v2.version, v2);
    c.advance(100);
    ackAll(m, 1, v2);
    expect(await count(m)).toBe(0);
    c.advance(150);
    ackAll(m, 2, v2, [CLUSTER, ENDPOINT, SECRET, LISTENER]);
    expect(await count(m)).toBe(0); // RDS not ACKed yet
    ackAll(m, 2, v2, [ROUTE]);
    expect(await count(m)).toBe(1);
    expect(await sum(m)).toBe(0.25);
    expect(await count(m, 'grpc')).toBe(0);
  });

  it('is not observed when a proxy NACKs or a newer snapshot supersedes it', async () => {
    const c = clock();
    const m = new Metrics({ defaultMetrics: false, now: c.now });
    const o = m.xdsObserver();
    const v1 = fakeSnapshot(envoyResources());
    o.connected(1, envoyNode('e1'), 'sotw');
    ackAll(m, 1, v1);

    const v2 = fakeSnapshot(envoyResources(), '-2');
    m.snapshotPublished('envoy', v2.version, v2);
    o.sent(1, CLUSTER, v2.types[CLUSTER].version, [], 'n');
    o.nacked(1, CLUSTER, v2.types[CLUSTER].version, 'rejected');
    ackAll(m, 1, v2, TYPE_URLS.filter((t) => t !== CLUSTER));
    expect(await count(m)).toBe(0);

    const v3 = fakeSnapshot(envoyResources(), '-3');
    const v4 = fakeSnapshot(envoyResources(), '-4');
    m.snapshotPublished('envoy', v3.version, v3);
    c.advance(10);
    m.snapshotPublished('envoy', v4.version, v4);
    c.advance(20);
    ackAll(m, 1, v3); // stale ACKs do not complete v4
    expect(await count(m)).toBe(0);
    ackAll(m, 1, v4);
    expect(await count(m)).toBe(1);
    expect(await sum(m)).toBe(0.02);
  });

  it('ignores proxies that connect after the publish and stops waiting for ones that leave', async () => {
    const c = clock();
    const m = new Metrics({ defaultMetrics: false, now: c.now });
    const o = m.xdsObserver();
    const v1 = fakeSnapshot(envoyResources());
    o.connected(1, envoyNode('e1'), 'sotw');
    o.connected(2, envoyNode('e2'), 'sotw');
    ackAll(m, 1, v1);
    ackAll(m, 2, v1);

    const v2 = fakeSnapshot(envoyResources(), '-2');
    m.snapshotPublished('envoy', v2.version, v2);
    o.connected(3, envoyNode('e3'), 'sotw'); // never ACKs: not waited for
    c.advance(40);
    ackAll(m, 1, v2);
    c.advance(60);
    o.disconnected(2); // every proxy still connected has it: the push ended with 1's ACK
    expect(await count(m)).toBe(1);
    expect(await sum(m)).toBe(0.04);
  });

  it('measures nothing when the only proxy it waited for leaves', async () => {
    const m = new Metrics({ defaultMetrics: false });
    const o = m.xdsObserver();
    const v1 = fakeSnapshot(envoyResources());
    o.connected(1, envoyNode('e1'), 'delta');
    ackAll(m, 1, v1);
    const v2 = fakeSnapshot(envoyResources(), '-2');
    m.snapshotPublished('envoy', v2.version, v2);
    o.disconnected(1);
    ackAll(m, 1, v2); // events of a closed stream only count
    expect(await count(m)).toBe(0);
    expect(sample(await m.text(), 'xgate_xds_acks_total{type="cds"}')).toBe(2);
  });

  it('records 0 when every proxy already has the snapshot, and nothing without proxies or a Snapshot', async () => {
    const m = new Metrics({ defaultMetrics: false });
    const v1 = fakeSnapshot(envoyResources());
    m.snapshotPublished('envoy', v1.version, v1); // no proxy connected
    m.snapshotPublished('envoy', 'x'); // no Snapshot given
    expect(await count(m)).toBe(0);
    m.xdsObserver().connected(1, envoyNode('e1'), 'sotw');
    ackAll(m, 1, v1);
    m.snapshotPublished('envoy', v1.version, v1);
    expect(await count(m)).toBe(1);
    expect(await sum(m)).toBe(0);
  });
});
