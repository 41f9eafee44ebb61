/**
 * The libp2p key envelope: `PublicKey`/`PrivateKey` protobuf messages carrying a key type and the
 * type-specific key bytes. Encoding goes through the protons-generated codec; decoding additionally
 * insists on the deterministic encoding the spec requires, so that hashing the bytes a peer sent and
 * hashing our re-encoding of its key always give the same PeerId.
 */
import { InvalidMessageError, InvalidParametersError, LimitExceededError, UnsupportedKeyTypeError } from '@peerkit/interfaces'
import * as pb from './pb/keys.js'
import { describe, equalBytes } from './util.js'
import type { KeyType } from '@peerkit/interfaces'

/**
 * Largest key protobuf accepted, in bytes. An 8192-bit RSA private key (the largest key allowed)
 * encodes to about 4.7 KB; anything beyond this bound is refused before any parsing.
 */
export const MAX_KEY_PROTOBUF_LENGTH = 8192

/** Numeric protobuf `KeyType` values, by peerkit key type. */
export const KEY_TYPE_NUMBERS: Readonly<Record<KeyType, number>> = Object.freeze({
  RSA: 0,
  Ed25519: 1,
  secp256k1: 2,
  ECDSA: 3
})

const TO_PB: Readonly<Record<KeyType, pb.KeyType>> = {
  RSA: pb.KeyType.RSA,
  Ed25519: pb.KeyType.Ed25519,
  secp256k1: pb.KeyType.Secp256k1,
  ECDSA: pb.KeyType.ECDSA
}

const FROM_PB: Readonly<Record<pb.KeyType, KeyType>> = {
  [pb.KeyType.RSA]: 'RSA',
  [pb.KeyType.Ed25519]: 'Ed25519',
  [pb.KeyType.Secp256k1]: 'secp256k1',
  [pb.KeyType.ECDSA]: 'ECDSA'
}

/** A decoded key envelope. */
export interface DecodedKey {
  type: KeyType
  /** The `Data` field, a view into the input (not a copy). */
  data: Uint8Array
}

/** Which of the two messages is being handled, for codec selection and error messages. */
export type KeyKind = 'public' | 'private'

/** Encodes a key envelope deterministically (Type then Data, minimal varints). */
export function encodeKeyProtobuf (kind: KeyKind, type: KeyType, data: Uint8Array): Uint8Array {
  const Type = TO_PB[type]
  if (Type == null) {
    throw new UnsupportedKeyTypeError(type)
  }
  return kind === 'public'
    ? pb.PublicKey.encode({ Type, Data: data as Uint8Array<ArrayBuffer> })
    : pb.PrivateKey.encode({ Type, Data: data as Uint8Array<ArrayBuffer> })
}

/**
 * Decodes a key envelope. Throws `UnsupportedKeyTypeError` for a key type number other than 0-3,
 * `InvalidMessageError` for a truncated or malformed message or one that is not the deterministic
 * encoding (missing, repeated, reordered or unknown fields, non-minimal varints), and
 * `LimitExceededError` past {@link MAX_KEY_PROTOBUF_LENGTH}.
 */
export function decodeKeyProtobuf (kind: KeyKind, buf: Uint8Array): DecodedKey {
  if (!(buf instanceof Uint8Array)) {
    throw new InvalidParametersError(`The ${kind} key protobuf must be a Uint8Array`)
  }
  if (buf.byteLength > MAX_KEY_PROTOBUF_LENGTH) {
    throw new LimitExceededError('MAX_KEY_PROTOBUF_LENGTH', MAX_KEY_PROTOBUF_LENGTH, buf.byteLength, `${kind} key protobuf`)
  }
  if (buf.byteLength === 0) {
    throw new InvalidMessageError(`The ${kind} key protobuf is empty`)
  }
  // Report an unknown key type by its number before the generic decoder turns it into a bare error.
  if (buf[0] === 0x08) {
    const typeNumber = readVarint(buf, 1)
    if (typeNumber != null && (typeNumber < 0 || typeNumber > 3)) {
      throw new UnsupportedKeyTypeError(typeNumber, `Unsupported key type ${typeNumber} in ${kind} key protobuf (known: 0 RSA, 1 Ed25519, 2 Secp256k1, 3 ECDSA)`)
    }
  }
  let decoded: pb.PublicKey | pb.PrivateKey
  try {
    decoded = kind === 'public' ? pb.PublicKey.decode(buf) : pb.PrivateKey.decode(buf)
  } catch (err) {
    throw new InvalidMessageError(`Malformed ${kind} key protobuf: ${describe(err)}`, { cause: err })
  }
  if (decoded.Type == null) {
    throw new InvalidMessageError(`The ${kind} key protobuf has no Type field`)
  }
  if (decoded.Data == null) {
    throw new InvalidMessageError(`The ${kind} key protobuf has no Data field`)
  }
  const type = FROM_PB[decoded.Type]
  if (type == null) {
    throw new UnsupportedKeyTypeError(String(decoded.Type))
  }
  const canonical = encodeKeyProtobuf(kind, type, decoded.Data)
  if (!equalBytes(canonical, buf)) {
    throw new InvalidMessageError(`The ${kind} key protobuf is not the deterministic encoding libp2p requires (Type then Data, each once, minimal varints, no other fields)`)
  }
  return { type, data: decoded.Data }
}

/**
 * Reads a protobuf int32 varint at `offset` the way protobuf decoders do (low 32 bits, signed); null
 * when the varint is truncated or longer than 10 bytes.
 */
function readVarint (buf: Uint8Array, offset: number): number | null {
  let value = 0n
  let shift = 0n
  for (let i = offset; i < buf.byteLength && i < offset + 10; i++) {
    const b = buf[i]
    value |= BigInt(b & 0x7f) << shift
    if ((b & 0x80) === 0) {
      return Number(BigInt.asIntN(32, value))
    }
    shift += 7n
  }
  return null
}
