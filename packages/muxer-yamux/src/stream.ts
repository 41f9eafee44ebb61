import { StreamStateError } from '@peerkit/interfaces'
import { AbstractStream } from '@peerkit/utils'
import { Flag, FrameType, INITIAL_STREAM_WINDOW, countChunks } from './frame.js'
import type { Direction, Logger } from '@peerkit/interfaces'
import { Uint8ArrayList } from 'uint8arraylist'

/**
 * Once this many received chunks are queued unread on a stream, small payloads are copied into
 * shared blocks instead of being queued one by one, so a remote sending tiny frames to a slow
 * reader cannot make the read queue hold hundreds of thousands of chunks.
 */
const COALESCE_AFTER_CHUNKS = 64
/** Payloads at least this large are always queued as they are (no copy). */
const COALESCE_MAX_PAYLOAD = 4096
/** Size of the blocks small payloads are copied into. */
const COALESCE_BLOCK_SIZE = 16 * 1024
/**
 * A payload that arrived split over more chunks than this is queued as it is only when its chunks
 * average at least `MIN_AVERAGE_CHUNK` bytes; otherwise it is copied.
 */
const MAX_CHUNKS_PER_PAYLOAD = 16
const MIN_AVERAGE_CHUNK = 1024
/**
 * Floor of the round-trip time auto-tuning compares against, in ms. The RTT comes from pings
 * answered while the connection is idle; under load the loop a window update goes through
 * (reader → event loops of both peers → sender → data back) takes at least about a millisecond
 * even on loopback, and an idle sub-millisecond RTT would keep a busy stream's window at its
 * initial size, stalling the sender every half window.
 */
const MIN_AUTOTUNE_RTT_MS = 1

/** What a stream needs from its muxer. Internal. */
export interface StreamHost {
  /** Largest payload of one Data frame we send. */
  readonly maxMessageSize: number
  /** Largest receive window a stream may grow to. */
  readonly maxStreamWindowSize: number
  /** Queues one frame for the connection. Ignored once the muxer has ended. */
  sendFrame(type: number, flags: number, streamId: number, length: number, payload?: Uint8ArrayList): void
  /** True while the outbound queue is over its bound (writers must wait). */
  isSendQueueFull(): boolean
  /** Registers `stream` to be woken (through `wake()`) when the outbound queue drains. */
  waitForDrain(stream: YamuxStream): void
  /** Error to fail writes with once the muxer has ended, else undefined. */
  closedError(): Error | undefined
  /** Smoothed round-trip time in ms, once measured. */
  rtt(): number | undefined
  /** Asks to grow a stream's receive window by up to `wanted` bytes; returns what was granted. */
  reserveWindow(wanted: number): number
  /** The stream ended (called once). */
  onStreamEnd(stream: YamuxStream, err?: Error): void
}

/** Construction parameters of a `YamuxStream`. Internal. */
export interface YamuxStreamInit {
  /** The yamux stream id. */
  streamId: number
  /** Who opened the stream. */
  direction: Direction
  /** The muxer's side of the stream. */
  host: StreamHost
  /** Logger of the stream. */
  log: Logger
  /** How long `close()` waits for the remote's FIN before aborting (ms). */
  closeTimeout: number
  /** Initial send window (256 KiB plus whatever the remote granted with its SYN). */
  sendWindow: number
  /** Whether the stream starts acknowledged (inbound streams: we ACK them on creation). */
  acknowledged: boolean
}

/**
 * A yamux stream: `AbstractStream` plus per-stream flow control. Received payloads are queued as
 * sublists of the connection's chunks (no copy); credit is returned to the remote as the application
 * reads, in batches of at least half the window, and the window grows while the reader keeps up
 * with the link. Writes are split at the remote's window and `maxMessageSize` and wait for credit.
 */
export class YamuxStream extends AbstractStream {
  /** The yamux stream id (the numeric form of `id`). */
  readonly streamId: number
  readonly #host: StreamHost
  #sendWindow: number
  #recvWindow = INITIAL_STREAM_WINDOW
  #recvCredit = INITIAL_STREAM_WINDOW
  #consumedSinceUpdate = 0
  #lastWindowUpdate = performance.now()
  #acknowledged: boolean
  #remoteFin = false
  #done = false
  #doneError?: Error
  /** A writer waiting for send credit or for the outbound queue to drain. */
  #blocked?: { resolve(): void, reject(err: Error): void }
  /** Chunks handed to the read queue since the reader last took data. */
  #unreadChunks = 0
  #block?: Uint8Array
  #blockStart = 0
  #blockEnd = 0

