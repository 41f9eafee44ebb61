/**
 * Runs the XX handshake over a connection: framing, payload exchange and verification, early muxer
 * negotiation, and the switch to transport encryption.
 */
import { ByteStream, claimByteChannel, currentByteChannelOffer, offerByteChannel } from '@peerkit/utils'
import { XXHandshakeState } from './handshake-state.js'
import { LENGTH_PREFIX_BYTES } from './constants.js'
import { negotiateMuxer } from './muxer-negotiation.js'
import { encodePayload, verifyPayload } from './payload.js'
import { FrameDecoder, NoiseByteChannel, decryptSource, encryptSource } from './transport.js'
import type { CipherState } from './cipher-state.js'
import type { NoiseCrypto, X25519KeyPair } from './crypto.js'
import type { MuxerNegotiation } from './muxer-negotiation.js'
import type { LocalIdentity, RemoteIdentity, VerifiedIdentityCache } from './payload.js'
import type { NoiseExtensions } from './pb/payload.js'
import type { Logger, PeerId, SecureStream, Source } from '@peerkit/interfaces'
import type { Uint8ArrayList } from 'uint8arraylist'

const EMPTY = new Uint8Array(0)

/** Everything one handshake needs. */
export interface HandshakeParams {
  /** True for the dialer. */
  initiator: boolean
  staticKeyPair: X25519KeyPair
  identity: LocalIdentity
  prologue: Uint8Array
  /** Our stream muxers for early negotiation, in order of preference. */
  streamMuxers: readonly string[]
  /** WebTransport certificate hashes to advertise. */
  webtransportCerthashes: readonly Uint8Array[]
  /** The identity the remote must prove, when known. */
  remotePeer?: PeerId
  /** Aborts the handshake (caller's signal combined with the handshake timeout). */
  signal: AbortSignal
  log: Logger
  /** Remote identities that verified before (see `VerifiedIdentityCache`). */
  identityCache?: VerifiedIdentityCache
  /**
   * Our ephemeral key pair: one generated ahead of time (see `Noise`), or a fixed one in
   * known-answer tests. Used for this handshake only. Default: generated when message 1 or 2 is
   * written.
   */
  ephemeralKeyPair?: X25519KeyPair
  /** Called once our first message is on its way, while we wait for the remote's answer. */
  onFirstMessageSent?: () => void
  /** Where X25519 and small-message sealing come from (default: node's `crypto`). */
  crypto?: NoiseCrypto
}

/** A completed handshake. */
export interface HandshakeResult {
  /** The encrypted duplex. */
  conn: SecureStream
  remote: RemoteIdentity
  /** The muxer agreed by early negotiation, if both sides offered some. */
  streamMuxer?: string
  /** The final Noise handshake hash. */
  handshakeHash: Uint8Array
}

/**
 * Runs the handshake on `conn`. On success the returned `conn` replaces the original one, whose
 * bytes read past the last handshake message are replayed into the decrypted source. On failure
 * the original connection is left as it is: closing it is the caller's job.
 */
export async function runHandshake (conn: SecureStream, params: HandshakeParams): Promise<HandshakeResult> {
  const { initiator, signal, log } = params
  const stream = new ByteStream(conn)
  const state = new XXHandshakeState({
    initiator,
    staticKeyPair: params.staticKeyPair,
    ephemeralKeyPair: params.ephemeralKeyPair,
    prologue: params.prologue,
    crypto: params.crypto
  })
  const ourExtensions: NoiseExtensions = {
    streamMuxers: [...params.streamMuxers],
    webtransportCerthashes: params.webtransportCerthashes.map(h => h as Uint8Array<ArrayBuffer>)
  }
  const options = { signal }

  const send = async (payload: Uint8Array): Promise<void> => {
    const message = state.writeMessage(payload)
    const frame = Buffer.allocUnsafe(LENGTH_PREFIX_BYTES + message.byteLength)
    frame.writeUInt16BE(message.byteLength, 0)
    frame.set(message, LENGTH_PREFIX_BYTES)
    await stream.write(frame, options)
  }
  const receive = async (): Promise<Uint8Array> => {
    const prefix = await stream.read(LENGTH_PREFIX_BYTES, options)
    const length = (prefix.get(0) << 8) | prefix.get(1)
    const message = await stream.read(length, options)
    return state.readMessage(message.subarray())
  }
  const remoteStaticKey = (): Uint8Array => {
    const rs = state.remoteStaticKey
    // Unreachable: messages 2 and 3 always carry the sender's static key.
    if (rs == null) throw new Error('The remote static key is missing after its static-key message')
    return rs
  }

  let remote: RemoteIdentity
  let negotiation: MuxerNegotiation
  if (initiator) {
    // -> e
    await send(EMPTY)
    params.onFirstMessageSent?.()
    // <- e, ee, s, es  (the responder's identity and extensions)
    remote = verifyPayload(await receive(), remoteStaticKey(), params.remotePeer, params.identityCache)
    log.trace('responder %s proved its identity', remote.peerId.toString())
    negotiation = negotiateMuxer(ourExtensions.streamMuxers, remote.extensions?.streamMuxers)
    // -> s, se  (our identity and extensions). Sent even when muxer negotiation failed, so the
    // responder reaches the same verdict instead of seeing the connection drop.
    await send(encodePayload(params.identity, ourExtensions))
  } else {
    // -> e  (its payload is unencrypted and unauthenticated: nothing in it is used)
    const early = await receive()
    if (early.byteLength > 0) log('ignoring %d bytes of payload in the first handshake message', early.byteLength)
    // <- e, ee, s, es
    await send(encodePayload(params.identity, ourExtensions))
    params.onFirstMessageSent?.()
    // -> s, se
    remote = verifyPayload(await receive(), remoteStaticKey(), params.remotePeer, params.identityCache)
    log.trace('initiator %s proved its identity', remote.peerId.toString())
    negotiation = negotiateMuxer(remote.extensions?.streamMuxers, ourExtensions.streamMuxers)
  }
  if (negotiation.error != null) throw negotiation.error

  const keys = state.split()
  return { conn: secureStream(stream.unwrap(), keys.send, keys.receive), remote, streamMuxer: negotiation.muxer, handshakeHash: keys.handshakeHash }
}

/**
 * The encrypted duplex over `raw`. Built outside `runHandshake` so that its closure keeps only the
 * transport keys and the raw duplex alive, not the handshake's state.
 */
function secureStream (raw: SecureStream, send: CipherState, receive: CipherState): SecureStream {
  const decoder = new FrameDecoder(receive)
  const secured: SecureStream = {
    source: decryptSource(raw.source, decoder),
    // Returns the raw sink's promise instead of awaiting it: nothing suspended per connection.
    sink: async (source: Source<Uint8Array | Uint8ArrayList>): Promise<void> => raw.sink(encryptSource(source, send))
  }
  // The push-based path: when the raw connection offers a byte channel, so does the encrypted one.
  if (currentByteChannelOffer(raw) != null) {
    offerByteChannel(secured, () => {
      const channel = claimByteChannel(raw)
      return channel == null ? undefined : new NoiseByteChannel(channel, send, decoder)
    })
  }
  return secured
}
