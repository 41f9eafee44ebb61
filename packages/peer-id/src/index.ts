/**
 * @packageDocumentation
 *
 * libp2p PeerIds for peerkit: from keys, from multihashes and CIDs, and from their text forms (the
 * legacy base58btc multihash `12D3KooW...`/`Qm...` and the multibase CIDv1 `bafz...`/`k51...`).
 *
 * @example
 *
 * ```ts
 * import { generateKeyPair } from '@peerkit/crypto'
 * import { peerIdFromPrivateKey, peerIdFromString } from '@peerkit/peer-id'
 *
 * const peerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
 * const text = peerId.toString() // '12D3KooW...'
 * peerIdFromString(text).equals(peerId) // true
 * peerIdFromString(peerId.toCID().toString()).equals(peerId) // true ('bafz...' form)
 * ```
 */
import { IDENTITY_CODE, InvalidPeerIdError, SHA256_CODE, isPeerId } from '@peerkit/interfaces'
import {
  Ed25519PublicKey, ECDSAPublicKey, MAX_INLINE_KEY_LENGTH, RSAPublicKey, Secp256k1PublicKey,
  publicKeyFromMultihash, publicKeyFromProtobuf, publicKeyToProtobuf
} from '@peerkit/crypto'
import * as Digest from 'multiformats/hashes/digest'
import { PeerIdImpl } from './peer-id.js'
import { describe, multihashFromCID, multihashFromText } from './text.js'
import type { PeerIdMultihash } from '@peerkit/crypto'
import type { PeerId, PrivateKey, PublicKey } from '@peerkit/interfaces'
import type { CID } from 'multiformats/cid'
import type { MultihashDigest } from 'multiformats/hashes/interface'

export { isPeerId }
export { MAX_PEER_ID_STRING_LENGTH, PEER_ID_MULTIBASE_PREFIXES } from './text.js'

/** Length of a sha2-256 digest. */
const SHA256_LENGTH = 32

/**
 * Parses a PeerId from text: a base58btc multihash (starting with `1` or `Qm`), or a multibase CIDv1
 * with the `libp2p-key` codec (`b...` base32, `k...` base36, `z...` base58btc, `f...` base16, `m`/`u`
 * base64, and the other common bases).
 *
 * @throws InvalidPeerIdError (with `input` set to `str`) for an empty or over-long string, a character
 * outside the base's alphabet, an unknown multibase prefix, a malformed multihash or CID, a CID codec
 * other than `libp2p-key`, a hash function other than identity or sha2-256, or an identity multihash
 * that does not hold a valid Ed25519 or secp256k1 key
 */
export function peerIdFromString (str: string): PeerId {
  return fromMultihash(multihashFromText(str), str)
}

/**
 * The PeerId of a public key. Keys from other implementations of the key interface are re-read from
 * their protobuf encoding, so the id always follows the spec's rules.
 *
 * @throws InvalidKeyError, UnsupportedKeyTypeError, InvalidMessageError when a foreign key object does
 * not encode a valid key
 */
export function peerIdFromPublicKey (publicKey: PublicKey): PeerId {
  const key = isOwnKey(publicKey) ? publicKey : publicKeyFromProtobuf(publicKeyToProtobuf(publicKey))
  return new PeerIdImpl(key.toMultihash(), key)
}

/** The PeerId of a private key's public key. */
export function peerIdFromPrivateKey (privateKey: PrivateKey): PeerId {
  return peerIdFromPublicKey(privateKey.publicKey)
}

/**
 * A PeerId from its multihash: identity (holding an Ed25519 or secp256k1 key protobuf of at most 42
 * bytes, whose key becomes `publicKey`) or sha2-256 (32 bytes, key unknown). The bytes are copied.
 *
 * @throws InvalidPeerIdError for another hash function, a wrong digest length, or an identity
 * multihash that does not hold a valid key
 */
export function peerIdFromMultihash (multihash: MultihashDigest): PeerId {
  return fromMultihash(multihash)
}

/**
 * A PeerId from a CID, which must be CIDv1 with the `libp2p-key` codec (0x72) and an identity or
 * sha2-256 multihash.
 *
 * @throws InvalidPeerIdError otherwise
 */
export function peerIdFromCID (cid: CID): PeerId {
  const multihash = multihashFromCID(cid)
  return fromMultihash(multihash, String(cid))
}

function fromMultihash (multihash: MultihashDigest, input?: string): PeerId {
  if (multihash == null || !(multihash.bytes instanceof Uint8Array)) {
    throw new InvalidPeerIdError('Expected a multihash digest', input)
  }
  let digest: MultihashDigest
  try {
    digest = Digest.decode(Uint8Array.from(multihash.bytes))
  } catch (err) {
    throw new InvalidPeerIdError(`Malformed multihash: ${describe(err)}`, input, { cause: err })
  }
  if (digest.code === SHA256_CODE) {
    if (digest.size !== SHA256_LENGTH) {
      throw new InvalidPeerIdError(`A sha2-256 PeerId has a ${SHA256_LENGTH}-byte digest, got ${digest.size} bytes`, input)
    }
    return new PeerIdImpl(digest as PeerIdMultihash)
  }
  if (digest.code === IDENTITY_CODE) {
    if (digest.size > MAX_INLINE_KEY_LENGTH) {
      throw new InvalidPeerIdError(`An identity PeerId embeds at most ${MAX_INLINE_KEY_LENGTH} bytes of key, got ${digest.size}; longer keys are hashed with sha2-256`, input)
    }
    let publicKey: PublicKey
    try {
      publicKey = publicKeyFromMultihash(digest)
    } catch (err) {
      throw new InvalidPeerIdError(`The identity PeerId does not hold a valid public key: ${describe(err)}`, input, { cause: err })
    }
    return new PeerIdImpl(digest as PeerIdMultihash, publicKey)
  }
  throw new InvalidPeerIdError(`A PeerId multihash uses identity (0x00) or sha2-256 (0x12), got hash function 0x${digest.code.toString(16)}`, input)
}

function isOwnKey (key: PublicKey): boolean {
  return key instanceof Ed25519PublicKey || key instanceof Secp256k1PublicKey || key instanceof RSAPublicKey || key instanceof ECDSAPublicKey
}
