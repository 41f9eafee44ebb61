/**
 * Key functions under the names js-libp2p uses: generation, the protobuf envelope, raw encodings and
 * multihashes.
 */
import { IDENTITY_CODE, InvalidKeyError, InvalidParametersError, UnsupportedKeyTypeError } from '@peerkit/interfaces'
import { TAG_INTEGER, TAG_OCTET_STRING, TAG_SEQUENCE, readElement } from './der.js'
import { decodeKeyProtobuf, encodeKeyProtobuf, MAX_KEY_PROTOBUF_LENGTH } from './key-protobuf.js'
import { ECDSAPublicKey, generateECDSAKeyPair, toECDSACurve, unmarshalECDSAPrivateKey, unmarshalECDSAPublicKey } from './keys/ecdsa.js'
import {
  ED25519_LEGACY_PRIVATE_KEY_LENGTH, ED25519_PRIVATE_KEY_LENGTH, ED25519_PUBLIC_KEY_LENGTH, Ed25519PublicKey, generateEd25519KeyPair, generateEd25519KeyPairFromSeed,
  unmarshalEd25519PrivateKey, unmarshalEd25519PublicKey
} from './keys/ed25519.js'
import { RSAPublicKey, generateRSAKeyPair, unmarshalRSAPrivateKey, unmarshalRSAPublicKey } from './keys/rsa.js'
import {
  SECP256K1_PRIVATE_KEY_LENGTH, SECP256K1_PUBLIC_KEY_LENGTH, SECP256K1_UNCOMPRESSED_PUBLIC_KEY_LENGTH, Secp256k1PublicKey, generateSecp256k1KeyPair, unmarshalSecp256k1PrivateKey,
  unmarshalSecp256k1PublicKey
} from './keys/secp256k1.js'
import type { ECDSAPrivateKey } from './keys/ecdsa.js'
import type { Ed25519PrivateKey } from './keys/ed25519.js'
import type { RSAPrivateKey } from './keys/rsa.js'
import type { Secp256k1PrivateKey } from './keys/secp256k1.js'
import type { ECDSACurve, KeyType, PrivateKey, PublicKey } from '@peerkit/interfaces'
import type { MultihashDigest } from 'multiformats/hashes/interface'

const KEY_TYPES: readonly KeyType[] = ['RSA', 'Ed25519', 'secp256k1', 'ECDSA']

function checkKeyType (type: unknown): KeyType {
  if (typeof type === 'string' && (KEY_TYPES as readonly string[]).includes(type)) {
    return type as KeyType
  }
  throw new UnsupportedKeyTypeError(String(type), `Unsupported key type ${String(type)}; supported: ${KEY_TYPES.join(', ')}`)
}

/**
 * Generates a new key pair. `bitsOrCurve` is the modulus size for RSA (default 2048, bounds
 * `RSA_MIN_BITS`..`RSA_MAX_BITS`) and the curve for ECDSA (default `'P-256'`); it is ignored for the
 * other types. RSA generation runs off the event loop.
 *
 * @throws UnsupportedKeyTypeError for an unknown type or curve, or an RSA size out of bounds
 * @throws InvalidParametersError for an RSA size that is not an integer
 */
export async function generateKeyPair (type: 'Ed25519'): Promise<Ed25519PrivateKey>
export async function generateKeyPair (type: 'secp256k1'): Promise<Secp256k1PrivateKey>
export async function generateKeyPair (type: 'ECDSA', curve?: ECDSACurve): Promise<ECDSAPrivateKey>
export async function generateKeyPair (type: 'RSA', bits?: number): Promise<RSAPrivateKey>
export async function generateKeyPair (type: KeyType, bitsOrCurve?: number | ECDSACurve): Promise<PrivateKey>
export async function generateKeyPair (type: KeyType, bitsOrCurve?: number | ECDSACurve): Promise<PrivateKey> {
  switch (checkKeyType(type)) {
    case 'Ed25519':
      return generateEd25519KeyPair()
    case 'secp256k1':
      return generateSecp256k1KeyPair()
    case 'RSA':
      if (bitsOrCurve != null && typeof bitsOrCurve !== 'number') {
        throw new InvalidParametersError(`RSA key size must be a number of bits, got ${String(bitsOrCurve)}`)
      }
      return generateRSAKeyPair(bitsOrCurve)
    case 'ECDSA':
      return generateECDSAKeyPair(bitsOrCurve == null ? 'P-256' : toECDSACurve(bitsOrCurve))
  }
}

/**
 * Derives a key pair from a seed. Only Ed25519 supports this; the seed is its 32-byte private seed
 * (RFC 8032), so the same seed always gives the same key.
 *
 * @throws UnsupportedKeyTypeError for any type but Ed25519
 * @throws InvalidParametersError when the seed is not 32 bytes
 */
