import { ConnectionClosedError, InvalidParametersError, LimitExceededError, ProtocolError, StreamStateError, UnexpectedEOFError, attachByteChannel } from '@peerkit/interfaces'
import { abortReason, closeAll, logger, throwIfAborted } from '@peerkit/utils'
import { Decoder } from './decode.js'
import { FrameWriter } from './encode.js'
import { FLAG_NAMES, Flag, PROTOCOL, encodeHeader, resetFlag } from './frame.js'
import { FRAME_CHARGE, MAX_BUFFERED_FRAMES, MplexStream } from './stream.js'
import type { FlagValue, StreamId } from './frame.js'
import type { ChunkConsumer } from '@peerkit/utils'
import type { AbortOptions, ByteChannel, ByteChannelMuxer, ByteChannelMuxerEvents, ByteChannelReceiver, Logger, Source, Stream, StreamMuxer, StreamMuxerInit } from '@peerkit/interfaces'
import type { Uint8ArrayList } from 'uint8arraylist'

/** Resolved limits of one muxer (see `MplexInit` for their meaning). */
export interface MplexLimits {
  maxMessageSize: number
  maxUnprocessedBytes: number
  maxInboundStreams: number
  maxOutboundStreams: number
  maxStreamBufferSize: number
  maxConnectionBufferSize: number
  disconnectThreshold: number
  outboundHighWaterMark: number
  closeTimeout: number
  /** See `MplexInit.ownedChunks`. */
  ownedChunks: boolean
}

/** Received stream names longer than this are truncated: they are only a debugging aid. */
export const MAX_STREAM_NAME_BYTES = 1024

/** Window of the `disconnectThreshold` rate, in milliseconds. */
const REFUSAL_WINDOW_MS = 1000

type MuxerStatus = 'open' | 'closing' | 'closed'

const STOPPED = Symbol('stopped')
const textEncoder = new TextEncoder()
const textDecoder = new TextDecoder()

function isAborted (signal: AbortSignal): boolean {
  return signal.aborted
}

/** Number of separate views `data` is made of. */
export function chunkCount (data: Uint8Array | Uint8ArrayList): number {
  if (data instanceof Uint8Array) return 1
  let n = 0
  for (const _buf of data) n++
  return n
}

/** Adds ` <id>` context to every line of `base`. */
function scopedLogger (base: Logger, scope: string): Logger {
  const out = Object.assign((formatter: unknown, ...args: unknown[]): void => {
    if (base.enabled) base(`${scope} ${String(formatter)}`, ...args)
  }, {
    error: (formatter: unknown, ...args: unknown[]): void => { base.error(`${scope} ${String(formatter)}`, ...args) },
    trace: (formatter: unknown, ...args: unknown[]): void => { base.trace(`${scope} ${String(formatter)}`, ...args) }
  })
  Object.defineProperty(out, 'enabled', { get: () => base.enabled, enumerable: true })
  return out as typeof out & { enabled: boolean }
}

/**
 * One mplex session over one connection: `pipe(conn, muxer, conn)`, or over the connection's byte
 * channel (`[attachByteChannel]`).
 *
 * Stream ids are allocated per initiator, so a stream is found by its id and by which side opened
 * it (`#outbound` holds ours, `#inbound` the remote's). Incoming bytes are decoded inline in `sink`
 * (or as the channel delivers them); outgoing frames are queued on `source` (or handed to the
 * channel).
 */
export class MplexMuxer implements StreamMuxer, ByteChannelMuxer {
  readonly protocol = PROTOCOL
  /** The outbound frames, to be written to the connection. */
  readonly source: AsyncGenerator<Uint8Array | Uint8ArrayList>

  readonly #limits: MplexLimits
  readonly #log: Logger
  readonly #streamLog: Logger
  readonly #onIncomingStream?: (stream: Stream) => void
  readonly #onStreamEnd?: (stream: Stream) => void
  readonly #writer: FrameWriter
  readonly #decoder: Decoder
  readonly #outbound = new Map<number, MplexStream>()
  readonly #inbound = new Map<StreamId, MplexStream>()
  /** Aborted to stop `sink` from reading (abort, fatal error). */
  readonly #stop = new AbortController()
  #status: MuxerStatus = 'open'
  #nextId = 0
  #sinkCalled = false
  #closing?: Promise<void>
  /** Sum of every stream's `charged`: unread received data, measured as `bufferCost`. */
  #buffered = 0
  #refusalWindowStart = 0
  #refusals = 0
  /** On a byte channel: hears how the run ends; cleared once the input's end is reported. */
  #channelEvents?: ByteChannelMuxerEvents

