/**
 * @packageDocumentation
 *
 * `/plaintext/2.0.0`: a connection "encrypter" that only exchanges identities. Each side sends its
 * PeerId and public key once, checks that the remote's PeerId is derived from the remote's key (and,
 * when the caller names the peer it expects, that it is that peer), and then passes bytes through
 * unchanged.
 *
 * There is no confidentiality and no integrity: anyone on the path can read, alter or inject data,
 * or impersonate either peer. Use it for tests and debugging only, never in production.
 *
 * @example
 * ```ts
 * import { plaintext } from '@peerkit/connection-encrypter-plaintext'
 *
 * const encrypter = plaintext({ handshakeTimeout: 5_000 })({ privateKey, peerId })
 * const { conn, remotePeer } = await encrypter.secureOutbound(rawConn, { remotePeer: expected })
 * ```
 */

import { publicKeyFromRaw } from '@peerkit/crypto'
import {
  AbortError,
  HandshakeError,
  InvalidMessageError,
  InvalidParametersError,
  LimitExceededError,
  TimeoutError,
  UnexpectedEOFError,
  UnexpectedPeerError
} from '@peerkit/interfaces'
import { peerIdFromPublicKey } from '@peerkit/peer-id'
import { ByteStream, abortReason, anySignal, logger } from '@peerkit/utils'
import { Exchange, KeyType } from './pb/plaintext.js'
import type {
  ConnectionEncrypter,
  ConnectionEncrypterComponents,
  ConnectionEncrypterFactory,
  KeyType as PeerkitKeyType,
  Logger,
  PeerId,
  PublicKey,
  SecureConnectionOptions,
  SecureStream,
  SecuredConnection
} from '@peerkit/interfaces'

/** The protocol id negotiated by multistream-select. */
export const PROTOCOL = '/plaintext/2.0.0'

/**
 * Default bound on the remote's `Exchange` message, in bytes. The largest message a peer sends is an
 * RSA one: an 8192-bit key (the largest RSA key libp2p accepts) encodes to about 1.1 KB including the
 * 34-byte id, so 4 KiB leaves room while keeping a hostile length prefix harmless.
 */
export const DEFAULT_MAX_MESSAGE_SIZE = 4096

/** Default time allowed for the whole exchange, in milliseconds. */
export const DEFAULT_HANDSHAKE_TIMEOUT = 10_000

/** Options of {@link plaintext}. */
export interface PlaintextInit {
  /**
   * Largest `Exchange` message accepted from the remote, in bytes (the varint length prefix excluded).
   * A longer announced length fails the handshake with `LimitExceededError` before anything more is
   * read. Must be a positive integer. Default {@link DEFAULT_MAX_MESSAGE_SIZE}.
   */
  maxMessageSize?: number
  /**
   * Milliseconds allowed for the exchange (sending ours and receiving theirs); past it the handshake
   * fails with `TimeoutError`. `0` or `Infinity` disables the timer (the caller's signal still
   * applies). Default {@link DEFAULT_HANDSHAKE_TIMEOUT}.
   */
  handshakeTimeout?: number
}

const log = logger('peerkit:plaintext')

/** Longest varint accepted as a length prefix: 5 bytes hold any 32-bit length. */
const MAX_LENGTH_PREFIX_BYTES = 5

const KEY_TYPE_TO_PB: Readonly<Record<PeerkitKeyType, KeyType>> = {
  RSA: KeyType.RSA,
  Ed25519: KeyType.Ed25519,
  secp256k1: KeyType.Secp256k1,
  ECDSA: KeyType.ECDSA
}

const KEY_TYPE_FROM_PB: Readonly<Record<KeyType, PeerkitKeyType>> = {
  [KeyType.RSA]: 'RSA',
  [KeyType.Ed25519]: 'Ed25519',
  [KeyType.Secp256k1]: 'secp256k1',
  [KeyType.ECDSA]: 'ECDSA'
}

/**
 * Encodes the `Exchange` message announcing `publicKey`, with its varint length prefix, exactly as it
 * goes on the wire.
 */
