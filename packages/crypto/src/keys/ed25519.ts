/**
 * Ed25519 keys (RFC 8032), signed and verified by node's native crypto.
 *
 * Encodings: the public key is its 32 bytes; the private key is `seed(32) | public(32)`. The legacy
 * 96-byte form `seed | public | public` is accepted on input when both public copies agree.
 */
import { createPublicKey, randomBytes, sign, verify } from 'node:crypto'
import { InvalidKeyError, InvalidParametersError } from '@peerkit/interfaces'
import { asBuffer, concatBytes, contiguous, describe, equalBytes, toUint8Array } from '../util.js'
import { encodeKeyProtobuf } from '../key-protobuf.js'
import { AbstractPublicKey, multihashOfPublicKeyProtobuf, privateKeyEquals } from './base.js'
import { importPrivateKeyObject, importPublicKeyObject } from '../quiet-call.js'
import type { Ed25519PrivateKey as Ed25519PrivateKeyInterface, Ed25519PublicKey as Ed25519PublicKeyInterface, PrivateKey, SignableData } from '@peerkit/interfaces'
import type { KeyObject } from 'node:crypto'

/** Length of an Ed25519 public key. */
export const ED25519_PUBLIC_KEY_LENGTH = 32
/** Length of an Ed25519 seed (the secret half of the private key encoding). */
export const ED25519_SEED_LENGTH = 32
/** Length of the Ed25519 private key encoding (`seed | public`). */
export const ED25519_PRIVATE_KEY_LENGTH = 64
/** Length of the legacy Ed25519 private key encoding (`seed | public | public`). */
export const ED25519_LEGACY_PRIVATE_KEY_LENGTH = 96
/** Length of an Ed25519 signature. */
export const ED25519_SIGNATURE_LENGTH = 64

// The DER prefix that wraps a raw Ed25519 seed into PKCS#8 (OID 1.3.101.112).
const PKCS8_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20])

/** A placeholder for the JWK `x` member, which node requires but does not use for a private key. */
const JWK_X_PLACEHOLDER = Buffer.alloc(ED25519_PUBLIC_KEY_LENGTH).toString('base64url')

/**
 * Imports a private key from its seed. Through JWK (~40 µs) rather than PKCS#8 DER (~360 µs here);
 * node derives the public key from `d` and ignores `x`, which we do not know yet. Should a node
 * version check `x` against `d`, the import throws and the DER path is taken.
 */
function privateKeyObjectFromSeed (seed: Uint8Array): KeyObject {
  try {
    return importPrivateKeyObject({ key: { kty: 'OKP', crv: 'Ed25519', d: asBuffer(seed).toString('base64url'), x: JWK_X_PLACEHOLDER }, format: 'jwk' })
  } catch {
    return importPrivateKeyObject({ key: asBuffer(concatBytes(PKCS8_PREFIX, seed)), format: 'der', type: 'pkcs8' })
  }
}

/**
 * Imports the raw public key. Through JWK rather than SubjectPublicKeyInfo DER: OpenSSL's DER
 * decoder costs ~80 µs per key here, the JWK path ~6 µs, and every verification of a new peer's
 * signature starts with this import. Without stack capture: see `importPublicKeyObject`.
 */
function publicKeyObjectFromRaw (raw: Uint8Array): KeyObject {
  return importPublicKeyObject({ key: { kty: 'OKP', crv: 'Ed25519', x: asBuffer(raw).toString('base64url') }, format: 'jwk' })
}

/** An Ed25519 public key. */
export class Ed25519PublicKey extends AbstractPublicKey<'Ed25519'> implements Ed25519PublicKeyInterface {
  readonly type = 'Ed25519' as const

  /**
   * Wraps 32 public key bytes (copied). Throws `InvalidKeyError` for any other length.
   *
   * The copy is the tail of the key's identity multihash (the key protobuf, whose last field is
   * the key, under `00 24`), made here: a peer's key and its PeerId share one small allocation.
   */
  constructor (raw: Uint8Array) {
    if (!(raw instanceof Uint8Array) || raw.byteLength !== ED25519_PUBLIC_KEY_LENGTH) {
      throw new InvalidKeyError(`Ed25519 public key must be ${ED25519_PUBLIC_KEY_LENGTH} bytes, got ${raw instanceof Uint8Array ? raw.byteLength : typeof raw}`)
    }
    const multihash = multihashOfPublicKeyProtobuf(encodeKeyProtobuf('public', 'Ed25519', raw))
    super(multihash.bytes.subarray(multihash.bytes.byteLength - ED25519_PUBLIC_KEY_LENGTH), multihash)
  }

  /**
   * A node KeyObject of the key, made on each call: the import costs ~6 µs, while a KeyObject kept
   * for every known peer's key would cost a native key and ~200 bytes of heap each.
   */
  get keyObject (): KeyObject {
    return publicKeyObjectFromRaw(this.raw)
  }

