import { ConnectionClosedError, StreamStateError } from '@peerkit/interfaces'
import { AbstractStream, raceSignal } from '@peerkit/utils'
import { closeFlag, encodeHeader, messageFlag, resetFlag } from './frame.js'
import type { FrameWriter } from './encode.js'
import type { StreamId } from './frame.js'
import type { Logger } from '@peerkit/interfaces'
import type { Uint8ArrayList } from 'uint8arraylist'

/**
 * What one buffered frame is charged on top of its payload bytes when read buffers are measured:
 * roughly the memory a view and its queue slot cost, so a peer cannot pin much more memory than
 * the limits say by sending one-byte frames.
 */
export const FRAME_CHARGE = 128

/**
 * Most frames one stream may have buffered and unread, whatever the byte limits; beyond it the
 * stream is reset like on a byte overflow. Keeps the read queue's chunk count far below what its
 * batching can handle.
 */
export const MAX_BUFFERED_FRAMES = 32_768

/** Everything a stream needs from its muxer. */
export interface MplexStreamInit {
  /** The id on the wire. */
  streamId: StreamId
  /** True if we opened the stream (we send the `*Initiator` flags). */
  initiator: boolean
  /** The stream name from the NewStream frame (ours or the remote's). */
  name: string
  writer: FrameWriter
  /** Largest payload per frame; bigger writes are split. */
  maxMessageSize: number
  closeTimeout: number
  log: Logger
  /** Called once when the stream has ended, gracefully or not. */
  onEnd(stream: MplexStream, err?: Error): void
  /** Called when the reader took buffered data. */
  onConsumed(stream: MplexStream): void
}

/**
 * One mplex stream. Frames go straight onto the muxer's outbound queue; writes wait while that
 * queue is above its high-water mark. Received payloads are queued for the reader by reference.
 */
export class MplexStream extends AbstractStream {
  /** The stream id on the wire (ids are per initiator: see `initiator`). */
  readonly streamId: StreamId
  /** True if we opened this stream. */
  readonly initiator: boolean
  /** The name sent in the NewStream frame; purely informational. */
  readonly name: string
  /** @internal What the muxer has charged this stream's read buffer to the connection. */
  charged = 0

  readonly #writer: FrameWriter
  readonly #maxMessageSize: number
  readonly #messageHeader: Uint8Array
  readonly #closeHeader: Uint8Array
  readonly #resetHeader: Uint8Array
  readonly #ended = new AbortController()
  readonly #onConsumed: (stream: MplexStream) => void
  #bufferedFrames = 0

  constructor (init: MplexStreamInit) {
    const prefix = init.initiator ? 'i' : 'r'
    super({
      id: `${prefix}${init.streamId}`,
      direction: init.initiator ? 'outbound' : 'inbound',
      log: init.log,
      closeTimeout: init.closeTimeout,
      onEnd: (err) => {
        this.#ended.abort(err ?? new StreamStateError('stream closed'))
        init.onEnd(this, err)
      }
    })
    this.streamId = init.streamId
    this.initiator = init.initiator
    this.name = init.name
    this.#writer = init.writer
    this.#maxMessageSize = init.maxMessageSize
    this.#onConsumed = init.onConsumed
    this.#messageHeader = encodeHeader(init.streamId, messageFlag(init.initiator))
    this.#closeHeader = encodeHeader(init.streamId, closeFlag(init.initiator))
    this.#resetHeader = encodeHeader(init.streamId, resetFlag(init.initiator))
  }

  /** Frames received and not yet taken by the reader (an upper bound). */
  get bufferedFrames (): number {
    return this.readBufferLength === 0 ? 0 : this.#bufferedFrames
  }

  /** What the unread data costs against the buffer limits: bytes plus `FRAME_CHARGE` per frame. */
  get bufferCost (): number {
    const bytes = this.readBufferLength
    return bytes === 0 ? 0 : bytes + this.#bufferedFrames * FRAME_CHARGE
  }

  /** @internal Queues a received payload for the reader. */
  receive (data: Uint8Array | Uint8ArrayList, frames: number): void {
    if (this.readBufferLength === 0) this.#bufferedFrames = 0
    this.#bufferedFrames += frames
    this.pushData(data)
  }

  protected override onDataConsumed (): void {
    if (this.readBufferLength === 0) this.#bufferedFrames = 0
    this.#onConsumed(this)
  }

  /**
   * Splits `data` into frames of at most `maxMessageSize` and queues them, waiting whenever the
   * outbound queue is above its high-water mark. The sink's abort signal is not used: it also fires
   * on `closeWrite()`, after which what the sink already pulled must still be sent; the wait ends
   * early only if the stream itself ends.
   */
  protected async sendData (data: Uint8ArrayList): Promise<void> {
    const total = data.byteLength
    const max = this.#maxMessageSize
    let offset = 0
    while (offset < total) {
      await this.#writable()
      const end = Math.min(total, offset + max)
      this.#writer.frame(this.#messageHeader, offset === 0 && end === total ? data : data.sublist(offset, end))
      offset = end
    }
  }

  async #writable (): Promise<void> {
    const signal = this.#ended.signal
    while (true) {
      if (signal.aborted) throw signal.reason
      if (this.#writer.ended) throw new ConnectionClosedError('The mplex connection is closed')
      if (!this.#writer.needsDrain) return
      await raceSignal(this.#writer.onDrain(), signal)
    }
  }

  protected sendCloseWrite (): void {
    this.#writer.frame(this.#closeHeader)
  }

  protected sendReset (): void {
    this.#writer.frame(this.#resetHeader)
  }
}