export function encodeExchange (publicKey: PublicKey): Uint8Array {
  const body = Exchange.encode({
    id: publicKey.toMultihash().bytes as Uint8Array<ArrayBuffer>,
    pubkey: { Type: KEY_TYPE_TO_PB[publicKey.type], Data: publicKey.raw as Uint8Array<ArrayBuffer> }
  })
  const prefix = encodeVarint(body.byteLength)
  const out = new Uint8Array(prefix.byteLength + body.byteLength)
  out.set(prefix, 0)
  out.set(body, prefix.byteLength)
  return out
}

/** Unsigned LEB128 (multiformats unsigned-varint) encoding of a non-negative safe integer. */
function encodeVarint (value: number): Uint8Array {
  const bytes: number[] = []
  let rest = value
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80)
    rest = Math.floor(rest / 0x80)
  }
  bytes.push(rest)
  return Uint8Array.from(bytes)
}

/**
 * Validates a decoded `Exchange` message: both fields present, the key parses, and the id is the
 * multihash of that key. Returns the remote's PeerId (carrying its public key). Throws
 * `HandshakeError` naming what is wrong.
 */
export function verifyExchange (message: Exchange): PeerId {
  if (message.id == null) {
    throw new HandshakeError('The remote Exchange message has no id', PROTOCOL)
  }
  if (message.pubkey == null) {
    throw new HandshakeError('The remote Exchange message has no public key', PROTOCOL)
  }
  if (message.pubkey.Type == null) {
    throw new HandshakeError('The remote public key has no Type field', PROTOCOL)
  }
  if (message.pubkey.Data == null) {
    throw new HandshakeError('The remote public key has no Data field', PROTOCOL)
  }

  let peerId: PeerId
  try {
    const key = publicKeyFromRaw(message.pubkey.Data, KEY_TYPE_FROM_PB[message.pubkey.Type])
    peerId = peerIdFromPublicKey(key)
  } catch (err) {
    throw new HandshakeError(`The remote public key is invalid: ${describe(err)}`, PROTOCOL, { cause: err })
  }

  if (!equalBytes(peerId.toMultihash().bytes, message.id)) {
    throw new HandshakeError(`The remote id ${hexPreview(message.id)} is not the PeerId of its public key (${peerId.toString()})`, PROTOCOL)
  }
  return peerId
}

class Plaintext implements ConnectionEncrypter {
  readonly protocol = PROTOCOL
  readonly #localPeer: PeerId
  readonly #exchange: Uint8Array
  readonly #maxMessageSize: number
  readonly #handshakeTimeout: number

  constructor (components: ConnectionEncrypterComponents, maxMessageSize: number, handshakeTimeout: number) {
    const publicKey = components.privateKey?.publicKey
    if (publicKey == null) {
      throw new InvalidParametersError('plaintext needs the node\'s private key')
    }
    if (components.peerId != null && !equalBytes(components.peerId.toMultihash().bytes, publicKey.toMultihash().bytes)) {
      throw new InvalidParametersError(`The peerId ${components.peerId.toString()} is not the PeerId of the private key (${publicKey.toString()})`)
    }
    this.#localPeer = components.peerId ?? peerIdFromPublicKey(publicKey)
    this.#exchange = encodeExchange(publicKey)
    this.#maxMessageSize = maxMessageSize
    this.#handshakeTimeout = handshakeTimeout
  }

  readonly [Symbol.toStringTag] = '@peerkit/connection-encrypter-plaintext'

  async secureInbound (conn: SecureStream, options?: SecureConnectionOptions): Promise<SecuredConnection> {
    return this.#handshake('inbound', conn, options)
  }

  async secureOutbound (conn: SecureStream, options?: SecureConnectionOptions): Promise<SecuredConnection> {
    return this.#handshake('outbound', conn, options)
  }

