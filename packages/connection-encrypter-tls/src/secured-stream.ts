import { ConnectionClosedError, DecryptionError, InvalidParametersError, PeerkitError, ProtocolError, StreamStateError } from '@peerkit/interfaces'
import { ChunkQueue } from '@peerkit/utils'
import { isUint8ArrayList } from 'uint8arraylist'
import { TLS_PROTOCOL_ID } from './constants.js'
import type { SecureStream, Source } from '@peerkit/interfaces'
import type { TLSSocket } from 'node:tls'
import type { Uint8ArrayList } from 'uint8arraylist'

type Chunk = Uint8Array | Uint8ArrayList

/**
 * The decrypted side of a TLS socket as a `SecureStream`.
 *
 * - `source` is a `ChunkQueue` fed by the socket: everything decrypted since the last read is
 *   handed over as one list. When more than `highWaterMark` bytes wait for the reader the socket is
 *   paused, which stops node reading records from the raw connection.
 * - `sink` writes each chunk (a list as one corked batch, so many small frames become few records),
 *   waits for `drain` when node's buffer is full, and on the end of its source sends `close_notify`
 *   and half-closes the raw connection, while reading continues.
 *
 * It is attached as soon as node reports the handshake complete, so data that arrives with the
 * last handshake flight is kept; nobody can read it before the certificate checks have passed.
 */
export class SecuredStream implements SecureStream {
  readonly source: ChunkQueue
  readonly #socket: TLSSocket
  #sinkCalled = false
  #error?: Error
  #ended = false

  constructor (socket: TLSSocket, highWaterMark: number) {
    this.#socket = socket
    const queue = this.source = new ChunkQueue({ highWaterMark })
    socket.on('data', (buf: Buffer) => {
      queue.push(buf)
      if (queue.needsDrain && !socket.isPaused()) {
        socket.pause()
        void queue.onDrain().then(() => {
          if (!socket.destroyed) socket.resume()
        })
      }
    })
    socket.once('end', () => {
      this.#ended = true
      queue.end()
    })
    socket.once('close', () => {
      // Closed without a graceful end of the remote's writes: an abrupt end for the reader.
      queue.end(this.#ended ? undefined : (this.#error ?? new ConnectionClosedError('The TLS connection closed before the remote finished writing')))
    })
  }

  /** Records a socket error: the reader's next read (and any write) fails with it, typed. */
  fail (err: Error): void {
    this.#error ??= securedStreamError(err)
    if (!this.#ended) this.source.end(this.#error)
  }

  readonly sink = async (source: Source<Chunk>): Promise<void> => {
    if (this.#sinkCalled) throw new StreamStateError('The sink of a TLS connection can be called only once')
    this.#sinkCalled = true
    const socket = this.#socket
    try {
      for await (const chunk of source) {
        this.#assertWritable()
        let ok = true
        if (chunk instanceof Uint8Array) {
          if (chunk.byteLength > 0) ok = socket.write(chunk)
        } else if (isUint8ArrayList(chunk)) {
          socket.cork()
          for (const buf of chunk) ok = socket.write(buf)
          socket.uncork()
        } else {
          throw new InvalidParametersError(`The sink of a TLS connection takes Uint8Array or Uint8ArrayList chunks, got ${typeof chunk}`)
        }
        if (!ok) await this.#drained()
      }
    } catch (err) {
      // The data that was to be sent is lost: the connection cannot continue in a defined state.
      socket.destroy(err as Error)
      throw err
    }
    this.#assertWritable()
    await this.#finish()
  }

  #assertWritable (): void {
    const socket = this.#socket
    if (socket.destroyed || !socket.writable) {
      throw this.#error ?? new ConnectionClosedError('The TLS connection is closed for writing')
    }
  }

  async #drained (): Promise<void> {
    await this.#socketEvent('drain', () => this.#error ?? new ConnectionClosedError('The TLS connection closed while writing'))
  }

  /** Sends `close_notify` and half-closes; resolves once node has flushed everything. */
  async #finish (): Promise<void> {
    const finished = this.#socketEvent('finish', () => this.#socket.writableFinished
      ? undefined
      : this.#error ?? new ConnectionClosedError('The TLS connection closed before our writes were flushed'))
    this.#socket.end()
    await finished
  }

  /**
   * Resolves on the socket's `event`; if the socket closes first, settles with what `onClose`
   * says (an error to reject with, or undefined to resolve).
   */
  async #socketEvent (event: 'drain' | 'finish', onClose: () => Error | undefined): Promise<void> {
    const socket = this.#socket
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error): void => {
        socket.off(event, onEvent)
        socket.off('close', onSocketClose)
        if (err != null) reject(err)
        else resolve()
      }
      const onEvent = (): void => { done() }
      const onSocketClose = (): void => { done(onClose()) }
      socket.on(event, onEvent)
      socket.on('close', onSocketClose)
    })
  }
}

/**
 * The typed error a failure of an established TLS connection surfaces as: `DecryptionError` for a
 * record that fails authentication, `ProtocolError` for any other TLS-level failure (an alert from
 * the remote, a malformed record), `ConnectionClosedError` when the raw connection failed; our own
 * errors as they are. The original error is the `cause`.
 */
export function securedStreamError (err: Error): Error {
  if (err instanceof PeerkitError) return err
  const code = (err as { code?: unknown }).code
  if (typeof code === 'string' && /BAD_RECORD_MAC|DECRYPTION_FAILED|DECRYPT_ERROR/.test(code)) {
    return new DecryptionError(`A TLS record failed authentication: ${err.message}`, { cause: err })
  }
  if (typeof code === 'string' && code.startsWith('ERR_SSL_')) {
    return new ProtocolError(`TLS error: ${err.message}`, TLS_PROTOCOL_ID, { cause: err })
  }
  return new ConnectionClosedError(`The TLS connection failed: ${err.message}`, { cause: err })
}
