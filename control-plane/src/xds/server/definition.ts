// The ADS service definition, loaded once per process. Its response serializers let a
// pre-encoded response (encoded.ts) through; the original ones encode the shared bodies.
import type * as grpc from '@grpc/grpc-js';
import { adsPackageDefinition } from '../../../../protos/loader.js';
import { BodyEncoder, passEncoded, type Serialize } from './encoded.js';

export const ADS_SERVICE = 'envoy.service.discovery.v3.AggregatedDiscoveryService';

let loaded: { definition: grpc.ServiceDefinition; encoder: BodyEncoder } | undefined;

function load(): { definition: grpc.ServiceDefinition; encoder: BodyEncoder } {
  if (loaded) return loaded;
  const original = adsPackageDefinition()[ADS_SERVICE] as grpc.ServiceDefinition;
  const definition: grpc.ServiceDefinition = Object.fromEntries(
    Object.entries(original).map(([name, method]) => [name, { ...method, responseSerialize: passEncoded(method.responseSerialize as Serialize) }]),
  );
  const serializer = (name: string): Serialize => {
    const m = original[name];
    if (!m) throw new Error(`ADS definition has no method ${name}`);
    return m.responseSerialize as Serialize;
  };
  loaded = { definition, encoder: new BodyEncoder(serializer('StreamAggregatedResources'), serializer('DeltaAggregatedResources')) };
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