export async function generateKeyPairFromSeed (type: 'Ed25519', seed: Uint8Array): Promise<Ed25519PrivateKey>
export async function generateKeyPairFromSeed (type: KeyType, seed: Uint8Array): Promise<never>
export async function generateKeyPairFromSeed (type: KeyType, seed: Uint8Array): Promise<Ed25519PrivateKey> {
  if (type !== 'Ed25519') {
    throw new UnsupportedKeyTypeError(String(type), `Deriving a key from a seed is only supported for Ed25519 keys, not ${String(type)}`)
  }
  return generateEd25519KeyPairFromSeed(seed)
}

function publicKeyFromData (type: KeyType, data: Uint8Array): PublicKey {
  switch (type) {
    case 'RSA':
      return unmarshalRSAPublicKey(data)
    case 'Ed25519':
      return unmarshalEd25519PublicKey(data)
    case 'secp256k1':
      return unmarshalSecp256k1PublicKey(data)
    case 'ECDSA':
      return unmarshalECDSAPublicKey(data)
  }
}

function privateKeyFromData (type: KeyType, data: Uint8Array, allowSeed: boolean): PrivateKey {
  switch (type) {
    case 'RSA':
      return unmarshalRSAPrivateKey(data)
    case 'Ed25519':
      return unmarshalEd25519PrivateKey(data, allowSeed)
    case 'secp256k1':
      return unmarshalSecp256k1PrivateKey(data)
    case 'ECDSA':
      return unmarshalECDSAPrivateKey(data)
  }
}

/**
 * Decodes a protobuf `PublicKey` message.
 *
 * @throws InvalidMessageError when the message is truncated, malformed or not deterministically encoded
 * @throws UnsupportedKeyTypeError for a key type number other than 0-3, or an unsupported curve or RSA size
 * @throws InvalidKeyError when the `Data` field is not a valid key of its type
 * @throws LimitExceededError when the message is longer than `MAX_KEY_PROTOBUF_LENGTH`
 */
export function publicKeyFromProtobuf (buf: Uint8Array): PublicKey {
  const { type, data } = decodeKeyProtobuf('public', buf)
  return publicKeyFromData(type, data)
}

/** Encodes a public key (ours or any object implementing the interface) as a protobuf `PublicKey`. */
export function publicKeyToProtobuf (key: PublicKey): Uint8Array {
  return encodeKeyProtobuf('public', checkKeyType(key?.type), key.raw)
}

/**
 * Decodes a protobuf `PrivateKey` message (the libp2p key file format). Ed25519 keys may be in the
 * 64-byte or the legacy 96-byte form.
 *
 * @throws InvalidMessageError when the message is truncated, malformed or not deterministically encoded
 * @throws UnsupportedKeyTypeError for a key type number other than 0-3, or an unsupported curve or RSA size
 * @throws InvalidKeyError when the `Data` field is not a valid key of its type
 * @throws LimitExceededError when the message is longer than `MAX_KEY_PROTOBUF_LENGTH`
 */
export function privateKeyFromProtobuf (buf: Uint8Array): PrivateKey {
  const { type, data } = decodeKeyProtobuf('private', buf)
  return privateKeyFromData(type, data, false)
}

/** Encodes a private key as a protobuf `PrivateKey` (the libp2p key file format). */
export function privateKeyToProtobuf (key: PrivateKey): Uint8Array {
  return encodeKeyProtobuf('private', checkKeyType(key?.type), key.raw)
}

function checkRawInput (buf: unknown): asserts buf is Uint8Array {
  if (!(buf instanceof Uint8Array)) {
    throw new InvalidParametersError('Key bytes must be a Uint8Array')
  }
  if (buf.byteLength > MAX_KEY_PROTOBUF_LENGTH) {
    throw new InvalidKeyError(`${buf.byteLength} bytes is longer than any supported key (${MAX_KEY_PROTOBUF_LENGTH} bytes at most)`)
  }
}

/** Reads the first element inside the outer DER SEQUENCE of `buf`, or null when `buf` is not DER. */
function firstDerChild (buf: Uint8Array): { tag: number, contents: Uint8Array, next: number | undefined } | null {
  try {
    const outer = readElement(buf)
    if (outer.tag !== TAG_SEQUENCE || outer.end !== buf.byteLength) {
      return null
    }
    const first = readElement(outer.contents)
    return { tag: first.tag, contents: first.contents, next: outer.contents[first.end] }
  } catch {
    return null
  }
}

const RSA_ENCRYPTION_OID = Uint8Array.from([0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01])
const EC_PUBLIC_KEY_OID = Uint8Array.from([0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01])

function startsWith (buf: Uint8Array, prefix: Uint8Array): boolean {
  return buf.byteLength >= prefix.byteLength && prefix.every((b, i) => buf[i] === b)
}

