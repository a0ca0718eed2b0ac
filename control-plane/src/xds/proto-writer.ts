// Writes protobuf bytes straight from a message in the proto3 JSON mapping (snake_case
// names, durations as "5s", wrappers as plain values, Any with "@type", Struct/Value/
// ListValue as plain JSON, enums by name or number, bytes as base64), with the checks
// protobufjs's verify would make. No intermediate objects: one pass walks the JSON with
// per-type field tables read once from protobufjs's reflection, checks it and writes into
// a reused scratch buffer. A length-delimited part gets one byte for its length, and its
// bytes move up in the rare case the length needs more; the result is copied out.
//
// The bytes are those of protobufjs's generated encoder fed with the equivalent
// protobufjs object (what the converter before this writer made): fields in field-number
// order; a set field written even when it holds its default value; an empty repeated
// field not written; repeated scalars packed when the field is; map entries in key order
// (as Object.keys gives them) with key = 1 and value = 2 both written; negative int32 and
// enum values as 10-byte varints; strings as protobufjs writes them (its own UTF-8 writer
// below 40 UTF-16 units, Node's from 40: they differ on lone surrogates); an Any's value
// the encoding of its message. A map or Struct key "__proto__" is left out, as protobufjs
// never saw it (assigning it to an object sets the prototype). For Struct and Value, see
// writeStructFields. test/unit/proto-writer.test.ts holds the old path and compares.
//
// Errors are the old path's, message for message, path included: fields are checked in
// the object's own key order (when that differs from field-number order and a problem
// turns up, the fields are walked again in key order to report the first one there).
// One difference: undefined inside a Struct or Value is an EncodeError here, where the
// old path threw a TypeError.
//
// Not re-entrant: the scratch buffer and the field stack are module state, and nothing
// here calls back into code that could encode.
import protobuf from 'protobufjs';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

export class EncodeError extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(`${path}: ${message}`);
  }
}

export const TYPE_PREFIX = 'type.googleapis.com/';

export function parseDuration(s: string, where: string): { seconds: number; nanos: number } {
  const m = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/.exec(s);
  if (!m) throw new EncodeError(`invalid duration ${JSON.stringify(s)}`, where);
  const sign = m[1] ? -1 : 1;
  const seconds = Number(m[2]);
  const nanos = m[3] ? Number(m[3].padEnd(9, '0')) : 0;
  return { seconds: sign * seconds, nanos: sign * nanos };
}

/** Encodes `value` as a message of `type`; `where` names it in errors. */
export function writeMessage(type: protobuf.Type, value: Json | undefined, where: string): Uint8Array {
  const info = infoOf(type);
  pos = 0;
  sp = 0;
  tooDeep = false;
  try {
    writeBody(info, value, false, 0);
  } catch (e) {
    done();
    if (e instanceof Fail) throw new EncodeError(e.reason, where + e.path());
    throw e;
  }
  // protobufjs's encoder refuses messages nested deeper than its recursion limit.
  if (tooDeep) {
    done();
    throw Error('max depth exceeded');
  }
  const out = Buffer.allocUnsafe(pos);
  buf.copy(out, 0, 0, pos);
  done();
  return out;
}

// ---------------------------------------------------------------------------------------
// Per-type tables, read from protobufjs's reflection once per type.

const SHAPE_PLAIN = 0;
const SHAPE_ANY = 1;
const SHAPE_DURATION = 2;
const SHAPE_WRAPPER = 3;
const SHAPE_STRUCT = 4;
const SHAPE_VALUE = 5;
const SHAPE_LIST = 6;

const WELL_KNOWN: Record<string, number> = {
  '.google.protobuf.Any': SHAPE_ANY,
  '.google.protobuf.Duration': SHAPE_DURATION,
  '.google.protobuf.BoolValue': SHAPE_WRAPPER,
  '.google.protobuf.UInt32Value': SHAPE_WRAPPER,
  '.google.protobuf.UInt64Value': SHAPE_WRAPPER,
  '.google.protobuf.Int32Value': SHAPE_WRAPPER,
  '.google.protobuf.Int64Value': SHAPE_WRAPPER,
  '.google.protobuf.DoubleValue': SHAPE_WRAPPER,
  '.google.protobuf.FloatValue': SHAPE_WRAPPER,
  '.google.protobuf.StringValue': SHAPE_WRAPPER,
  '.google.protobuf.BytesValue': SHAPE_WRAPPER,
  '.google.protobuf.Struct': SHAPE_STRUCT,
  '.google.protobuf.Value': SHAPE_VALUE,
  '.google.protobuf.ListValue': SHAPE_LIST,
};