  constructor (init: StreamMuxerInit, limits: MplexLimits) {
    this.#limits = limits
    // The connection's logger when given (lines prefixed `mplex`), else `peerkit:mplex`.
    this.#log = init.log != null ? scopedLogger(init.log, 'mplex') : logger('peerkit:mplex')
    this.#streamLog = init.log != null ? this.#log : logger('peerkit:mplex:stream')
    this.#onIncomingStream = init.onIncomingStream
    this.#onStreamEnd = init.onStreamEnd
    this.#writer = new FrameWriter({ highWaterMark: limits.outboundHighWaterMark })
    this.source = this.#writer.queue
    this.#decoder = new Decoder({ ...limits, copyBodies: limits.ownedChunks }, (flag, id, data) => { this.#onFrame(flag, id, data) })
  }

  /** Open streams, both directions. */
  get streams (): MplexStream[] {
    return [...this.#outbound.values(), ...this.#inbound.values()]
  }

  /**
   * Opens a stream. `name` is sent in the NewStream frame (default: the stream id in decimal).
   * Throws `ConnectionClosedError` once the muxer is closing, `LimitExceededError` at
   * `maxOutboundStreams`, `InvalidParametersError` for a name longer than `maxMessageSize`, the
   * abort reason when `options.signal` is already aborted (mplex never waits to open a stream).
   */
  newStream (name?: string, options?: AbortOptions): MplexStream {
    throwIfAborted(options?.signal)
    if (this.#status !== 'open') throw new ConnectionClosedError('The mplex muxer is closed')
    if (this.#outbound.size >= this.#limits.maxOutboundStreams) {
      throw new LimitExceededError('maxOutboundStreams', this.#limits.maxOutboundStreams, this.#outbound.size + 1, 'connection')
    }
    const id = this.#nextId
    const streamName = name ?? String(id)
    const nameBytes = textEncoder.encode(streamName)
    if (nameBytes.byteLength > this.#limits.maxMessageSize) {
      throw new InvalidParametersError(`Stream name of ${nameBytes.byteLength} bytes exceeds maxMessageSize (${this.#limits.maxMessageSize})`)
    }
    this.#nextId++
    const stream = this.#createStream(id, true, streamName)
    this.#outbound.set(id, stream)
    this.#log('opened outbound stream %s', stream.id)
    this.#writer.frame(encodeHeader(id, Flag.NewStream), nameBytes)
    return stream
  }

  /**
   * Consumes the bytes received from the connection. Resolves when the input ends (every stream
   * still open is then ended with `ConnectionClosedError`) or when the muxer is aborted or fails.
   * It does not reject: a fatal error (malformed frame, exceeded limit, failing input) ends every
   * stream with that error and makes `source` throw it.
   */
  sink = async (source: Source<Uint8Array | Uint8ArrayList>): Promise<void> => {
    if (this.#sinkCalled) throw new StreamStateError('The mplex sink can be called only once')
    this.#sinkCalled = true
    const iterator = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]()
    const signal = this.#stop.signal
    // Each read races a fresh promise against the stop signal: racing every read against one
    // long-lived promise would pile a reaction onto it per chunk for the life of the connection.
    let wake: ((value: typeof STOPPED) => void) | undefined
    const onStop = (): void => { wake?.(STOPPED) }
    signal.addEventListener('abort', onStop, { once: true })
    try {
      while (!signal.aborted) {
        let result: IteratorResult<Uint8Array | Uint8ArrayList> | typeof STOPPED
        try {
          result = await new Promise<IteratorResult<Uint8Array | Uint8ArrayList> | typeof STOPPED>((resolve, reject) => {
            wake = resolve
            Promise.resolve(iterator.next()).then(resolve, reject)
          })
        } catch (err) {
          this.#fail(new ConnectionClosedError('Reading from the connection failed', { cause: err }))
          break
        } finally {
          wake = undefined
        }
        if (result === STOPPED) break
        if (result.done === true) {
          this.#onInputEnd()
          break
        }
        try {
          this.#decoder.write(result.value)
        } catch (err) {
          this.#fail(err instanceof Error ? err : new ProtocolError(String(err), PROTOCOL))
          break
        }
      }
    } finally {
      signal.removeEventListener('abort', onStop)
      if (signal.aborted && typeof iterator.return === 'function') {
        // Release the connection's source without waiting on it.
        void Promise.resolve(iterator.return()).catch(() => {})
      }
    }
  }

  /**
   * Runs the muxer over a byte channel instead of `pipe(conn, muxer, conn)`: received bytes are
   * decoded as they arrive, frames are handed to `channel.write` in batches (what was queued during
   * one turn of the event loop) and our side is ended once the muxer has ended. `events` hears what
   * `sink(conn.source)` and `conn.sink(muxer.source)` would have settled with: like `sink`, the
   * input never fails (a failure ends the streams and the output with it). Instead of `sink` and
   * `source`, once.
   */
  [attachByteChannel] (channel: ByteChannel, events: ByteChannelMuxerEvents): void {
    if (this.#sinkCalled) throw new StreamStateError('The mplex sink can be called only once')
    this.#sinkCalled = true
    const link = new MplexMuxer.#ChannelLink(this, channel, events)
    this.#channelEvents = events
    // Frames queued during one turn of the event loop (a header and its payload, a NewStream and
    // the stream's first data, a close...) reach the channel as one batch: one encrypted message
    // and one syscall rather than one per frame piece.
    this.#writer.queue.pipeTo(link, { coalesce: true })
    if (this.#stop.signal.aborted) this.#settleChannelInput()
    else channel.attach(link)
  }

  /** A chunk from the byte channel. */
  #channelData (data: Uint8Array | Uint8ArrayList): void {
    if (this.#stop.signal.aborted) return
    try {
      this.#decoder.write(data)
    } catch (err) {
      this.#fail(err instanceof Error ? err : new ProtocolError(String(err), PROTOCOL))
    }
  }

  /** The byte channel's input ended (remote FIN) or failed. */
  #channelInputEnd (err?: Error): void {
    if (this.#stop.signal.aborted) {
      this.#settleChannelInput()
      return
    }
    if (err != null) this.#fail(new ConnectionClosedError('Reading from the connection failed', { cause: err }))
    else this.#onInputEnd()
  }

  /**
   * The muxer's side of a byte channel: the channel's receiver and the outbound queue's consumer,
   * one object with methods rather than closures kept for the life of the connection.
   */
  static readonly #ChannelLink = class ChannelLink implements ByteChannelReceiver, ChunkConsumer {
    readonly #muxer: MplexMuxer
    readonly #channel: ByteChannel
    readonly #events: ByteChannelMuxerEvents

    constructor (muxer: MplexMuxer, channel: ByteChannel, events: ByteChannelMuxerEvents) {
      this.#muxer = muxer
      this.#channel = channel
      this.#events = events
    }

    // ByteChannelReceiver
    /** With `ownedChunks`, bodies are copied as they arrive, so the channel may reuse what it gave. */
    get transientData (): boolean { return this.#muxer.#limits.ownedChunks }
    onData (data: Uint8Array | Uint8ArrayList): void { this.#muxer.#channelData(data) }
    onEnd (): void { this.#muxer.#channelInputEnd() }
    onError (err: Error): void { this.#muxer.#channelInputEnd(err) }
    onDrain (): void { this.#muxer.#writer.queue.resume() }

    // ChunkConsumer
    write (data: Uint8ArrayList): boolean {
      return this.#channel.write(data)
    }

    end (err?: Error): void {
      const events = this.#events
      if (err != null) {
        events.onOutputEnd(err)
        return
      }
      this.#channel.end().then(() => { events.onOutputEnd() }, (e: Error) => { events.onOutputEnd(e) })
    }
  }

  #settleChannelInput (): void {
    const events = this.#channelEvents
    if (events == null) return
    this.#channelEvents = undefined
    events.onInputEnd()
  }

  /**
   * Graceful close: refuses new streams, closes every stream (waiting for the remote to close its
   * side, bounded by each stream's `closeTimeout` and by `options.signal`), then ends `source` once
   * the queued frames are sent. If `options.signal` aborts first, the streams still open are aborted,
   * the muxer ends, and the promise rejects with the abort reason.
   */
  async close (options: AbortOptions = {}): Promise<void> {
    if (this.#status === 'closed') return
    this.#closing ??= this.#closeStreams(options)
    await this.#closing
  }

  async #closeStreams (options: AbortOptions): Promise<void> {
    this.#status = 'closing'
    this.#log('closing with %d open streams', this.#outbound.size + this.#inbound.size)
    const signal = options.signal
    if (signal?.aborted === true) {
      // Stream.close() would not notice a signal that is already aborted.
      const reason = abortReason(signal)
      for (const stream of this.streams) stream.abort(reason)
      this.#status = 'closed'
      this.#writer.end()
      throw reason
    }
    const results = await closeAll(this.streams, signal)
    if (this.#status !== 'closing') return // aborted meanwhile
    this.#status = 'closed'
    // Streams whose close failed were aborted by it; send their resets, then end.
    this.#writer.end()
    // The signal may have aborted while the streams closed.
    if (signal != null && isAborted(signal)) throw abortReason(signal)
    const failed = results.filter(r => r.status === 'rejected').length
    if (failed > 0) this.#log('closed; %d stream(s) did not close gracefully and were aborted', failed)
  }

  /** Immediate close: every stream is aborted with `err`, `source` throws `err`. Never throws. */
  abort (err: Error): void {
    // After a graceful close the sink may still be reading: stop it too.
    if (this.#stop.signal.aborted) return
    this.#log('aborting: %s', err.message)
    this.#status = 'closed'
    this.#stop.abort(err)
    this.#decoder.halt()
    for (const stream of this.streams) stream.abort(err)
    this.#writer.end(err)
    this.#settleChannelInput()
  }

  /** The connection failed or broke the protocol: streams end with `err`, so does `source`. */
  #fail (err: Error): void {
    if (this.#stop.signal.aborted) return
    this.#log.error('connection failed: %s', err.message)
    this.#status = 'closed'
    this.#stop.abort(err)
    this.#decoder.halt()
    for (const stream of this.streams) stream.destroy(err)
    this.#writer.end(err)
    this.#settleChannelInput()
  }

  /** The remote ended the connection. */
  #onInputEnd (): void {
    if (this.#decoder.midFrame) {
      this.#fail(new UnexpectedEOFError('The connection ended in the middle of an mplex frame'))
      return
    }
    this.#log('connection ended by the remote with %d open streams', this.#outbound.size + this.#inbound.size)
    this.#status = 'closed'
    this.#decoder.halt()
    const err = new ConnectionClosedError('The connection was closed by the remote')
    for (const stream of this.streams) stream.destroy(err)
    this.#writer.end()
    this.#settleChannelInput()
  }

  #createStream (id: StreamId, initiator: boolean, name: string): MplexStream {
    const stream: MplexStream = new MplexStream({
      streamId: id,
      initiator,
      name,
      writer: this.#writer,
      maxMessageSize: this.#limits.maxMessageSize,
      closeTimeout: this.#limits.closeTimeout,
      log: scopedLogger(this.#streamLog, `${initiator ? 'i' : 'r'}${id}`),
      onEnd: (s, err) => { this.#onEnd(s, err) },
      onConsumed: s => { this.#recharge(s) }
    })
    return stream
  }

  #onEnd (stream: MplexStream, err?: Error): void {
    const map: Map<StreamId, MplexStream> = stream.initiator ? this.#outbound : this.#inbound
    if (map.get(stream.streamId) === stream) map.delete(stream.streamId)
    this.#buffered -= stream.charged
    stream.charged = 0
    if (err != null) {
      this.#log('stream %s ended: %s', stream.id, err.message)
    } else {
      this.#log.trace('stream %s closed', stream.id)
    }
    try {
      this.#onStreamEnd?.(stream)
    } catch (e) {
      this.#log.error('onStreamEnd threw', e)
    }
  }

  /** Brings the connection's total in line with what `stream`'s unread data costs now. */
  #recharge (stream: MplexStream): void {
    const cost = stream.bufferCost
    this.#buffered += cost - stream.charged
    stream.charged = cost
  }

  #onFrame (flag: FlagValue, id: StreamId, data: Uint8Array | Uint8ArrayList | undefined): void {
    if (flag === Flag.NewStream) {
      this.#onNewStream(id, data)
      return
    }
    // Odd flags come from the receiver of the stream, so it is one we opened.
    const stream = (flag & 1) === 1 ? this.#outbound.get(id as number) : this.#inbound.get(id)
    if (stream == null) {
      // Normal after we reset or fully closed a stream: frames the remote sent before it knew.
      this.#log.trace('%s frame for unknown stream %s ignored', FLAG_NAMES[flag], id)
      return
    }
    switch (flag) {
      case Flag.MessageReceiver:
      case Flag.MessageInitiator:
        if (data != null && data.byteLength > 0) this.#onMessage(stream, data)
        break
      case Flag.CloseReceiver:
      case Flag.CloseInitiator:
        stream.remoteCloseWrite()
        break
      default:
        stream.remoteReset()
    }
  }

  #onNewStream (id: StreamId, data: Uint8Array | Uint8ArrayList | undefined): void {
    if (this.#inbound.has(id)) {
      throw new ProtocolError(`Remote opened stream ${id} while a stream it opened with that id is still open`, PROTOCOL)
    }
    let refusal: string | undefined
    if (this.#status !== 'open') {
      refusal = 'the muxer is closing'
    } else if (this.#onIncomingStream == null) {
      refusal = 'no onIncomingStream handler'
    } else if (this.#inbound.size >= this.#limits.maxInboundStreams) {
      refusal = `maxInboundStreams (${this.#limits.maxInboundStreams}) reached`
    }
    if (refusal != null) {
      this.#refuse(id, refusal)
      return
    }
    const nameBytes = data == null ? new Uint8Array(0) : data instanceof Uint8Array ? data : data.subarray()
    const name = textDecoder.decode(nameBytes.byteLength > MAX_STREAM_NAME_BYTES ? nameBytes.subarray(0, MAX_STREAM_NAME_BYTES) : nameBytes)
    const stream = this.#createStream(id, false, name)
    this.#inbound.set(id, stream)
    this.#log('accepted inbound stream %s', stream.id)
    try {
      this.#onIncomingStream?.(stream)
    } catch (err) {
      this.#log.error('onIncomingStream threw, aborting stream %s', stream.id, err)
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    }
  }

  /** Answers a NewStream we will not accept with a reset; too many refusals too fast end the connection. */
  #refuse (id: StreamId, reason: string): void {
    this.#log('refusing inbound stream %s: %s', id, reason)
    this.#writer.frame(encodeHeader(id, resetFlag(false)))
    const now = Date.now()
    if (now - this.#refusalWindowStart >= REFUSAL_WINDOW_MS) {
      this.#refusalWindowStart = now
      this.#refusals = 0
    }
    this.#refusals++
    if (this.#refusals > this.#limits.disconnectThreshold) {
      throw new LimitExceededError('disconnectThreshold', this.#limits.disconnectThreshold, this.#refusals, 'connection',
        `Remote opened ${this.#refusals} streams within a second that were refused (${reason}); disconnectThreshold is ${this.#limits.disconnectThreshold}`)
    }
  }

  #onMessage (stream: MplexStream, data: Uint8Array | Uint8ArrayList): void {
    if (stream.readStatus === 'closed') {
      // Our read side is closed, or the remote already closed its write side (then this frame
      // breaks the protocol; like other implementations we drop it).
      this.#log.trace('dropping %d bytes for stream %s: read side closed', data.byteLength, stream.id)
      return
    }
    const frames = chunkCount(data)
    const cost = stream.bufferCost + data.byteLength + frames * FRAME_CHARGE
    const limits = this.#limits
    if (cost > limits.maxStreamBufferSize || stream.bufferedFrames + frames > MAX_BUFFERED_FRAMES) {
      this.#log('stream %s: reader too slow, %d bytes unread; resetting it', stream.id, stream.readBufferLength)
      stream.abort(new LimitExceededError('maxStreamBufferSize', limits.maxStreamBufferSize, cost, `stream ${stream.id}`,
        `Unread data on mplex stream ${stream.id} exceeds maxStreamBufferSize (${limits.maxStreamBufferSize}): the stream was reset`))
      return
    }
    if (this.#buffered - stream.charged + cost > limits.maxConnectionBufferSize && !this.#makeRoom(stream, cost)) return
    stream.receive(data, frames)
    this.#recharge(stream)
  }

  /**
   * The connection's unread data would exceed `maxConnectionBufferSize`: resets the streams holding
   * the most until `stream` can take `cost`, or resets `stream` if it would hold the most.
   * Returns whether `stream` may take the data.
   */
  #makeRoom (stream: MplexStream, cost: number): boolean {
    const max = this.#limits.maxConnectionBufferSize
    // Charges can be stale after closeRead() discarded data: measure again first.
    this.#buffered = 0
    for (const s of this.streams) {
      s.charged = s.bufferCost
      this.#buffered += s.charged
    }
    while (this.#buffered - stream.charged + cost > max) {
      let hog: MplexStream | undefined
      for (const s of this.streams) {
        if (s !== stream && s.charged > (hog?.charged ?? 0)) hog = s
      }
      const total = this.#buffered - stream.charged + cost
      const victim = hog == null || hog.charged < cost ? stream : hog
      this.#log('unread data on the connection would reach %d bytes; resetting stream %s', total, victim.id)
      victim.abort(new LimitExceededError('maxConnectionBufferSize', max, total, 'connection',
        `Unread data on the mplex connection exceeds maxConnectionBufferSize (${max}): stream ${victim.id} holding the most was reset`))
      if (victim === stream) return false
    }
    return true
  }
}
