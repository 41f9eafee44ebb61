/**
 * ECDSA keys on the NIST curves P-256, P-384 and P-521, signed and verified by node's native crypto.
 *
 * Encodings follow the spec's test vector and go-libp2p: the public key is a DER
 * SubjectPublicKeyInfo (uncompressed point), the private key a SEC1 ECPrivateKey (DER, with the curve
 * parameters and the public key). Signatures are ECDSA over the SHA-256 of the message on every curve
 * (as go-libp2p does), DER-encoded.
 *
 * js-libp2p differs: it encodes ECDSA public keys as a SEC1-like structure without the private part,
 * derives PeerIds from them with the identity hash whatever their length, and signs in IEEE P1363
 * (`r | s`) form. {@link ecdsaSignatureToP1363} and {@link ecdsaSignatureFromP1363} convert
 * signatures between the two forms.
 */
import { createECDH, createSign, createVerify, generateKeyPairSync } from 'node:crypto'
import { InvalidKeyError, InvalidSignatureError, UnsupportedKeyTypeError } from '@peerkit/interfaces'
import {
  TAG_BIT_STRING, TAG_CONTEXT_0, TAG_CONTEXT_1, TAG_INTEGER, TAG_OCTET_STRING, TAG_SEQUENCE,
  assertSingleElement, encodeElement, encodeUnsignedInteger, readElement, readUnsignedInteger
} from '../der.js'
import { asBuffer, concatBytes, copyBytes, describe, equalBytes, fromBase64Url, leftPad, toUint8Array, updateWith } from '../util.js'
import { AbstractPublicKey, privateKeyEquals } from './base.js'
import { importPrivateKeyObject, importPublicKeyObject } from '../quiet-call.js'
import type { ECDSACurve, ECDSAPrivateKey as ECDSAPrivateKeyInterface, ECDSAPublicKey as ECDSAPublicKeyInterface, PrivateKey, SignableData } from '@peerkit/interfaces'
import type { KeyObject } from 'node:crypto'

/** Parameters of one supported curve. */
interface CurveInfo {
  /** The curve's name in node/OpenSSL. */
  nodeName: string
  /** Size of a coordinate and of the private scalar, in bytes. */
  size: number
  /** DER OBJECT IDENTIFIER element naming the curve. */
  oid: Uint8Array
}

const CURVES: Readonly<Record<ECDSACurve, CurveInfo>> = {
  'P-256': { nodeName: 'prime256v1', size: 32, oid: Uint8Array.from([0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]) },
  'P-384': { nodeName: 'secp384r1', size: 48, oid: Uint8Array.from([0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22]) },
  'P-521': { nodeName: 'secp521r1', size: 66, oid: Uint8Array.from([0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23]) }
}

/** The ECDSA curves supported, in order of preference. */
export const ECDSA_CURVES: readonly ECDSACurve[] = Object.freeze(['P-256', 'P-384', 'P-521'])

/** OBJECT IDENTIFIER 1.2.840.10045.2.1 (id-ecPublicKey). */
const EC_PUBLIC_KEY_OID = Uint8Array.from([0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01])

function curveFromNodeName (name: string | undefined): ECDSACurve {
  for (const curve of ECDSA_CURVES) {
    if (CURVES[curve].nodeName === name) {
      return curve
    }
  }
  throw new UnsupportedKeyTypeError('ECDSA', `Unsupported ECDSA curve ${name ?? '(explicit parameters)'}; supported: ${ECDSA_CURVES.join(', ')}`)
}

/** Checks and returns a curve name given by a caller. */
export function toECDSACurve (curve: unknown): ECDSACurve {
  if (typeof curve === 'string' && Object.hasOwn(CURVES, curve)) {
    return curve as ECDSACurve
  }
  throw new UnsupportedKeyTypeError('ECDSA', `Unsupported ECDSA curve ${String(curve)}; supported: ${ECDSA_CURVES.join(', ')}`)
}

/** The uncompressed point `04 | x | y` from JWK coordinates. */
function pointFromJwk (info: CurveInfo, x: string | undefined, y: string | undefined): Uint8Array {
  return concatBytes(Uint8Array.of(0x04), leftPad(fromBase64Url(x), info.size), leftPad(fromBase64Url(y), info.size))
}

/** DER SubjectPublicKeyInfo for an uncompressed point. */
function encodeSpki (info: CurveInfo, point: Uint8Array): Uint8Array {
  return encodeElement(TAG_SEQUENCE,
    encodeElement(TAG_SEQUENCE, EC_PUBLIC_KEY_OID, info.oid),
    encodeElement(TAG_BIT_STRING, Uint8Array.of(0), point))
}

/** DER SEC1 ECPrivateKey with parameters and public key (as go's `x509.MarshalECPrivateKey`). */
function encodeSec1 (info: CurveInfo, scalar: Uint8Array, point: Uint8Array): Uint8Array {
  return encodeElement(TAG_SEQUENCE,
    Uint8Array.of(TAG_INTEGER, 1, 1),
    encodeElement(TAG_OCTET_STRING, scalar),
    encodeElement(TAG_CONTEXT_0, info.oid),
    encodeElement(TAG_CONTEXT_1, encodeElement(TAG_BIT_STRING, Uint8Array.of(0), point)))
}