// Value kinds of a field (or map key).
const K_MESSAGE = 0;
const K_ENUM = 1;
const K_INT32 = 2;
const K_SINT32 = 3;
const K_SFIXED32 = 4;
const K_UINT32 = 5;
const K_FIXED32 = 6;
const K_INT64 = 7;
const K_UINT64 = 8;
const K_SINT64 = 9;
const K_FIXED64 = 10;
const K_SFIXED64 = 11;
const K_FLOAT = 12;
const K_DOUBLE = 13;
const K_BOOL = 14;
const K_STRING = 15;
const K_BYTES = 16;

const SCALAR_KINDS: Record<string, number> = {
  int32: K_INT32,
  sint32: K_SINT32,
  sfixed32: K_SFIXED32,
  uint32: K_UINT32,
  fixed32: K_FIXED32,
  int64: K_INT64,
  uint64: K_UINT64,
  sint64: K_SINT64,
  fixed64: K_FIXED64,
  sfixed64: K_SFIXED64,
  float: K_FLOAT,
  double: K_DOUBLE,
  bool: K_BOOL,
  string: K_STRING,
  bytes: K_BYTES,
};

/** The wire type of each kind (protobufjs's types.basic; enums are int32). */
const WIRE: readonly number[] = [2, 0, 0, 0, 5, 0, 5, 0, 0, 0, 1, 1, 5, 1, 0, 2, 2];

class TypeInfo {
  readonly shape: number;
  readonly name: string;
  readonly fullName: string;
  readonly fields = new Map<string, FieldInfo>();
  /** For wrappers: their `value` field. */
  readonly valueField: FieldInfo | undefined;
  /** For Any: the message types named by type URLs, resolved in this type's root. */
  readonly anyTypes: Map<string, TypeInfo> | undefined;
  /**
   * The keys last met at each position of an object of this type, and their fields:
   * objects of one type mostly come from the same code, with the same keys in the same
   * order, so a key is mostly found here without a lookup.
   */
  readonly lastKeys: string[] = [];
  readonly lastFields: FieldInfo[] = [];

  constructor(readonly type: protobuf.Type) {
    this.fullName = type.fullName;
    this.name = type.name;
    this.shape = WELL_KNOWN[this.fullName] ?? SHAPE_PLAIN;
    const oneofs = type.oneofsArray;
    for (const f of type.fieldsArray) this.fields.set(f.name, new FieldInfo(f.resolve(), oneofs));
    this.valueField = this.shape === SHAPE_WRAPPER ? this.fields.get('value') : undefined;
    this.anyTypes = this.shape === SHAPE_ANY ? new Map() : undefined;
  }

  isWellKnown(): boolean {
    return this.shape >= SHAPE_DURATION;
  }
}

class FieldInfo {
  readonly name: string;
  readonly id: number;
  readonly kind: number;
  readonly repeated: boolean;
  readonly map: boolean;
  /** Repeated scalars written as one length-delimited run. */
  readonly packed: boolean;
  /** The tag of one value of this field (length-delimited for packed runs and map entries). */
  readonly tag: number;
  /** The tag of a map entry's value (2). */
  readonly valueTag: number;
  readonly oneof: string | undefined;
  /** 1 << the oneof's index in its type, when below 31; 0 for none or beyond. */
  readonly oneofBit: number;
  readonly keyType: string | undefined;
  readonly keyKind: number;
  readonly keyRe: RegExp | undefined;
  /** An enum's values by name (its own keys only, as hasOwnProperty found them) and its numbers. */
  readonly enumValues: ReadonlyMap<string, number> | undefined;
  readonly enumNumbers: ReadonlySet<number> | undefined;
  readonly enumName: string;
  readonly scalar: string;
  private readonly messageType: protobuf.Type | undefined;
  private messageInfo: TypeInfo | undefined;

  constructor(f: protobuf.Field, oneofs: readonly protobuf.OneOf[]) {
    const rt = f.resolvedType;
    this.name = f.name;
    this.id = f.id;
    this.scalar = f.type;
    this.repeated = f.repeated;
    this.map = f.map;
    this.messageType = rt instanceof protobuf.Type ? rt : undefined;
    if (f.delimited) this.kind = -1; // proto2 groups: none in the Envoy protos, refused when met
    else if (this.messageType) this.kind = K_MESSAGE;
    else if (rt instanceof protobuf.Enum) this.kind = K_ENUM;
    else this.kind = SCALAR_KINDS[f.type] ?? -1;
    this.enumValues = rt instanceof protobuf.Enum ? new Map(Object.entries(rt.values)) : undefined;
    this.enumNumbers = rt instanceof protobuf.Enum ? new Set(Object.keys(rt.valuesById).map(Number)) : undefined;
    this.enumName = rt instanceof protobuf.Enum ? rt.fullName.slice(1) : '';
    const wire = this.kind >= 0 ? WIRE[this.kind]! : 2;
    this.packed = f.repeated && !f.map && f.packed && wire !== 2;
    this.tag = ((f.id << 3) | (this.map || this.packed ? 2 : wire)) >>> 0;
    this.valueTag = 16 | wire;
    this.oneof = f.partOf?.name;
    const oneofIndex = f.partOf ? oneofs.indexOf(f.partOf) : -1;
    this.oneofBit = oneofIndex >= 0 && oneofIndex < 31 ? 1 << oneofIndex : 0;
    this.keyType = f instanceof protobuf.MapField ? f.keyType : undefined;
    this.keyKind = this.keyType !== undefined ? SCALAR_KINDS[this.keyType] ?? -1 : -1;
    this.keyRe = keyRegExp(this.keyType);
  }

