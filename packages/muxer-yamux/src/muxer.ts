import { ConnectionClosedError, LimitExceededError, ProtocolError, StreamStateError, TimeoutError, UnexpectedEOFError, attachByteChannel } from '@peerkit/interfaces'
import { ChunkQueue, abortReason, closeAll, logger, ownedCopy, prefixLogger, throwIfAborted } from '@peerkit/utils'
import type { ChunkConsumer } from '@peerkit/utils'
import { Uint8ArrayList } from 'uint8arraylist'
import { resolveConfig } from './config.js'
import {
  Flag, FrameType, GoAwayCode, HEADER_LENGTH, INITIAL_STREAM_WINDOW, MAX_UINT32, YAMUX_PROTOCOL_ID, YAMUX_VERSION,
  countChunks, encodeHeader, frameTypeName, goAwayCodeName, writeHeader
} from './frame.js'
import { InputBuffer } from './input.js'
import { YamuxStream } from './stream.js'
import type { YamuxConfig, YamuxInit } from './config.js'
import type { FrameHeader } from './frame.js'
import type { StreamHost } from './stream.js'
import type { AbortOptions, ByteChannel, ByteChannelMuxer, ByteChannelMuxerEvents, ByteChannelReceiver, Logger, Source, StreamMuxer, StreamMuxerInit } from '@peerkit/interfaces'

const STOPPED = Symbol('stopped')

/** Payloads up to this size are copied next to their header, so a frame is one chunk. */
const SMALL_PAYLOAD = 1024
/** Payloads whose chunks average fewer bytes than this are joined before being queued. */
const MIN_AVERAGE_CHUNK = 256
/** The outbound queue also counts as full past this many chunks (keeps each batch cheap to hand over). */
const MAX_QUEUED_CHUNKS = 8192

/** Why the muxer ended, when it did not end through `close()`. */
type EndReason =
  | { kind: 'close' }
  | { kind: 'abort', error: Error }
  | { kind: 'eof' }
  | { kind: 'failure', error: Error, goAway?: GoAwayCode }
  | { kind: 'remote-goaway', code: number }

interface ActivePing {
  id: number
  sentAt: number
  framesAtSend: number
  timer: ReturnType<typeof setTimeout>
  waiters: Array<{ resolve(rtt: number): void, reject(err: Error): void }>
}

/** What `YamuxMuxer.#Link` objects are (the class itself is private to the muxer). */
interface MuxerLink extends StreamHost, ByteChannelReceiver, ChunkConsumer {
  channel?: ByteChannel
  events?: ByteChannelMuxerEvents
}

/** Options of `YamuxMuxer.newStream`. */
export interface NewStreamOptions extends AbortOptions {}

/**
 * One yamux session over one connection. `source` yields batches of frames for the connection and
 * `sink` consumes the connection's bytes: `pipe(conn, muxer, conn)`.
 *
 * Lifecycle: `close()` refuses new streams, closes the open ones gracefully, then sends GoAway
 * (normal); `abort(err)` aborts every stream and sends GoAway (internal error, or protocol error for
 * a `ProtocolError`). When the connection's input ends, every open stream fails with
 * `ConnectionClosedError`. In all cases `source` ends once the last frame was taken.
 *
 * `sink` resolves when the input ends or the muxer was closed/aborted/told to go away; it rejects
 * (after ending every stream) when the muxer failed on its own: a protocol violation by the remote
 * (`ProtocolError`), input ending mid-frame (`UnexpectedEOFError`), the keep-alive timing out
 * (`TimeoutError`), or the input itself throwing.
 */
export class YamuxMuxer implements StreamMuxer, ByteChannelMuxer {
  readonly protocol = YAMUX_PROTOCOL_ID
  /** Frames for the connection, in batches: everything queued since the last read in one chunk list. */
  readonly source: AsyncGenerator<Uint8ArrayList, undefined, unknown>
  readonly log: Logger

  readonly #config: YamuxConfig
  readonly #client: boolean
  readonly #onIncomingStream?: (stream: YamuxStream) => void
  readonly #onStreamEnd?: (stream: YamuxStream) => void
  readonly #streams = new Map<number, YamuxStream>()
  readonly #host: MuxerLink
  #nextStreamId: number
  #inboundCount = 0
  #outboundCount = 0
  #ackBacklog = 0
  /** Callers of newStream waiting for the ACK backlog to shrink; created on first use. */
  #backlogWaiters?: Array<{ resolve(): void, reject(err: Error): void }>
  #totalReceiveWindow = 0

  // outbound queue
  readonly #out: ChunkQueue
  #queuedChunks = 0
  /** Streams waiting for the outbound queue to drain; created on first use. */
  #drainWaiters?: Set<YamuxStream>