/**
 * True when `bytes` look like js-libp2p's ECDSA public key encoding (`SEQUENCE { INTEGER 1,
 * [0] curve, [1] point }`) rather than a SubjectPublicKeyInfo (`SEQUENCE { SEQUENCE {...}, ... }`).
 */
function looksLikeJsLibp2pPublicKey (bytes: Uint8Array): boolean {
  try {
    const outer = readElement(bytes)
    if (outer.tag !== TAG_SEQUENCE) {
      return false
    }
    const first = readElement(outer.contents)
    return first.tag === TAG_INTEGER && first.end < outer.contents.byteLength && outer.contents[first.end] === TAG_CONTEXT_0
  } catch {
    return false
  }
}

/** An ECDSA public key. */
export class ECDSAPublicKey extends AbstractPublicKey<'ECDSA'> implements ECDSAPublicKeyInterface {
  readonly type = 'ECDSA' as const
  /** The curve. */
  readonly curve: ECDSACurve
  readonly #keyObject: KeyObject

  /**
   * Parses a DER SubjectPublicKeyInfo. Throws `InvalidKeyError` when it is malformed, not an EC key,
   * not on its curve, or not the canonical encoding (uncompressed point, DER), and
   * `UnsupportedKeyTypeError` for a curve other than P-256, P-384, P-521.
   */
  constructor (spki: Uint8Array) {
    if (!(spki instanceof Uint8Array)) {
      throw new InvalidKeyError('ECDSA public key must be a Uint8Array')
    }
    if (looksLikeJsLibp2pPublicKey(spki)) {
      throw new InvalidKeyError('ECDSA public key uses the non-standard encoding of js-libp2p (SEQUENCE { INTEGER 1, [0] curve, [1] point }); libp2p specifies a DER SubjectPublicKeyInfo')
    }
    let keyObject: KeyObject
    try {
      keyObject = importPublicKeyObject({ key: asBuffer(spki), format: 'der', type: 'spki' })
    } catch (err) {
      throw new InvalidKeyError(`ECDSA public key is not a valid DER SubjectPublicKeyInfo on its curve: ${describe(err)}`, { cause: err })
    }
    if (keyObject.asymmetricKeyType !== 'ec') {
      throw new InvalidKeyError(`ECDSA public key is not an EC key (found ${keyObject.asymmetricKeyType ?? 'unknown'})`)
    }
    const curve = curveFromNodeName(keyObject.asymmetricKeyDetails?.namedCurve)
    const info = CURVES[curve]
    const jwk = keyObject.export({ format: 'jwk' })
    if (!equalBytes(encodeSpki(info, pointFromJwk(info, jwk.x, jwk.y)), spki)) {
      throw new InvalidKeyError('ECDSA public key is not in canonical form (DER SubjectPublicKeyInfo with an uncompressed point)')
    }
    super(copyBytes(spki))
    this.curve = curve
    this.#keyObject = keyObject
  }

  /** The node KeyObject. */
  get keyObject (): KeyObject {
    return this.#keyObject
  }

  /** Verifies `sig` over `data`; false, never an exception, for a wrong or malformed signature. */
  verify (data: SignableData, sig: Uint8Array): boolean {
    if (!(sig instanceof Uint8Array) || sig.byteLength < 8 || sig.byteLength > 2 * CURVES[this.curve].size + 9) {
      return false
    }
    try {
      return updateWith(createVerify('sha256'), data).verify(this.#keyObject, sig)
    } catch {
      return false
    }
  }
}

/** An ECDSA private key. */
export class ECDSAPrivateKey implements ECDSAPrivateKeyInterface {
  readonly type = 'ECDSA' as const
  readonly publicKey: ECDSAPublicKey
  /** SEC1 ECPrivateKey DER (with curve parameters and public key). Treat as read-only. */
  readonly raw: Uint8Array
  readonly #keyObject: KeyObject

  /**
   * Wraps a node KeyObject holding an EC private key on a supported curve, checking that its public
   * point belongs to its scalar. Throws `InvalidKeyError` or `UnsupportedKeyTypeError` (curve).
   */
  constructor (keyObject: KeyObject) {
    if (keyObject?.type !== 'private' || keyObject.asymmetricKeyType !== 'ec') {
      throw new InvalidKeyError('Expected an EC private KeyObject')
    }
    const curve = curveFromNodeName(keyObject.asymmetricKeyDetails?.namedCurve)
    const info = CURVES[curve]
    const jwk = keyObject.export({ format: 'jwk' })
    const scalar = leftPad(fromBase64Url(jwk.d), info.size)
    const point = pointFromJwk(info, jwk.x, jwk.y)
    let derived: Uint8Array
    try {
      const ecdh = createECDH(info.nodeName)
      ecdh.setPrivateKey(asBuffer(scalar))
      derived = ecdh.getPublicKey()
    } catch (err) {
      throw new InvalidKeyError(`ECDSA private key is out of range for ${curve}: ${describe(err)}`, { cause: err })
    }
    if (!equalBytes(derived, point)) {
      throw new InvalidKeyError('ECDSA private key is inconsistent: the public key it carries does not belong to its private scalar')
    }
    this.#keyObject = keyObject
    this.raw = encodeSec1(info, scalar, point)
    this.publicKey = new ECDSAPublicKey(encodeSpki(info, point))
  }

