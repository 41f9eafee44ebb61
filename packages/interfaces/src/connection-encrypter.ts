import type { AbortOptions } from './abort.js'
import type { PeerId } from './peer-id.js'
import type { PrivateKey } from './keys.js'
import type { Duplex, Source } from './stream.js'
import type { Uint8ArrayList } from 'uint8arraylist'

/** The byte pipe an encrypter runs over, and returns (encrypted) on success. */
export type SecureStream = Duplex<AsyncGenerator<Uint8Array | Uint8ArrayList>, Source<Uint8Array | Uint8ArrayList>, Promise<void>>

export interface SecureConnectionOptions extends AbortOptions {
  /**
   * The peer the dialer expects. When given, a remote proving a different identity makes the
   * handshake fail with `UnexpectedPeerError`.
   */
  remotePeer?: PeerId
  /**
   * Stream muxer protocols to offer for early negotiation (Noise extensions, TLS ALPN), in order of
   * preference. When both sides offer some, the result appears in `SecuredConnection.streamMuxer`.
   */
  streamMuxers?: string[]
}

/** The result of a successful security handshake. */
export interface SecuredConnection<Extension = unknown> {
  /** The encrypted pipe; the original must no longer be used directly. */
  conn: SecureStream
  /** The remote's proven identity, with its public key. */
  remotePeer: PeerId
  /** Protocol-specific extensions the remote sent (e.g. Noise extensions). */
  remoteExtensions?: Extension
  /** The muxer chosen by early negotiation, if both sides offered one. */
  streamMuxer?: string
}

/** Dependencies handed to an encrypter factory when it is registered with a swarm. */
export interface ConnectionEncrypterComponents {
  privateKey: PrivateKey
  peerId: PeerId
}

/**
 * Authenticates the remote peer and encrypts a raw connection (`/noise`, `/tls/1.0.0`,
 * `/plaintext/2.0.0`).
 *
 * Ownership: on failure the encrypter does not close `conn`; the caller (the upgrader) does.
 */
export interface ConnectionEncrypter<Extension = unknown> {
  /** The protocol id negotiated by multistream-select. */
  readonly protocol: string
  /** Runs the handshake as the dialer. Throws `HandshakeError`, `UnexpectedPeerError`, `AbortError`. */
  secureOutbound(conn: SecureStream, options?: SecureConnectionOptions): Promise<SecuredConnection<Extension>>
  /** Runs the handshake as the listener. Throws like `secureOutbound`. */
  secureInbound(conn: SecureStream, options?: SecureConnectionOptions): Promise<SecuredConnection<Extension>>
}

/** A factory producing an encrypter once the node's identity is known. */
export type ConnectionEncrypterFactory = (components: ConnectionEncrypterComponents) => ConnectionEncrypter