  message(): TypeInfo {
    return (this.messageInfo ??= infoOf(this.messageType!));
  }

  /** The enum name last looked up, and its number. */
  lastEnumName: string | undefined = undefined;
  lastEnumValue: number | undefined = undefined;

  enumValue(name: string): number | undefined {
    const x = this.enumValues!.get(name);
    if (x !== undefined) {
      this.lastEnumName = name;
      this.lastEnumValue = x;
    }
    return x;
  }
}

const infos = new WeakMap<protobuf.Type, TypeInfo>();

function infoOf(type: protobuf.Type): TypeInfo {
  let info = infos.get(type);
  if (!info) {
    info = new TypeInfo(type);
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

// ---------------------------------------------------------------------------------------
// The scratch buffer, reused from call to call.

const INITIAL_SIZE = 1 << 16;
/** A scratch buffer grown past this is let go after the call. */
const KEPT_SIZE = 1 << 20;

let buf: Buffer = Buffer.allocUnsafe(INITIAL_SIZE);
let pos = 0;

type NodeBuffer = Buffer & { utf8Write(s: string, offset: number, length?: number): number };

/** Makes room for `n` more bytes at `pos` (typed arrays drop writes past their end). */
function ensure(n: number): void {
  if (pos + n > buf.length) {
    let size = buf.length * 2;
    while (size < pos + n) size *= 2;
    const b = Buffer.allocUnsafe(size);
    buf.copy(b, 0, 0, pos);
    buf = b;
  }
}

function done(): void {
  if (buf.length > KEPT_SIZE) buf = Buffer.allocUnsafe(INITIAL_SIZE);
  // Drop the message's fields from the stack below (they hold its objects).
  stackV.fill(null, 0, maxSp);
  maxSp = 0;
}

function varint(x: number): void {
  while (x > 127) {
    buf[pos++] = (x & 127) | 128;
    x >>>= 7;
  }
  buf[pos++] = x;
}

/** Starts a length-delimited part: its tag and one byte for its length. Returns where that byte is. */
function openLength(tag: number): number {
  ensure(6);
  varint(tag);
  return pos++;
}

/** Ends the part opened at `at`: writes its length, moving its bytes up if that takes more than one byte. */
function closeLength(at: number): void {
  const len = pos - at - 1;
  if (len < 128) {
    buf[at] = len;
    return;
  }
  const extra = varintSize(len) - 1;
  ensure(extra);
  buf.copyWithin(at + 1 + extra, at + 1, pos);
  pos += extra;
  const end = pos;
  pos = at;
  varint(len);
  pos = end;
}

function varintSize(x: number): number {
  return x < 128 ? 1 : x < 16384 ? 2 : x < 2097152 ? 3 : x < 268435456 ? 4 : 5;
}

// ---------------------------------------------------------------------------------------
// Errors: a Fail gathers its path on the way out (innermost part first).

class Fail {
  private readonly parts: string[] = [];
  constructor(readonly reason: string) {}
  add(part: string): void {
    this.parts.push(part);
  }
  path(): string {
    let p = '';
    for (let i = this.parts.length - 1; i >= 0; i--) p += this.parts[i];
    return p;
  }
}

function within(e: unknown, part: string): unknown {
  if (e instanceof Fail) e.add(part);
  return e;
}

// ---------------------------------------------------------------------------------------
// The walk.

const hasOwn = Object.prototype.hasOwnProperty;
/** protobufjs's util.recursionLimit: its encoder refuses messages nested deeper. */
const RECURSION_LIMIT = protobuf.util.recursionLimit;
let tooDeep = false;

// The present fields of the messages being written: a stack, each message its segment.
const stackF: FieldInfo[] = [];
const stackV: Json[] = [];
let sp = 0;
let maxSp = 0;

function writeBody(info: TypeInfo, value: Json | undefined, skipType: boolean, depth: number): void {
  switch (info.shape) {
    case SHAPE_PLAIN:
      return writePlain(info, value, skipType, depth);
    case SHAPE_ANY:
      return writeAny(info, value, skipType);
    case SHAPE_DURATION:
      return writeDuration(value);
    case SHAPE_WRAPPER: {
      const f = info.valueField!;
      return writeScalar(f, value, f.tag);
    }
    case SHAPE_STRUCT:
      if (!isObject(value)) throw new Fail('Struct must be an object');
      return writeStructFields(value, depth);
    case SHAPE_VALUE:
      return checkJson(value);
    default:
      if (!Array.isArray(value)) throw new Fail('ListValue must be an array');
      return writeListValues(value, depth);
  }
}

function writePlain(info: TypeInfo, value: Json | undefined, skipType: boolean, depth: number): void {
  if (!isObject(value)) throw new Fail(`${info.name} must be an object`);
  const base = sp;
  let top = base;
  let sorted = true;
  let lastId = 0;
  let oneofs = 0;
  // The own enumerable keys in Object.keys order, without making its array (a for…in over
  // an object V8 knows the keys of reads its cache; the own-key check is folded away there).
  const lastKeys = info.lastKeys;
  let next = 0;
  for (const key in value) {
    if (!hasOwn.call(value, key)) continue;
    const k = next++;
    let f: FieldInfo | undefined;
    if (lastKeys[k] === key) {
      f = info.lastFields[k]!;
    } else {
      if (skipType && key === '@type') continue;
      f = info.fields.get(key);
      if (f === undefined) return failAfter(base, top, new Fail(`unknown field "${key}" in ${info.fullName.slice(1)}`), depth);
      lastKeys[k] = key;
      info.lastFields[k] = f;
    }
    const v = value[key];
    if (v === null || v === undefined) continue;
    if (f.oneof !== undefined) {
      const other = f.oneofBit === 0 || (oneofs & f.oneofBit) !== 0 ? otherOneofMember(base, top, f) : undefined;
      if (other !== undefined) return failAfter(base, top, new Fail(`${other} and ${key} are both set (oneof ${f.oneof})`), depth);
      oneofs |= f.oneofBit;
    }
    stackF[top] = f;
    stackV[top] = v;
    top++;
    if (f.id < lastId) sorted = false;
    lastId = f.id;
  }
  if (!sorted) sortById(base, top);
  sp = top;
  if (top > maxSp) maxSp = top;
  let i = base;
  try {
    for (; i < top; i++) writeField(stackF[i]!, stackV[i]!, depth);
  } catch (e) {
    // Report what a walk in the object's own key order meets first.
    if (!sorted) replay(info, value, skipType, depth);
    throw within(e, `.${stackF[i]!.name}`);
  }
  sp = base;
}

function otherOneofMember(base: number, top: number, f: FieldInfo): string | undefined {
  for (let i = base; i < top; i++) if (stackF[i]!.oneof === f.oneof) return stackF[i]!.name;
  return undefined;
}

function sortById(base: number, top: number): void {
  for (let i = base + 1; i < top; i++) {
    const f = stackF[i]!;
    const v = stackV[i]!;
    let j = i - 1;
    while (j >= base && stackF[j]!.id > f.id) {
      stackF[j + 1] = stackF[j]!;
      stackV[j + 1] = stackV[j]!;
      j--;
    }
    stackF[j + 1] = f;
    stackV[j + 1] = v;
  }
}

/** A problem with a key: the fields before it are checked first (in key order), then it is thrown. */
function failAfter(base: number, top: number, fail: Fail, depth: number): never {
  sp = top;
  if (top > maxSp) maxSp = top;
  for (let i = base; i < top; i++) {
    try {
      writeField(stackF[i]!, stackV[i]!, depth);
    } catch (e) {
      throw within(e, `.${stackF[i]!.name}`);
    }
  }
  throw fail;
}

/** Writes the fields again in key order (to no use), so the first problem in that order is the one thrown. */
function replay(info: TypeInfo, value: JsonObject, skipType: boolean, depth: number): void {
  for (const key of Object.keys(value)) {
    if (skipType && key === '@type') continue;
    const v = value[key];
    if (v === null || v === undefined) continue;
    try {
      writeField(info.fields.get(key)!, v, depth);
    } catch (e) {
      throw within(e, `.${key}`);
    }
  }
}

function writeField(f: FieldInfo, v: Json, depth: number): void {
  if (f.map) return writeMap(f, v, depth);
  if (f.repeated) return writeRepeated(f, v, depth);
  if (f.kind === K_MESSAGE) return writeMessageField(f.message(), v, f.tag, depth + 1);
  return writeScalar(f, v, f.tag);
}

function writeMessageField(info: TypeInfo, v: Json | undefined, tag: number, depth: number): void {
  if (depth > RECURSION_LIMIT) tooDeep = true;
  const at = openLength(tag);
  writeBody(info, v, false, depth);
  closeLength(at);
}

function writeRepeated(f: FieldInfo, v: Json, depth: number): void {
  if (!Array.isArray(v)) throw new Fail('repeated field must be an array');
  const len = v.length;
  if (len === 0) return;
  let i = 0;
  try {
    if (f.packed) {
      const at = openLength(f.tag);
      for (; i < len; i++) writeScalar(f, v[i]!, 0);
      closeLength(at);
    } else if (f.kind === K_MESSAGE) {
      const info = f.message();
      for (; i < len; i++) writeMessageField(info, v[i]!, f.tag, depth + 1);
    } else {
      for (; i < len; i++) writeScalar(f, v[i]!, f.tag);
    }
  } catch (e) {
    throw within(e, `[${i}]`);
  }
}

function writeMap(f: FieldInfo, v: Json, depth: number): void {
  if (!isObject(v)) throw new Fail('map must be an object');
  // Object.keys: the own keys for…in meets, in the same order.
  const keys = Object.keys(v);
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k]!;
    if (f.keyRe !== undefined && !f.keyRe.test(key)) throw new Fail(`invalid ${f.keyType} map key ${JSON.stringify(key)}`);
    const mark = pos;
    const at = openLength(f.tag);
    writeKey(f, key);
    try {
      if (f.kind === K_MESSAGE) writeMessageField(f.message(), v[key]!, 18, depth + 1);
      else writeScalar(f, v[key]!, f.valueTag);
    } catch (e) {
      throw within(e, `[${key}]`);
    }
    if (key === '__proto__') pos = mark;
    else closeLength(at);
  }
}

