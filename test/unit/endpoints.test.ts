import { describe, expect, it } from 'vitest';
import { buildEndpoints } from '../../control-plane/src/model/endpoints.js';
import { snapshotOf } from '../../control-plane/src/sources/store.js';
import type { EndpointSlice, Pod } from '../../control-plane/src/sources/k8s-types.js';

const cluster = { name: 'default/web/80', namespace: 'default', service: 'web', port: 80, portName: 'http' };

function pod(name: string, gate: boolean, containersReady: boolean): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: gate ? { readinessGates: [{ conditionType: 'target-health.xgate.io' }] } : {},
    status: { conditions: [{ type: 'ContainersReady', status: containersReady ? 'True' : 'False' }] },
  };
}

function slice(endpoints: NonNullable<EndpointSlice['endpoints']>): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'web-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080 }],
    endpoints,
  };
}

describe('endpoints from EndpointSlice conditions', () => {
  it('maps ready, draining and gone, and routes to pods whose only missing condition is our readiness gate', () => {
    const store = snapshotOf([
      pod('gated-ready', true, true),
      pod('gated-starting', true, false),
      pod('plain', false, true),
      slice([
        { addresses: ['10.0.0.1'], conditions: { ready: true } },
        { addresses: ['10.0.0.2'], conditions: { ready: false, serving: true, terminating: true } },
        { addresses: ['10.0.0.3'], conditions: { ready: false, serving: false, terminating: true } },
        { addresses: ['10.0.0.4'], conditions: { ready: false, serving: false }, targetRef: { kind: 'Pod', name: 'gated-ready' } },
        { addresses: ['10.0.0.5'], conditions: { ready: false, serving: false }, targetRef: { kind: 'Pod', name: 'gated-starting' } },
        { addresses: ['10.0.0.6'], conditions: { ready: false, serving: false }, targetRef: { kind: 'Pod', name: 'plain' } },
        { addresses: ['10.0.0.7'], conditions: { ready: false, serving: false, terminating: true }, targetRef: { kind: 'Pod', name: 'gated-ready' } },
      ]),
    ]);
    const [ce] = buildEndpoints([cluster], store).clusters;
    expect(ce!.endpoints.map((e) => `${e.address} ${e.health}`)).toEqual(['10.0.0.1 HEALTHY', '10.0.0.2 DRAINING', '10.0.0.4 HEALTHY']);
  });
});
