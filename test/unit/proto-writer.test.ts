// The direct writer (xds/proto-writer.ts behind encodeMessage) gives the bytes of the
// converter + protobufjs path it replaced (kept in proto-writer.legacy.ts), and fails
// where it failed with the same message: on every resource of every golden case and of
// the benchmark's generated cluster, on hand-picked edge cases, and on random messages.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { benchCert } from '../../bench/cert.js';
import { generate } from '../../bench/generate.js';
import { DEFAULT_PIPELINE_OPTIONS, translateStore } from '../../control-plane/src/pipeline/translate-store.js';
import { readManifests } from '../../control-plane/src/sources/file-source.js';
import type { ExternalDocument } from '../../control-plane/src/sources/external.js';
import { snapshotOf, type StoreSnapshot } from '../../control-plane/src/sources/store.js';
import type { GroupResources } from '../../control-plane/src/translate/resources.js';
import { EncodeError, encodeMessage, lookupType, withSharedAnys, type Json, type JsonObject } from '../../control-plane/src/xds/encode.js';
import { CLUSTER, ENDPOINT, LISTENER, ROUTE, SECRET } from '../../control-plane/src/xds/type-urls.js';
import { legacyEncodeMessage } from './proto-writer.legacy.js';

const VIRTUAL_HOST = 'envoy.config.route.v3.VirtualHost';
const FIELDS = { [LISTENER]: 'listeners', [ROUTE]: 'routes', [CLUSTER]: 'clusters', [ENDPOINT]: 'endpoints', [SECRET]: 'secrets' } as const;

type Outcome = { bytes: string } | { error: string; encodeError: boolean };

function outcome(encode: () => Uint8Array): Outcome {
  try {
    return { bytes: Buffer.from(encode()).toString('hex') };
  } catch (e) {
    return { error: (e as Error).message, encodeError: e instanceof EncodeError };
  }
}

/** Both paths on one message: the same bytes, or the same error. */
function compare(typeName: string, value: JsonObject): { now: Outcome; before: Outcome } {
  return { now: outcome(() => encodeMessage(typeName, value)), before: outcome(() => legacyEncodeMessage(typeName, value)) };
}

function expectSame(typeName: string, value: JsonObject): Outcome {
  const { now, before } = compare(typeName, value);
  expect(now).toEqual(before);
  return now;
}

/** Every resource of every group (and every virtual host of every RouteConfiguration), both ways. */
function compareAll(resources: GroupResources): { count: number; mismatches: string[] } {
  let count = 0;
  const mismatches: string[] = [];
  const check = (typeName: string, r: JsonObject, group: string) => {
    count++;
    const now = Buffer.from(encodeMessage(typeName, r));
    const before = Buffer.from(legacyEncodeMessage(typeName, r));
    if (!now.equals(before)) mismatches.push(`${group} ${typeName} ${JSON.stringify(r).slice(0, 200)}`);
  };
  for (const [group, res] of Object.entries(resources)) {
    for (const [typeUrl, field] of Object.entries(FIELDS)) {
      for (const r of res[field]) {
        check(typeUrl, r, group);
        if (typeUrl === ROUTE && Array.isArray(r['virtual_hosts'])) {
          for (const vh of r['virtual_hosts']) check(VIRTUAL_HOST, vh as JsonObject, group);
          const { virtual_hosts: _v, ...rest } = r;
          check(ROUTE, rest, group);
        }
      }
    }
  }
  return { count, mismatches };
}

const CASES = path.join(import.meta.dirname, '..', 'golden', 'cases');

/** The golden runner's external documents (a case's external.yaml), so its auth cases translate fully. */
function withExternal(name: string, snap: StoreSnapshot): StoreSnapshot {
  const file = path.join(CASES, name, 'external.yaml');
  if (!existsSync(file)) return snap;
  const docs = parseYaml(readFileSync(file, 'utf8')) as Record<string, string | { error: string }>;
  const external = new Map<string, ExternalDocument>(
    Object.entries(docs).map(([url, d]) => [url, typeof d === 'string' ? { ok: true, url, body: d } : { ok: false, url, error: d.error }]),
  );
  return { ...snap, external };
}

