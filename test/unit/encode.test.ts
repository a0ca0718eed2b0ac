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

describe('proto3 JSON → protobuf: the checks protobufjs verify made', () => {
  it('refuses wrong scalar types, unknown enum numbers and two members of a oneof', () => {
    expect(() => encodeMessage(ROUTE, { name: 5 })).toThrow(/string expected/);
    expect(() => encodeMessage(ROUTE, { name: 'r', ignore_port_in_host_matching: 'yes' })).toThrow(/boolean expected/);
    expect(() => encodeMessage(CLUSTER, { name: 'c', per_connection_buffer_limit_bytes: 1.5 })).toThrow(/integer expected/);
    expect(() => encodeMessage(CLUSTER, { name: 'c', per_connection_buffer_limit_bytes: '1024' })).toThrow(/integer expected/);
    expect(() => encodeMessage(CLUSTER, { name: 'c', type: 12345 })).toThrow(/not a value of enum/);
    expect(() => encodeMessage(CLUSTER, { name: 'c', type: 'toString' })).toThrow(/not a value of enum/);
    expect(() => encodeMessage(ROUTE, { name: 'r', virtual_hosts: [{ name: 'v', domains: ['a'], routes: [{ match: { prefix: '/', path: '/x' } }] }] })).toThrow(/oneof/);
    expect(() => encodeMessage(ROUTE, { name: 'r', virtual_hosts: {} })).toThrow(/repeated field must be an array/);
  });

  it('gives the bytes of protobufjs fromObject + encode for valid input', () => {
    const type = lookupType(CLUSTER);
    const value = {
      name: 'c',
      type: 'STRICT_DNS',
      connect_timeout: { seconds: 2, nanos: 5 },
      per_connection_buffer_limit_bytes: { value: 4096 },
      lb_policy: 1,
      metadata: { filter_metadata: { x: { fields: { a: { string_value: 's' }, b: { null_value: 0 }, c: { number_value: 1.5 } } } } },
    };
    const direct = encodeMessage(CLUSTER, {
      name: 'c',
      type: 'STRICT_DNS',
      connect_timeout: '2.000000005s',
      per_connection_buffer_limit_bytes: 4096,
      lb_policy: 1,
      metadata: { filter_metadata: { x: { a: 's', b: null, c: 1.5 } } },
    });
    expect(Buffer.from(direct).equals(Buffer.from(type.encode(type.fromObject(value)).finish()))).toBe(true);
  });
});