  async #handshake (direction: 'inbound' | 'outbound', conn: SecureStream, options: SecureConnectionOptions = {}): Promise<SecuredConnection> {
    const expected = options.remotePeer
    const signal = anySignal([options.signal], this.#handshakeTimeout, 'plaintext handshake')
    const stream = new ByteStream(conn, { maxVarintBytes: MAX_LENGTH_PREFIX_BYTES })
    log('%s handshake started, expecting %s', direction, expected?.toString() ?? 'any peer')
    try {
      // Both sides send first: write ours and read theirs at the same time, so neither waits on the
      // other's transport accepting bytes.
      const [, message] = await Promise.all([
        stream.write(this.#exchange, { signal }),
        this.#readExchange(stream, signal)
      ])
      const remotePeer = verifyExchange(message)
      if (expected != null && !equalBytes(expected.toMultihash().bytes, remotePeer.toMultihash().bytes)) {
        throw new UnexpectedPeerError(expected.toString(), remotePeer.toString())
      }
      const buffered = stream.buffered
      const secured = stream.unwrap()
      log('%s handshake with %s complete (%d bytes past the handshake carried over)', direction, remotePeer.toString(), buffered)
      return { conn: secured, remotePeer }
    } catch (err) {
      const error = toHandshakeFailure(err, signal)
      logFailure(log, direction, this.#localPeer, error)
      throw error
    } finally {
      signal.clear()
    }
  }

  async #readExchange (stream: ByteStream<SecureStream>, signal: AbortSignal): Promise<Exchange> {
    const length = await stream.readVarint({ signal })
    if (length > this.#maxMessageSize) {
      throw new LimitExceededError('maxMessageSize', this.#maxMessageSize, length, 'plaintext handshake message')
    }
    const body = await stream.read(length, { signal })
    try {
      return Exchange.decode(body)
    } catch (err) {
      throw new InvalidMessageError(`Malformed Exchange message: ${describe(err)}`, { cause: err })
    }
  }
}

/**
 * Creates the `/plaintext/2.0.0` encrypter factory. The returned factory is called with the node's
 * identity (`privateKey`, `peerId`); the encrypter it returns can run any number of handshakes,
 * concurrently.
 *
 * Throws `InvalidParametersError` for an out-of-range option, and (from the factory) when `peerId`
 * is not the PeerId of `privateKey`.
 *
 * Not secure: no confidentiality, no integrity. For tests and debugging only.
 */
export function plaintext (init: PlaintextInit = {}): ConnectionEncrypterFactory {
  const maxMessageSize = init.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE
  if (!Number.isSafeInteger(maxMessageSize) || maxMessageSize <= 0) {
    throw new InvalidParametersError(`maxMessageSize must be a positive integer, got ${String(init.maxMessageSize)}`)
  }
  const handshakeTimeout = init.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT
  if (typeof handshakeTimeout !== 'number' || Number.isNaN(handshakeTimeout) || handshakeTimeout < 0) {
    throw new InvalidParametersError(`handshakeTimeout must be a non-negative number of milliseconds, got ${String(init.handshakeTimeout)}`)
  }
  return (components) => new Plaintext(components, maxMessageSize, handshakeTimeout)
}

/**
 * Maps whatever stopped the handshake to the error the caller sees: our own typed failures pass
 * through, an aborted or timed-out signal gives its reason, and anything else (truncated stream,
 * malformed message, transport failure) becomes a `HandshakeError` with the original as `cause`.
 */
function toHandshakeFailure (err: unknown, signal: AbortSignal): Error {
  if (err instanceof HandshakeError || err instanceof UnexpectedPeerError || err instanceof LimitExceededError) {
    return err
  }
  if (signal.aborted) {
    return abortReason(signal)
  }
  if (err instanceof TimeoutError || err instanceof AbortError) {
    return err
  }
  if (err instanceof UnexpectedEOFError) {
    return new HandshakeError(`The remote closed the connection during the plaintext handshake: ${err.message}`, PROTOCOL, { cause: err })
  }
  return new HandshakeError(`The plaintext handshake failed: ${describe(err)}`, PROTOCOL, { cause: err })
}

function logFailure (l: Logger, direction: string, localPeer: PeerId, err: Error): void {
  l.error('%s handshake of %s failed: %s: %s', direction, localPeer.toString(), err.name, err.message)
}

function describe (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false
  for (let i = 0; i < a.byteLength; i++) {
    if (a[i] !== b[i]) return false
  }
  return true
}

function hexPreview (bytes: Uint8Array): string {
  if (bytes.byteLength === 0) return '(empty)'
  let hex = ''
  for (let i = 0; i < Math.min(bytes.byteLength, 40); i++) hex += bytes[i].toString(16).padStart(2, '0')
  return bytes.byteLength > 40 ? `${hex}…(${bytes.byteLength} bytes)` : hex
}