/** A map entry's key (field 1), written from the key string as protobufjs's writer does. */
function writeKey(f: FieldInfo, key: string): void {
  const tag = (8 | WIRE[f.keyKind]!) >>> 0;
  switch (f.keyKind) {
    case K_STRING:
      return writeString(tag, key);
    case K_INT32:
      return writeInt32(tag, Number(key) | 0);
    case K_UINT32:
      return writeVarint(tag, Number(key) >>> 0);
    case K_SINT32: {
      const x = Number(key);
      return writeVarint(tag, ((x << 1) ^ (x >> 31)) >>> 0);
    }
    case K_FIXED32:
    case K_SFIXED32:
      return writeFixed32(tag, Number(key) >>> 0);
    case K_BOOL:
      // protobufjs writes the (non-empty) key string's truthiness.
      return writeVarint(tag, key ? 1 : 0);
    case K_INT64:
    case K_UINT64:
    case K_SINT64: {
      const bits = protobuf.util.LongBits.from(key);
      const b = f.keyKind === K_SINT64 ? bits.zzEncode() : bits;
      ensure(15);
      varint(tag);
      return varint64(b.lo, b.hi);
    }
    case K_FIXED64:
    case K_SFIXED64: {
      const b = protobuf.util.LongBits.from(key);
      ensure(13);
      varint(tag);
      fixed32(b.lo);
      return fixed32(b.hi);
    }
    default:
      throw new Fail(`unsupported map key type ${f.keyType}`);
  }
}

