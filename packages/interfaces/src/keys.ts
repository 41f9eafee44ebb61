import type { CID } from 'multiformats/cid'
import type { MultihashDigest } from 'multiformats/hashes/interface'
import type { Uint8ArrayList } from 'uint8arraylist'

/** The key types of the libp2p key protobuf (`KeyType` enum: RSA=0, Ed25519=1, Secp256k1=2, ECDSA=3). */
export type KeyType = 'RSA' | 'Ed25519' | 'secp256k1' | 'ECDSA'

/** The curves accepted for ECDSA keys. */
export type ECDSACurve = 'P-256' | 'P-384' | 'P-521'

/** Data to sign or verify: contiguous bytes, or a list of chunks that is hashed without copying. */
export type SignableData = Uint8Array | Uint8ArrayList

/** Multihash code of the identity hash (key embedded verbatim). */
export const IDENTITY_CODE = 0x00
/** Multihash code of sha2-256. */
export const SHA256_CODE = 0x12

interface PublicKeyBase<T extends KeyType> {
  /** The key type. */
  readonly type: T
  /**
   * The key in its type-specific encoding, as carried in the `Data` field of the libp2p `PublicKey`
   * protobuf: 32 bytes for Ed25519, a 33-byte compressed point for secp256k1, DER
   * SubjectPublicKeyInfo for RSA and ECDSA.
   */
  readonly raw: Uint8Array
  /** True when `other` is the same key (same type and bytes). */
  equals(other?: PublicKey | null): boolean
  /**
   * The multihash of the protobuf-encoded key: identity when the encoding is at most 42 bytes,
   * sha2-256 otherwise. This is the PeerId's multihash.
   */
  toMultihash(): MultihashDigest<typeof IDENTITY_CODE | typeof SHA256_CODE>
  /** The key's PeerId as a CIDv1 with the `libp2p-key` (0x72) codec. */
  toCID(): CID<unknown, 0x72, typeof IDENTITY_CODE | typeof SHA256_CODE, 1>
  /** The base58btc form of {@link toMultihash}, i.e. the PeerId string. */
  toString(): string
  /** Verifies `sig` over `data` according to the key type's rules; false (never throws) for a bad signature. */
  verify(data: SignableData, sig: Uint8Array): boolean
}

interface PrivateKeyBase<T extends KeyType, P extends PublicKey> {
  /** The key type. */
  readonly type: T
  /** The matching public key. */
  readonly publicKey: P
  /**
   * The key in its type-specific encoding, as carried in the `Data` field of the libp2p `PrivateKey`
   * protobuf: 64 bytes (`seed | public`) for Ed25519, the 32-byte scalar for secp256k1, PKCS#1 DER
   * for RSA, SEC1 DER for ECDSA.
   */
  readonly raw: Uint8Array
  /** True when `other` is the same key. */
  equals(other?: PrivateKey | null): boolean
  /** Signs `data` according to the key type's rules (SHA-256 then the algorithm, except Ed25519 which signs the message). */
  sign(data: SignableData): Uint8Array
}

export interface Ed25519PublicKey extends PublicKeyBase<'Ed25519'> {}
export interface Secp256k1PublicKey extends PublicKeyBase<'secp256k1'> {}
export interface RSAPublicKey extends PublicKeyBase<'RSA'> {
  /** Modulus size in bits. */
  readonly bits: number
}
export interface ECDSAPublicKey extends PublicKeyBase<'ECDSA'> {
  readonly curve: ECDSACurve
}

export type PublicKey = Ed25519PublicKey | Secp256k1PublicKey | RSAPublicKey | ECDSAPublicKey

export interface Ed25519PrivateKey extends PrivateKeyBase<'Ed25519', Ed25519PublicKey> {}
export interface Secp256k1PrivateKey extends PrivateKeyBase<'secp256k1', Secp256k1PublicKey> {}
export interface RSAPrivateKey extends PrivateKeyBase<'RSA', RSAPublicKey> {}
export interface ECDSAPrivateKey extends PrivateKeyBase<'ECDSA', ECDSAPublicKey> {}

export type PrivateKey = Ed25519PrivateKey | Secp256k1PrivateKey | RSAPrivateKey | ECDSAPrivateKey
