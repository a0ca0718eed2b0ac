// Encodes Envoy resources written in the proto3 JSON mapping (the form Envoy's own
// YAML uses: snake_case names, durations as "5s", wrappers as plain values, Any with
// "@type") into protobuf bytes. proto-writer.ts writes the bytes protobufjs would,
// straight from the JSON, and refuses unknown fields so a typo in a translator fails
// loudly instead of being dropped.
import type protobuf from 'protobufjs';
import { envoyRoot } from '../../../protos/loader.js';
import { EncodeError, TYPE_PREFIX, writeMessage, type JsonObject } from './proto-writer.js';

export { EncodeError, parseDuration, withSharedAnys, type Json, type JsonObject } from './proto-writer.js';

const typeCache = new Map<string, protobuf.Type>();

/** A message type by full name (with or without the leading dot) or type URL. */
export function lookupType(name: string): protobuf.Type {
  // Remembered by the name as given: no new string to hash on each call.
  let t = typeCache.get(name);
  if (!t) {
    const key = name.startsWith(TYPE_PREFIX) ? name.slice(TYPE_PREFIX.length) : name.replace(/^\./, '');
    t = envoyRoot().lookupType(key);
    typeCache.set(name, t);
  }
  return t;
}

/** Encodes a resource of the given message type (full name or type URL). */
export function encodeMessage(typeName: string, value: JsonObject): Uint8Array {
  return writeMessage(lookupType(typeName), value, typeName);
}

/** Encodes an Any-wrapped value: `{ '@type': url, ...fields }`. */
export function encodeAny(value: JsonObject): Uint8Array {
  const typeUrl = value['@type'];
  if (typeof typeUrl !== 'string') throw new EncodeError('Any without @type', 'Any');
  const { ['@type']: _ignored, ...rest } = value;
  return encodeMessage(typeUrl, rest as JsonObject);
}