// One value each, with its tag (0: none, inside a packed run).

function writeVarint(tag: number, x: number): void {
  ensure(10);
  if (tag !== 0) varint(tag);
  varint(x);
}

/** An int32 as protobufjs writes it: negative values as 10-byte varints. */
function writeInt32(tag: number, x: number): void {
  if (x >= 0) return writeVarint(tag, x);
  ensure(15);
  if (tag !== 0) varint(tag);
  varint64(x >>> 0, 0xffffffff);
}

/** An integral number as protobufjs's LongBits.fromNumber makes it 64 bits, optionally zig-zag encoded. */
function writeInt64(tag: number, x: number, zigZag: boolean): void {
  ensure(15);
  if (tag !== 0) varint(tag);
  if (x >= 0 && x < 268435456 && !zigZag) return varint(x);
  fromNumber(x);
  if (zigZag) zigZagBits();
  varint64(bitsLo, bitsHi);
}

function writeFixed32(tag: number, x: number): void {
  ensure(9);
  if (tag !== 0) varint(tag);
  fixed32(x);
}

function writeFixed64(tag: number, x: number): void {
  ensure(13);
  if (tag !== 0) varint(tag);
  fromNumber(x);
  fixed32(bitsLo);
  fixed32(bitsHi);
}

function writeString(tag: number, s: string): void {
  const sl = s.length;
  if (sl < 40) {
    // Its UTF-8 length is below 128 (3 bytes a unit at most): one byte.
    ensure(6 + 3 * sl);
    if (tag !== 0) varint(tag);
    const at = pos++;
    let p = pos;
    for (let i = 0; i < sl; i++) {
      const c = s.charCodeAt(i);
      if (c >= 128) {
        p = pos + utf8Write(s, buf, pos);
        break;
      }
      buf[p++] = c;
    }
    buf[at] = p - pos;
    pos = p;
    return;
  }
  // From 40 units, Node's UTF-8 writer, as protobufjs's: lone surrogates become U+FFFD.
  if (sl >= 5462) {
    const len = Buffer.byteLength(s);
    ensure(10 + len);
    if (tag !== 0) varint(tag);
    varint(len);
    (buf as NodeBuffer).utf8Write(s, pos, len);
    pos += len;
    return;
  }
  ensure(7 + 3 * sl);
  if (tag !== 0) varint(tag);
  if (sl >= 128) {
    // Its UTF-8 length is in [128, 16384): two bytes.
    const at = pos;
    pos += 2;
    const len = (buf as NodeBuffer).utf8Write(s, pos);
    buf[at] = (len & 127) | 128;
    buf[at + 1] = len >>> 7;
    pos += len;
    return;
  }
  // Below 128 units: mostly one byte, else the bytes move up one.
  const at = pos++;
  const len = (buf as NodeBuffer).utf8Write(s, pos);
  if (len < 128) {
    buf[at] = len;
    pos += len;
    return;
  }
  buf.copyWithin(at + 2, at + 1, at + 1 + len);
  buf[at] = (len & 127) | 128;
  buf[at + 1] = len >>> 7;
  pos += len + 1;
}