  // inbound parsing
  readonly #input = new InputBuffer()
  #payloadRemaining = 0
  #payloadStream?: YamuxStream
  #payloadFin = false
  #framesReceived = 0

  // pings
  #nextPingId = 0
  #activePing?: ActivePing
  #rtt?: number
  /** The RTT ping went out (with the first stream's first frame). */
  #rttPinged = false
  #keepAliveTimer?: ReturnType<typeof setTimeout>

  // lifecycle
  #state: 'open' | 'closing' | 'closed' = 'open'
  #closing?: Promise<void>
  /** Why the muxer ended: built on first use (an error object costs a stack trace, and usually nobody asks). */
  #closedError?: Error | (() => Error)
  #remoteGoAway?: number
  #sinkCalled = false
  #failure?: Error
  /** Wakes the sink's pending read when the muxer ends. */
  #interruptRead?: () => void
  /** Hears how a byte channel run ends (see attachByteChannel); cleared once its input end is reported. */
  #channelEvents?: ByteChannelMuxerEvents

  constructor (init: StreamMuxerInit, options: YamuxInit = {}) {
    this.#config = resolveConfig(options)
    this.log = init.log ?? logger('peerkit:yamux')
    this.#client = init.direction === 'outbound'
    this.#nextStreamId = this.#client ? 1 : 2
    this.#onIncomingStream = init.onIncomingStream
    this.#onStreamEnd = init.onStreamEnd
    this.#out = new ChunkQueue({
      highWaterMark: this.#config.sendQueueSize,
      // Frames queued during one turn of the event loop (a SYN and the stream's first data, a
      // window update and a FIN...) leave as one batch: one encrypted frame, one syscall.
      coalesce: true,
      onConsumed: () => { this.#onQueueConsumed() }
    })
    this.source = this.#out
    this.#host = this.#createHost()

    // The RTT (which window auto-tuning needs) is measured by a ping sent with the first stream's
    // first frame, so a connection that never carries a stream costs no ping; keep-alives keep it fresh.
    if (this.#config.enableKeepAlive) this.#scheduleKeepAlive()
  }

