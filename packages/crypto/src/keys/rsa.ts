/**
 * RSA keys, signed and verified by node's native crypto (OpenSSL).
 *
 * Encodings: the public key is a DER SubjectPublicKeyInfo, the private key a PKCS#1 RSAPrivateKey
 * (DER). Signatures are RSASSA-PKCS1-v1_5 over SHA-256. Keys must have between
 * {@link RSA_MIN_BITS} and {@link RSA_MAX_BITS} bits, the bounds deployed peers (go-libp2p) enforce.
 */
import { createPublicKey, createSign, createVerify, generateKeyPair } from 'node:crypto'
import { promisify } from 'node:util'
import { InvalidKeyError, InvalidParametersError, UnsupportedKeyTypeError } from '@peerkit/interfaces'
import { assertSingleElement } from '../der.js'
import { asBuffer, bytesToBigInt, copyBytes, describe, equalBytes, fromBase64Url, toUint8Array, updateWith } from '../util.js'
import { AbstractPublicKey, privateKeyEquals } from './base.js'
import { importPrivateKeyObject, importPublicKeyObject } from '../quiet-call.js'
import type { PrivateKey, RSAPrivateKey as RSAPrivateKeyInterface, RSAPublicKey as RSAPublicKeyInterface, SignableData } from '@peerkit/interfaces'
import type { JsonWebKey, KeyObject } from 'node:crypto'

/** Smallest RSA modulus accepted, in bits (go-libp2p's `MinRsaKeyBits`). */
export const RSA_MIN_BITS = 2048
/** Largest RSA modulus accepted, in bits (go-libp2p and js-libp2p both cap keys here). */
export const RSA_MAX_BITS = 8192
/** Modulus size used by `generateKeyPair('RSA')` when none is given. */
export const RSA_DEFAULT_BITS = 2048

const generateKeyPairAsync = promisify(generateKeyPair)

function checkBits (bits: number | undefined, what: string): number {
  if (bits == null || bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) {
    throw new UnsupportedKeyTypeError('RSA', `RSA ${what} has ${bits ?? 'an unknown number of'} bits; peerkit accepts ${RSA_MIN_BITS} to ${RSA_MAX_BITS} bits`)
  }
  return bits
}

function checkRsa (key: KeyObject, what: string): void {
  if (key.asymmetricKeyType !== 'rsa') {
    throw new InvalidKeyError(`${what} is not an RSA key (found ${key.asymmetricKeyType ?? 'a symmetric key'})`)
  }
}

/** An RSA public key. */
export class RSAPublicKey extends AbstractPublicKey<'RSA'> implements RSAPublicKeyInterface {
  readonly type = 'RSA' as const
  /** Modulus size in bits. */
  readonly bits: number
  readonly #keyObject: KeyObject

  /**
   * Parses a DER SubjectPublicKeyInfo. Throws `InvalidKeyError` when it is malformed, not RSA, or not
   * the canonical DER encoding, and `UnsupportedKeyTypeError` when the modulus size is out of bounds.
   */
  constructor (spki: Uint8Array) {
    if (!(spki instanceof Uint8Array)) {
      throw new InvalidKeyError('RSA public key must be a Uint8Array')
    }
    let keyObject: KeyObject
    try {
      keyObject = importPublicKeyObject({ key: asBuffer(spki), format: 'der', type: 'spki' })
    } catch (err) {
      throw new InvalidKeyError(`RSA public key is not a valid DER SubjectPublicKeyInfo: ${describe(err)}`, { cause: err })
    }
    checkRsa(keyObject, 'The public key')
    const bits = checkBits(keyObject.asymmetricKeyDetails?.modulusLength, 'public key')
    if (!equalBytes(keyObject.export({ format: 'der', type: 'spki' }), spki)) {
      throw new InvalidKeyError('RSA public key is not in canonical DER form')
    }
    super(copyBytes(spki))
    this.bits = bits
    this.#keyObject = keyObject
  }

  /** The node KeyObject. */
  get keyObject (): KeyObject {
    return this.#keyObject
  }

  /** Verifies `sig` over `data`; false, never an exception, for a wrong or malformed signature. */
  verify (data: SignableData, sig: Uint8Array): boolean {
    if (!(sig instanceof Uint8Array) || sig.byteLength !== Math.ceil(this.bits / 8)) {
      return false
    }
    try {
      return updateWith(createVerify('sha256'), data).verify(this.#keyObject, sig)
    } catch {
      return false
    }
  }
}

/** An RSA private key. */
export class RSAPrivateKey implements RSAPrivateKeyInterface {
  readonly type = 'RSA' as const
  readonly publicKey: RSAPublicKey
  /** PKCS#1 DER, as re-exported by OpenSSL. Treat as read-only. */
  readonly raw: Uint8Array
  readonly #keyObject: KeyObject

