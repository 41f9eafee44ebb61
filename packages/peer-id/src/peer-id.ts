/**
 * The PeerId class. Instances are created by the functions in `index.ts`, which validate their input;
 * the constructor trusts its arguments.
 */
import { peerIdSymbol } from '@peerkit/interfaces'
import { CID } from 'multiformats/cid'
import { equalBytes } from '@peerkit/crypto'
import { base58btcEncode } from './base58.js'
import { multihashFromText } from './text.js'
import type { KeyType, PeerId, PublicKey } from '@peerkit/interfaces'
import type { PeerIdCID, PeerIdMultihash } from '@peerkit/crypto'

/** The multicodec code of `libp2p-key`. */
const LIBP2P_KEY_CODE = 0x72

/** A libp2p PeerId: a multihash of a public key, with the key when it is known. */
export class PeerIdImpl implements PeerId {
  readonly [peerIdSymbol] = true as const
  readonly type: KeyType | undefined
  readonly publicKey: PublicKey | undefined
  readonly #multihash: PeerIdMultihash
  #string?: string
  #cid?: PeerIdCID

  /**
   * @param multihash - the id, already validated (identity of a key protobuf of at most 42 bytes, or
   * a 32-byte sha2-256 digest)
   * @param publicKey - the key, when known; it must be the one `multihash` was derived from
   */
  constructor (multihash: PeerIdMultihash, publicKey?: PublicKey) {
    this.#multihash = multihash
    this.publicKey = publicKey
    this.type = publicKey?.type
  }

  /** The multihash this id is. */
  toMultihash (): PeerIdMultihash {
    return this.#multihash
  }

  /** CIDv1 with the `libp2p-key` codec (computed once). */
  toCID (): PeerIdCID {
    if (this.#cid == null) {
      this.#cid = CID.createV1(LIBP2P_KEY_CODE, this.#multihash)
    }
    return this.#cid
  }

  /** The base58btc multihash text, e.g. `12D3KooW...` or `Qm...` (computed once). */
  toString (): string {
    if (this.#string == null) {
      this.#string = base58btcEncode(this.#multihash.bytes)
    }
    return this.#string
  }

  /** The base58btc string, so a PeerId serialises to JSON as its text form. */
  toJSON (): string {
    return this.toString()
  }

  /**
   * True when `other` is the same id: a PeerId, its multihash bytes, or its text in either form.
   * Never throws; anything unparseable is simply not equal.
   */
  equals (other?: PeerId | Uint8Array | string | null): boolean {
    if (other == null) {
      return false
    }
    if (other === this) {
      return true
    }
    if (other instanceof Uint8Array) {
      return equalBytes(this.#multihash.bytes, other)
    }
    if (typeof other === 'string') {
      if (other === this.toString()) {
        return true
      }
      try {
        return equalBytes(this.#multihash.bytes, multihashFromText(other).bytes)
      } catch {
        return false
      }
    }
    if (typeof other === 'object' && other[peerIdSymbol] === true) {
      try {
        const bytes = other.toMultihash().bytes
        return bytes instanceof Uint8Array && equalBytes(this.#multihash.bytes, bytes)
      } catch {
        return false
      }
    }
    return false
  }

  /** `PeerId(<id>)`, for `Object.prototype.toString`. */
  get [Symbol.toStringTag] (): string {
    return `PeerId(${this.toString()})`
  }

  /** `PeerId(<id>)`, for `util.inspect` and `console.log`. */
  [Symbol.for('nodejs.util.inspect.custom')] (): string {
    return `PeerId(${this.toString()})`
  }
}
