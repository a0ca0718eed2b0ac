// The ADS service definition, made once per process from the protobufjs root that
// encodes the resources (protos/loader.ts envoyRoot, which has ads.proto): the same
// (de)serializers @grpc/proto-loader would make (keepCase; longs and enums as strings,
// no defaults, oneofs), without parsing the discovery protos a second time at startup.
// Its response serializers let a pre-encoded response (encoded.ts) through; the plain
// ones encode the shared bodies.
import type * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { envoyRoot } from '../../../../protos/loader.js';
import { deltaRequestDeserializer } from './delta-request.js';
import { BodyEncoder, passEncoded, type Serialize } from './encoded.js';

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

function deserializer(type: protobuf.Type): (bytes: Buffer) => unknown {
  return (bytes) => type.toObject(type.decode(bytes), TO_OBJECT);
}

function load(): { definition: grpc.ServiceDefinition; encoder: BodyEncoder } {
  if (loaded) return loaded;
  const service = envoyRoot().lookupService(ADS_SERVICE);
  const plain: Record<string, Serialize> = {};
  const definition: grpc.ServiceDefinition = Object.fromEntries(
    service.methodsArray.map((m) => {
      const responseSerialize = serializer(m.resolvedResponseType!);
      plain[m.name] = responseSerialize;
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
  const get = (name: string): Serialize => {
    const s = plain[name];
    if (!s) throw new Error(`ADS definition has no method ${name}`);
    return s;
  };
  loaded = { definition, encoder: new BodyEncoder(get('StreamAggregatedResources'), get('DeltaAggregatedResources')) };
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
