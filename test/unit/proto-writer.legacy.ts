// The encoder before proto-writer.ts, kept for tests only: it converts the proto3 JSON
// mapping into the objects protobufjs expects and lets protobufjs encode them. The
// writer must give the same bytes for every input this accepts, and fail where it fails.
import protobuf from 'protobufjs';
import { EncodeError, lookupType, parseDuration, type Json, type JsonObject } from '../../control-plane/src/xds/encode.js';

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

const fullNames = new WeakMap<protobuf.ReflectionObject, string>();
function fullNameOf(t: protobuf.ReflectionObject): string {
  let n = fullNames.get(t);
  if (n === undefined) {
    n = t.fullName;
    fullNames.set(t, n);
  }
  return n;
}

/** The old encodeMessage: convert, then protobufjs encode. */
export function legacyEncodeMessage(typeName: string, value: JsonObject): Uint8Array {
  const type = lookupType(typeName);
  return type.encode(convertMessage(type, value, typeName)).finish();
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
    return { type_url: typeUrl, value: inner.encode(plain).finish() };
  }
  if (full === '.google.protobuf.Duration') {
    if (typeof value !== 'string') throw new EncodeError('Duration must be a string like "5s"', where);
    return parseDuration(value, where);
  }
  if (WRAPPERS.has(full)) {
    const f = infoOf(type).fields.get('value')!;
    return { value: convertField(f, value as Json, where) };
  }
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
  const info = infoOf(type);
  const out: Record<string, unknown> = {};
  let oneofs: Map<string, string> | undefined;
  for (const key in value) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
    const field = info.fields.get(key);
    if (!field) throw new EncodeError(`unknown field "${key}" in ${info.fullName.slice(1)}`, where);
    const v = value[key];
    if (v === null || v === undefined) continue;
    if (field.oneof !== undefined) {
      oneofs ??= new Map();
      const other = oneofs.get(field.oneof);
      if (other !== undefined) throw new EncodeError(`${other} and ${key} are both set (oneof ${field.oneof})`, where);
      oneofs.set(field.oneof, key);
    }
    const here = `${where}.${key}`;
    if (field.map) {
      if (!isObject(v)) throw new EncodeError('map must be an object', here);
      const m: Record<string, unknown> = {};
      for (const mk in v) {
        if (!Object.prototype.hasOwnProperty.call(v, mk)) continue;
        if (field.keyRe && !field.keyRe.test(mk)) throw new EncodeError(`invalid ${field.keyType} map key ${JSON.stringify(mk)}`, here);
        m[mk] = convertField(field, v[mk]!, `${here}[${mk}]`);
      }
      out[key] = m;
    } else if (field.repeated) {
      if (!Array.isArray(v)) throw new EncodeError('repeated field must be an array', here);
      const items = new Array<unknown>(v.length);
      for (let i = 0; i < v.length; i++) items[i] = convertField(field, v[i]!, `${here}[${i}]`);
      out[key] = items;
    } else {
      out[key] = convertField(field, v, here);
    }
  }
  return out;
}

/** What encoding needs of a message type, read from protobufjs's reflection once per type. */
interface TypeInfo {
  readonly fullName: string;
  readonly fields: ReadonlyMap<string, FieldInfo>;
}

interface FieldInfo {
  readonly map: boolean;
  readonly repeated: boolean;
  readonly message: protobuf.Type | undefined;
  readonly enumType: protobuf.Enum | undefined;
  /** The protobuf scalar type when the field is neither a message nor an enum. */
  readonly scalar: string;
  readonly keyType: string | undefined;
  readonly keyRe: RegExp | undefined;
  /** The (non-synthetic or synthetic) oneof the field belongs to: at most one member may be set. */
  readonly oneof: string | undefined;
}

const infos = new WeakMap<protobuf.Type, TypeInfo>();

function infoOf(type: protobuf.Type): TypeInfo {
  let info = infos.get(type);
  if (!info) {
    const fields = new Map<string, FieldInfo>();
    for (const f of type.fieldsArray) {
      f.resolve();
      const rt = f.resolvedType;
      const keyType = f instanceof protobuf.MapField ? f.keyType : undefined;
      fields.set(f.name, {
        map: f.map,
        repeated: f.repeated,
        message: rt instanceof protobuf.Type ? rt : undefined,
        enumType: rt instanceof protobuf.Enum ? rt : undefined,
        scalar: f.type,
        keyType,
        keyRe: keyRegExp(keyType),
        oneof: f.partOf?.name,
      });
    }
    info = { fullName: fullNameOf(type), fields };
    infos.set(type, info);
  }
  return info;
}

/** The check protobufjs's verify makes of a map key of this type (none for string keys). */
function keyRegExp(keyType: string | undefined): RegExp | undefined {
  switch (keyType) {
    case undefined:
    case 'string':
      return undefined;
    case 'bool':
      return /^true|false|0|1$/;
    case 'int64':
    case 'uint64':
    case 'sint64':
    case 'fixed64':
    case 'sfixed64':
      return protobuf.util.key64Re;
    default:
      return protobuf.util.key32Re;
  }
}

function convertField(f: FieldInfo, v: Json, where: string): unknown {
  if (f.message) return convertMessage(f.message, v, where);
  const e = f.enumType;
  if (e) {
    if (typeof v === 'number' && Number.isInteger(v) && v in e.valuesById) return v;
    if (typeof v === 'string' && Object.prototype.hasOwnProperty.call(e.values, v)) return e.values[v];
    throw new EncodeError(`${JSON.stringify(v)} is not a value of enum ${fullNameOf(e).slice(1)}`, where);
  }
  switch (f.scalar) {
    case 'int32':
    case 'sint32':
    case 'sfixed32':
      if (isInteger(v)) return v | 0;
      throw new EncodeError(`integer expected, got ${JSON.stringify(v)}`, where);
    case 'uint32':
    case 'fixed32':
      if (isInteger(v)) return v >>> 0;
      throw new EncodeError(`integer expected, got ${JSON.stringify(v)}`, where);
    case 'int64':
    case 'uint64':
    case 'sint64':
    case 'fixed64':
    case 'sfixed64':
      if (isInteger(v)) return v;
      throw new EncodeError(`integer expected, got ${JSON.stringify(v)}`, where);
    case 'float':
    case 'double':
      if (typeof v === 'number') return v;
      throw new EncodeError(`number expected, got ${JSON.stringify(v)}`, where);
    case 'bool':
      if (typeof v === 'boolean') return v;
      throw new EncodeError(`boolean expected, got ${JSON.stringify(v)}`, where);
    case 'string':
      if (typeof v === 'string') return v;
      throw new EncodeError(`string expected, got ${JSON.stringify(v)}`, where);
    case 'bytes':
      // Base64 text, as in the JSON mapping: protobufjs's writer decodes it.
      if (typeof v === 'string') return v;
      throw new EncodeError(`base64 string expected, got ${JSON.stringify(v)}`, where);
    default:
      throw new EncodeError(`unsupported field type ${f.scalar}`, where);
  }
}

function isInteger(v: Json): v is number {
  return typeof v === 'number' && Number.isFinite(v) && Math.floor(v) === v;
}

function structValue(v: Json): Record<string, unknown> {
  if (v === null) return { null_value: 0 }; // NullValue.NULL_VALUE
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
