// The ADS service definition, made once per process from the protobufjs root that
// encodes the resources (protos/loader.ts envoyRoot, which has ads.proto): the same
// (de)serializers @grpc/proto-loader would make (keepCase; longs and enums as strings,
// no defaults, oneofs), without parsing the discovery protos a second time at startup.
// Its response serializers let a pre-encoded response (encoded.ts) through; the shared
// bodies are encoded with room for the nonce after them (withNonceRoom).
import type * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { envoyRoot } from '../../../../protos/loader.js';
import { deltaRequestDeserializer } from './delta-request.js';
import { BodyEncoder, NONCE_ROOM_FIELD, passEncoded, type Serialize } from './encoded.js';

export const ADS_SERVICE = 'envoy.service.discovery.v3.AggregatedDiscoveryService';

/** What proto-loader's loadSync is given where the ADS protos are loaded for clients (protos/loader.ts). */
const TO_OBJECT: protobuf.IConversionOptions = { longs: String, enums: String, defaults: false, oneofs: true };

let loaded: { definition: grpc.ServiceDefinition; encoder: BodyEncoder } | undefined;

function serializer(type: protobuf.Type): Serialize {
  return (value) => {
    if (Array.isArray(value)) throw new Error(`Failed to serialize message: expected object with ${type.name} structure, got array instead`);
    return type.encode(type.fromObject(value as Record<string, unknown>)).finish() as Buffer;
  };
}

/**
 * Encodes the message followed by NONCE_ROOM bytes of room for its nonce (a placeholder
 * nonce field that SharedBody overwrites), in the buffer protobufjs's writer makes.
 */
function withNonceRoom(type: protobuf.Type): Serialize {
  return (value) => {
    const w = type.encode(type.fromObject(value as Record<string, unknown>));
    w.uint32(NONCE_ROOM_FIELD.tag).bytes(NONCE_ROOM_FIELD.bytes);
    const out = w.finish();
    return Buffer.isBuffer(out) ? out : Buffer.from(out.buffer, out.byteOffset, out.length);
  };
}

function deserializer(type: protobuf.Type): (bytes: Buffer) => unknown {
  return (bytes) => type.toObject(type.decode(bytes), TO_OBJECT);
}

function load(): { definition: grpc.ServiceDefinition; encoder: BodyEncoder } {
  if (loaded) return loaded;
  const service = envoyRoot().lookupService(ADS_SERVICE);
  const definition: grpc.ServiceDefinition = Object.fromEntries(
    service.methodsArray.map((m) => {
      const responseSerialize = serializer(m.resolvedResponseType!);
      const method: grpc.MethodDefinition<unknown, unknown> = {
        path: `/${ADS_SERVICE}/${m.name}`,
        requestStream: !!m.requestStream,
        responseStream: !!m.responseStream,
        requestSerialize: serializer(m.resolvedRequestType!),
        // A reconnecting delta client's versions map is read by hand (delta-request.ts).
        requestDeserialize: m.name === 'DeltaAggregatedResources' ? deltaRequestDeserializer(deserializer(m.resolvedRequestType!)) : deserializer(m.resolvedRequestType!),
        responseSerialize: passEncoded(responseSerialize),
        responseDeserialize: deserializer(m.resolvedResponseType!),
        originalName: m.name[0]!.toLowerCase() + m.name.slice(1),
      };
      return [m.name, method];
    }),
  );
  const roomy = (name: string): Serialize => {
    const m = service.methods[name];
    if (!m?.resolvedResponseType) throw new Error(`ADS definition has no method ${name}`);
    return withNonceRoom(m.resolvedResponseType);
  };
  loaded = { definition, encoder: new BodyEncoder(roomy('StreamAggregatedResources'), roomy('DeltaAggregatedResources')) };
  return loaded;
}

/** The ADS service definition for grpc.Server. */
export function adsServiceDefinition(): grpc.ServiceDefinition {
  return load().definition;
}

/** Encodes SotW and delta response bodies. */
export function bodyEncoder(): BodyEncoder {
  return load().encoder;
}
