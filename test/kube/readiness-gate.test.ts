// The readiness gate against the stand-in API server, with scripted ADS clients as the
// proxies (so each ACK and NACK is under the test's control): a pod declaring
// target-health.xgate.io gets the condition only after EVERY connected proxy has
// ACKed an EDS version holding its address — never before, never for an address that
// was NACKed, never for a pod whose address was never pushed, never for a pod without
// the gate, and only by the leader.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdsClient, ENVOY_NODE, ack, decodeAny, nack, type SotwResponse, type SotwStream } from '../helpers/ads-client.js';
import { testApiServer, type TestApiServer } from '../helpers/fake-apiserver.js';
import { READINESS_GATE_CONDITION } from '../../control-plane/src/status/readiness-gate.js';
import { kubeControlPlane, type KubeControlPlane } from './control-plane.js';
import { sleep } from './helpers.js';
import { INGRESS_CLASS, eventually, ingress, service } from './objects.js';

const EDS = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment';
const CLUSTER = 'default/web/80';

function pod(name: string, ip: string, gated = true) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { app: 'web' } },
    spec: { containers: [{ name: 'web', image: 'web' }], ...(gated ? { readinessGates: [{ conditionType: READINESS_GATE_CONDITION }] } : {}) },
    status: {
      phase: 'Running',
      podIP: ip,
      podIPs: [{ ip }],
      conditions: [
        { type: 'ContainersReady', status: 'True' },
        { type: 'Ready', status: 'False', reason: 'ReadinessGatesNotReady' },
      ],
    },
  };
}

/** The slice as the test's "EndpointSlice controller" writes it (see the note in docs/lossless-rollout.md). */
function slice(ips: readonly string[]) {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'web-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true, serving: true, terminating: false }, targetRef: { kind: 'Pod', namespace: 'default' } })),
  };
}

function addresses(res: SotwResponse): string[] {
  const out: string[] = [];
  for (const any of res.resources) {
    const cla = decodeAny(any) as { endpoints?: Array<{ lb_endpoints?: Array<{ endpoint: { address: { socket_address: { address: string } } } }> }> };
    for (const l of cla.endpoints ?? []) for (const e of l.lb_endpoints ?? []) out.push(e.endpoint.address.socket_address.address);
  }
  return out.sort();
}

describe('readiness gate tied to the ACK (stand-in API server, scripted proxies)', () => {
  let api: TestApiServer;
  let t: KubeControlPlane;
  let c1: AdsClient, c2: AdsClient;
  let s1: SotwStream, s2: SotwStream;

  const condition = (name: string) =>
    ((api.get('v1', 'Pod', 'default', name)?.['status'] as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? []).find(
      (c) => c.type === READINESS_GATE_CONDITION,
    );

  /** Reads responses until one holds exactly `want` addresses. */
  async function until(s: SotwStream, want: readonly string[]): Promise<SotwResponse> {
    for (;;) {
      const r = await s.next(5000);
      if (JSON.stringify(addresses(r)) === JSON.stringify([...want].sort())) return r;
      s.send(ack(r, [CLUSTER]));
    }
  }

  beforeAll(async () => {
    api = await testApiServer();
    api.apply(INGRESS_CLASS);
    api.apply(service('web'));
    api.apply(ingress('shop', 'shop.example.com', [{ service: 'web' }]));
    api.apply(slice(['10.1.0.1']));
    api.apply(pod('a', '10.1.0.1'));
    api.apply(pod('never-pushed', '10.1.0.99'));
    api.apply(pod('ungated', '10.1.0.1', false));
    t = await kubeControlPlane(api);
    await eventually(() => t.cp.kube!.status.isLeader(), 10_000, 'leadership');
    c1 = new AdsClient(t.xdsPort);
    c2 = new AdsClient(t.xdsPort);
  });

  afterAll(() => {
    c1?.close();
    c2?.close();
  });

  it('sets the condition only after the ACK of the EDS version holding the pod', async () => {
    s1 = c1.sotw();
    s1.send({ node: { ...ENVOY_NODE, id: 'gw-1' }, type_url: EDS, resource_names: [CLUSTER] });
    const r = await until(s1, ['10.1.0.1']);
    // Pushed, not ACKed: nothing for 1.5 s (the gate re-checks every second).
    await sleep(1500);
    expect(condition('a')).toBeUndefined();
    const t0 = Date.now();
    s1.send(ack(r, [CLUSTER]));
    await eventually(() => condition('a')?.status === 'True', 5000, 'condition on pod a');
    process.stdout.write(`\n[readiness gate] ACK → pod condition True in ${Date.now() - t0} ms\n`);
    // The other conditions are kept.
    const conds = (api.get('v1', 'Pod', 'default', 'a')!['status'] as { conditions: Array<{ type: string }> }).conditions.map((c) => c.type);
    expect(conds).toEqual(expect.arrayContaining(['ContainersReady', 'Ready', READINESS_GATE_CONDITION]));
  });

  it('never for a pod whose address was never pushed, nor for a pod without the gate', async () => {
    await sleep(1200);
    expect(condition('never-pushed')).toBeUndefined();
    expect(condition('ungated')).toBeUndefined();
  });

  it('never for an address the proxy NACKed', async () => {
    api.apply(pod('nacked', '10.1.0.2'));
    api.apply(slice(['10.1.0.1', '10.1.0.2']));
    const r = await until(s1, ['10.1.0.1', '10.1.0.2']);
    s1.send(nack(r, '', 'rejected by the test', [CLUSTER]));
    await sleep(2000);
    expect(condition('nacked')).toBeUndefined();
    // It leaves the slice (pod gone): a later version without it is ACKed, still nothing.
    api.apply(slice(['10.1.0.1']));
    api.remove('v1', 'Pod', 'default', 'nacked');
    const r2 = await until(s1, ['10.1.0.1']);
    s1.send(ack(r2, [CLUSTER]));
  });

  it('waits for every connected proxy', async () => {
    s2 = c2.sotw();
    s2.send({ node: { ...ENVOY_NODE, id: 'gw-2' }, type_url: EDS, resource_names: [CLUSTER] });
    s2.send(ack(await until(s2, ['10.1.0.1']), [CLUSTER]));
    api.apply(pod('b', '10.1.0.3'));
    api.apply(slice(['10.1.0.1', '10.1.0.3']));
    const r1 = await until(s1, ['10.1.0.1', '10.1.0.3']);
    const r2 = await until(s2, ['10.1.0.1', '10.1.0.3']);
    s1.send(ack(r1, [CLUSTER]));
    await sleep(1500);
    expect(condition('b')).toBeUndefined();
    s2.send(ack(r2, [CLUSTER]));
    await eventually(() => condition('b')?.status === 'True', 5000, 'condition on pod b');
    expect(condition('never-pushed')).toBeUndefined();
    // Only pods with the gate are kept in memory.
    expect([...t.cp.store.snapshot().pods.keys()].sort()).toEqual(['default/a', 'default/b', 'default/never-pushed']);
  });
});