describe('proto-writer: the bytes of the converter + protobufjs path', () => {
  it('on every resource of every golden case', async () => {
    const cases = readdirSync(CASES).filter((c) => existsSync(path.join(CASES, c, 'input')));
    expect(cases.length).toBeGreaterThan(10);
    let total = 0;
    for (const name of cases) {
      const input = await readManifests(path.join(CASES, name, 'input'));
      const { resources } = translateStore(withExternal(name, snapshotOf(input.objects)), DEFAULT_PIPELINE_OPTIONS);
      const { count, mismatches } = compareAll(resources);
      expect(mismatches, name).toEqual([]);
      total += count;
    }
    expect(total).toBeGreaterThan(500);
  });

  it('on every resource of the benchmark generator’s cluster', () => {
    for (const seed of [3, 17]) {
      const gen = generate({ ingresses: 300, cert: benchCert(), seed });
      const { resources } = translateStore(snapshotOf(gen.objects), DEFAULT_PIPELINE_OPTIONS);
      const { count, mismatches } = compareAll(resources);
      expect(mismatches).toEqual([]);
      expect(count).toBeGreaterThan(1000);
    }
  });

  it('with shared Any values written once per batch (withSharedAnys): the same bytes and errors', () => {
    const gen = generate({ ingresses: 300, cert: benchCert(), seed: 5 });
    const { resources } = translateStore(snapshotOf(gen.objects), DEFAULT_PIPELINE_OPTIONS);
    const all: [string, JsonObject][] = [];
    for (const res of Object.values(resources)) {
      for (const [typeUrl, field] of Object.entries(FIELDS)) for (const r of res[field]) all.push([typeUrl, r]);
    }
    const alone = all.map(([t, r]) => Buffer.from(encodeMessage(t, r)).toString('hex'));
    // Twice over in one batch: every shared Any is met a second and third time.
    const batched = withSharedAnys(() => [...all, ...all].map(([t, r]) => Buffer.from(encodeMessage(t, r)).toString('hex')));
    expect(batched).toEqual([...alone, ...alone]);
    // Translation shares the per-route filter configs of an Ingress's routes.
    const perRoute = new Set<unknown>();
    let routes = 0;
    for (const rc of resources['envoy']!.routes) {
      for (const vh of (rc['virtual_hosts'] as JsonObject[] | undefined) ?? []) {
        for (const r of vh['routes'] as JsonObject[]) {
          for (const c of Object.values((r['typed_per_filter_config'] as JsonObject | undefined) ?? {})) {
            perRoute.add(c);
            routes++;
          }
        }
      }
    }
    expect(routes).toBeGreaterThan(2 * perRoute.size);
    // An invalid Any met many times fails every time, as alone, and a valid one after it is written whole.
    const bad: JsonObject = { '@type': 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBACPerRoute', rbac: { rules: { action: 'NOPE' } } };
    const good: JsonObject = { '@type': 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBACPerRoute', rbac: { rules: { action: 'DENY' } } };
    const route = (c: JsonObject): JsonObject => ({ name: 'r', match: { prefix: '/' }, direct_response: { status: 200 }, typed_per_filter_config: { rbac: c, again: c } });
    const badAlone = outcome(() => encodeMessage('envoy.config.route.v3.Route', route(bad)));
    expect(badAlone).toMatchObject({ encodeError: true });
    const goodAlone = outcome(() => encodeMessage('envoy.config.route.v3.Route', route(good)));
    withSharedAnys(() => {
      for (let i = 0; i < 4; i++) {
        expect(outcome(() => encodeMessage('envoy.config.route.v3.Route', route(bad)))).toEqual(badAlone);
        expect(outcome(() => encodeMessage('envoy.config.route.v3.Route', route(good)))).toEqual(goodAlone);
      }
    });
  });

  it('on scalars at their edges: negative int32 and enums, 64-bit numbers, floats, bytes, wrappers', () => {
    const values: [string, JsonObject][] = [
      ['envoy.type.v3.Int32Range', { start: -1, end: 2 ** 31 }],
      ['envoy.type.v3.Int32Range', { start: -(2 ** 31), end: 2 ** 32 + 7 }],
      ['envoy.type.v3.Int32Range', { start: 0, end: -0 }],
      ['envoy.type.v3.Int64Range', { start: -1, end: 2 ** 53 + 2 }],
      ['envoy.type.v3.Int64Range', { start: -(2 ** 63), end: 2 ** 64 }],
      ['envoy.type.v3.Int64Range', { start: 1e21, end: -1e30 }],
      ['envoy.type.v3.Int64Range', { start: 268435455, end: 268435456 }],
      ['envoy.type.v3.DoubleRange', { start: -0, end: 1.5e300 }],
      ['envoy.type.v3.DoubleRange', { start: Number.MIN_VALUE, end: -Infinity }],
      ['envoy.config.core.v3.SocketOption', { level: -5, name: 2 ** 40, int_value: -(2 ** 40), state: 'STATE_LISTENING' }],
      ['envoy.config.core.v3.SocketOption', { buf_value: 'AAECAwT/', state: 2 }],
      ['envoy.config.core.v3.SocketOption', { buf_value: 'not base64 at all!', description: 'x' }],
      ['envoy.config.core.v3.SocketOption', { buf_value: '' }],
      ['envoy.config.core.v3.DataSource', { inline_bytes: Buffer.alloc(300, 7).toString('base64') }],
      ['envoy.config.core.v3.RetryPolicy', { num_retries: 0, retry_on: '' }],
      ['envoy.config.core.v3.RateLimitSettings', { max_tokens: 4294967295, fill_rate: 0.1 }],
      ['envoy.config.cluster.v3.Cluster.PreconnectPolicy', { per_upstream_preconnect_ratio: 1.25, predictive_preconnect_ratio: -0 }],
      ['envoy.config.core.v3.HeaderValueOption', { append: false, header: { key: 'k', value: '' }, keep_empty_value: false }],
      ['envoy.config.core.v3.HealthCheck.HttpHealthCheck', { response_buffer_size: 2 ** 40 }],
      ['envoy.config.core.v3.HealthStatusSet', { statuses: ['HEALTHY', 3, 'UNHEALTHY', 0] }],
      ['envoy.config.accesslog.v3.GrpcStatusFilter', { statuses: [], exclude: true }],
      ['envoy.config.route.v3.RetryPolicy', { retriable_status_codes: [503, 0, 4294967295, 300000], retry_on: '5xx' }],
      ['envoy.config.metrics.v3.HistogramBucketSettings', { buckets: [0.5, -1, 1e10], match: { exact: 'x' } }],
      ['envoy.config.core.v3.Pipe', { path: '/tmp/x', mode: 420 }],
    ];
    for (const [t, v] of values) expect('bytes' in expectSame(t, v)).toBe(true);
  });

  it('on strings: UTF-8, surrogate pairs, lone surrogates, on both sides of 40 units', () => {
    const strings = ['', 'a', 'é', '€', '😀', 'a😀b', '\ud800', '\udc00x', 'x\ud800', '\ud800\ud800\udc00'];
    for (const s of strings) {
      for (const pad of [0, 38, 39, 40, 63, 64, 200]) {
        for (const str of ['a'.repeat(pad) + s, s + 'a'.repeat(pad)]) {
          expect('bytes' in expectSame(VIRTUAL_HOST, { name: str, domains: [str, 'z'], request_headers_to_remove: [str] })).toBe(true);
        }
      }
    }
  });

  it('on field order: keys in any order come out in field-number order', () => {
    const route = { match: { prefix: '/' }, name: 'r', route: { timeout: '3s', cluster: 'c', prefix_rewrite: '/x' }, decorator: { operation: 'op' } };
    const reversed = Object.fromEntries(Object.entries(route).reverse()) as JsonObject;
    const a = expectSame('envoy.config.route.v3.Route', route);
    expect(expectSame('envoy.config.route.v3.Route', reversed)).toEqual(a);
  });

  it('on durations, Any (nested, well-known inside), maps and Struct', () => {
    for (const d of ['0s', '-0s', '1.5s', '-1.5s', '0.000000001s', '-0.000000001s', '315576000000s', '99999999999999999999s', '12345678901234567.5s', '1.123456789s']) {
      expectSame('envoy.config.core.v3.HttpUri', { uri: 'u', cluster: 'c', timeout: d });
    }
    for (const d of ['5', '5 s', '1.s', '.5s', '1.1234567890s', '--1s', '+1s', '1e3s', 's', '', '１s']) {
      const { now } = compare('envoy.config.core.v3.HttpUri', { timeout: d });
      expect(now).toMatchObject({ error: expect.stringMatching(/invalid duration/) });
      expectSame('envoy.config.core.v3.HttpUri', { timeout: d });
    }
    expectSame(CLUSTER, {
      name: 'c',
      typed_extension_protocol_options: {
        b: { '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions', explicit_http_config: { http2_protocol_options: {} } },
        a: { '@type': 'type.googleapis.com/google.protobuf.StringValue', value: 'v' },
        '2': { '@type': 'type.googleapis.com/google.protobuf.Duration', value: '2s' },
        '1': { '@type': 'type.googleapis.com/google.protobuf.UInt32Value', value: 7 },
        s: { '@type': 'type.googleapis.com/google.protobuf.Struct', value: { k: 1, l: [1, 'x', null, { z: true }] } },
        v: { '@type': 'type.googleapis.com/google.protobuf.Value', value: 'x' },
        l: { '@type': 'type.googleapis.com/google.protobuf.ListValue', value: [1, 2] },
      },
      metadata: {
        filter_metadata: { 'envoy.lb': { a: 's', b: null, c: 1.5, d: [true, { e: [] }], f: {} }, empty: {} },
        typed_filter_metadata: { x: { '@type': 'type.googleapis.com/envoy.config.core.v3.Metadata', filter_metadata: { y: { z: 1 } } } },
      },
    });
    expectSame('envoy.config.core.v3.Node', { id: 'n', dynamic_parameters: { k: { params: { a: 'b' } }, __proto__x: { params: {} } } });
    expectSame('envoy.config.core.v3.GrpcService.GoogleGrpc', { target_uri: 't', stat_prefix: 's', config: {} });
  });

  it('leaves out a "__proto__" map or Struct key, as the old path did', () => {
    const withProto = JSON.parse('{"id":"n","dynamic_parameters":{"a":{"params":{"x":"1"}},"__proto__":{"params":{"y":"2"}}}}') as JsonObject;
    const out = expectSame('envoy.config.core.v3.Node', withProto);
    expect(out).toEqual({ bytes: Buffer.from(encodeMessage('envoy.config.core.v3.Node', { id: 'n', dynamic_parameters: { a: { params: { x: '1' } } } })).toString('hex') });
    expectSame('envoy.config.core.v3.Metadata', JSON.parse('{"filter_metadata":{"m":{"__proto__":{"a":1},"b":2}}}') as JsonObject);
    expectSame('envoy.config.core.v3.Node', JSON.parse('{"dynamic_parameters":{"__proto__":{"params":{"y":5}}}}') as JsonObject);
  });

  it('writes google.protobuf.Value empty, as the old path did (protobufjs names its members in camelCase)', () => {
    const bytes = encodeMessage('envoy.config.core.v3.Metadata', { filter_metadata: { m: { a: 's' } } });
    // filter_metadata entry { key "m", value Struct { fields entry { key "a", value Value {} } } }
    expect(Buffer.from(bytes).toString('hex')).toBe('0a0c0a016d12070a050a0161' + '1200');
  });

  it('on 64-bit map keys (google.api.expr CheckedExpr)', () => {
    expectSame('google.api.expr.v1alpha1.CheckedExpr', { reference_map: { '1': { name: 'a' }, '-5': { name: 'b' }, '9223372036854775807': {}, '18446744073709551615': {} } });
    expectSame('google.api.expr.v1alpha1.SourceInfo', { positions: { '0': 1, '-1': -1, '12345678901': 2 ** 31 } });
    expectSame('google.api.expr.v1alpha1.SourceInfo', { positions: { x: 1 } });
    expectSame('google.api.expr.v1alpha1.SourceInfo', { positions: { '01': 1 } });
  });
});

describe('proto-writer: the old path’s errors, message for message', () => {
  const bad: [string, JsonObject][] = [
    [ROUTE, { name: 'r', virtual_hostz: [] }],
    [CLUSTER, { name: 'c', type: 'NOPE' }],
    [CLUSTER, { name: 'c', type: 12345 }],
    [CLUSTER, { name: 'c', type: 'toString' }],
    [CLUSTER, { name: 'c', type: 1.5 }],
    [CLUSTER, { name: 'c', connect_timeout: '5 seconds' }],
    [CLUSTER, { name: 'c', connect_timeout: 5 }],
    [ROUTE, { name: 5 }],
    [ROUTE, { name: 'r', ignore_port_in_host_matching: 'yes' }],
    [CLUSTER, { name: 'c', per_connection_buffer_limit_bytes: 1.5 }],
    [CLUSTER, { name: 'c', per_connection_buffer_limit_bytes: '1024' }],
    [CLUSTER, { name: 'c', per_connection_buffer_limit_bytes: Infinity }],
    [ROUTE, { name: 'r', virtual_hosts: [{ name: 'v', domains: ['a'], routes: [{ match: { prefix: '/', path: '/x' } }] }] }],
    [ROUTE, { name: 'r', virtual_hosts: {} }],
    [ROUTE, { name: 'r', virtual_hosts: [{ name: 'v', domains: ['a', 3] }] }],
    [ROUTE, { name: 'r', virtual_hosts: [{ name: 'v' }, 'x'] }],
    [ROUTE, { name: 'r', virtual_hosts: [null] }],
    [CLUSTER, { name: 'c', typed_extension_protocol_options: [] }],
    [CLUSTER, { name: 'c', typed_extension_protocol_options: { a: { explicit_http_config: {} } } }],
    [CLUSTER, { name: 'c', typed_extension_protocol_options: { a: { '@type': 'envoy.x.Y' } } }],
    [CLUSTER, { name: 'c', typed_extension_protocol_options: { a: 'str' } }],
    [CLUSTER, { name: 'c', typed_extension_protocol_options: { a: null } }],
    [CLUSTER, { name: 'c', typed_extension_protocol_options: { a: { '@type': 'type.googleapis.com/envoy.nope.Nope' } } }],
    [CLUSTER, { name: 'c', typed_extension_protocol_options: { a: { '@type': 'type.googleapis.com/google.protobuf.StringValue' } } }],
    [CLUSTER, { name: 'c', typed_extension_protocol_options: { a: { '@type': 'type.googleapis.com/google.protobuf.Duration', value: '1' } } }],
    [CLUSTER, { name: 'c', typed_extension_protocol_options: { a: { '@type': 'type.googleapis.com/google.protobuf.Struct', value: [] } } }],
    [CLUSTER, { name: 'c', typed_extension_protocol_options: { a: { '@type': 'type.googleapis.com/google.protobuf.ListValue', value: {} } } }],
    [CLUSTER, { name: 'c', typed_extension_protocol_options: { a: { '@type': 'type.googleapis.com/google.protobuf.Any', value: {} } } }],
    [CLUSTER, { name: 'c', typed_extension_protocol_options: { a: { '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions', nope: 1 } } }],
    [CLUSTER, { name: 'c', metadata: { filter_metadata: { x: 'y' } } }],
    [CLUSTER, { name: 'c', metadata: { filter_metadata: { x: null } } }],
    [CLUSTER, { name: 'c', metadata: 'm' }],
    ['envoy.config.route.v3.RetryPolicy', { retriable_status_codes: [503, 'x'] }],
    ['envoy.config.route.v3.RetryPolicy', { retriable_status_codes: 503 }],
    ['envoy.config.core.v3.HealthStatusSet', { statuses: ['HEALTHY', 'NOPE'] }],
    ['envoy.config.core.v3.SocketOption', { buf_value: 5 }],
    ['envoy.config.core.v3.SocketOption', { int_value: '5' }],
    ['envoy.type.v3.DoubleRange', { start: '1' }],
    ['envoy.config.core.v3.RetryPolicy', { num_retries: -1.5 }],
    ['envoy.config.core.v3.RetryPolicy', { num_retries: { value: 1 } }],
    ['envoy.config.core.v3.HeaderValueOption', { append: 'true' }],
    ['google.api.expr.v1alpha1.SourceInfo', { positions: { x: 1 } }],
    ['google.api.expr.v1alpha1.SourceInfo', { positions: { '1': 'x' } }],
    ['envoy.config.core.v3.Node', { dynamic_parameters: { a: { params: { b: 5 } } } }],
  ];
  it('on single problems', () => {
    for (const [t, v] of bad) {
      const { now, before } = compare(t, v);
      expect('error' in before, JSON.stringify(v)).toBe(true);
      expect(now, JSON.stringify(v)).toEqual(before);
    }
  });

  it('on several problems: the first one met in key order', () => {
    const several: [string, JsonObject][] = [
      // A later field (by number) fails before an earlier one, both orders.
      [CLUSTER, { type: 'NOPE', name: 5 }],
      [CLUSTER, { name: 5, type: 'NOPE' }],
      // A value problem before an unknown key, and after it.
      [CLUSTER, { type: 'NOPE', nope: 1 }],
      [CLUSTER, { nope: 1, type: 'NOPE' }],
      // Oneof conflict after a bad value.
      ['envoy.config.route.v3.RouteMatch', { headers: 5, prefix: '/', path: '/x' }],
      ['envoy.config.route.v3.RouteMatch', { prefix: '/', path: '/x', headers: 5 }],
      // Nested: deeper problem in an earlier key, shallower in a later one.
      [ROUTE, { virtual_hosts: [{ name: 'v', routes: [{ match: { prefix: 1 } }] }], name: 2 }],
      [ROUTE, { virtual_hosts: [{ routes: [{ match: { prefix: '/' }, name: 1 }], name: 2 }] }],
      [ROUTE, { virtual_hosts: [{ routes: [{ name: 1, match: { prefix: 2 } }], name: 2 }] }],
    ];
    for (const [t, v] of several) {
      const { now, before } = compare(t, v);
      expect('error' in before, JSON.stringify(v)).toBe(true);
      expect(now, JSON.stringify(v)).toEqual(before);
    }
  });

  it('refuses messages nested deeper than protobufjs allows', () => {
    let v: JsonObject = { any: true };
    for (let i = 0; i < 60; i++) v = { or_rules: { rules: [v] } };
    const { now, before } = compare('envoy.config.rbac.v3.Permission', v);
    expect(before).toMatchObject({ error: 'max depth exceeded' });
    expect(now).toEqual(before);
    let ok: JsonObject = { any: true };
    for (let i = 0; i < 40; i++) ok = { or_rules: { rules: [ok] } };
    expect('bytes' in expectSame('envoy.config.rbac.v3.Permission', ok)).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------
// Random messages of a few types, built from protobufjs's reflection: mostly valid
// values, now and then a wrong one, keys in random order, oneofs now and then doubly set.

const ANY_INNER = [
  'envoy.config.core.v3.SocketAddress',
  'envoy.type.v3.Percent',
  'envoy.config.route.v3.RouteMatch',
  'google.protobuf.StringValue',
  'google.protobuf.UInt32Value',
  'google.protobuf.BoolValue',
  'google.protobuf.Duration',
  'google.protobuf.Struct',
];

const text = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 50 });
const asciiName = fc.string({ unit: fc.constantFrom(...'abcxyz._-019'), maxLength: 8 });
const jsonValue: fc.Arbitrary<Json> = fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>;
const wrong: fc.Arbitrary<Json> = fc.constantFrom<Json>('x', 1.5, -1, true, null, [], {}, [1], { a: 1 }, '5s', 'HEALTHY');

function scalarArb(f: protobuf.Field): fc.Arbitrary<Json> {
  const rt = f.resolvedType;
  if (rt instanceof protobuf.Enum) {
    const names = Object.keys(rt.values);
    const numbers = Object.values(rt.values);
    return fc.oneof(fc.constantFrom(...names), fc.constantFrom(...numbers));
  }
  switch (f.type) {
    case 'int32':
    case 'sint32':
    case 'sfixed32':
      return fc.oneof(fc.integer(), fc.constantFrom(-1, 0, -0, 2 ** 31, -(2 ** 31) - 1, 2 ** 32 + 3));
    case 'uint32':
    case 'fixed32':
      return fc.oneof(fc.nat(), fc.constantFrom(0, 127, 128, 16384, 2 ** 32 - 1, 2 ** 32, -1));
    case 'int64':
    case 'uint64':
    case 'sint64':
    case 'fixed64':
    case 'sfixed64':
      return fc.oneof(fc.maxSafeInteger(), fc.constantFrom(0, -1, 2 ** 53, 2 ** 63, -(2 ** 63), 2 ** 64, 1e25, -1e25, 268435456));
    case 'float':
    case 'double':
      return fc.oneof(fc.double({ noNaN: true }), fc.constantFrom(0, -0, 1.5, 3.4e38, 1e-45));
    case 'bool':
      return fc.boolean();
    case 'string':
      return fc.oneof(text, asciiName, fc.constant('x'.repeat(70)));
    case 'bytes':
      return fc.oneof(fc.uint8Array({ maxLength: 60 }).map((b) => Buffer.from(b).toString('base64')), fc.constantFrom('', 'a', '!!', 'QQ'));
    default:
      throw new Error(`no arbitrary for ${f.type}`);
  }
}

const MAX_DEPTH = 4;

function messageArb(type: protobuf.Type, depth: number): fc.Arbitrary<Json> {
  switch (type.fullName) {
    case '.google.protobuf.Any':
      return fc.constantFrom(...ANY_INNER).chain((name) => {
        const inner = lookupType(name);
        const url = `type.googleapis.com/${name}`;
        const wellKnown = name.startsWith('google.protobuf.');
        return messageArb(inner, depth + 1).map((body): Json =>
          wellKnown ? { '@type': url, value: body } : { '@type': url, ...(body as JsonObject) },
        );
      });
    case '.google.protobuf.Duration':
      return fc.oneof(
        fc.tuple(fc.boolean(), fc.nat(), fc.option(fc.integer({ min: 0, max: 999999999 }))).map(([neg, s, ns]) => `${neg ? '-' : ''}${s}${ns === null ? '' : `.${String(ns).padStart(9, '0').replace(/0+$/, '') || '0'}`}s`),
        fc.string({ unit: fc.constantFrom(...'-0123456789.s '), maxLength: 8 }),
      );
    case '.google.protobuf.Struct':
      return fc.dictionary(asciiName, jsonValue, { maxKeys: 3 });
    case '.google.protobuf.Value':
      return jsonValue;
    case '.google.protobuf.ListValue':
      return fc.array(jsonValue, { maxLength: 3 });
  }
  if (type.fullName.startsWith('.google.protobuf.') && type.fullName.endsWith('Value')) return fieldArb(type.fields['value']!, depth);
  const fields = type.fieldsArray.filter((f) => depth < MAX_DEPTH || !(f.resolve().resolvedType instanceof protobuf.Type));
  if (!fields.length) return fc.constant({});
  return fc
    .tuple(fc.shuffledSubarray(fields, { maxLength: Math.min(5, fields.length) }), fc.boolean())
    .chain(([chosen, oneofOnce]) => {
      // Mostly one member per oneof; now and then two, which must fail the same way.
      const seen = new Set<string>();
      const kept = chosen.filter((f) => !oneofOnce || !f.partOf || (!seen.has(f.partOf.name) && seen.add(f.partOf.name)));
      return fc.tuple(...kept.map((f) => fc.oneof({ arbitrary: fieldArb(f, depth), weight: 30 }, { arbitrary: wrong, weight: 1 }))).map((values) => {
        const o: JsonObject = {};
        kept.forEach((f, i) => (o[f.name] = values[i]!));
        return o;
      });
    });
}

function fieldArb(f: protobuf.Field, depth: number): fc.Arbitrary<Json> {
  f.resolve();
  const one = (): fc.Arbitrary<Json> => (f.resolvedType instanceof protobuf.Type ? messageArb(f.resolvedType, depth + 1) : scalarArb(f));
  if (f instanceof protobuf.MapField) {
    const keys =
      f.keyType === 'string'
        ? fc.oneof(asciiName, text)
        : fc.oneof(fc.integer().map(String), fc.constantFrom('0', '-1', '9223372036854775807', '18446744073709551616', 'x', '01'));
    return fc.dictionary(keys, one(), { maxKeys: 3 });
  }
  if (f.repeated) return fc.array(one(), { maxLength: 3 });
  return one();
}

describe('proto-writer: random messages (property)', () => {
  const types = [
    'envoy.config.route.v3.Route',
    'envoy.config.route.v3.VirtualHost',
    'envoy.config.cluster.v3.Cluster',
    'envoy.config.listener.v3.Filter',
    'envoy.config.core.v3.Metadata',
    'envoy.config.core.v3.SocketOption',
    'envoy.config.core.v3.HealthStatusSet',
    'envoy.config.metrics.v3.HistogramBucketSettings',
    'google.api.expr.v1alpha1.CheckedExpr',
    'validate.FieldRules',
  ];
  for (const name of types) {
    it(`${name}: the same bytes or the same error`, () => {
      const type = lookupType(name);
      let ok = 0;
      fc.assert(
        fc.property(messageArb(type, 0), (value) => {
          const { now, before } = compare(name, value as JsonObject);
          expect(now).toEqual(before);
          if ('bytes' in now) ok++;
        }),
        { numRuns: 150 },
      );
      expect(ok).toBeGreaterThan(10);
    });
  }
});
