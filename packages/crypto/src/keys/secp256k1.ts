/**
 * secp256k1 keys, signed and verified by node's native crypto (OpenSSL).
 *
 * Encodings: the public key is the 33-byte compressed point (65-byte uncompressed points are accepted
 * on input and compressed); the private key is the 32-byte scalar. Signatures are ECDSA over the
 * SHA-256 of the message, DER-encoded, with `s` normalised to the lower half of the group order
 * (BIP 62 "low S"), which js-libp2p's verifier insists on. Verification accepts any valid DER
 * signature, high `s` included, as go-libp2p does.
 */
import { ECDH, createECDH, createSign, createVerify } from 'node:crypto'
import { InvalidKeyError } from '@peerkit/interfaces'
import { TAG_SEQUENCE, encodeElement, encodeUnsignedInteger } from '../der.js'
import { asBuffer, bigIntToBytes, bytesToBigInt, concatBytes, copyBytes, describe, toBase64Url, toUint8Array, updateWith } from '../util.js'
import { AbstractPublicKey, privateKeyEquals } from './base.js'
import { importPrivateKeyObject, importPublicKeyObject } from '../quiet-call.js'
import type { PrivateKey, Secp256k1PrivateKey as Secp256k1PrivateKeyInterface, Secp256k1PublicKey as Secp256k1PublicKeyInterface, SignableData } from '@peerkit/interfaces'
import type { KeyObject } from 'node:crypto'

/** Length of a compressed secp256k1 public key. */
export const SECP256K1_PUBLIC_KEY_LENGTH = 33
/** Length of an uncompressed secp256k1 public key (accepted on input). */
export const SECP256K1_UNCOMPRESSED_PUBLIC_KEY_LENGTH = 65
/** Length of a secp256k1 private key (the scalar). */
export const SECP256K1_PRIVATE_KEY_LENGTH = 32
/** Longest DER signature over secp256k1 (two 33-byte INTEGERs in a SEQUENCE). */
export const SECP256K1_MAX_SIGNATURE_LENGTH = 72

/** The order of the secp256k1 group. */
const CURVE_ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
const HALF_CURVE_ORDER = CURVE_ORDER >> 1n

// SubjectPublicKeyInfo header for an id-ecPublicKey on secp256k1 (1.3.132.0.10) with a 33-byte point.
const SPKI_COMPRESSED_PREFIX = Uint8Array.from([
  0x30, 0x36, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b,
  0x81, 0x04, 0x00, 0x0a, 0x03, 0x22, 0x00
])

/**
 * Encodes an IEEE P1363 (`r | s`) signature as DER, with `s` moved to the lower half of the order.
 */
function lowSDer (p1363: Uint8Array): Uint8Array {
  const r = p1363.subarray(0, 32)
  let s = p1363.subarray(32, 64)
  const sValue = bytesToBigInt(s)
  if (sValue > HALF_CURVE_ORDER) {
    s = bigIntToBytes(CURVE_ORDER - sValue, 32)
  }
  return encodeElement(TAG_SEQUENCE, encodeUnsignedInteger(r), encodeUnsignedInteger(s))
}

/** A secp256k1 public key. */
export class Secp256k1PublicKey extends AbstractPublicKey<'secp256k1'> implements Secp256k1PublicKeyInterface {
  readonly type = 'secp256k1' as const
  #keyObject?: KeyObject

  /**
   * Parses a compressed (33-byte) or uncompressed (65-byte) point. Throws `InvalidKeyError` for any
   * other length or prefix, or a point that is not on the curve.
   */
  constructor (bytes: Uint8Array) {
    super(compressSecp256k1PublicKey(bytes))
  }

  /** The node KeyObject, created on first use. */
  get keyObject (): KeyObject {
    if (this.#keyObject == null) {
      this.#keyObject = importPublicKeyObject({ key: asBuffer(concatBytes(SPKI_COMPRESSED_PREFIX, this.raw)), format: 'der', type: 'spki' })
    }
    return this.#keyObject
  }

  /** Verifies `sig` over `data`; false, never an exception, for a wrong or malformed signature. */
  verify (data: SignableData, sig: Uint8Array): boolean {
    if (!(sig instanceof Uint8Array) || sig.byteLength < 8 || sig.byteLength > SECP256K1_MAX_SIGNATURE_LENGTH) {
      return false
    }
    try {
      return updateWith(createVerify('sha256'), data).verify(this.keyObject, sig)
    } catch {
      return false
    }
  }
}

