import { Duplex } from 'node:stream'
import { ConnectionClosedError } from '@peerkit/interfaces'
import { ChunkQueue } from '@peerkit/utils'
import type { SecureStream } from '@peerkit/interfaces'
import type { Uint8ArrayList } from 'uint8arraylist'

type Chunk = Uint8Array | Uint8ArrayList

/**
 * A node `stream.Duplex` over the raw connection (a `SecureStream`), for node's TLS to run on.
 *
 * - Reading pulls one chunk at a time from `conn.source`, only while node asks for data, so TLS
 *   backpressure reaches the transport.
 * - Writing queues the TLS records node produces in a `ChunkQueue` that `conn.sink` consumes: every
 *   record written since the sink last pulled goes out as one batch. A write completes at once
 *   unless more than `highWaterMark` bytes are waiting, then once the transport has taken them.
 * - Ending the writable side ends the queue (the transport half-closes after the last record).
 *
 * Ownership: while the handshake runs, the caller owns `conn`. If the duplex is destroyed then
 * (failed handshake), `conn` is left exactly as it is, for the caller to close. Once
 * {@link adopt} was called (successful handshake), the secured connection owns `conn`, and
 * destroying the duplex releases it: the queue ends (with the error, if any, so the transport
 * aborts) and the source iterator is returned.
 */
export class ConnectionDuplex extends Duplex {
  readonly #iterator: AsyncIterator<Chunk>
  readonly #outgoing: ChunkQueue
  #pulling = false
  #adopted = false

  constructor (conn: SecureStream, highWaterMark: number) {
    super({ allowHalfOpen: true, decodeStrings: false })
    this.#outgoing = new ChunkQueue({ highWaterMark })
    this.#iterator = conn.source[Symbol.asyncIterator]()
    let sinking: Promise<void>
    try {
      sinking = conn.sink(this.#outgoing)
    } catch (err) {
      sinking = Promise.reject(err)
    }
    sinking.then(() => {
      // The transport stopped taking data before we ended: it was closed underneath us.
      if (!this.#outgoing.ended && !this.destroyed) this.destroy(new ConnectionClosedError('The raw connection stopped taking data'))
    }, (err: unknown) => {
      if (!this.destroyed) this.destroy(err instanceof Error ? err : new Error(String(err)))
    })
  }

  /** The secured connection now owns the raw connection: destroying this duplex releases it. */
  adopt (): void {
    this.#adopted = true
  }

  override _read (): void {
    if (this.#pulling) return
    this.#pulling = true
    this.#pull()
  }

  #pull (): void {
    this.#iterator.next().then((result) => {
      if (this.destroyed) return
      if (result.done === true) {
        this.#pulling = false
        this.push(null)
        return
      }
      let more = true
      const chunk = result.value
      if (chunk instanceof Uint8Array) {
        if (chunk.byteLength > 0) more = this.push(chunk)
      } else {
        for (const buf of chunk) {
          if (buf.byteLength > 0) more = this.push(buf)
        }
      }
      if (more) {
        this.#pull()
      } else {
        this.#pulling = false
      }
    }, (err: unknown) => {
      this.#pulling = false
      if (!this.destroyed) this.destroy(err instanceof Error ? err : new Error(String(err)))
    })
  }

  override _write (chunk: Uint8Array, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#outgoing.push(chunk)
    this.#afterPush(callback)
  }

  override _writev (chunks: Array<{ chunk: Uint8Array }>, callback: (error?: Error | null) => void): void {
    for (const { chunk } of chunks) this.#outgoing.push(chunk)
    this.#afterPush(callback)
  }

  #afterPush (callback: (error?: Error | null) => void): void {
    if (!this.#outgoing.needsDrain) {
      callback()
      return
    }
    void this.#outgoing.onDrain().then(() => { callback() })
  }

  override _final (callback: (error?: Error | null) => void): void {
    this.#outgoing.end()
    callback()
  }

  override _destroy (error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.#adopted) {
      this.#outgoing.end(error ?? undefined)
      Promise.resolve(this.#iterator.return?.()).catch(() => {})
    }
    callback(error)
  }
}