  /** True when `other` is a private key of the same type with the same encoding. */
  equals (other?: PrivateKey | null): boolean {
    return privateKeyEquals(this, other)
  }

  /** Signs `data` (a `Uint8ArrayList` is used chunk by chunk where the algorithm allows). */
  sign (data: SignableData): Uint8Array {
    return toUint8Array(updateWith(createSign('sha256'), data).sign({ key: this.#keyObject, dsaEncoding: 'der' }))
  }
}

/**
 * Parses a SEC1 ECPrivateKey (DER). Throws `InvalidKeyError` when it is malformed, names no curve or
 * carries a public key that does not match, and `UnsupportedKeyTypeError` for an unsupported curve.
 */
export function unmarshalECDSAPrivateKey (sec1: Uint8Array): ECDSAPrivateKey {
  if (!(sec1 instanceof Uint8Array)) {
    throw new InvalidKeyError('ECDSA private key must be a Uint8Array')
  }
  let keyObject: KeyObject
  try {
    assertSingleElement(sec1)
    keyObject = importPrivateKeyObject({ key: asBuffer(sec1), format: 'der', type: 'sec1' })
  } catch (err) {
    throw new InvalidKeyError(`ECDSA private key is not a valid SEC1 DER ECPrivateKey: ${describe(err)}`, { cause: err })
  }
  return new ECDSAPrivateKey(keyObject)
}

/** Parses a DER SubjectPublicKeyInfo holding an EC key. */
export function unmarshalECDSAPublicKey (spki: Uint8Array): ECDSAPublicKey {
  return new ECDSAPublicKey(spki)
}

/** Generates an ECDSA key on `curve` (default P-256). */
export function generateECDSAKeyPair (curve: ECDSACurve = 'P-256'): ECDSAPrivateKey {
  const info = CURVES[toECDSACurve(curve)]
  // Taken as DER and imported again rather than used as the generated KeyObject: on Node.js 20,
  // exporting a freshly generated key as JWK (which the constructor does) can hang the process
  // when a garbage collection during the export destroys the key's generation job, which then
  // waits for the lock the export holds.
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: info.nodeName, privateKeyEncoding: { type: 'pkcs8', format: 'der' }, publicKeyEncoding: { type: 'spki', format: 'der' } })
  return new ECDSAPrivateKey(importPrivateKeyObject({ key: privateKey, format: 'der', type: 'pkcs8' }))
}

/**
 * Converts a DER ECDSA signature (the libp2p encoding) to the IEEE P1363 form `r | s` that WebCrypto,
 * and so js-libp2p, use for ECDSA keys. Throws `InvalidSignatureError` when `der` is not a strict DER
 * `SEQUENCE { INTEGER r, INTEGER s }` whose values fit the curve.
 */
export function ecdsaSignatureToP1363 (der: Uint8Array, curve: ECDSACurve): Uint8Array {
  const size = CURVES[toECDSACurve(curve)].size
  try {
    const seq = readElement(der)
    if (seq.tag !== TAG_SEQUENCE || seq.end !== der.byteLength) {
      throw new RangeError('expected a SEQUENCE and nothing after it')
    }
    const r = readElement(seq.contents)
    const s = readElement(seq.contents, r.end)
    if (s.end !== seq.contents.byteLength) {
      throw new RangeError('unexpected data after s')
    }
    return concatBytes(leftPad(readUnsignedInteger(r), size), leftPad(readUnsignedInteger(s), size))
  } catch (err) {
    throw new InvalidSignatureError(`Not a DER ECDSA signature for ${curve}: ${describe(err)}`, { cause: err })
  }
}

/**
 * Converts an IEEE P1363 ECDSA signature (`r | s`, as produced by WebCrypto and js-libp2p) to DER,
 * the libp2p encoding. Throws `InvalidSignatureError` when the length is not that of a P-256, P-384 or
 * P-521 signature (64, 96 or 132 bytes).
 */
export function ecdsaSignatureFromP1363 (p1363: Uint8Array): Uint8Array {
  if (!(p1363 instanceof Uint8Array) || !ECDSA_CURVES.some(c => CURVES[c].size * 2 === p1363.byteLength)) {
    throw new InvalidSignatureError(`An IEEE P1363 ECDSA signature is 64, 96 or 132 bytes long, got ${p1363 instanceof Uint8Array ? p1363.byteLength : typeof p1363}`)
  }
  const half = p1363.byteLength / 2
  return encodeElement(TAG_SEQUENCE, encodeUnsignedInteger(p1363.subarray(0, half)), encodeUnsignedInteger(p1363.subarray(half)))
}
