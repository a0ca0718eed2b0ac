// Translation of the upstream area's model fields: hash policies, lb_policy before slow
// start, upstream protocol, a blocked cluster, and the proxyless gRPC view of clusters.
import { describe, expect, it } from 'vitest';
import type { Cluster } from '../../control-plane/src/model/ir.js';
import { hashPolicyJson } from '../../control-plane/src/translate/policies/load-balancing.js';
import { proxylessCluster, translateCluster } from '../../control-plane/src/translate/cluster.js';
import { encodeMessage } from '../../control-plane/src/xds/encode.js';

const SRC = { kind: 'Ingress', namespace: 'default', name: 'x' } as const;
const base: Cluster = { name: 'default/web/80', namespace: 'default', service: 'web', port: 80, portName: 'http' };
const CLUSTER = 'envoy.config.cluster.v3.Cluster';

describe('hash policies', () => {
  it.each([
    [{ kind: 'header', name: 'x-user' } as const, { header: { header_name: 'x-user' } }],
    [{ kind: 'query', name: 'id' } as const, { query_parameter: { name: 'id' } }],
    [{ kind: 'sourceIp' } as const, { connection_properties: { source_ip: true } }],
    [{ kind: 'cookie', name: 'sid' } as const, { cookie: { name: 'sid' } }],
    [{ kind: 'cookie', name: 'sid', ttlSeconds: 0, path: '/', attributes: [{ name: 'Secure', value: '' }] } as const, { cookie: { name: 'sid', ttl: '0s', path: '/', attributes: [{ name: 'Secure', value: '' }] } }],
  ])('%j', (h, want) => expect(hashPolicyJson(h)).toEqual(want));
});

describe('clusters', () => {
  it('least request with slow start: the slow start goes into least_request_lb_config', () => {
    const c = translateCluster({ ...base, policy: { lbPolicy: { algorithm: 'LEAST_REQUEST', source: SRC }, slowStart: { windowSeconds: 10, source: SRC } } });
    expect(c['lb_policy']).toBe('LEAST_REQUEST');
    expect(c['least_request_lb_config']).toEqual({ slow_start_config: { slow_start_window: '10s' } });
    expect(() => encodeMessage(CLUSTER, c)).not.toThrow();
  });

  it('GRPC: h2c, no TLS', () => {
    const c = translateCluster({ ...base, policy: { upstream: { protocol: 'GRPC', annotation: 'a', source: SRC } } });
    expect(c['typed_extension_protocol_options']).toBeDefined();
    expect(c['transport_socket']).toBeUndefined();
    expect(() => encodeMessage(CLUSTER, c)).not.toThrow();
  });

  it('HTTPS with server-name on and no name: SNI is the Service DNS name', () => {
    const c = translateCluster({ ...base, policy: { upstream: { protocol: 'HTTPS', tls: { verify: false, serverName: true }, annotation: 'a', source: SRC } } });
    expect((c['transport_socket'] as { typed_config: { sni: string } }).typed_config.sni).toBe('web.default.svc');
    expect(c['typed_extension_protocol_options']).toBeUndefined();
    expect(() => encodeMessage(CLUSTER, c)).not.toThrow();
  });

  it('a blocked cluster has no endpoints', () => {
    const c = translateCluster({ ...base, policy: { blocked: { reason: 'x', source: SRC } } });
    expect(c).toMatchObject({ type: 'STATIC', load_assignment: { cluster_name: base.name, endpoints: [] } });
    expect(c['eds_cluster_config']).toBeUndefined();
  });

  it('proxyless gRPC clients get round robin or ring hash only', () => {
    const lr = translateCluster({ ...base, policy: { lbPolicy: { algorithm: 'LEAST_REQUEST', source: SRC }, slowStart: { windowSeconds: 10, source: SRC } } });
    expect(proxylessCluster(lr)).toMatchObject({ lb_policy: 'ROUND_ROBIN' });
    expect(proxylessCluster(lr)['least_request_lb_config']).toBeUndefined();
    expect(proxylessCluster(translateCluster({ ...base, policy: { lbPolicy: { algorithm: 'RANDOM', source: SRC } } }))['lb_policy']).toBe('ROUND_ROBIN');
    expect(proxylessCluster(translateCluster({ ...base, policy: { lbPolicy: { algorithm: 'MAGLEV', source: SRC } } }))['lb_policy']).toBe('RING_HASH');
    const rr = translateCluster(base);
    expect(proxylessCluster(rr)).toBe(rr);
  });
});