  /** Verifies `sig` over `data`; false, never an exception, for a wrong or malformed signature. */
  verify (data: SignableData, sig: Uint8Array): boolean {
    if (!(sig instanceof Uint8Array) || sig.byteLength !== ED25519_SIGNATURE_LENGTH) {
      return false
    }
    try {
      return verify(null, contiguous(data), this.keyObject, sig)
    } catch {
      return false
    }
  }
}

/** An Ed25519 private key. */
export class Ed25519PrivateKey implements Ed25519PrivateKeyInterface {
  readonly type = 'Ed25519' as const
  readonly publicKey: Ed25519PublicKey
  /** `seed | public` (64 bytes). Treat as read-only. */
  readonly raw: Uint8Array
  readonly #keyObject: KeyObject

  /**
   * Creates the key from its 32-byte seed; the public key is derived from it.
   */
  constructor (seed: Uint8Array) {
    if (!(seed instanceof Uint8Array) || seed.byteLength !== ED25519_SEED_LENGTH) {
      throw new InvalidKeyError(`Ed25519 seed must be ${ED25519_SEED_LENGTH} bytes, got ${seed instanceof Uint8Array ? seed.byteLength : typeof seed}`)
    }
    let keyObject: KeyObject
    let publicRaw: Uint8Array
    try {
      keyObject = privateKeyObjectFromSeed(seed)
      const { x } = createPublicKey(keyObject).export({ format: 'jwk' })
      publicRaw = toUint8Array(Buffer.from(x ?? '', 'base64url'))
    } catch (err) {
      throw new InvalidKeyError(`Invalid Ed25519 seed: ${describe(err)}`, { cause: err })
    }
    this.#keyObject = keyObject
    this.publicKey = new Ed25519PublicKey(publicRaw)
    this.raw = concatBytes(seed, this.publicKey.raw)
  }

  /** True when `other` is a private key of the same type with the same encoding. */
  equals (other?: PrivateKey | null): boolean {
    return privateKeyEquals(this, other)
  }

  /** Signs `data` (a `Uint8ArrayList` is used chunk by chunk where the algorithm allows). */
  sign (data: SignableData): Uint8Array {
    return toUint8Array(sign(null, contiguous(data), this.#keyObject))
  }
}

/**
 * Parses the private key encoding: 64 bytes `seed | public`, the legacy 96 bytes
 * `seed | public | public`, or (when `allowSeed`) a bare 32-byte seed. The public half must match
 * the one derived from the seed. Throws `InvalidKeyError` otherwise.
 */
export function unmarshalEd25519PrivateKey (bytes: Uint8Array, allowSeed = false): Ed25519PrivateKey {
  if (!(bytes instanceof Uint8Array)) {
    throw new InvalidKeyError('Ed25519 private key must be a Uint8Array')
  }
  const length = bytes.byteLength
  if (length === ED25519_SEED_LENGTH && allowSeed) {
    return new Ed25519PrivateKey(bytes)
  }
  if (length !== ED25519_PRIVATE_KEY_LENGTH && length !== ED25519_LEGACY_PRIVATE_KEY_LENGTH) {
    throw new InvalidKeyError(`Ed25519 private key must be ${allowSeed ? '32, ' : ''}64 or 96 bytes, got ${length}`)
  }
  const seed = bytes.subarray(0, ED25519_SEED_LENGTH)
  const embedded = bytes.subarray(ED25519_SEED_LENGTH, ED25519_PRIVATE_KEY_LENGTH)
  if (length === ED25519_LEGACY_PRIVATE_KEY_LENGTH && !equalBytes(embedded, bytes.subarray(ED25519_PRIVATE_KEY_LENGTH))) {
    throw new InvalidKeyError('Legacy 96-byte Ed25519 private key is invalid: its two copies of the public key differ')
  }
  const key = new Ed25519PrivateKey(seed)
  if (!equalBytes(key.publicKey.raw, embedded)) {
    throw new InvalidKeyError('Ed25519 private key is invalid: the public key it carries does not belong to its seed')
  }
  return key
}

/** Wraps 32 public key bytes. */
export function unmarshalEd25519PublicKey (bytes: Uint8Array): Ed25519PublicKey {
  return new Ed25519PublicKey(bytes)
}

/** Generates a new Ed25519 key from 32 random bytes. */
export function generateEd25519KeyPair (): Ed25519PrivateKey {
  return new Ed25519PrivateKey(randomBytes(ED25519_SEED_LENGTH))
}

/** Derives an Ed25519 key from a 32-byte seed. Throws `InvalidParametersError` for another length. */
export function generateEd25519KeyPairFromSeed (seed: Uint8Array): Ed25519PrivateKey {
  if (!(seed instanceof Uint8Array) || seed.byteLength !== ED25519_SEED_LENGTH) {
    throw new InvalidParametersError(`The Ed25519 seed must be a Uint8Array of ${ED25519_SEED_LENGTH} bytes`)
  }
  return new Ed25519PrivateKey(seed)
}