function writeScalar(f: FieldInfo, v: Json | undefined, tag: number): void {
  switch (f.kind) {
    case K_ENUM: {
      let x: number | undefined;
      // The same name as last time for this field, mostly (a constant of the translator).
      if (typeof v === 'string') x = v === f.lastEnumName ? f.lastEnumValue : f.enumValue(v);
      else if (typeof v === 'number' && f.enumNumbers!.has(v) && Number.isInteger(v)) x = v;
      if (x === undefined) throw new Fail(`${JSON.stringify(v)} is not a value of enum ${f.enumName}`);
      return writeInt32(tag, x | 0);
    }
    case K_INT32:
      if (!Number.isInteger(v)) throw integerExpected(v);
      return writeInt32(tag, (v as number) | 0);
    case K_SINT32: {
      if (!Number.isInteger(v)) throw integerExpected(v);
      const x = (v as number) | 0;
      return writeVarint(tag, ((x << 1) ^ (x >> 31)) >>> 0);
    }
    case K_UINT32:
      if (!Number.isInteger(v)) throw integerExpected(v);
      return writeVarint(tag, (v as number) >>> 0);
    case K_SFIXED32:
    case K_FIXED32:
      if (!Number.isInteger(v)) throw integerExpected(v);
      return writeFixed32(tag, (v as number) >>> 0);
    case K_INT64:
    case K_UINT64:
      if (!Number.isInteger(v)) throw integerExpected(v);
      return writeInt64(tag, v as number, false);
    case K_SINT64:
      if (!Number.isInteger(v)) throw integerExpected(v);
      return writeInt64(tag, v as number, true);
    case K_FIXED64:
    case K_SFIXED64:
      if (!Number.isInteger(v)) throw integerExpected(v);
      return writeFixed64(tag, v as number);
    case K_FLOAT:
      if (typeof v !== 'number') throw new Fail(`number expected, got ${JSON.stringify(v)}`);
      ensure(9);
      if (tag !== 0) varint(tag);
      pos = buf.writeFloatLE(v, pos);
      return;
    case K_DOUBLE:
      if (typeof v !== 'number') throw new Fail(`number expected, got ${JSON.stringify(v)}`);
      ensure(13);
      if (tag !== 0) varint(tag);
      pos = buf.writeDoubleLE(v, pos);
      return;
    case K_BOOL:
      if (typeof v !== 'boolean') throw new Fail(`boolean expected, got ${JSON.stringify(v)}`);
      return writeVarint(tag, v ? 1 : 0);
    case K_STRING:
      if (typeof v !== 'string') throw new Fail(`string expected, got ${JSON.stringify(v)}`);
      return writeString(tag, v);
    case K_BYTES: {
      // Base64 text, as in the JSON mapping, decoded as protobufjs's Node writer does.
      if (typeof v !== 'string') throw new Fail(`base64 string expected, got ${JSON.stringify(v)}`);
      const bytes = Buffer.from(v, 'base64');
      ensure(10 + bytes.length);
      if (tag !== 0) varint(tag);
      varint(bytes.length);
      buf.set(bytes, pos);
      pos += bytes.length;
      return;
    }
    default:
      throw new Fail(`unsupported field type ${f.scalar}`);
  }
}

function integerExpected(v: Json | undefined): Fail {
  return new Fail(`integer expected, got ${JSON.stringify(v)}`);
}

