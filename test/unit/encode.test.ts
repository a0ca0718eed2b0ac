import { describe, expect, it } from 'vitest';
import { encodeMessage, lookupType, parseDuration } from '../../control-plane/src/xds/encode.js';
import { CLUSTER, ROUTE } from '../../control-plane/src/xds/type-urls.js';

describe('proto3 JSON → protobuf', () => {
  it('encodes durations, enums, wrappers and nested Any', () => {
    const bytes = encodeMessage(CLUSTER, {
      name: 'c',
      type: 'EDS',
      connect_timeout: '1.5s',
      eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' } },
      per_connection_buffer_limit_bytes: 1024,
      typed_extension_protocol_options: {
        'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
          '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
          explicit_http_config: { http2_protocol_options: {} },
        },
      },
    });
    const decoded = lookupType(CLUSTER).decode(bytes);
    const obj = lookupType(CLUSTER).toObject(decoded, { enums: String, longs: Number }) as Record<string, any>;
    expect(obj['connect_timeout']).toEqual({ seconds: 1, nanos: 500_000_000 });
    expect(obj['type']).toBe('EDS');
    expect(obj['per_connection_buffer_limit_bytes']).toEqual({ value: 1024 });
    const any = obj['typed_extension_protocol_options']['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'];
    expect(any.type_url).toBe('type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions');
    expect(any.value.length).toBeGreaterThan(0);
  });

  it('refuses unknown fields, bad enums and bad durations instead of dropping them', () => {
    expect(() => encodeMessage(ROUTE, { name: 'r', virtual_hostz: [] })).toThrow(/unknown field "virtual_hostz"/);
    expect(() => encodeMessage(CLUSTER, { name: 'c', type: 'NOPE' })).toThrow(/not a value of enum/);
    expect(() => encodeMessage(CLUSTER, { name: 'c', connect_timeout: '5 seconds' })).toThrow(/invalid duration/);
    expect(() => parseDuration('1.1234567891s', 'x')).toThrow();
    expect(parseDuration('0.25s', 'x')).toEqual({ seconds: 0, nanos: 250_000_000 });
  });

  it('is deterministic', () => {
    const r = { name: 'r', virtual_hosts: [{ name: 'v', domains: ['a'], routes: [{ match: { prefix: '/' }, route: { cluster: 'c' } }] }] };
    expect(Buffer.from(encodeMessage(ROUTE, r)).equals(Buffer.from(encodeMessage(ROUTE, structuredClone(r))))).toBe(true);
  });
});
