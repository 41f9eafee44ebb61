import { createSecureContext } from 'node:tls'
import { HandshakeError, InvalidParametersError, PeerkitError } from '@peerkit/interfaces'
import { abortReason, anySignal, logger, raceSignal, throwIfAborted } from '@peerkit/utils'
import { generateCertificate } from './certificate.js'
import { DEFAULT_HANDSHAKE_TIMEOUT_MS, DEFAULT_HIGH_WATER_MARK, TLS_PROTOCOL_ID } from './constants.js'
import { runHandshake } from './handshake.js'
import type {
  ConnectionEncrypter, ConnectionEncrypterComponents, SecureConnectionOptions, SecuredConnection, SecureStream
} from '@peerkit/interfaces'
import type { SecureContext } from 'node:tls'

/** Options of {@link tls}. */
export interface TLSInit {
  /**
   * Deadline for a whole handshake (certificate checks included), in milliseconds, on top of the
   * caller's `signal`. A peer that stalls past it makes the handshake fail with `TimeoutError`.
   * `Infinity` disables it. Default: 10000.
   */
  handshakeTimeout?: number
  /**
   * Bytes that may wait in each of the two queues of a secured connection before backpressure
   * applies: decrypted data the reader has not taken yet (node then stops reading records from the
   * raw connection), and encrypted records the transport has not taken yet (writes then wait).
   * Default: 262144 (256 KiB).
   */
  highWaterMark?: number
}

const log = logger('peerkit:tls')

/** Our certificate, loaded into a TLS context shared by every handshake of one encrypter. */
interface Credentials {
  secureContext: SecureContext
}

/**
 * The TLS encrypter. One certificate (fresh ephemeral ECDSA P-256 key, signed extension) is made
 * lazily for the instance and reused by all its handshakes.
 */
class TLS implements ConnectionEncrypter {
  readonly protocol = TLS_PROTOCOL_ID
  readonly #components: ConnectionEncrypterComponents
  readonly #handshakeTimeout: number
  readonly #highWaterMark: number
  #credentials?: Promise<Credentials>

  constructor (components: ConnectionEncrypterComponents, init: TLSInit) {
    const timeout = init.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT_MS
    if (typeof timeout !== 'number' || Number.isNaN(timeout) || timeout <= 0) {
      throw new InvalidParametersError(`handshakeTimeout must be a positive number of milliseconds (or Infinity), got ${String(timeout)}`)
    }
    const highWaterMark = init.highWaterMark ?? DEFAULT_HIGH_WATER_MARK
    if (!Number.isSafeInteger(highWaterMark) || highWaterMark <= 0) {
      throw new InvalidParametersError(`highWaterMark must be a positive integer number of bytes, got ${String(highWaterMark)}`)
    }
    if (components?.privateKey == null) throw new InvalidParametersError('The TLS encrypter needs the node\'s privateKey')
    this.#components = components
    this.#handshakeTimeout = timeout
    this.#highWaterMark = highWaterMark
  }

  async secureOutbound (conn: SecureStream, options?: SecureConnectionOptions): Promise<SecuredConnection> {
    return this.#secure(false, conn, options)
  }

  async secureInbound (conn: SecureStream, options?: SecureConnectionOptions): Promise<SecuredConnection> {
    return this.#secure(true, conn, options)
  }

  /** Our credentials, created on first use; a failed attempt is retried by the next handshake. */
  async #getCredentials (): Promise<Credentials> {
    if (this.#credentials == null) {
      const creating = createCredentials(this.#components)
      this.#credentials = creating
      creating.catch(() => {
        if (this.#credentials === creating) this.#credentials = undefined
      })
    }
    return this.#credentials
  }

  async #secure (isServer: boolean, conn: SecureStream, options: SecureConnectionOptions = {}): Promise<SecuredConnection> {
    const role = isServer ? 'inbound' : 'outbound'
    const signal = anySignal([options.signal], this.#handshakeTimeout, 'TLS handshake')
    log('%s handshake started%s', role, options.remotePeer != null ? ` with ${options.remotePeer.toString()}` : '')
    try {
      throwIfAborted(signal)
      const credentials = await raceSignal(this.#getCredentials(), signal)
      return await runHandshake({
        isServer,
        conn,
        secureContext: credentials.secureContext,
        streamMuxers: options.streamMuxers ?? [],
        remotePeer: options.remotePeer,
        signal,
        highWaterMark: this.#highWaterMark,
        log
      })
    } catch (err) {
      const error = handshakeFailure(err, signal)
      log.error('%s handshake failed: %s: %s', role, error.name, error.message)
      throw error
    } finally {
      signal.clear()
    }
  }
}

async function createCredentials (components: ConnectionEncrypterComponents): Promise<Credentials> {
  const { certificatePem, privateKeyPem } = await generateCertificate(components.privateKey)
  const secureContext = createSecureContext({
    cert: certificatePem,
    key: privateKeyPem,
    minVersion: 'TLSv1.3',
    maxVersion: 'TLSv1.3'
  })
  log('created the certificate of %s', components.peerId?.toString())
  return { secureContext }
}

/**
 * The error a failed handshake rejects with: the abort reason (`TimeoutError`, `AbortError`) when
 * it was cut short, our own typed errors as they are, anything else wrapped in a `HandshakeError`.
 */
function handshakeFailure (err: unknown, signal: AbortSignal): Error {
  if (signal.aborted) return abortReason(signal)
  if (err instanceof PeerkitError) return err
  const error = err instanceof Error ? err : new Error(String(err))
  return new HandshakeError(`TLS handshake failed: ${error.message}`, TLS_PROTOCOL_ID, { cause: error })
}

/**
 * Creates the libp2p TLS 1.3 connection encrypter (`/tls/1.0.0`) as a factory that receives the
 * node's identity.
 *
 * @example
 * ```ts
 * const encrypter = tls()({ privateKey, peerId })
 * const { conn, remotePeer, streamMuxer } = await encrypter.secureOutbound(rawConn, {
 *   remotePeer: expected,
 *   streamMuxers: ['/yamux/1.0.0']
 * })
 * ```
 */
export function tls (init: TLSInit = {}): (components: ConnectionEncrypterComponents) => ConnectionEncrypter {
  return (components) => new TLS(components, init)
}