/** A secp256k1 private key. */
export class Secp256k1PrivateKey implements Secp256k1PrivateKeyInterface {
  readonly type = 'secp256k1' as const
  readonly publicKey: Secp256k1PublicKey
  /** The 32-byte scalar. Treat as read-only. */
  readonly raw: Uint8Array
  readonly #keyObject: KeyObject

  /**
   * Creates the key from its 32-byte scalar, which must lie in `[1, n-1]`. Throws `InvalidKeyError`
   * otherwise.
   */
  constructor (scalar: Uint8Array) {
    if (!(scalar instanceof Uint8Array) || scalar.byteLength !== SECP256K1_PRIVATE_KEY_LENGTH) {
      throw new InvalidKeyError(`secp256k1 private key must be ${SECP256K1_PRIVATE_KEY_LENGTH} bytes, got ${scalar instanceof Uint8Array ? scalar.byteLength : typeof scalar}`)
    }
    let uncompressed: Buffer
    try {
      const ecdh = createECDH('secp256k1')
      ecdh.setPrivateKey(asBuffer(scalar))
      uncompressed = ecdh.getPublicKey()
    } catch (err) {
      throw new InvalidKeyError(`secp256k1 private key is out of range (it must be between 1 and the group order - 1): ${describe(err)}`, { cause: err })
    }
    this.raw = copyBytes(scalar)
    this.publicKey = new Secp256k1PublicKey(uncompressed)
    this.#keyObject = importPrivateKeyObject({
      key: {
        kty: 'EC',
        crv: 'secp256k1',
        d: toBase64Url(this.raw),
        x: toBase64Url(uncompressed.subarray(1, 33)),
        y: toBase64Url(uncompressed.subarray(33, 65))
      },
      format: 'jwk'
    })
  }

  /** True when `other` is a private key of the same type with the same encoding. */
  equals (other?: PrivateKey | null): boolean {
    return privateKeyEquals(this, other)
  }

  /** Signs `data` (a `Uint8ArrayList` is used chunk by chunk where the algorithm allows). */
  sign (data: SignableData): Uint8Array {
    const p1363 = updateWith(createSign('sha256'), data).sign({ key: this.#keyObject, dsaEncoding: 'ieee-p1363' })
    return lowSDer(p1363)
  }
}

/**
 * Validates a compressed or uncompressed secp256k1 point and returns its 33-byte compressed form.
 * Throws `InvalidKeyError` for a wrong length or prefix, or a point not on the curve.
 */
export function compressSecp256k1PublicKey (bytes: Uint8Array): Uint8Array {
  if (!(bytes instanceof Uint8Array)) {
    throw new InvalidKeyError('secp256k1 public key must be a Uint8Array')
  }
  const compressed = bytes.byteLength === SECP256K1_PUBLIC_KEY_LENGTH && (bytes[0] === 0x02 || bytes[0] === 0x03)
  const uncompressed = bytes.byteLength === SECP256K1_UNCOMPRESSED_PUBLIC_KEY_LENGTH && bytes[0] === 0x04
  if (!compressed && !uncompressed) {
    throw new InvalidKeyError(`secp256k1 public key must be a 33-byte compressed point (prefix 02/03) or a 65-byte uncompressed point (prefix 04), got ${bytes.byteLength} bytes starting with 0x${(bytes[0] ?? 0).toString(16).padStart(2, '0')}`)
  }
  try {
    return toUint8Array(ECDH.convertKey(asBuffer(bytes), 'secp256k1', undefined, undefined, 'compressed') as Buffer)
  } catch (err) {
    throw new InvalidKeyError('secp256k1 public key is not a point on the curve', { cause: err })
  }
}

/** Parses the 32-byte scalar. */
export function unmarshalSecp256k1PrivateKey (bytes: Uint8Array): Secp256k1PrivateKey {
  return new Secp256k1PrivateKey(bytes)
}

/** Parses a compressed or uncompressed point. */
export function unmarshalSecp256k1PublicKey (bytes: Uint8Array): Secp256k1PublicKey {
  return new Secp256k1PublicKey(bytes)
}

/** Generates a new secp256k1 key. */
export function generateSecp256k1KeyPair (): Secp256k1PrivateKey {
  const ecdh = createECDH('secp256k1')
  ecdh.generateKeys()
  return new Secp256k1PrivateKey(bigIntToBytes(bytesToBigInt(ecdh.getPrivateKey()), SECP256K1_PRIVATE_KEY_LENGTH))
}
