import { HandshakeError, InvalidParametersError } from '@peerkit/interfaces'
import { abortReason, anySignal, logger } from '@peerkit/utils'
import { DEFAULT_HANDSHAKE_TIMEOUT_MS, DEFAULT_VERIFIED_IDENTITY_CACHE_SIZE, NOISE_PROTOCOL_ID } from './constants.js'
import { noiseCrypto } from './crypto.js'
import { runHandshake } from './handshake.js'
import { VerifiedIdentityCache, createLocalIdentity } from './payload.js'
import type { NoiseCrypto, NoiseCryptoName, X25519KeyPair } from './crypto.js'
import type { LocalIdentity } from './payload.js'
import type { NoiseExtensions } from './pb/payload.js'
import type {
  ConnectionEncrypter, ConnectionEncrypterComponents, SecureConnectionOptions, SecuredConnection, SecureStream
} from '@peerkit/interfaces'

/** Options of {@link noise}. */
export interface NoiseInit {
  /**
   * Data mixed into the handshake hash; both peers must use the same bytes or the handshake
   * fails. libp2p peers use none. Default: empty.
   */
  prologue?: Uint8Array
  /**
   * Deadline for a whole handshake, in milliseconds, on top of the caller's `signal`. A peer that
   * stalls past it makes the handshake fail with `TimeoutError`. `Infinity` disables it.
   * Default: 10000.
   */
  handshakeTimeout?: number
  /**
   * Our static X25519 private key (32 bytes). Default: a fresh key generated once per encrypter
   * instance and kept in memory only. The libp2p Noise specification advises against storing it.
   */
  staticNoiseKey?: Uint8Array
  /**
   * Remote identities (identity key, its signature, the static key it signs) remembered after their
   * signature verified, so that a peer reconnecting with the same static key costs no signature
   * verification. Least recently used first out; `0` verifies every handshake. Default 256.
   */
  verifiedIdentityCacheSize?: number
  /**
   * Where X25519 and the sealing and opening of small messages (up to 4 KiB) come from: `'node'`
   * (node's `crypto`, OpenSSL) or `'libsodium'` (the optional peer dependency `sodium-native`,
   * installed by the application). Larger messages, SHA-256 and HKDF always use node's `crypto`.
   * Both compute the same functions, so the choice changes speed, never what is on the wire:
   * libsodium makes handshakes and small messages cheaper, but loading it slowed bulk transfers of
   * the whole process on the benchmark machine (see the README). Naming `'libsodium'` when
   * `sodium-native` does not load throws `InvalidParametersError`. Default: `'node'`.
   */
  crypto?: NoiseCryptoName
  /** Extension data we advertise in our handshake payload, besides the stream muxers. */
  extensions?: {
    /** SHA-256 multihashes of the certificates a WebTransport listener serves. */
    webtransportCerthashes?: Uint8Array[]
  }
}

const log = logger('peerkit:noise')

/**
 * The Noise encrypter. The static key and our signed identity are created once per instance and
 * reused by every handshake.
 */
class Noise implements ConnectionEncrypter<NoiseExtensions> {
  readonly protocol = NOISE_PROTOCOL_ID
  readonly #components: ConnectionEncrypterComponents
  readonly #prologue: Uint8Array
  readonly #handshakeTimeout: number
  readonly #crypto: NoiseCrypto
  readonly #staticKeyPair: X25519KeyPair
  readonly #webtransportCerthashes: Uint8Array[]
  #identity?: LocalIdentity
  readonly #identityCache: VerifiedIdentityCache
  /**
   * An ephemeral key pair generated ahead of time, taken (and so used once) by the next
   * handshake. Generating it while a handshake waits for the remote's answer takes a key
   * generation (~50 µs) off the path of the next connection's first message.
   */
  #spareEphemeral?: X25519KeyPair
  #refillScheduled = false
  readonly #refill = (): void => {
    if (this.#spareEphemeral != null || this.#refillScheduled) return
    this.#refillScheduled = true
    setImmediate(() => {
      this.#refillScheduled = false
      try {
        this.#spareEphemeral ??= this.#crypto.generateKeyPair()
      } catch (err) {
        // Not expected; the next handshake then generates its own key.
        log.error('generating a spare ephemeral key failed: %s', (err as Error).message)
      }
    })
  }

