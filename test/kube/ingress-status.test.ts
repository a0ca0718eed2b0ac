// Ingress status through the real client against the stand-in API server: the leader
// writes status.loadBalancer.ingress of served Ingresses (from a fixed address or the
// gateway Service) by updating the status subresource, only when it differs, clears it
// from Ingresses that stop being ours, and writes nothing while not leading.
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_OPTIONS } from '../../control-plane/src/model/options.js';
import { KubeSource } from '../../control-plane/src/sources/kube/kube-source.js';
import { Store } from '../../control-plane/src/sources/store.js';
import { IngressStatusWriter, canonicalAddresses, type LoadBalancerIngress } from '../../control-plane/src/status/ingress-status.js';
import { ingressStatusApi } from '../../control-plane/src/status/kube-api.js';
import { ServiceAddresses, addressesOfService, type PublishAddresses } from '../../control-plane/src/status/publish-address.js';
import { ServedIngresses } from '../../control-plane/src/status/served.js';
import { testApiServer, type TestApiServer } from '../helpers/fake-apiserver.js';
import { kubeConfigFor, logger, sleep } from './helpers.js';
import { INGRESS_CLASS, endpointSlice, eventually, ingress, service } from './objects.js';

const stops: Array<() => unknown> = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

async function setup(api: TestApiServer, addresses: () => readonly LoadBalancerIngress[] | undefined, leader = { current: true }) {
  const kc = kubeConfigFor(api);
  const store = new Store();
  const source = new KubeSource({ kubeConfig: kc, sink: store, namespaces: [], logger });
  source.start();
  stops.push(() => source.stop());
  await source.synced();
  const served = new ServedIngresses(DEFAULT_MODEL_OPTIONS);
  const writer = new IngressStatusWriter({ store, api: ingressStatusApi(kc), served: (s) => served.of(s), addresses, isLeader: () => leader.current, logger });
  writer.start();
  stops.push(() => writer.stop());
  return { store, writer, leader };
}

const statusOf = (api: TestApiServer, name: string) => api.get('networking.k8s.io/v1', 'Ingress', 'default', name)?.['status']?.['loadBalancer']?.['ingress'];

function seed(api: TestApiServer): void {
  api.apply(INGRESS_CLASS);
  api.apply(service('web'));
  api.apply(endpointSlice('web-1', 'web', [{ host: '127.0.0.2', port: 8080 }]));
  api.apply(ingress('shop', 'shop.example.com', [{ service: 'web' }]));
  api.apply(ingress('theirs', 'theirs.example.com', [{ service: 'web' }], { className: 'nginx' }));
}

