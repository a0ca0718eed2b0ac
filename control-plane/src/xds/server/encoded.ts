// Responses encoded once and shared by every stream that gets the same content. A body
// holds every field of a DiscoveryResponse or DeltaDiscoveryResponse but the nonce,
// protobuf-encoded once; each stream's own nonce (field 5 in both messages) is appended
// when grpc-js serializes the response for that stream. Protobuf parsers take fields in
// any order; a SotW body ends with type_url (4), so its bytes are exactly what encoding
// the whole message gives (a delta body with removed_resources (6) puts the nonce last).
//
// The body's buffer keeps room after the fields for the nonce: serialization writes it
// there and returns a view, which grpc-js copies at once into the message it frames
// (server-interceptors serializeMessage: allocate length + 5, copy). So a stream costs
// that one copy, and no encoding or allocation of its own.
import type { DeltaDiscoveryResponse, DiscoveryResponse } from './messages.js';

/** Room for the nonce field: tag, length and up to 62 bytes of nonce. */
const NONCE_ROOM = 64;
const NONCE_TAG = (5 << 3) | 2;

export type Serialize = (value: unknown) => Buffer;

export class SharedBody {
  private readonly buf: Buffer;

  /** `fields`: the encoded message without its nonce. */
  constructor(fields: Uint8Array) {
    this.buf = Buffer.allocUnsafe(fields.length + NONCE_ROOM);
    this.buf.set(fields, 0);
    this.length = fields.length;
  }

  /** Bytes of the message without the nonce. */
  readonly length: number;

  /**
   * The whole message with this nonce. The view is only valid until the next call on this
   * body (grpc-js copies it before that); a nonce too long for the room gets its own buffer.
   */
  withNonce(nonce: string): Buffer {
    if (nonce === '') return this.buf.subarray(0, this.length);
    const n = Buffer.byteLength(nonce);
    if (n > NONCE_ROOM - 2) {
      const out = Buffer.allocUnsafe(this.length + 1 + varintLength(n) + n);
      this.buf.copy(out, 0, 0, this.length);
      writeNonce(out, this.length, nonce, n);
      return out;
    }
    return this.buf.subarray(0, writeNonce(this.buf, this.length, nonce, n));
  }
}

/** What a stream writes: a shared body and its own nonce. */
export class EncodedResponse {
  constructor(
    readonly body: SharedBody,
    readonly nonce: string,
  ) {}
}

/** Wraps a method's response serializer: EncodedResponses pass through, anything else is encoded as before. */
export function passEncoded(serialize: Serialize): Serialize {
  return (value) => (value instanceof EncodedResponse ? value.body.withNonce(value.nonce) : serialize(value));
}

/** Encodes response bodies with the ADS methods' own serializers (protobufjs, via proto-loader). */
export class BodyEncoder {
  constructor(
    private readonly sotw: Serialize,
    private readonly delta: Serialize,
  ) {}

  sotwBody(res: Omit<DiscoveryResponse, 'nonce'>): SharedBody {
    return new SharedBody(this.sotw(res));
  }

  deltaBody(res: Omit<DeltaDiscoveryResponse, 'nonce'>): SharedBody {
    return new SharedBody(this.delta(res));
  }
}

function writeNonce(buf: Buffer, at: number, nonce: string, n: number): number {
  buf[at++] = NONCE_TAG;
  let len = n;
  while (len > 0x7f) {
    buf[at++] = (len & 0x7f) | 0x80;
    len >>>= 7;
  }
  buf[at++] = len;
  return at + buf.write(nonce, at, 'utf8');
}

function varintLength(n: number): number {
  let l = 1;
  while (n > 0x7f) {
    n >>>= 7;
    l++;
  }
  return l;
}