/** An Any; `skipType`: `value` is the body of an outer Any, whose "@type" is not this one's. */
// Any values shared by many messages (the per-route filter configs of an Ingress's routes,
// say) are written once per batch (withSharedAnys): an Any's bytes do not depend on where
// it sits (its nesting depth starts again at 0), so the second time an object is met its
// bytes are kept, and from the third on they are copied. Only for objects that are not
// mutated while the batch lasts, which is what the caller promises.
let anyBytes: Map<object, Uint8Array> | undefined;
let anySeen: Set<object> | undefined;

/** Runs `fn`, writing each Any object met more than once in it only once (see above). */
export function withSharedAnys<T>(fn: () => T): T {
  if (anyBytes) return fn();
  anyBytes = new Map();
  anySeen = new Set();
  try {
    return fn();
  } finally {
    anyBytes = undefined;
    anySeen = undefined;
  }
}

function writeAny(info: TypeInfo, value: Json | undefined, skipType: boolean): void {
  if (!isObject(value)) throw new Fail('Any must be an object');
  if (anyBytes !== undefined && !skipType) {
    const kept = anyBytes.get(value);
    if (kept !== undefined) {
      ensure(kept.length);
      buf.set(kept, pos);
      pos += kept.length;
      return;
    }
    if (anySeen!.has(value)) {
      const start = pos;
      const deep = tooDeep;
      writeAnyFields(info, value, skipType);
      // Kept only when valid and not too deep (an error throws past this).
      if (!deep && !tooDeep) {
        const copy = Buffer.allocUnsafe(pos - start);
        buf.copy(copy, 0, start, pos);
        anyBytes.set(value, copy);
      }
      return;
    }
    anySeen!.add(value);
  }
  writeAnyFields(info, value, skipType);
}

function writeAnyFields(info: TypeInfo, value: JsonObject, skipType: boolean): void {
  const typeUrl = skipType ? undefined : value['@type'];
  // Only type URLs that passed the check below are remembered.
  let inner = typeof typeUrl === 'string' ? info.anyTypes!.get(typeUrl) : undefined;
  if (!inner) {
    if (typeof typeUrl !== 'string' || !typeUrl.startsWith(TYPE_PREFIX)) {
      throw new Fail('Any needs "@type": "type.googleapis.com/…"');
    }
    inner = infoOf(info.type.root.lookupType(typeUrl.slice(TYPE_PREFIX.length)));
    info.anyTypes!.set(typeUrl, inner);
  }
  writeString(10, typeUrl as string);
  const at = openLength(18);
  try {
    // Well-known types inside an Any carry their JSON form under "value". The Any's
    // value is encoded on its own by protobufjs: its nesting depth starts again at 0.
    if (inner.isWellKnown()) writeBody(inner, hasOwn.call(value, 'value') ? value['value'] : undefined, false, 0);
    else writeBody(inner, value, true, 0);
  } catch (e) {
    throw within(e, `<${inner.name}>`);
  }
  closeLength(at);
}

function writeDuration(value: Json | undefined): void {
  if (typeof value !== 'string') throw new Fail('Duration must be a string like "5s"');
  if (!parseDurationFast(value)) throw new Fail(`invalid duration ${JSON.stringify(value)}`);
  const nanos = durationNanos;
  writeInt64(8, durationSeconds, false);
  writeInt32(16, nanos);
}

let durationSeconds = 0;
let durationNanos = 0;

/** parseDuration without the regular expression and the result object: /^(-)?(\d+)(?:\.(\d{1,9}))?s$/. */
function parseDurationFast(s: string): boolean {
  const len = s.length;
  let i = 0;
  let sign = 1;
  if (i < len && s.charCodeAt(i) === 45 /* - */) {
    sign = -1;
    i++;
  }
  const start = i;
  let seconds = 0;
  for (let c = s.charCodeAt(i); i < len && c >= 48 && c <= 57; c = s.charCodeAt(++i)) seconds = seconds * 10 + (c - 48);
  const digits = i - start;
  if (digits === 0) return false;
  // Past 15 digits the sum above may round differently from Number().
  if (digits > 15) seconds = Number(s.slice(start, i));
  let nanos = 0;
  if (i < len && s.charCodeAt(i) === 46 /* . */) {
    i++;
    const fracStart = i;
    for (let c = s.charCodeAt(i); i < len && c >= 48 && c <= 57; c = s.charCodeAt(++i)) nanos = nanos * 10 + (c - 48);
    const frac = i - fracStart;
    if (frac === 0 || frac > 9) return false;
    for (let k = frac; k < 9; k++) nanos *= 10;
  }
  if (i !== len - 1 || s.charCodeAt(i) !== 115 /* s */) return false;
  durationSeconds = sign * seconds;
  durationNanos = sign * nanos;
  return true;
}