describe('Ingress status', () => {
  it('writes the published address on served Ingresses only, once, as an update of the status subresource', async () => {
    const api = await testApiServer();
    seed(api);
    const { writer } = await setup(api, () => [{ ip: '203.0.113.10' }]);
    writer.kick();
    await eventually(() => statusOf(api, 'shop'));
    expect(statusOf(api, 'shop')).toEqual([{ ip: '203.0.113.10' }]);
    expect(statusOf(api, 'theirs')).toBeUndefined();
    const writes = api.requests({ resource: 'ingresses', method: 'PUT' });
    expect(writes.map((p) => [p.name, p.subresource, p.status])).toEqual([['shop', 'status', 200]]);
    // Based on the informer's version of the object, spec and metadata unchanged.
    const sent = writes[0]!.body as { metadata: { resourceVersion: string; creationTimestamp: string }; spec: unknown };
    expect(sent.metadata.resourceVersion).toBeTruthy();
    expect(sent.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.000)?Z$/);
    expect(sent.spec).toEqual(api.get('networking.k8s.io/v1', 'Ingress', 'default', 'shop')!['spec']);
    expect(api.requests({ verb: 'patch' })).toEqual([]);
    // Unrelated changes and re-kicks write nothing more.
    api.apply(service('web2'));
    api.apply({ ...ingress('shop', 'shop.example.com', [{ service: 'web' }]), status: { loadBalancer: { ingress: [{ ip: '203.0.113.10' }] } }, metadata: { name: 'shop', namespace: 'default', labels: { a: 'b' } } });
    writer.kick();
    await sleep(300);
    await writer.idle();
    expect(api.requests({ verb: 'update', resource: 'ingresses' }).length).toBe(1);
    // The spec of an Ingress changing does not touch its status either; a new Ingress gets one write.
    api.apply(ingress('cart', 'cart.example.com', [{ service: 'web' }]));
    await eventually(() => statusOf(api, 'cart'));
    await sleep(200);
    expect(api.requests({ verb: 'update', resource: 'ingresses' }).length).toBe(2);
  });

  it('clears the status of an Ingress that stops being ours', async () => {
    const api = await testApiServer();
    seed(api);
    const { writer } = await setup(api, () => [{ hostname: 'lb.example.net' }]);
    writer.kick();
    await eventually(() => statusOf(api, 'shop'));
    const cur = api.get('networking.k8s.io/v1', 'Ingress', 'default', 'shop')!;
    api.apply({ ...cur, spec: { ...cur['spec'], ingressClassName: 'nginx' } });
    await eventually(() => statusOf(api, 'shop') === undefined, 5000, 'status cleared');
    expect(api.get('networking.k8s.io/v1', 'Ingress', 'default', 'shop')!['status']).toEqual({ loadBalancer: {} });
    // The other controller's Ingress keeps its own address.
    const theirs = api.get('networking.k8s.io/v1', 'Ingress', 'default', 'theirs')!;
    api.apply({ ...theirs, status: { loadBalancer: { ingress: [{ ip: '198.51.100.1' }] } } });
    await sleep(300);
    expect(statusOf(api, 'theirs')).toEqual([{ ip: '198.51.100.1' }]);
  });

  it('follows the gateway Service load-balancer address', async () => {
    const api = await testApiServer();
    seed(api);
    api.apply({ ...service('gateway', { namespace: 'xgate-system' }), spec: { type: 'LoadBalancer', ports: [{ name: 'http', port: 80 }] }, status: { loadBalancer: { ingress: [{ ip: '192.0.2.7' }] } } });
    const publish: PublishAddresses = new ServiceAddresses({ kubeConfig: kubeConfigFor(api), namespace: 'xgate-system', name: 'gateway', logger });
    stops.push(() => publish.stop());
    const { writer } = await setup(api, () => publish.current());
    publish.onChange(() => writer.kick());
    publish.start();
    await eventually(() => statusOf(api, 'shop'));
    expect(statusOf(api, 'shop')).toEqual([{ ip: '192.0.2.7' }]);
    const gw = api.get('v1', 'Service', 'xgate-system', 'gateway')!;
    api.apply({ ...gw, status: { loadBalancer: { ingress: [{ hostname: 'gw.example.net' }, { ip: '192.0.2.8' }] } } });
    await eventually(() => JSON.stringify(statusOf(api, 'shop')) === JSON.stringify([{ hostname: 'gw.example.net' }, { ip: '192.0.2.8' }]), 5000, 'new address');
    // Only that one Service is watched.
    expect(api.requests({ verb: 'watch', resource: 'services', namespace: 'xgate-system' })[0]!.query['fieldSelector']).toBe('metadata.name=gateway');
  });

  it('writes again from the newer version when the Ingress changed while its status was being written (409)', async () => {
    const api = await testApiServer();
    seed(api);
    api.setLatency(300, { verbs: ['update'], resource: 'ingresses' });
    const { writer } = await setup(api, () => [{ ip: '203.0.113.10' }]);
    writer.kick();
    await eventually(() => api.requests({ verb: 'update', resource: 'ingresses' }).length === 1, 2000, 'status write in flight');
    api.apply(ingress('shop', 'shop.example.com', [{ service: 'web' }], { labels: { changed: 'meanwhile' } }));
    await eventually(() => statusOf(api, 'shop'), 10_000, 'status written');
    expect(api.requests({ verb: 'update', resource: 'ingresses' }).map((r) => r.status)).toEqual([409, 200]);
    expect(api.get('networking.k8s.io/v1', 'Ingress', 'default', 'shop')!['metadata']['labels']).toEqual({ changed: 'meanwhile' });
  });

  it('writes nothing while not leading, and catches up when it becomes the leader', async () => {
    const api = await testApiServer();
    seed(api);
    const leader = { current: false };
    const { writer } = await setup(api, () => [{ ip: '203.0.113.10' }], leader);
    writer.kick();
    await sleep(300);
    expect(api.requests({ verb: 'update' }).length).toBe(0);
    leader.current = true;
    writer.kick();
    await eventually(() => statusOf(api, 'shop'));
  });

  it('puts addresses in one canonical form', () => {
    expect(canonicalAddresses([{ hostname: 'b' }, { ip: '10.0.0.2' }, { ip: '10.0.0.1', hostname: 'x' }, {}])).toEqual([{ hostname: 'b' }, { ip: '10.0.0.1' }, { ip: '10.0.0.2' }]);
    expect(addressesOfService({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'g' }, spec: { externalIPs: ['192.0.2.1'] } })).toEqual([{ ip: '192.0.2.1' }]);
  });
});
