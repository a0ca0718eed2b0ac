import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { describe, expect, it } from 'vitest';
import { adsPackageDefinition, CORE_PROTO_FILES, envoyRoot, packageDirOf, protoIncludeDirs } from '../../protos/loader.js';

const ADS = 'envoy.service.discovery.v3.AggregatedDiscoveryService';

describe('envoyRoot', () => {
  it('names the package directory of a type', () => {
    expect(packageDirOf('envoy.extensions.filters.http.cors.v3.CorsPolicy')).toBe('envoy/extensions/filters/http/cors/v3');
    expect(packageDirOf('.envoy.config.route.v3.RouteAction.HashPolicy')).toBe('envoy/config/route/v3');
    expect(packageDirOf('Foo')).toBeUndefined();
    expect(packageDirOf('no.types.here')).toBeUndefined();
  });

  it('starts with the xDS resources and reads other packages on first lookup', () => {
    const root = envoyRoot();
    for (const t of ['envoy.config.listener.v3.Listener', 'envoy.config.route.v3.RouteConfiguration', 'envoy.config.cluster.v3.Cluster', 'envoy.config.endpoint.v3.ClusterLoadAssignment', 'envoy.extensions.transport_sockets.tls.v3.Secret']) {
      expect(root.lookup(t)).not.toBeNull();
    }
    // Not imported by the core files: read when first looked up.
    const cors = 'envoy.extensions.filters.http.cors.v3.CorsPolicy';
    expect(root.lookup(cors)).toBeNull();
    const t = root.lookupType(cors);
    expect(t.fullName).toBe(`.${cors}`);
    expect(root.lookupType(cors)).toBe(t);
    expect(t.fields['allow_origin_string_match']?.resolvedType?.fullName).toBe('.envoy.type.matcher.v3.StringMatcher');
    expect(root.files.length).toBeGreaterThan(CORE_PROTO_FILES.length);
  });

  it('declares DnsCluster (newer than the npm proto tree) with the field numbers of Envoy\'s API', () => {
    const t = envoyRoot().lookupType('envoy.extensions.clusters.dns.v3.DnsCluster');
    expect(t.fields['dns_refresh_rate']?.id).toBe(3);
    expect(t.fields['dns_lookup_family']?.id).toBe(8);
    expect(t.fields['dns_lookup_family']?.resolvedType?.fullName).toBe('.envoy.extensions.clusters.common.dns.v3.DnsLookupFamily');
    // dns_refresh_rate = 30 s (field 3: Duration{seconds = 30}), dns_lookup_family = V4_PREFERRED (field 8 = 4).
    const bytes = t.encode(t.fromObject({ dns_refresh_rate: { seconds: 30 }, dns_lookup_family: 'V4_PREFERRED' })).finish();
    expect(Buffer.from(bytes).toString('hex')).toBe('1a02081e4004');
  });

  it('still refuses a type that does not exist', () => {
    expect(() => envoyRoot().lookupType('envoy.extensions.filters.http.cors.v3.NoSuchType')).toThrow(/no such type/);
    expect(() => envoyRoot().lookupType('envoy.no.such.package.v3.Thing')).toThrow(/no such type/);
    expect(() => envoyRoot().lookupType('Thing')).toThrow(/no such type/);
  });
});

describe('adsPackageDefinition', () => {
  // What @grpc/proto-loader gives for the same service: the wire objects must be the same.
  const reference = () =>
    protoLoader.loadSync(['envoy/service/discovery/v3/ads.proto'], { includeDirs: protoIncludeDirs(), keepCase: true, longs: String, enums: String, defaults: false, oneofs: true })[ADS] as grpc.ServiceDefinition;

  const request = {
    version_info: 'v1',
    node: {
      id: 'n1',
      cluster: 'c',
      user_agent_name: 'envoy',
      metadata: { fields: { 'xgate.io/proxyless': { bool_value: true }, n: { number_value: 1.5 }, s: { string_value: 'x' } } },
      locality: { region: 'r', zone: 'z' },
    },
    resource_names: ['a', 'b'],
    type_url: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
    response_nonce: '3',
    error_detail: { code: 3, message: 'bad' },
  };
  const delta = {
    system_version_info: 'v2',
    type_url: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
    nonce: '7',
    removed_resources: ['gone'],
    resources: [{ name: 'c1', version: 'abc', resource: { type_url: 'type.googleapis.com/envoy.config.cluster.v3.Cluster', value: Buffer.from([10, 2, 99, 49]) }, ttl: { seconds: '30', nanos: 5 }, aliases: ['x'] }],
  };

  it('has both ADS methods, with the paths and streaming of the proto', () => {
    const ours = adsPackageDefinition()[ADS]!;
    const ref = reference();
    expect(Object.keys(ours).sort()).toEqual(Object.keys(ref).sort());
    for (const [name, m] of Object.entries(ours)) {
      const r = ref[name]!;
      expect([m.path, m.requestStream, m.responseStream, m.originalName]).toEqual([r.path, r.requestStream, r.responseStream, r.originalName]);
    }
  });

  it('reads and writes the same bytes and objects as @grpc/proto-loader', () => {
    const ours = adsPackageDefinition()[ADS]!;
    const ref = reference();
    const sotw = 'StreamAggregatedResources';
    const deltaM = 'DeltaAggregatedResources';
    const reqBytes = ours[sotw]!.requestSerialize(request);
    expect(reqBytes.equals(ref[sotw]!.requestSerialize(request))).toBe(true);
    expect(ours[sotw]!.requestDeserialize(reqBytes)).toEqual(ref[sotw]!.requestDeserialize(reqBytes));
    const resBytes = ours[deltaM]!.responseSerialize(delta);
    expect(Buffer.isBuffer(resBytes)).toBe(true);
    expect(resBytes.equals(ref[deltaM]!.responseSerialize(delta))).toBe(true);
    const back = ours[deltaM]!.responseDeserialize(resBytes) as typeof delta;
    expect(back).toEqual(ref[deltaM]!.responseDeserialize(resBytes));
    expect(back.resources[0]!.ttl).toEqual({ seconds: '30', nanos: 5 });
    expect(() => ours[sotw]!.requestSerialize([] as never)).toThrow(/got array/);
  });
});