  constructor (components: ConnectionEncrypterComponents, init: NoiseInit) {
    const timeout = init.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT_MS
    if (typeof timeout !== 'number' || Number.isNaN(timeout) || timeout <= 0) {
      throw new InvalidParametersError(`handshakeTimeout must be a positive number of milliseconds (or Infinity), got ${String(timeout)}`)
    }
    if (components?.privateKey == null) throw new InvalidParametersError('The Noise encrypter needs the node\'s privateKey')
    this.#components = components
    this.#handshakeTimeout = timeout
    this.#prologue = Uint8Array.from(init.prologue ?? [])
    this.#crypto = noiseCrypto(init.crypto)
    this.#staticKeyPair = init.staticNoiseKey != null
      ? this.#crypto.keyPairFromPrivateKey(init.staticNoiseKey)
      : this.#crypto.generateKeyPair()
    this.#webtransportCerthashes = [...(init.extensions?.webtransportCerthashes ?? [])]
    const cacheSize = init.verifiedIdentityCacheSize ?? DEFAULT_VERIFIED_IDENTITY_CACHE_SIZE
    if (!Number.isInteger(cacheSize) || cacheSize < 0) {
      throw new InvalidParametersError(`verifiedIdentityCacheSize must be an integer >= 0, got ${String(cacheSize)}`)
    }
    this.#identityCache = new VerifiedIdentityCache(cacheSize)
  }

  async secureOutbound (conn: SecureStream, options?: SecureConnectionOptions): Promise<SecuredConnection<NoiseExtensions>> {
    return this.#secure(true, conn, options)
  }

  async secureInbound (conn: SecureStream, options?: SecureConnectionOptions): Promise<SecuredConnection<NoiseExtensions>> {
    return this.#secure(false, conn, options)
  }

  async #secure (initiator: boolean, conn: SecureStream, options: SecureConnectionOptions = {}): Promise<SecuredConnection<NoiseExtensions>> {
    const role = initiator ? 'outbound' : 'inbound'
    const signal = anySignal([options.signal], this.#handshakeTimeout, 'Noise handshake')
    log('%s handshake started%s', role, options.remotePeer != null ? ` with ${options.remotePeer.toString()}` : '')
    try {
      // Signed once and reused: the signature covers only the static key.
      this.#identity ??= createLocalIdentity(this.#components.privateKey, this.#staticKeyPair.publicKey)
      const ephemeralKeyPair = this.#spareEphemeral
      this.#spareEphemeral = undefined
      const result = await runHandshake(conn, {
        initiator,
        staticKeyPair: this.#staticKeyPair,
        identity: this.#identity,
        prologue: this.#prologue,
        streamMuxers: options.streamMuxers ?? [],
        webtransportCerthashes: this.#webtransportCerthashes,
        remotePeer: options.remotePeer,
        identityCache: this.#identityCache,
        ephemeralKeyPair,
        onFirstMessageSent: this.#refill,
        crypto: this.#crypto,
        signal,
        log
      })
      log('%s handshake with %s complete%s', role, result.remote.peerId.toString(),
        result.streamMuxer != null ? `, early muxer ${result.streamMuxer}` : '')
      return {
        conn: result.conn,
        remotePeer: result.remote.peerId,
        remoteExtensions: result.remote.extensions,
        streamMuxer: result.streamMuxer
      }
    } catch (err) {
      const error = handshakeFailure(err, signal)
      log.error('%s handshake failed: %s: %s', role, error.name, error.message)
      throw error
    } finally {
      signal.clear()
    }
  }
}

/**
 * The error a failed handshake rejects with: the abort reason (`TimeoutError`, `AbortError`) when
 * the handshake was cut short, `UnexpectedPeerError` and `HandshakeError` as they are, anything
 * else (malformed or truncated message, failed decryption, bad key) wrapped in a `HandshakeError`
 * whose `cause` is the original error.
 */
function handshakeFailure (err: unknown, signal: AbortSignal): Error {
  if (signal.aborted) return abortReason(signal)
  const error = err instanceof Error ? err : new Error(String(err))
  if (error.name === 'UnexpectedPeerError' || error.name === 'HandshakeError') return error
  return new HandshakeError(`Noise handshake failed: ${error.message}`, NOISE_PROTOCOL_ID, { cause: error })
}

/**
 * Creates the Noise connection encrypter (`/noise`, `Noise_XX_25519_ChaChaPoly_SHA256`) as a
 * factory that receives the node's identity.
 *
 * @example
 * ```ts
 * const encrypter = noise()({ privateKey, peerId })
 * const { conn, remotePeer, streamMuxer } = await encrypter.secureOutbound(rawConn, {
 *   remotePeer: expected,
 *   streamMuxers: ['/yamux/1.0.0']
 * })
 * ```
 */
export function noise (init: NoiseInit = {}): (components: ConnectionEncrypterComponents) => ConnectionEncrypter<NoiseExtensions> {
  return (components) => new Noise(components, init)
}
