// Nothing is served before every informer's initial list is in: with the EndpointSlice
// list held back by the stand-in API server, Envoy is connected to xDS but gets no
// listener and /readyz says 503; once the list completes, traffic flows.
import { describe, expect, it } from 'vitest';
import { request, testBackends, type Backend } from '../helpers/backends.js';
import { testEnvoy } from '../helpers/envoy.js';
import { testApiServer } from '../helpers/fake-apiserver.js';
import { kubeControlPlane } from './control-plane.js';
import { sleep } from './helpers.js';
import { INGRESS_CLASS, endpointSlice, eventually, ingress, service } from './objects.js';

const HOLD_MS = 2500;

describe('initial sync gate', () => {
  it('serves no xDS resources until every initial list has completed', async () => {
    const [web] = (await testBackends(['web'])) as [Backend];
    const api = await testApiServer();
    api.apply(INGRESS_CLASS);
    api.apply(service('web'));
    api.apply(endpointSlice('web-1', 'web', [web]));
    api.apply(ingress('shop', 'shop.example.com', [{ service: 'web' }]));
    api.setLatency(HOLD_MS, { verbs: ['list'], resource: 'endpointslices' });

    let ports: { xdsPort: number; httpPort: number; adminPort: number } | undefined;
    const t0 = Date.now();
    const starting = kubeControlPlane(api, { onPorts: (p) => (ports = p) });
    await eventually(() => ports, 5000, 'ports chosen');
    const { xdsPort, httpPort, adminPort } = ports!;
    const envoy = await testEnvoy({ xdsPort });

    // While the EndpointSlice list is held back: Envoy reaches the xDS server, gets nothing.
    await eventually(async () => (await envoy.stats('control_plane.connected_state'))['control_plane.connected_state'] === 1, HOLD_MS - 500, 'Envoy connected to xDS');
    const readyz = await fetch(`http://127.0.0.1:${adminPort}/readyz`);
    expect(readyz.status).toBe(503);
    const stats = await envoy.stats('listener_manager.total_listeners_active|cluster_manager.cds.update_success|listener_manager.lds.update_success');
    expect(stats['listener_manager.lds.update_success']).toBe(0);
    expect(stats['cluster_manager.cds.update_success']).toBe(0);
    expect(stats['listener_manager.total_listeners_active']).toBe(0);
    expect((await envoy.admin('/ready')).body.trim()).not.toBe('LIVE');
    expect(Date.now() - t0).toBeLessThan(HOLD_MS);

    const t = await starting;
    const synced = Date.now();
    expect(synced - t0).toBeGreaterThanOrEqual(HOLD_MS - 50);
    await envoy.waitForListener('http', 10_000);
    await eventually(async () => (await request(`http://127.0.0.1:${httpPort}/`, { host: 'shop.example.com' })).echo?.backend === 'web', 10_000, 'traffic');
    process.stdout.write(`\n[kube sync gate] lists held ${HOLD_MS} ms; traffic ${Date.now() - synced} ms after the control plane synced\n`);
    expect((await fetch(`http://127.0.0.1:${adminPort}/readyz`)).status).toBe(200);
    // The first snapshot already had the endpoints: Envoy never saw the Ingress without them.
    expect(t.cp.controller.resources()?.['envoy']?.endpoints.length).toBe(1);
    await sleep(10);
  });
});