// google.protobuf.Struct / Value / ListValue from plain JSON.
//
// protobufjs's built-in google.protobuf.Value names its members in camelCase (nullValue,
// numberValue, …) while the converter before this writer gave it snake_case keys, which
// protobufjs's encoder never read: every Value went out as an empty message (a Struct as
// its keys, each with an empty Value; a ListValue as one empty Value per element). These
// are the bytes this writer gives too, so that nothing changes with it;
// test/unit/proto-writer.test.ts pins them.

function writeStructFields(obj: JsonObject, depth: number): void {
  for (const key of Object.keys(obj)) {
    const mark = pos;
    const at = openLength(10); // fields = 1, a map entry
    writeString(10, key);
    writeValueMessage(obj[key], 18, depth + 1);
    if (key === '__proto__') pos = mark;
    else closeLength(at);
  }
}

function writeListValues(list: Json[], depth: number): void {
  for (let i = 0; i < list.length; i++) {
    if (!(i in list)) throw new Fail(`hole at [${i}] in a ListValue`);
    writeValueMessage(list[i], 10, depth + 1); // values = 1
  }
}

/** A google.protobuf.Value as a field: its tag and an empty body, once `v` is checked. */
function writeValueMessage(v: Json | undefined, tag: number, depth: number): void {
  if (depth > RECURSION_LIMIT) tooDeep = true;
  checkJson(v);
  writeVarint(tag, 0);
}

/** What the old converter refused in a Value: undefined, where JSON has none. */
function checkJson(v: Json | undefined): void {
  if (v === undefined) throw new Fail('undefined is not a JSON value');
  if (typeof v !== 'object' || v === null) return;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (i in v) checkJson(v[i]);
    return;
  }
  for (const key of Object.keys(v)) checkJson(v[key]);
}

// ---------------------------------------------------------------------------------------
// 64-bit values as protobufjs writes them.

let bitsLo = 0;
let bitsHi = 0;

/** protobufjs's LongBits.fromNumber, into bitsLo / bitsHi. */
function fromNumber(value: number): void {
  if (value === 0) {
    bitsLo = 0;
    bitsHi = 0;
    return;
  }
  const sign = value < 0;
  if (sign) value = -value;
  let lo = value >>> 0;
  let hi = ((value - lo) / 4294967296) >>> 0;
  if (sign) {
    hi = ~hi >>> 0;
    lo = ~lo >>> 0;
    if (++lo > 4294967295) {
      lo = 0;
      if (++hi > 4294967295) hi = 0;
    }
  }
  bitsLo = lo;
  bitsHi = hi;
}

/** protobufjs's LongBits#zzEncode, on bitsLo / bitsHi. */
function zigZagBits(): void {
  const mask = bitsHi >> 31;
  bitsHi = (((bitsHi << 1) | (bitsLo >>> 31)) ^ mask) >>> 0;
  bitsLo = ((bitsLo << 1) ^ mask) >>> 0;
}

function varint64(lo: number, hi: number): void {
  while (hi) {
    buf[pos++] = (lo & 127) | 128;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  while (lo > 127) {
    buf[pos++] = (lo & 127) | 128;
    lo = lo >>> 7;
  }
  buf[pos++] = lo;
}

function fixed32(x: number): void {
  buf[pos] = x & 255;
  buf[pos + 1] = (x >>> 8) & 255;
  buf[pos + 2] = (x >>> 16) & 255;
  buf[pos + 3] = x >>> 24;
  pos += 4;
}

/** protobufjs's own UTF-8 writer (@protobufjs/utf8), which it uses for strings below 40 units. */
function utf8Write(s: string, out: Buffer, offset: number): number {
  const start = offset;
  for (let i = 0; i < s.length; i++) {
    let c1 = s.charCodeAt(i);
    let c2: number;
    if (c1 < 128) {
      out[offset++] = c1;
    } else if (c1 < 2048) {
      out[offset++] = (c1 >> 6) | 192;
      out[offset++] = (c1 & 63) | 128;
    } else if ((c1 & 0xfc00) === 0xd800 && ((c2 = s.charCodeAt(i + 1)) & 0xfc00) === 0xdc00) {
      c1 = 0x10000 + ((c1 & 0x03ff) << 10) + (c2 & 0x03ff);
      i++;
      out[offset++] = (c1 >> 18) | 240;
      out[offset++] = ((c1 >> 12) & 63) | 128;
      out[offset++] = ((c1 >> 6) & 63) | 128;
      out[offset++] = (c1 & 63) | 128;
    } else {
      out[offset++] = (c1 >> 12) | 224;
      out[offset++] = ((c1 >> 6) & 63) | 128;
      out[offset++] = (c1 & 63) | 128;
    }
  }
  return offset - start;
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