  /**
   * Wraps a node KeyObject holding an RSA private key, checking its size and that its components are
   * consistent (n = p·q, d inverts e, CRT values match). Throws `InvalidKeyError` or
   * `UnsupportedKeyTypeError` (size out of bounds).
   */
  constructor (keyObject: KeyObject) {
    if (keyObject?.type !== 'private') {
      throw new InvalidKeyError('Expected an RSA private KeyObject')
    }
    checkRsa(keyObject, 'The private key')
    checkBits(keyObject.asymmetricKeyDetails?.modulusLength, 'private key')
    checkConsistency(keyObject.export({ format: 'jwk' }))
    this.#keyObject = keyObject
    this.raw = toUint8Array(keyObject.export({ format: 'der', type: 'pkcs1' }))
    this.publicKey = new RSAPublicKey(createPublicKey(keyObject).export({ format: 'der', type: 'spki' }))
  }

  /** True when `other` is a private key of the same type with the same encoding. */
  equals (other?: PrivateKey | null): boolean {
    return privateKeyEquals(this, other)
  }

  /** Signs `data` (a `Uint8ArrayList` is used chunk by chunk where the algorithm allows). */
  sign (data: SignableData): Uint8Array {
    return toUint8Array(updateWith(createSign('sha256'), data).sign(this.#keyObject))
  }
}

function checkConsistency (jwk: JsonWebKey): void {
  const n = bytesToBigInt(fromBase64Url(jwk.n))
  const e = bytesToBigInt(fromBase64Url(jwk.e))
  const d = bytesToBigInt(fromBase64Url(jwk.d))
  const p = bytesToBigInt(fromBase64Url(jwk.p))
  const q = bytesToBigInt(fromBase64Url(jwk.q))
  const dp = bytesToBigInt(fromBase64Url(jwk.dp))
  const dq = bytesToBigInt(fromBase64Url(jwk.dq))
  const qi = bytesToBigInt(fromBase64Url(jwk.qi))
  if (p <= 1n || q <= 1n || p * q !== n) {
    throw new InvalidKeyError('RSA private key is inconsistent: the modulus is not the product of its primes')
  }
  if (e <= 1n || (d * e) % (p - 1n) !== 1n || (d * e) % (q - 1n) !== 1n) {
    throw new InvalidKeyError('RSA private key is inconsistent: the private exponent does not invert the public one')
  }
  if (dp !== d % (p - 1n) || dq !== d % (q - 1n) || (qi * q) % p !== 1n) {
    throw new InvalidKeyError('RSA private key is inconsistent: its CRT parameters do not match its primes')
  }
}

/**
 * Parses a PKCS#1 DER RSAPrivateKey. Throws `InvalidKeyError` when it is malformed or inconsistent,
 * `UnsupportedKeyTypeError` when its size is out of bounds.
 */
export function unmarshalRSAPrivateKey (pkcs1: Uint8Array): RSAPrivateKey {
  if (!(pkcs1 instanceof Uint8Array)) {
    throw new InvalidKeyError('RSA private key must be a Uint8Array')
  }
  let keyObject: KeyObject
  try {
    assertSingleElement(pkcs1)
    keyObject = importPrivateKeyObject({ key: asBuffer(pkcs1), format: 'der', type: 'pkcs1' })
  } catch (err) {
    throw new InvalidKeyError(`RSA private key is not a valid PKCS#1 DER RSAPrivateKey: ${describe(err)}`, { cause: err })
  }
  return new RSAPrivateKey(keyObject)
}

/** Parses a DER SubjectPublicKeyInfo holding an RSA key. */
export function unmarshalRSAPublicKey (spki: Uint8Array): RSAPublicKey {
  return new RSAPublicKey(spki)
}

/**
 * Generates an RSA key (public exponent 65537) without blocking the event loop. Throws
 * `InvalidParametersError` when `bits` is not an integer, `UnsupportedKeyTypeError` when it is out
 * of bounds.
 */
export async function generateRSAKeyPair (bits: number = RSA_DEFAULT_BITS): Promise<RSAPrivateKey> {
  if (!Number.isSafeInteger(bits)) {
    throw new InvalidParametersError(`RSA key size must be an integer number of bits, got ${String(bits)}`)
  }
  checkBits(bits, 'key size requested')
  // Taken as DER and imported again (see generateECDSAKeyPair: exporting a freshly generated key
  // as JWK can hang Node.js 20 when a garbage collection hits during the export).
  const { privateKey } = await generateKeyPairAsync('rsa', {
    modulusLength: bits,
    publicExponent: 0x10001,
    privateKeyEncoding: { type: 'pkcs8', format: 'der' },
    publicKeyEncoding: { type: 'spki', format: 'der' }
  })
  return new RSAPrivateKey(importPrivateKeyObject({ key: privateKey, format: 'der', type: 'pkcs8' }))
}
