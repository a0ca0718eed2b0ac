// Encodes Envoy resources written in the proto3 JSON mapping (the form Envoy's own
// YAML uses: snake_case names, durations as "5s", wrappers as plain values, Any with
// "@type") into protobuf bytes. protobufjs encodes; this module only converts the
// JSON mapping into the shape protobufjs expects, and refuses unknown fields so a
// typo in a translator fails loudly instead of being dropped.
import protobuf from 'protobufjs';
import { envoyRoot } from '../../../protos/loader.js';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

const TYPE_PREFIX = 'type.googleapis.com/';
const WRAPPERS = new Set([
  '.google.protobuf.BoolValue',
  '.google.protobuf.UInt32Value',
  '.google.protobuf.UInt64Value',
  '.google.protobuf.Int32Value',
  '.google.protobuf.Int64Value',
  '.google.protobuf.DoubleValue',
  '.google.protobuf.FloatValue',
  '.google.protobuf.StringValue',
  '.google.protobuf.BytesValue',
]);

const typeCache = new Map<string, protobuf.Type>();

// protobufjs's `fullName` getter rebuilds the dotted name on every read: read it once per type.
const fullNames = new WeakMap<protobuf.ReflectionObject, string>();
function fullNameOf(t: protobuf.ReflectionObject): string {
  let n = fullNames.get(t);
  if (n === undefined) {
    n = t.fullName;
    fullNames.set(t, n);
  }
  return n;
}

export function lookupType(name: string): protobuf.Type {
  const key = name.startsWith(TYPE_PREFIX) ? name.slice(TYPE_PREFIX.length) : name.replace(/^\./, '');
  let t = typeCache.get(key);
  if (!t) {
    t = envoyRoot().lookupType(key);
    typeCache.set(key, t);
  }
  return t;
}

export class EncodeError extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(`${path}: ${message}`);
  }
}

/** Encodes a resource of the given message type (full name or type URL). */
export function encodeMessage(typeName: string, value: JsonObject): Uint8Array {
  const type = lookupType(typeName);
  const plain = convertMessage(type, value, typeName);
  const err = type.verify(plain);
  if (err) throw new EncodeError(err, typeName);
  return type.encode(type.fromObject(plain)).finish();
}

/** Encodes an Any-wrapped value: `{ '@type': url, ...fields }`. */
export function encodeAny(value: JsonObject): Uint8Array {
  const typeUrl = value['@type'];
  if (typeof typeUrl !== 'string') throw new EncodeError('Any without @type', 'Any');
  const { ['@type']: _ignored, ...rest } = value;
  return encodeMessage(typeUrl, rest as JsonObject);
}

export function parseDuration(s: string, where: string): { seconds: number; nanos: number } {
  const m = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/.exec(s);
  if (!m) throw new EncodeError(`invalid duration ${JSON.stringify(s)}`, where);
  const sign = m[1] ? -1 : 1;
  const seconds = Number(m[2]);
  const nanos = m[3] ? Number(m[3].padEnd(9, '0')) : 0;
  return { seconds: sign * seconds, nanos: sign * nanos };
}

function convertMessage(type: protobuf.Type, value: Json, where: string): Record<string, unknown> {
  const full = fullNameOf(type);
  if (full === '.google.protobuf.Any') {
    if (!isObject(value)) throw new EncodeError('Any must be an object', where);
    const typeUrl = value['@type'];
    if (typeof typeUrl !== 'string' || !typeUrl.startsWith(TYPE_PREFIX)) {
      throw new EncodeError('Any needs "@type": "type.googleapis.com/…"', where);
    }
    const inner = lookupType(typeUrl);
    const { ['@type']: _t, ...rest } = value;
    // Well-known types inside an Any carry their JSON form under "value".
    const body = isWellKnown(fullNameOf(inner)) ? (rest['value'] as Json) : (rest as Json);
    const plain = convertMessage(inner, body, `${where}<${inner.name}>`);
    return { type_url: typeUrl, value: inner.encode(inner.fromObject(plain)).finish() };
  }
  if (full === '.google.protobuf.Duration') {
    if (typeof value !== 'string') throw new EncodeError('Duration must be a string like "5s"', where);
    return parseDuration(value, where);
  }
  if (WRAPPERS.has(full)) return { value };
  if (full === '.google.protobuf.Struct') {
    if (!isObject(value)) throw new EncodeError('Struct must be an object', where);
    const fields: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) fields[k] = structValue(v);
    return { fields };
  }
  if (full === '.google.protobuf.Value') return structValue(value);
  if (full === '.google.protobuf.ListValue') {
    if (!Array.isArray(value)) throw new EncodeError('ListValue must be an array', where);
    return { values: value.map(structValue) };
  }
  if (!isObject(value)) throw new EncodeError(`${type.name} must be an object`, where);
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const field = type.fields[key];
    if (!field) throw new EncodeError(`unknown field "${key}" in ${fullNameOf(type).slice(1)}`, where);
    if (v === null || v === undefined) continue;
    field.resolve();
    const rt = field.resolvedType;
    const here = `${where}.${key}`;
    if (field.map) {
      if (!isObject(v)) throw new EncodeError('map must be an object', here);
      const m: Record<string, unknown> = {};
      for (const [mk, mv] of Object.entries(v)) m[mk] = convertField(rt, mv, `${here}[${mk}]`);
      out[key] = m;
    } else if (field.repeated) {
      if (!Array.isArray(v)) throw new EncodeError('repeated field must be an array', here);
      out[key] = v.map((item, i) => convertField(rt, item, `${here}[${i}]`));
    } else {
      out[key] = convertField(rt, v, here);
    }
  }
  return out;
}

function convertField(rt: protobuf.Type | protobuf.Enum | null, v: Json, where: string): unknown {
  if (rt instanceof protobuf.Type) return convertMessage(rt, v, where);
  if (rt instanceof protobuf.Enum) {
    if (typeof v === 'number' && Number.isInteger(v)) return v;
    if (typeof v === 'string' && v in rt.values) return rt.values[v];
    throw new EncodeError(`${JSON.stringify(v)} is not a value of enum ${fullNameOf(rt).slice(1)}`, where);
  }
  return v;
}

function structValue(v: Json): Record<string, unknown> {
  if (v === null) return { null_value: 'NULL_VALUE' };
  if (typeof v === 'number') return { number_value: v };
  if (typeof v === 'string') return { string_value: v };
  if (typeof v === 'boolean') return { bool_value: v };
  if (Array.isArray(v)) return { list_value: { values: v.map(structValue) } };
  const fields: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) fields[k] = structValue(x);
  return { struct_value: { fields } };
}

function isWellKnown(fullName: string): boolean {
  return (
    WRAPPERS.has(fullName) ||
    fullName === '.google.protobuf.Duration' ||
    fullName === '.google.protobuf.Struct' ||
    fullName === '.google.protobuf.Value' ||
    fullName === '.google.protobuf.ListValue'
  );
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
