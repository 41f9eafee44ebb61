/**
 * Behaviour shared by every public key class: the protobuf envelope, the multihash/PeerId forms
 * (computed once and cached), and equality.
 */
import { SHA256_CODE } from '@peerkit/interfaces'
import type { IDENTITY_CODE } from '@peerkit/interfaces'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { encodeKeyProtobuf } from '../key-protobuf.js'
import { equalBytes, sha256 } from '../util.js'
import type { KeyType, PublicKey, SignableData } from '@peerkit/interfaces'
import type { MultihashDigest } from 'multiformats/hashes/interface'

/**
 * Protobuf-encoded public keys up to this many bytes are embedded in PeerIds verbatim (identity
 * multihash); longer ones are hashed with sha2-256.
 */
export const MAX_INLINE_KEY_LENGTH = 42

/** The multicodec code of `libp2p-key`, the codec of PeerIds written as CIDs. */
export const LIBP2P_KEY_CODE = 0x72

/** A PeerId multihash. */
export type PeerIdMultihash = MultihashDigest<typeof IDENTITY_CODE | typeof SHA256_CODE>
/** A PeerId CID. */
export type PeerIdCID = CID<unknown, typeof LIBP2P_KEY_CODE, typeof IDENTITY_CODE | typeof SHA256_CODE, 1>

/**
 * Computes the PeerId multihash of a protobuf-encoded public key. An identity multihash is built
 * as one array whose `digest` is a view of its `bytes` (`identity.digest` keeps the protobuf as a
 * second array): a remote peer's PeerId lives as long as its connections.
 */
export function multihashOfPublicKeyProtobuf (protobuf: Uint8Array): PeerIdMultihash {
  if (protobuf.byteLength > MAX_INLINE_KEY_LENGTH) return Digest.create(SHA256_CODE, sha256(protobuf))
  // Code 0x00 and a length below 128: both varints are one byte.
  const bytes = new Uint8Array(2 + protobuf.byteLength)
  bytes[1] = protobuf.byteLength
  bytes.set(protobuf, 2)
  return Digest.decode(bytes) as PeerIdMultihash
}

/** Base class of the public key implementations. */
export abstract class AbstractPublicKey<T extends KeyType> {
  /** The key type. */
  abstract readonly type: T
  /** The type-specific key bytes (the protobuf `Data` field). Treat as read-only. */
  readonly raw: Uint8Array
  #multihash?: PeerIdMultihash
  #cid?: PeerIdCID
  #string?: string

  /** @param multihash - the key's PeerId multihash when the subclass has it already (else made on first use) */
  protected constructor (raw: Uint8Array, multihash?: PeerIdMultihash) {
    this.raw = raw
    this.#multihash = multihash
  }

  /** The deterministic protobuf encoding of this key (a fresh array on each call). */
  toProtobuf (): Uint8Array {
    return encodeKeyProtobuf('public', this.type, this.raw)
  }

  /** The PeerId multihash of this key: identity for encodings of at most 42 bytes, sha2-256 otherwise. */
  toMultihash (): PeerIdMultihash {
    if (this.#multihash == null) {
      this.#multihash = multihashOfPublicKeyProtobuf(this.toProtobuf())
    }
    return this.#multihash
  }

  /** The PeerId as a CIDv1 with the `libp2p-key` codec. */
  toCID (): PeerIdCID {
    if (this.#cid == null) {
      this.#cid = CID.createV1(LIBP2P_KEY_CODE, this.toMultihash())
    }
    return this.#cid
  }

  /** The PeerId string (base58btc multihash, without multibase prefix). */
  toString (): string {
    if (this.#string == null) {
      this.#string = base58btc.baseEncode(this.toMultihash().bytes)
    }
    return this.#string
  }

  /** True when `other` is a public key of the same type with the same bytes. */
  equals (other?: PublicKey | null): boolean {
    if (other == null || typeof other !== 'object') {
      return false
    }
    if (other === (this as unknown)) {
      return true
    }
    return other.type === this.type && other.raw instanceof Uint8Array && equalBytes(other.raw, this.raw)
  }

  /** Verifies `sig` over `data`; false (never throws) for a malformed or wrong signature. */
  abstract verify (data: SignableData, sig: Uint8Array): boolean
}

/** True when `other` is a private key of type `type` with the same bytes. */
export function privateKeyEquals (self: { type: KeyType, raw: Uint8Array }, other: unknown): boolean {
  if (other == null || typeof other !== 'object') {
    return false
  }
  const o = other as { type?: unknown, raw?: unknown }
  return o.type === self.type && o.raw instanceof Uint8Array && equalBytes(o.raw, self.raw)
}
