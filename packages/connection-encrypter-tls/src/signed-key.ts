import { AsnParser, AsnProp, AsnPropTypes, AsnSerializer, AsnType, AsnTypeTypes } from '@peculiar/asn1-schema'

/**
 * The value of the libp2p Public Key Extension:
 *
 * ```asn1
 * SignedKey ::= SEQUENCE {
 *   publicKey OCTET STRING,  -- the libp2p PublicKey protobuf of the identity key
 *   signature OCTET STRING   -- identity signature over "libp2p-tls-handshake:" || certificate SPKI
 * }
 * ```
 */
class SignedKeySchema {
  publicKey: ArrayBuffer = new ArrayBuffer(0)
  signature: ArrayBuffer = new ArrayBuffer(0)
}
// The schema is declared with the library's decorators, applied as plain calls so the project
// needs no decorator compiler setting.
AsnType({ type: AsnTypeTypes.Sequence })(SignedKeySchema)
AsnProp({ type: AsnPropTypes.OctetString })(SignedKeySchema.prototype, 'publicKey')
AsnProp({ type: AsnPropTypes.OctetString })(SignedKeySchema.prototype, 'signature')

/** The two fields of a decoded `SignedKey`. */
export interface SignedKey {
  /** The identity key as a libp2p `PublicKey` protobuf. */
  publicKey: Uint8Array
  /** The identity key's signature. */
  signature: Uint8Array
}

/** DER-encodes a `SignedKey`. */
export function encodeSignedKey (key: SignedKey): Uint8Array<ArrayBuffer> {
  const value = new SignedKeySchema()
  value.publicKey = toArrayBuffer(key.publicKey)
  value.signature = toArrayBuffer(key.signature)
  return new Uint8Array(AsnSerializer.serialize(value))
}

/**
 * Decodes a DER `SignedKey`. Throws when the bytes are not exactly one canonical encoding of the
 * structure (extra fields or trailing bytes included).
 */
export function decodeSignedKey (der: Uint8Array): SignedKey {
  const value = AsnParser.parse(der, SignedKeySchema)
  const publicKey = new Uint8Array(value.publicKey)
  const signature = new Uint8Array(value.signature)
  // Re-encoding must give the input back: this refuses trailing bytes, extra fields and
  // non-DER length forms, which the parser alone would let through.
  const canonical = encodeSignedKey({ publicKey, signature })
  if (!equalBytes(canonical, der)) throw new Error('SignedKey is not a canonical DER SEQUENCE of two OCTET STRINGs')
  return { publicKey, signature }
}

function toArrayBuffer (bytes: Uint8Array): ArrayBuffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) return bytes.buffer
  return bytes.slice().buffer
}

function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false
  return true
}
