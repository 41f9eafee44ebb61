/**
 * The libp2p handshake payload: the identity key, its signature over the Noise static key, and the
 * extensions (early stream-muxer negotiation, WebTransport certificate hashes).
 */
import { createHash } from 'node:crypto'
import { publicKeyFromProtobuf, publicKeyToProtobuf } from '@peerkit/crypto'
import { HandshakeError, InvalidMessageError, UnexpectedPeerError } from '@peerkit/interfaces'
import { peerIdFromPublicKey } from '@peerkit/peer-id'
import { MAX_EXTENSION_ENTRIES, NOISE_PROTOCOL_ID, STATIC_KEY_SIGNATURE_PREFIX } from './constants.js'
import { NoiseHandshakePayload } from './pb/payload.js'
import type { NoiseExtensions } from './pb/payload.js'
import type { PeerId, PrivateKey, PublicKey } from '@peerkit/interfaces'

const SIGNATURE_PREFIX = new TextEncoder().encode(STATIC_KEY_SIGNATURE_PREFIX)

/** The data an identity key signs: `"noise-libp2p-static-key:" || static public key`. */
export function staticKeySignatureData (staticPublicKey: Uint8Array): Uint8Array {
  const data = new Uint8Array(SIGNATURE_PREFIX.byteLength + staticPublicKey.byteLength)
  data.set(SIGNATURE_PREFIX)
  data.set(staticPublicKey, SIGNATURE_PREFIX.byteLength)
  return data
}

/** Our side of the payload: identity key and signature are fixed for a given static key. */
export interface LocalIdentity {
  /** Our identity public key, protobuf-encoded. */
  identityKey: Uint8Array
  /** Our identity key's signature over the static key. */
  identitySig: Uint8Array
}

/** Signs `staticPublicKey` with `privateKey`, giving the fixed part of our payloads. */
export function createLocalIdentity (privateKey: PrivateKey, staticPublicKey: Uint8Array): LocalIdentity {
  return {
    identityKey: publicKeyToProtobuf(privateKey.publicKey),
    identitySig: privateKey.sign(staticKeySignatureData(staticPublicKey))
  }
}

/** Encodes our payload; `extensions` is left out when it carries nothing. */
export function encodePayload (identity: LocalIdentity, extensions?: NoiseExtensions): Uint8Array {
  const hasExtensions = extensions != null &&
    (extensions.streamMuxers.length > 0 || extensions.webtransportCerthashes.length > 0)
  return NoiseHandshakePayload.encode({
    identityKey: identity.identityKey as Uint8Array<ArrayBuffer>,
    identitySig: identity.identitySig as Uint8Array<ArrayBuffer>,
    extensions: hasExtensions ? extensions : undefined
  })
}

/** The remote's proven identity and the extensions it sent. */
export interface RemoteIdentity {
  peerId: PeerId
  publicKey: PublicKey
  extensions?: NoiseExtensions
}

/**
 * Remote identities whose signature over a static key verified, keyed by the exact bytes that were
 * verified (static key, identity key, signature): the same bytes verify the same way, so a peer that
 * reconnects with the same static key is not verified again. Bounded; least recently used first out.
 */
export class VerifiedIdentityCache {
  readonly #max: number
  readonly #entries = new Map<string, { peerId: PeerId, publicKey: PublicKey }>()

  /** @param max - most identities kept; 0 keeps none */
  constructor (max: number) {
    this.#max = max
  }

  /** Identities currently remembered. */
  get size (): number {
    return this.#entries.size
  }

  /**
   * The cache key of a (static key, identity key, signature) triple, or undefined when caching is
   * off: the SHA-256 of the three (lengths first, so no two different triples hash the same bytes),
   * 32 characters kept per remembered peer rather than the ~130 bytes of the triple.
   */
  key (remoteStaticKey: Uint8Array, identityKey: Uint8Array, identitySig: Uint8Array): string | undefined {
    if (this.#max === 0) return undefined
    const lengths = Buffer.from(`${remoteStaticKey.byteLength}.${identityKey.byteLength}.`)
    return createHash('sha256').update(lengths).update(remoteStaticKey).update(identityKey).update(identitySig).digest('binary')
  }

  /** The identity remembered under `key` (refreshing its place in the LRU order), if any. */
  get (key: string): { peerId: PeerId, publicKey: PublicKey } | undefined {
    const hit = this.#entries.get(key)
    if (hit != null) {
      this.#entries.delete(key)
      this.#entries.set(key, hit)
    }
    return hit
  }

  /** Remembers an identity that verified, evicting the least recently used one past the bound. */
  set (key: string, value: { peerId: PeerId, publicKey: PublicKey }): void {
    if (this.#max === 0) return
    this.#entries.set(key, value)
    if (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next().value
      if (oldest != null) this.#entries.delete(oldest)
    }
  }
}


/**
 * Decodes the remote's payload and checks it: the identity key must parse, its signature over the
 * remote's static key must verify, and when `expectedPeer` is given the key must be that peer's.
 *
 * @throws InvalidMessageError for a malformed payload or a missing identity key
 * @throws InvalidKeyError / UnsupportedKeyTypeError for an identity key that does not parse
 * @throws HandshakeError when the signature does not verify
 * @throws UnexpectedPeerError when the identity is not `expectedPeer`
 *
 * With a `cache`, a triple (static key, identity key, signature) that verified before is taken from
 * it instead of being verified again.
 */
export function verifyPayload (payload: Uint8Array, remoteStaticKey: Uint8Array, expectedPeer?: PeerId, cache?: VerifiedIdentityCache): RemoteIdentity {
  let decoded: NoiseHandshakePayload
  try {
    decoded = NoiseHandshakePayload.decode(payload, {
      limits: {
        extensions: {
          streamMuxers: MAX_EXTENSION_ENTRIES,
          webtransportCerthashes: MAX_EXTENSION_ENTRIES
        }
      }
    })
  } catch (err) {
    throw new InvalidMessageError('The Noise handshake payload is not a valid NoiseHandshakePayload protobuf', { cause: err })
  }
  if (decoded.identityKey == null || decoded.identityKey.byteLength === 0) {
    throw new InvalidMessageError('The Noise handshake payload carries no identity key')
  }
  if (decoded.identitySig == null || decoded.identitySig.byteLength === 0) {
    throw new InvalidMessageError('The Noise handshake payload carries no identity signature')
  }
  const key = cache?.key(remoteStaticKey, decoded.identityKey, decoded.identitySig)
  let identity = key != null ? cache?.get(key) : undefined
  if (identity == null) {
    const publicKey = publicKeyFromProtobuf(decoded.identityKey)
    const peerId = peerIdFromPublicKey(publicKey)
    if (!publicKey.verify(staticKeySignatureData(remoteStaticKey), decoded.identitySig)) {
      throw new HandshakeError(`The signature of ${peerId.toString()} over its Noise static key is invalid`, NOISE_PROTOCOL_ID)
    }
    identity = { peerId, publicKey }
    if (key != null) cache?.set(key, identity)
  }
  const { peerId, publicKey } = identity
  if (expectedPeer != null && !expectedPeer.equals(peerId)) {
    throw new UnexpectedPeerError(expectedPeer.toString(), peerId.toString())
  }
  return { peerId, publicKey, extensions: decoded.extensions }
}