  /** Open streams, both directions. */
  get streams (): YamuxStream[] {
    return [...this.#streams.values()]
  }

  /** Smoothed round-trip time in milliseconds, once a ping was answered. */
  get rtt (): number | undefined {
    return this.#rtt
  }

  /** `open`, `closing` (graceful close in progress) or `closed`. */
  get status (): 'open' | 'closing' | 'closed' {
    return this.#state
  }

  /** Bytes of frames queued for the connection and not yet taken from `source`. */
  get sendQueueLength (): number {
    return this.#out.byteLength
  }

  /** The code of the GoAway the remote sent, if it sent one. */
  get remoteGoAway (): number | undefined {
    return this.#remoteGoAway
  }

  /**
   * Opens an outbound stream; its SYN is queued at once, so the remote learns of it even if we
   * never write. Waits while `maxAckBacklog` streams are unacknowledged.
   *
   * @param _name - ignored (yamux streams have no names)
   * @throws ConnectionClosedError once the muxer is closing or the remote sent GoAway
   * @throws LimitExceededError when `maxOutboundStreams` streams are open or stream ids are exhausted
   */
  async newStream (_name?: string, options: NewStreamOptions = {}): Promise<YamuxStream> {
    throwIfAborted(options.signal)
    this.#checkCanOpen()
    while (this.#ackBacklog >= this.#config.maxAckBacklog) {
      await this.#waitForBacklog(options.signal)
      this.#checkCanOpen()
    }
    const id = this.#nextStreamId
    this.#nextStreamId += 2
    const stream = this.#createStream(id, 'outbound', INITIAL_STREAM_WINDOW, false)
    this.#outboundCount++
    this.#ackBacklog++
    this.#measureRtt()
    this.#sendFrame(FrameType.WindowUpdate, Flag.SYN, id, 0)
    return stream
  }

  /**
   * Sends a ping and resolves with the round-trip time in ms. Concurrent calls share one ping.
   * Rejects with `TimeoutError` after `pingTimeout`, or `ConnectionClosedError` if the muxer ends.
   */
  async ping (options: AbortOptions = {}): Promise<number> {
    const closed = this.#host.closedError()
    if (closed != null) throw closed
    const pinging = this.#sendPing()
    if (options.signal == null) return pinging
    if (options.signal.aborted) {
      pinging.catch(() => {})
      throw abortReason(options.signal)
    }
    const signal = options.signal
    let onAbort: (() => void) | undefined
    try {
      return await Promise.race([pinging, new Promise<never>((_resolve, reject) => {
        onAbort = () => { reject(abortReason(signal)) }
        signal.addEventListener('abort', onAbort, { once: true })
      })])
    } finally {
      if (onAbort != null) signal.removeEventListener('abort', onAbort)
    }
  }

  /**
   * Consumes the connection's bytes until they end or the muxer ends. Resolves on a clean end of
   * input and after `close()`/`abort()`/a GoAway; rejects with `ProtocolError`,
   * `UnexpectedEOFError`, `TimeoutError` (keep-alive) or the input's own error, after every stream
   * has been ended. Callable once, and detached (`const { sink } = muxer` works).
   */
  get sink (): (source: Source<Uint8Array | Uint8ArrayList>) => Promise<void> {
    // Made on first use: a muxer running on a byte channel never needs it.
    return (this.#sink ??= async (source) => this.#runSink(source))
  }

  #sink?: (source: Source<Uint8Array | Uint8ArrayList>) => Promise<void>

  async #runSink (source: Source<Uint8Array | Uint8ArrayList>): Promise<void> {
    if (this.#sinkCalled) throw new StreamStateError('yamux muxer sink can be called only once')
    this.#sinkCalled = true
    if (this.#state === 'closed') return
    const iterator: AsyncIterator<Uint8Array | Uint8ArrayList> | Iterator<Uint8Array | Uint8ArrayList> =
      Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]()
    let finished = false
    try {
      while (!this.#isClosed()) {
        const result = await this.#nextInput(iterator)
        if (result === STOPPED) break
        if (result.done === true) {
          finished = true
          break
        }
        const chunk = result.value
        if (chunk.byteLength === 0) continue
        this.#input.append(chunk)
        this.#processInput()
      }
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err))
      this.#failOnInput(error)
      throw this.#failure ?? error
    } finally {
      if (!finished && typeof iterator.return === 'function') {
        void Promise.resolve(iterator.return()).catch(() => {})
      }
    }
    if (finished) this.#endOfInput()
    if (this.#failure != null) throw this.#failure
  }

  /**
   * Runs the muxer over a byte channel instead of `pipe(conn, muxer, conn)`: received bytes are
   * parsed as they arrive, frames are handed to `channel.write` (batched per turn of the event
   * loop, as `source` yields them) and our side is ended once the muxer has ended. `events` hears
   * what `sink(conn.source)` and `conn.sink(muxer.source)` would have settled with. Instead of
   * `sink` and `source`, once.
   */
  [attachByteChannel] (channel: ByteChannel, events: ByteChannelMuxerEvents): void {
    if (this.#sinkCalled) throw new StreamStateError('yamux muxer sink can be called only once')
    this.#sinkCalled = true
    const link = this.#host
    link.channel = channel
    link.events = events
    this.#channelEvents = events
    this.#out.pipeTo(link)
    if (this.#state === 'closed') this.#settleChannelInput()
    else channel.attach(link)
  }

  /** The connection's input failed (or broke the protocol): the muxer fails. */
  #inputFailed (err: unknown): void {
    this.#failOnInput(err instanceof Error ? err : new Error(String(err)))
    this.#settleChannelInput()
  }

  /** The connection's input ended cleanly (remote FIN). */
  #inputEnded (): void {
    this.#endOfInput()
    this.#settleChannelInput()
  }

  /** The input failed: the muxer fails, with GoAway (protocol error) when the remote broke the protocol. */
  #failOnInput (error: Error): void {
    if (this.#isClosed()) return
    if (error instanceof ProtocolError) {
      this.log.error('protocol error from remote: %s', error.message)
      this.#end({ kind: 'failure', error, goAway: GoAwayCode.ProtocolError })
    } else {
      this.log.error('connection input failed: %s', error.message)
      this.#end({ kind: 'failure', error })
    }
  }

  /** The input ended: the muxer ends, failing with UnexpectedEOFError when it ended inside a frame. */
  #endOfInput (): void {
    if (this.#isClosed()) return
    if (this.#input.byteLength > 0 || this.#payloadRemaining > 0) {
      const error = new UnexpectedEOFError(`yamux connection ended inside a frame (${this.#payloadRemaining > 0 ? `${this.#payloadRemaining} payload bytes missing` : `${this.#input.byteLength} of ${HEADER_LENGTH} header bytes received`})`)
      this.#end({ kind: 'failure', error })
    } else {
      this.#end({ kind: 'eof' })
    }
  }

  #settleChannelInput (): void {
    const events = this.#channelEvents
    if (events == null) return
    this.#channelEvents = undefined
    events.onInputEnd(this.#failure)
  }

  /**
   * The input's next chunk, or STOPPED if the muxer ends first. Unlike racing against one
   * long-lived "stopped" promise, this leaves nothing behind per chunk.
   */
  async #nextInput (iterator: AsyncIterator<Uint8Array | Uint8ArrayList> | Iterator<Uint8Array | Uint8ArrayList>): Promise<IteratorResult<Uint8Array | Uint8ArrayList> | typeof STOPPED> {
    // Not an awaiting async frame: an idle connection parks only this promise and its reactions.
    return new Promise((resolve, reject) => {
      const interrupt = (): void => { resolve(STOPPED) }
      this.#interruptRead = interrupt
      const settled = (): void => {
        if (this.#interruptRead === interrupt) this.#interruptRead = undefined
      }
      Promise.resolve(iterator.next()).then(result => {
        settled()
        resolve(result)
      }, (err: unknown) => {
        settled()
        reject(err)
      })
    })
  }

  #isClosed (): boolean {
    return this.#state === 'closed'
  }

  /**
   * Graceful close: refuses new streams (inbound SYNs get RST), closes every open stream (FIN, then
   * waits for the remote's FIN; a stream that does not close within `streamCloseTimeout` or before
   * `options.signal` aborts is aborted), then sends GoAway (normal) and ends `source`. Never rejects.
   */
  async close (options: AbortOptions = {}): Promise<void> {
    if (this.#state === 'closed') return
    if (this.#closing != null) {
      await this.#closing
      return
    }
    this.#state = 'closing'
    this.log('closing with %d open stream(s)', this.#streams.size)
    this.#rejectBacklogWaiters(() => new ConnectionClosedError('yamux muxer is closing'))
    this.#closing = (async () => {
      const results = await closeAll(this.#streams.values(), options.signal)
      const failed = results.filter(r => r.status === 'rejected').length
      if (failed > 0) this.log('%d stream(s) did not close gracefully and were aborted', failed)
      this.#end({ kind: 'close' })
    })()
    await this.#closing
  }

  /**
   * Immediate close: every stream is aborted with `err`, GoAway (internal error, or protocol error
   * when `err` is a `ProtocolError`) is sent and `source` ends. Never throws.
   */
  abort (err: Error): void {
    if (this.#state === 'closed') return
    this.log('aborting: %s', err.message)
    this.#end({ kind: 'abort', error: err })
  }

  // ---- streams ----

  #checkCanOpen (): void {
    if (this.#state !== 'open') throw new ConnectionClosedError(`yamux muxer is ${this.#state}`)
    if (this.#remoteGoAway != null) throw new ConnectionClosedError(`remote sent GoAway (${goAwayCodeName(this.#remoteGoAway)}): no new streams`)
    if (this.#outboundCount >= this.#config.maxOutboundStreams) {
      throw new LimitExceededError('maxOutboundStreams', this.#config.maxOutboundStreams, this.#outboundCount + 1, 'connection')
    }
    if (this.#nextStreamId > MAX_UINT32) {
      throw new LimitExceededError('streamId', MAX_UINT32, this.#nextStreamId, 'connection', 'yamux stream ids exhausted on this connection')
    }
  }

  async #waitForBacklog (signal?: AbortSignal): Promise<void> {
    if (signal?.aborted === true) throw abortReason(signal)
    let onAbort: (() => void) | undefined
    const entry = { resolve: () => {}, reject: (_err: Error) => {} }
    try {
      await new Promise<void>((resolve, reject) => {
        entry.resolve = resolve
        entry.reject = reject
        this.#backlogWaiters ??= []
        this.#backlogWaiters.push(entry)
        if (signal != null) {
          onAbort = () => { reject(abortReason(signal)) }
          signal.addEventListener('abort', onAbort, { once: true })
        }
      })
    } finally {
      if (onAbort != null) signal?.removeEventListener('abort', onAbort)
      const i = this.#backlogWaiters?.indexOf(entry) ?? -1
      if (i !== -1) this.#backlogWaiters?.splice(i, 1)
    }
  }

  #releaseBacklog (): void {
    this.#ackBacklog--
    this.#backlogWaiters?.shift()?.resolve()
  }

  #rejectBacklogWaiters (err: Error | (() => Error)): void {
    if (this.#backlogWaiters == null || this.#backlogWaiters.length === 0) return
    const error = typeof err === 'function' ? err() : err
    for (const w of this.#backlogWaiters.splice(0)) w.reject(error)
  }

  /** The error operations fail with once the muxer has ended. */
  #endError (): Error {
    if (typeof this.#closedError === 'function') this.#closedError = this.#closedError()
    return this.#closedError ?? new ConnectionClosedError('yamux muxer closed')
  }

  #createStream (id: number, direction: 'inbound' | 'outbound', sendWindow: number, acknowledged: boolean): YamuxStream {
    const stream = new YamuxStream({
      streamId: id,
      direction,
      host: this.#host,
      log: prefixLogger(this.log, `${direction}:${id}`),
      closeTimeout: this.#config.streamCloseTimeout,
      sendWindow,
      acknowledged
    })
    this.#streams.set(id, stream)
    this.#totalReceiveWindow += INITIAL_STREAM_WINDOW
    return stream
  }

  #streamEnded (stream: YamuxStream): void {
    if (this.#streams.get(stream.streamId) !== stream) return
    this.#streams.delete(stream.streamId)
    this.#drainWaiters?.delete(stream)
    this.#totalReceiveWindow -= stream.receiveWindow
    if (stream.direction === 'inbound') {
      this.#inboundCount--
    } else {
      this.#outboundCount--
      if (!stream.acknowledged) this.#releaseBacklog()
    }
    if (this.#onStreamEnd != null) {
      try {
        this.#onStreamEnd(stream)
      } catch (err) {
        this.log.error('onStreamEnd threw', err)
      }
    }
  }

  #createHost (): MuxerLink {
    return new YamuxMuxer.#Link(this)
  }

  /**
   * The muxer's side of its streams (`StreamHost`) and, on a byte channel, the channel's receiver
   * and the outbound queue's consumer: one object with methods, rather than a dozen closures kept
   * for as long as the connection lives.
   */
  static readonly #Link = class MuxerLink implements StreamHost, ByteChannelReceiver, ChunkConsumer {
    readonly #muxer: YamuxMuxer
    readonly maxMessageSize: number
    readonly maxStreamWindowSize: number
    /** On a byte channel: where frames go, and who hears how the run ends. */
    channel?: ByteChannel
    events?: ByteChannelMuxerEvents

    constructor (muxer: YamuxMuxer) {
      this.#muxer = muxer
      this.maxMessageSize = muxer.#config.maxMessageSize
      this.maxStreamWindowSize = muxer.#config.maxStreamWindowSize
    }

    // StreamHost
    sendFrame (type: number, flags: number, streamId: number, length: number, payload?: Uint8ArrayList): void {
      // Once the muxer has ended, streams send nothing more (no RST storm after a GoAway).
      if (this.#muxer.#state !== 'closed') this.#muxer.#sendFrame(type, flags, streamId, length, payload)
    }

    isSendQueueFull (): boolean { return this.#muxer.#isSendQueueFull() }
    waitForDrain (stream: YamuxStream): void { (this.#muxer.#drainWaiters ??= new Set()).add(stream) }
    closedError (): Error | undefined { return this.#muxer.#state === 'closed' ? this.#muxer.#endError() : undefined }
    rtt (): number | undefined { return this.#muxer.#rtt }
    onStreamEnd (stream: YamuxStream): void { this.#muxer.#streamEnded(stream) }

    reserveWindow (wanted: number): number {
      const muxer = this.#muxer
      const granted = Math.max(0, Math.min(wanted, muxer.#config.maxConnectionReceiveWindow - muxer.#totalReceiveWindow))
      muxer.#totalReceiveWindow += granted
      return granted
    }

    // ByteChannelReceiver
    /** With `ownedChunks`, payloads are copied as they arrive, so the channel may reuse what it gave. */
    get transientData (): boolean { return this.#muxer.#config.ownedChunks }

    onData (data: Uint8Array | Uint8ArrayList): void {
      const muxer = this.#muxer
      if (muxer.#state === 'closed' || data.byteLength === 0) return
      try {
        muxer.#input.append(data)
        muxer.#processInput()
        // At most the start of a header is left, all payload having been copied out.
        if (muxer.#config.ownedChunks) muxer.#input.detach()
      } catch (err) {
        muxer.#inputFailed(err)
      }
    }

    onEnd (): void { this.#muxer.#inputEnded() }
    onError (err: Error): void { this.#muxer.#inputFailed(err) }
    onDrain (): void { this.#muxer.#out.resume() }

    // ChunkConsumer (the outbound queue, on a byte channel)
    write (data: Uint8ArrayList): boolean {
      return this.channel?.write(data) ?? true
    }

    end (err?: Error): void {
      const events = this.events
      if (events == null) return
      if (err != null || this.channel == null) {
        events.onOutputEnd(err)
        return
      }
      this.channel.end().then(() => { events.onOutputEnd() }, (e: Error) => { events.onOutputEnd(e) })
    }
  }

  // ---- outbound ----

  #sendFrame (type: number, flags: number, streamId: number, length: number, payload?: Uint8ArrayList): void {
    if (this.#out.ended) return
    if (payload == null) {
      this.#out.push(encodeHeader(type, flags, streamId, length))
      this.#queuedChunks++
    } else if (length <= SMALL_PAYLOAD) {
      const frame = new Uint8Array(HEADER_LENGTH + length)
      writeHeader(frame, 0, type, flags, streamId, length)
      let offset = HEADER_LENGTH
      for (const buf of payload) {
        frame.set(buf, offset)
        offset += buf.byteLength
      }
      this.#out.push(frame)
      this.#queuedChunks++
    } else {
      const header = encodeHeader(type, flags, streamId, length)
      const chunks = countChunks(payload)
      // One push per frame, so a waiting consumer never receives a header without its payload. A
      // payload made of many tiny chunks is joined first (one copy) to keep batches cheap.
      if (length / chunks < MIN_AVERAGE_CHUNK) {
        this.#out.push(new Uint8ArrayList(header, payload.subarray()))
        this.#queuedChunks += 2
      } else {
        this.#out.push(new Uint8ArrayList(header, payload))
        this.#queuedChunks += 1 + chunks
      }
    }
  }

  #isSendQueueFull (): boolean {
    return this.#out.byteLength >= this.#config.sendQueueSize || this.#queuedChunks >= MAX_QUEUED_CHUNKS
  }

  #onQueueConsumed (): void {
    // The queue hands out everything it holds at once (no maxYieldBytes), so it is now empty.
    this.#queuedChunks = 0
    if (this.#drainWaiters == null || this.#drainWaiters.size === 0) return
    const waiters = [...this.#drainWaiters]
    this.#drainWaiters.clear()
    for (const stream of waiters) stream.wake()
  }

  // ---- inbound ----

  #processInput (): void {
    const input = this.#input
    while (this.#state !== 'closed') {
      if (this.#payloadRemaining > 0) {
        const available = input.byteLength
        if (available === 0) return
        const n = available < this.#payloadRemaining ? available : this.#payloadRemaining
        const stream = this.#payloadStream
        // A stream that would drop the payload gets none: with ownedChunks it would be copied first.
        if (stream?.takesData === true) {
          stream.receive(this.#config.ownedChunks ? ownedCopy(input.take(n)) : input.take(n))
        } else {
          input.skip(n)
        }
        this.#payloadRemaining -= n
        if (this.#payloadRemaining === 0) this.#payloadDone()
        continue
      }
      if (input.byteLength < HEADER_LENGTH) return
      const header = input.readHeader()
      this.#framesReceived++
      this.#handleFrame(header)
    }
  }

  #payloadDone (): void {
    const stream = this.#payloadStream
    this.#payloadStream = undefined
    if (stream != null && this.#payloadFin) stream.receiveFin()
    this.#payloadFin = false
  }

  /** Arranges for the next `length` input bytes to go to `stream` (or be discarded). */
  #expectPayload (length: number, stream: YamuxStream | undefined, fin: boolean): void {
    if (length === 0) {
      if (stream != null && fin) stream.receiveFin()
      return
    }
    this.#payloadRemaining = length
    this.#payloadStream = stream
    this.#payloadFin = fin
  }

  #protocolError (message: string): ProtocolError {
    return new ProtocolError(message, YAMUX_PROTOCOL_ID)
  }

  #handleFrame (header: FrameHeader): void {
    if (header.version !== YAMUX_VERSION) {
      throw this.#protocolError(`unsupported yamux version ${header.version}`)
    }
    switch (header.type) {
      case FrameType.Data:
      case FrameType.WindowUpdate:
        this.#handleStreamFrame(header)
        return
      case FrameType.Ping:
        this.#handlePing(header)
        return
      case FrameType.GoAway:
        this.#handleGoAway(header)
        return
      default:
        throw this.#protocolError(`unknown yamux frame type ${header.type}`)
    }
  }

  #handleStreamFrame (header: FrameHeader): void {
    const { type, flags, streamId, length } = header
    const isData = type === FrameType.Data
    if (streamId === 0) {
      throw this.#protocolError(`${frameTypeName(type)} frame on the session id 0`)
    }
    if (isData && length > this.#config.maxStreamWindowSize) {
      throw this.#protocolError(`Data frame of ${length} bytes on stream ${streamId} exceeds the largest window we grant (${this.#config.maxStreamWindowSize})`)
    }
    let stream = this.#streams.get(streamId)
    if ((flags & Flag.SYN) !== 0) {
      if (stream != null) {
        throw this.#protocolError(`SYN for stream ${streamId}, which is already open`)
      }
      if ((streamId % 2 === 1) === this.#client) {
        throw this.#protocolError(`SYN for stream ${streamId}, an id only we may open`)
      }
      stream = this.#acceptStream(streamId, isData ? 0 : length)
      if (stream == null) {
        // Refused (RST already sent): discard any payload.
        if (isData) this.#expectPayload(length, undefined, false)
        return
      }
      if (this.#streams.get(streamId) !== stream) {
        // The application ended the stream from within onIncomingStream.
        if (isData) this.#expectPayload(length, undefined, false)
        return
      }
    }
    if (stream == null) {
      // A stream we already closed or never knew: window updates are normal stragglers; data is
      // written into the void, so tell the sender (unless it is itself a reset).
      if (isData) {
        if (length > 0 && (flags & Flag.RST) === 0) this.#sendControl(FrameType.WindowUpdate, Flag.RST, streamId, 0)
        this.#expectPayload(length, undefined, false)
      }
      return
    }
    if ((flags & Flag.ACK) !== 0 && stream.direction === 'outbound' && stream.acknowledge()) {
      this.#releaseBacklog()
    }
    if ((flags & Flag.RST) !== 0) {
      stream.remoteReset()
      if (isData) this.#expectPayload(length, undefined, false)
      return
    }
    const fin = (flags & Flag.FIN) !== 0
    if (!isData) {
      if ((flags & Flag.SYN) === 0 && !stream.addSendCredit(length)) {
        throw this.#protocolError(`WindowUpdate of ${length} overflows the send window of stream ${streamId}`)
      }
      if (fin) stream.receiveFin()
      return
    }
    if (!stream.takeReceiveCredit(length)) {
      throw this.#protocolError(`Data frame of ${length} bytes on stream ${streamId} overruns its receive window (${stream.receiveCredit} bytes of credit left)`)
    }
    this.#expectPayload(length, stream, fin)
  }

  #acceptStream (id: number, extraCredit: number): YamuxStream | undefined {
    if (this.#state !== 'open') {
      this.log('refusing stream %d: muxer is %s', id, this.#state)
      this.#sendControl(FrameType.WindowUpdate, Flag.RST, id, 0)
      return undefined
    }
    if (this.#inboundCount >= this.#config.maxInboundStreams) {
      this.log('refusing stream %d: maxInboundStreams (%d) reached', id, this.#config.maxInboundStreams)
      this.#sendControl(FrameType.WindowUpdate, Flag.RST, id, 0)
      return undefined
    }
    const sendWindow = INITIAL_STREAM_WINDOW + extraCredit
    if (sendWindow > MAX_UINT32) {
      throw this.#protocolError(`SYN grants a window of ${sendWindow} bytes on stream ${id}, more than 2^32-1`)
    }
    const stream = this.#createStream(id, 'inbound', sendWindow, true)
    this.#inboundCount++
    this.#measureRtt()
    this.#sendFrame(FrameType.WindowUpdate, Flag.ACK, id, 0)
    if (this.#onIncomingStream == null) {
      stream.abort(new StreamStateError('no handler for incoming streams'))
      return stream
    }
    try {
      this.#onIncomingStream(stream)
    } catch (err) {
      this.log.error('onIncomingStream threw', err)
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    }
    return stream
  }

  /**
   * Queues a control frame the remote caused (RST for stray data, pong). Dropped while the outbound
   * queue is full, so a remote that floods us without reading cannot grow it.
   */
  #sendControl (type: number, flags: number, streamId: number, length: number): void {
    if (this.#isSendQueueFull()) {
      this.log('outbound queue full: dropping %s reply', frameTypeName(type))
      return
    }
    this.#sendFrame(type, flags, streamId, length)
  }

  #handlePing (header: FrameHeader): void {
    if ((header.flags & Flag.SYN) !== 0) {
      this.#sendControl(FrameType.Ping, Flag.ACK, 0, header.length)
      return
    }
    if ((header.flags & Flag.ACK) === 0) return
    const ping = this.#activePing
    if (ping == null || ping.id !== header.length) {
      this.log('ignoring unexpected ping response %d', header.length)
      return
    }
    this.#activePing = undefined
    clearTimeout(ping.timer)
    const rtt = performance.now() - ping.sentAt
    this.#rtt = this.#rtt == null ? rtt : (this.#rtt + rtt) / 2
    this.log.trace('ping %d answered in %dms', ping.id, rtt)
    for (const w of ping.waiters) w.resolve(rtt)
  }

  #handleGoAway (header: FrameHeader): void {
    const code = header.length
    this.log('remote sent GoAway: %s', goAwayCodeName(code))
    if (code === GoAwayCode.NormalTermination) {
      // No new streams from us; the open ones carry on until they close or the connection ends.
      this.#remoteGoAway = code
      this.#rejectBacklogWaiters(() => new ConnectionClosedError('remote sent GoAway: no new streams'))
      return
    }
    this.#remoteGoAway = code
    this.#end({ kind: 'remote-goaway', code })
  }

  // ---- pings and keep-alive ----

  async #sendPing (): Promise<number> {
    if (this.#state === 'closed') throw this.#endError()
    const active = this.#startPing()
    return new Promise<number>((resolve, reject) => { active.waiters.push({ resolve, reject }) })
  }

  /** Sends the first ping (RTT measurement) with the first stream's first frame. */
  #measureRtt (): void {
    if (this.#rttPinged) return
    this.#rttPinged = true
    this.#pingInBackground()
  }

  /**
   * Sends a ping unless one is in flight; nobody waits for its answer (RTT measurement,
   * keep-alive). Does nothing once the muxer has ended.
   */
  #pingInBackground (): void {
    if (this.#state !== 'closed') this.#startPing()
  }

  #startPing (): ActivePing {
    let ping = this.#activePing
    if (ping == null) {
      const id = this.#nextPingId
      this.#nextPingId = (id + 1) >>> 0
      const timeout = this.#config.pingTimeout
      const entry: ActivePing = {
        id,
        sentAt: performance.now(),
        framesAtSend: this.#framesReceived,
        timer: setTimeout(() => { this.#pingTimedOut(entry) }, timeout),
        waiters: []
      }
      ping = this.#activePing = entry
      // Put the ping ahead of queued data so the RTT does not include our own queueing. The
      // queue always starts at a frame boundary (it hands everything out at once).
      this.#out.unshift(encodeHeader(FrameType.Ping, Flag.SYN, 0, id))
      this.#queuedChunks++
    }
    return ping
  }

  #pingTimedOut (ping: ActivePing): void {
    if (this.#activePing !== ping) return
    this.#activePing = undefined
    const timeout = this.#config.pingTimeout
    const error = new TimeoutError(`yamux ping ${ping.id} not answered within ${timeout}ms`, timeout)
    for (const w of ping.waiters) w.reject(error)
    if (this.#config.enableKeepAlive && this.#framesReceived === ping.framesAtSend) {
      this.log.error('keep-alive: nothing received for %dms, closing the connection', timeout)
      this.#end({ kind: 'failure', error: new TimeoutError(`yamux keep-alive: no answer from the remote within ${timeout}ms`, timeout), goAway: GoAwayCode.InternalError })
    }
  }

  #scheduleKeepAlive (): void {
    this.#keepAliveTimer = setTimeout(YamuxMuxer.#keepAliveTick, this.#config.keepAliveInterval, this)
  }

  /** The keep-alive timer's callback: one function for all muxers, the muxer passed as argument. */
  static #keepAliveTick (muxer: YamuxMuxer): void {
    muxer.#keepAliveTimer = undefined
    if (muxer.#state === 'closed') return
    muxer.#pingInBackground()
    muxer.#scheduleKeepAlive()
  }

  // ---- termination ----

  #end (reason: EndReason): void {
    if (this.#state === 'closed') return
    this.#state = 'closed'
    let makeError: () => Error
    let goAway: number | undefined
    switch (reason.kind) {
      case 'close':
        makeError = () => new ConnectionClosedError('yamux muxer closed')
        goAway = GoAwayCode.NormalTermination
        break
      case 'abort':
        makeError = () => reason.error
        goAway = reason.error instanceof ProtocolError ? GoAwayCode.ProtocolError : GoAwayCode.InternalError
        break
      case 'eof':
        makeError = () => new ConnectionClosedError('the connection was closed by the remote')
        break
      case 'remote-goaway':
        makeError = () => new ConnectionClosedError(`remote sent GoAway (${goAwayCodeName(reason.code)})`)
        break
      case 'failure':
        this.#failure = reason.error
        makeError = () => new ConnectionClosedError(`yamux connection failed: ${reason.error.message}`, { cause: reason.error })
        goAway = reason.goAway
        break
    }
    this.#closedError = makeError
    this.log('ended (%s)', reason.kind)

    if (this.#keepAliveTimer != null) clearTimeout(this.#keepAliveTimer)
    this.#keepAliveTimer = undefined
    const ping = this.#activePing
    this.#activePing = undefined
    if (ping != null) {
      clearTimeout(ping.timer)
      if (ping.waiters.length > 0) {
        const error = this.#endError()
        for (const w of ping.waiters) w.reject(error)
      }
    }
    this.#rejectBacklogWaiters(() => this.#endError())

    // Streams see the end; no per-stream RST (the GoAway / the closed connection says it all).
    if (this.#streams.size > 0) {
      const error = this.#endError()
      for (const stream of [...this.#streams.values()]) {
        if (reason.kind === 'abort') {
          stream.abort(error)
        } else {
          stream.destroy(error)
        }
      }
    }
    this.#drainWaiters?.clear()
    if (goAway != null) this.#sendFrame(FrameType.GoAway, 0, 0, goAway)
    this.#out.end()
    this.#input.clear()
    this.#payloadStream = undefined
    this.#payloadRemaining = 0
    this.#interruptRead?.()
    this.#settleChannelInput()
  }
}

