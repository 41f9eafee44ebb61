import type { KeyType, PublicKey, IDENTITY_CODE, SHA256_CODE } from './keys.js'
import type { CID } from 'multiformats/cid'
import type { MultihashDigest } from 'multiformats/hashes/interface'

/** Symbol present on every PeerId object, so `isPeerId` works across package copies. */
export const peerIdSymbol = Symbol.for('@peerkit/peer-id')

/**
 * A peer's identity: the multihash of its protobuf-encoded public key (identity multihash for keys
 * that encode to at most 42 bytes, sha2-256 otherwise).
 */
export interface PeerId {
  readonly [peerIdSymbol]: true
  /**
   * The key type, when it is known: always for identity-multihash ids (Ed25519, secp256k1), and for
   * hashed ids (RSA, ECDSA) only when the public key was supplied; `undefined` otherwise.
   */
  readonly type: KeyType | undefined
  /** The public key when it is known (embedded in the id, or supplied when the id was created). */
  readonly publicKey: PublicKey | undefined
  /** The multihash this id is. */
  toMultihash(): MultihashDigest<typeof IDENTITY_CODE | typeof SHA256_CODE>
  /** CIDv1, codec `libp2p-key` (0x72). */
  toCID(): CID<unknown, 0x72, typeof IDENTITY_CODE | typeof SHA256_CODE, 1>
  /** The base58btc multihash form, e.g. `12D3KooW...` or `Qm...`. */
  toString(): string
  /** True when `other` is the same id, given as a PeerId, its multihash bytes, or either string form. */
  equals(other?: PeerId | Uint8Array | string | null): boolean
}

/** Returns true when `other` is a PeerId object. */
export function isPeerId (other: unknown): other is PeerId {
  return other != null && typeof other === 'object' && (other as Partial<PeerId>)[peerIdSymbol] === true
}