  constructor (init: YamuxStreamInit) {
    const self: { stream?: YamuxStream } = {}
    super({
      id: String(init.streamId),
      direction: init.direction,
      log: init.log,
      closeTimeout: init.closeTimeout,
      onEnd: (err) => { if (self.stream != null) self.stream.#onEnd(err) }
    })
    self.stream = this
    this.streamId = init.streamId
    this.#host = init.host
    this.#sendWindow = init.sendWindow
    this.#acknowledged = init.acknowledged
  }

  /** Bytes we may still send before the remote grants more. */
  get sendWindow (): number {
    return this.#sendWindow
  }

  /** Current size of our receive window (grows through auto-tuning up to `maxStreamWindowSize`). */
  get receiveWindow (): number {
    return this.#recvWindow
  }

  /** Bytes the remote may still send before it must wait for a window update. */
  get receiveCredit (): number {
    return this.#recvCredit
  }

  /** True once the remote acknowledged the stream (always true for inbound streams). */
  get acknowledged (): boolean {
    return this.#acknowledged
  }

  // ---- called by the muxer ----

  /** Marks the stream acknowledged; returns true if it was not before. @internal */
  acknowledge (): boolean {
    if (this.#acknowledged) return false
    this.#acknowledged = true
    return true
  }

  /**
   * Adds send credit from a WindowUpdate; returns false if the window would exceed 2^32-1 (a
   * protocol error). @internal
   */
  addSendCredit (delta: number): boolean {
    if (delta === 0) return true
    const next = this.#sendWindow + delta
    if (next > 0xffff_ffff) return false
    this.#sendWindow = next
    this.#wake()
    return true
  }

  /**
   * Accounts for a Data frame of `length` bytes about to arrive; returns false if it overruns the
   * window we granted (a protocol error). @internal
   */
  takeReceiveCredit (length: number): boolean {
    if (length > this.#recvCredit) return false
    this.#recvCredit -= length
    return true
  }

  /** False once received payload would be dropped (our read side is closed): the muxer then skips it. @internal */
  get takesData (): boolean {
    return !this.#done && this.readStatus !== 'closed'
  }

  /** Queues received payload for the reader; the muxer calls it only while `takesData` is true. @internal */
  receive (data: Uint8ArrayList): void {
    const length = data.byteLength
    let chunks = countChunks(data)
    if (chunks > MAX_CHUNKS_PER_PAYLOAD && length / chunks < MIN_AVERAGE_CHUNK) {
      // A payload that arrived in many tiny pieces: join it (one copy).
      data = new Uint8ArrayList(data.subarray())
      chunks = 1
    }
    if (this.#unreadChunks < COALESCE_AFTER_CHUNKS || length >= COALESCE_MAX_PAYLOAD) {
      this.#flushBlock()
      this.#unreadChunks += chunks
      this.pushData(data)
      return
    }
    // The reader is behind: copy the small payload into the current block.
    let block = this.#block
    if (block == null || block.byteLength - this.#blockEnd < length) {
      this.#flushBlock()
      block = this.#block = new Uint8Array(COALESCE_BLOCK_SIZE)
      this.#blockStart = this.#blockEnd = 0
    }
    let offset = this.#blockEnd
    for (const buf of data) {
      block.set(buf, offset)
      offset += buf.byteLength
    }
    this.#blockEnd = offset
  }

  /** The remote half-closed (FIN). @internal */
  receiveFin (): void {
    if (this.#remoteFin) return
    this.#remoteFin = true
    this.#flushBlock()
    this.remoteCloseWrite()
  }

  /** Wakes a writer waiting for the outbound queue to drain. @internal */
  wake (): void {
    this.#wake()
  }

  // ---- AbstractStream hooks ----

  protected sendData (data: Uint8ArrayList): Promise<void> | void {
    return this.#sendFrom(data, 0)
  }

  /**
   * Frames `data` from `offset` on, at once while there is send credit and queue room (the usual
   * case: no promise), else from when there is. Termination (abort, reset, connection end) reaches
   * a waiting writer through #onEnd, which rejects #waitToSend, so the signal AbstractStream
   * passes is not needed here.
   */
  #sendFrom (data: Uint8ArrayList, offset: number): Promise<void> | void {
    const total = data.byteLength
    while (offset < total) {
      if (this.#sendWindow === 0 || this.#host.isSendQueueFull()) return this.#waitThenSend(data, offset)
      this.#checkWritable()
      const n = Math.min(total - offset, this.#sendWindow, this.#host.maxMessageSize)
      const payload = offset === 0 && n === total ? data : data.sublist(offset, offset + n)
      this.#sendWindow -= n
      offset += n
      this.#host.sendFrame(FrameType.Data, 0, this.streamId, n, payload)
    }
  }

  async #waitThenSend (data: Uint8ArrayList, offset: number): Promise<void> {
    do {
      await this.#waitToSend()
    } while (this.#sendWindow === 0 || this.#host.isSendQueueFull())
    await this.#sendFrom(data, offset)
  }

  protected sendCloseWrite (): void {
    this.#checkWritable()
    this.#host.sendFrame(FrameType.WindowUpdate, Flag.FIN, this.streamId, 0)
  }

  protected sendReset (): void {
    this.#host.sendFrame(FrameType.WindowUpdate, Flag.RST, this.streamId, 0)
  }

  protected override onDataConsumed (bytes: number): void {
    this.#unreadChunks = 0
    this.#flushBlock()
    if (this.#done || this.#remoteFin) return
    this.#consumedSinceUpdate += bytes
    if (this.#consumedSinceUpdate < this.#recvWindow / 2) return
    let delta = this.#consumedSinceUpdate
    const now = performance.now()
    const measured = this.#host.rtt()
    // Auto-tuning: the reader went through half a window in under two round trips, so the window
    // (not the link) is what limits throughput: double it, within the configured bounds.
    const rtt = measured == null ? undefined : Math.max(measured, MIN_AUTOTUNE_RTT_MS)
    if (rtt != null && now - this.#lastWindowUpdate < 2 * rtt && this.#recvWindow < this.#host.maxStreamWindowSize) {
      const wanted = Math.min(this.#recvWindow * 2, this.#host.maxStreamWindowSize) - this.#recvWindow
      const granted = this.#host.reserveWindow(wanted)
      if (granted > 0) {
        this.#recvWindow += granted
        delta += granted
        this.log.trace('receive window grown to %d', this.#recvWindow)
      }
    }
    this.#lastWindowUpdate = now
    this.#consumedSinceUpdate = 0
    this.#recvCredit += delta
    this.#host.sendFrame(FrameType.WindowUpdate, 0, this.streamId, delta)
  }

  // ---- internals ----

  #checkWritable (): void {
    if (this.#done) throw this.#doneError ?? new StreamStateError('stream closed')
    const closed = this.#host.closedError()
    if (closed != null) throw closed
  }

  async #waitToSend (): Promise<void> {
    this.#checkWritable()
    await new Promise<void>((resolve, reject) => {
      this.#blocked = { resolve, reject }
      if (this.#sendWindow > 0 && this.#host.isSendQueueFull()) this.#host.waitForDrain(this)
    })
  }

  #wake (): void {
    const blocked = this.#blocked
    if (blocked != null) {
      this.#blocked = undefined
      blocked.resolve()
    }
  }

  #flushBlock (): void {
    const block = this.#block
    if (block == null || this.#blockEnd === this.#blockStart) return
    const chunk = block.subarray(this.#blockStart, this.#blockEnd)
    this.#blockStart = this.#blockEnd
    if (this.#blockEnd === block.byteLength) this.#block = undefined
    this.#unreadChunks++
    this.pushData(chunk)
  }

  #onEnd (err?: Error): void {
    if (this.#done) return
    this.#done = true
    // A graceful end needs no error object unless a writer is waiting (creating one costs a stack trace).
    this.#doneError = err
    this.#block = undefined
    const blocked = this.#blocked
    if (blocked != null) {
      this.#blocked = undefined
      blocked.reject(err ?? new StreamStateError('stream closed'))
    }
    this.#host.onStreamEnd(this, err)
  }
}