/**
 * Creates a public key from its type-specific encoding (the protobuf `Data` field). With `type`
 * given, the bytes must be a key of that type. Without it the type is told from the bytes: 32 bytes
 * are Ed25519, 33 or 65 bytes secp256k1, and a DER SubjectPublicKeyInfo is RSA or ECDSA by its
 * algorithm.
 *
 * @throws InvalidKeyError when the bytes are not a valid key (of `type`, when given)
 * @throws UnsupportedKeyTypeError for an unknown `type`, an unsupported curve or RSA size
 */
export function publicKeyFromRaw (buf: Uint8Array, type?: KeyType): PublicKey {
  checkRawInput(buf)
  if (type != null) {
    return publicKeyFromData(checkKeyType(type), buf)
  }
  if (buf.byteLength === ED25519_PUBLIC_KEY_LENGTH) {
    return new Ed25519PublicKey(buf)
  }
  if (buf.byteLength === SECP256K1_PUBLIC_KEY_LENGTH || buf.byteLength === SECP256K1_UNCOMPRESSED_PUBLIC_KEY_LENGTH) {
    return new Secp256k1PublicKey(buf)
  }
  const first = firstDerChild(buf)
  if (first?.tag === TAG_SEQUENCE) {
    if (startsWith(first.contents, RSA_ENCRYPTION_OID)) {
      return new RSAPublicKey(buf)
    }
    if (startsWith(first.contents, EC_PUBLIC_KEY_OID)) {
      return new ECDSAPublicKey(buf)
    }
    throw new UnsupportedKeyTypeError('unknown', 'The SubjectPublicKeyInfo names an algorithm other than RSA or EC')
  }
  if (first?.tag === TAG_INTEGER && first.next === 0xa0) {
    // js-libp2p's ECDSA encoding: let the ECDSA parser explain the problem.
    return new ECDSAPublicKey(buf)
  }
  throw new InvalidKeyError(`Cannot tell the key type of ${buf.byteLength} bytes: not 32 (Ed25519), 33 or 65 (secp256k1) bytes, nor a DER SubjectPublicKeyInfo`)
}

/**
 * Creates a private key from its type-specific encoding (the protobuf `Data` field). With `type`
 * given, the bytes must be a key of that type; for Ed25519 a bare 32-byte seed is then accepted too.
 * Without it the type is told from the bytes: 64 or 96 bytes are Ed25519, a DER PKCS#1 key is RSA and
 * a DER SEC1 key ECDSA. 32 bytes are refused without a type, because they could be an Ed25519 seed or
 * a secp256k1 scalar (js-libp2p assumes secp256k1).
 *
 * @throws InvalidParametersError for 32 bytes without a type
 * @throws InvalidKeyError when the bytes are not a valid key (of `type`, when given)
 * @throws UnsupportedKeyTypeError for an unknown `type`, an unsupported curve or RSA size
 */
export function privateKeyFromRaw (buf: Uint8Array, type?: KeyType): PrivateKey {
  checkRawInput(buf)
  if (type != null) {
    return privateKeyFromData(checkKeyType(type), buf, true)
  }
  if (buf.byteLength === ED25519_PRIVATE_KEY_LENGTH || buf.byteLength === ED25519_LEGACY_PRIVATE_KEY_LENGTH) {
    return unmarshalEd25519PrivateKey(buf)
  }
  if (buf.byteLength === SECP256K1_PRIVATE_KEY_LENGTH) {
    throw new InvalidParametersError('32 key bytes may be an Ed25519 seed or a secp256k1 private key: pass the key type')
  }
  const first = firstDerChild(buf)
  if (first?.tag === TAG_INTEGER && first.contents.byteLength === 1) {
    if (first.contents[0] === 0) {
      return unmarshalRSAPrivateKey(buf)
    }
    if (first.contents[0] === 1 && first.next === TAG_OCTET_STRING) {
      return unmarshalECDSAPrivateKey(buf)
    }
  }
  throw new InvalidKeyError(`Cannot tell the key type of ${buf.byteLength} bytes: not 64 or 96 bytes (Ed25519), nor a DER PKCS#1 (RSA) or SEC1 (ECDSA) private key`)
}

/**
 * Extracts the public key embedded in an identity multihash (a PeerId of an Ed25519 or secp256k1
 * key).
 *
 * @throws InvalidParametersError when the multihash is not an identity multihash (a sha2-256 PeerId
 * does not contain its key)
 * @throws InvalidMessageError, InvalidKeyError, UnsupportedKeyTypeError as {@link publicKeyFromProtobuf}
 */
export function publicKeyFromMultihash (digest: MultihashDigest): PublicKey {
  if (digest == null || !(digest.digest instanceof Uint8Array)) {
    throw new InvalidParametersError('Expected a multihash digest')
  }
  if (digest.code !== IDENTITY_CODE) {
    throw new InvalidParametersError(`Only an identity multihash embeds a public key; this one has hash code 0x${digest.code.toString(16)}`)
  }
  return publicKeyFromProtobuf(digest.digest)
}
