// The DeltaDiscoveryRequest deserializer reads initial_resource_versions by hand
// (xds/server/delta-request.ts): for any request it must give what protobufjs gives.
import fc from 'fast-check';
import type protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { envoyRoot } from '../../protos/loader.js';
import { deltaRequestDeserializer } from '../../control-plane/src/xds/server/delta-request.js';

const TYPE = envoyRoot().lookupType('envoy.service.discovery.v3.DeltaDiscoveryRequest') as protobuf.Type;
const TO_OBJECT: protobuf.IConversionOptions = { longs: String, enums: String, defaults: false, oneofs: true };
const plain = (bytes: Buffer): unknown => TYPE.toObject(TYPE.decode(bytes), TO_OBJECT);
const fast = deltaRequestDeserializer(plain);
const encode = (o: Record<string, unknown>): Buffer => Buffer.from(TYPE.encode(TYPE.fromObject(o)).finish());

/** Plain JSON with object keys sorted (a null-prototype map object compares like {}). */
function normal(x: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort((v as Record<string, unknown>)[k])]));
    return v;
  };
  return JSON.stringify(sort(x));
}

const text = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }), fc.constantFrom('', 'ns/svc/8080', 'é/ü/日本', 'x'.repeat(200)));
const request = fc.record(
  {
    node: fc.record({ id: text, cluster: text }),
    type_url: fc.constantFrom('type.googleapis.com/envoy.config.cluster.v3.Cluster', 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment'),
    resource_names_subscribe: fc.array(text, { maxLength: 5 }),
    resource_names_unsubscribe: fc.array(text, { maxLength: 3 }),
    initial_resource_versions: fc.dictionary(text, text, { maxKeys: 30 }),
    response_nonce: text,
    error_detail: fc.record({ code: fc.integer({ min: 0, max: 16 }), message: text }),
  },
  { requiredKeys: [] },
);

describe('DeltaDiscoveryRequest deserializer', () => {
  it('gives what protobufjs gives, for any request', () => {
    fc.assert(
      fc.property(request, (req) => {
        const bytes = encode(req);
        expect(normal(fast(bytes))).toBe(normal(plain(bytes)));
      }),
      { numRuns: 400 },
    );
  });

  it('merges two encodings as protobuf does (map entries: the last of a key wins; repeated fields append)', () => {
    fc.assert(
      fc.property(request, request, (a, b) => {
        const bytes = Buffer.concat([encode(a), encode(b)]);
        expect(normal(fast(bytes))).toBe(normal(plain(bytes)));
      }),
      { numRuns: 200 },
    );
  });

  it('refuses truncated requests (where protobufjs does, and where it reads past the end of a string)', () => {
    const bytes = encode({ type_url: 'x', initial_resource_versions: { 'ns/a/80': 'v1', 'ns/b/80': 'v2' } });
    for (let cut = 1; cut < bytes.length; cut++) {
      const part = bytes.subarray(0, cut);
      let plainThrew = false;
      try {
        plain(part);
      } catch {
        plainThrew = true;
      }
      if (plainThrew) expect(() => fast(part)).toThrow();
      else {
        // protobufjs does not check a string's length against the end of the buffer (it gives "" for `12 01`): a refusal is stricter, never looser.
        let got: unknown;
        try {
          got = fast(part);
        } catch {
          continue;
        }
        expect(normal(got)).toBe(normal(plain(part)));
      }
    }
  });
});
