/**
 * A small but correct stream muxer used to self-test the stream-muxer suite, plus switchable flaws
 * that each break one promise of the `StreamMuxer` contract. The suite must pass for the muxer
 * without flaws and fail for every flaw.
 *
 * Wire format (test-only): a 9-byte header `type(1) | stream id(4) | length(4)` followed, for DATA,
 * by `length` payload bytes. Per-stream credit-based flow control with a fixed window.
 */
import { ConnectionClosedError, LimitExceededError, ProtocolError, StreamStateError, attachByteChannel } from '@peerkit/interfaces'
import { AbstractStream, ChunkQueue, logger } from '@peerkit/utils'
import { Uint8ArrayList } from 'uint8arraylist'
import type { AbortOptions, ByteChannel, ByteChannelMuxer, ByteChannelMuxerEvents, Direction, Source, StreamMuxer, StreamMuxerFactory, StreamMuxerInit } from '@peerkit/interfaces'

/** The ways the reference muxer can be broken. */
export type Flaw =
  /** closeWrite never tells the remote */
  | 'drop-fin'
  /** writers never wait for credit, readers accept anything */
  | 'ignore-backpressure'
  /** writers ignore credit; the receiver instead stops reading the connection when a stream lags */
  | 'connection-level-backpressure'
  /** abort never tells the remote */
  | 'no-reset'
  /** a timer is started and never cleared */
  | 'leak-timer'
  /** ended streams stay in `streams` */
  | 'keep-ended-streams'
  /** onStreamEnd is called twice per stream */
  | 'double-end-callback'
  /** one byte is corrupted past the first 4 MiB a stream sends */
  | 'corrupt-large-writes'
  /** close() aborts the streams instead of closing them */
  | 'close-resets-streams'
  /** the end of the connection's input is ignored */
  | 'ignore-eof'
  /** newStream opens a stream even when its signal is already aborted */
  | 'ignore-new-stream-signal'
  /** on a byte channel, the end of the output is reported but the channel is never ended */
  | 'channel-never-ended'
  /** on a byte channel, the end of the output is reported twice */
  | 'channel-double-report'

/** Every flaw, for the self-test to iterate over. */
export const FLAWS: Flaw[] = [
  'drop-fin', 'ignore-backpressure', 'connection-level-backpressure', 'no-reset', 'leak-timer',
  'keep-ended-streams', 'double-end-callback', 'corrupt-large-writes', 'close-resets-streams', 'ignore-eof',
  'ignore-new-stream-signal', 'channel-never-ended', 'channel-double-report'
]

const PROTOCOL = '/peerkit-test-reference-mux/1.0.0'
const HEADER = 9
const WINDOW = 256 * 1024
const MAX_FRAME = 64 * 1024
const QUEUE_LIMIT = 1024 * 1024
const MAX_STREAMS = 1024
const CORRUPT_AT = 4 * 1024 * 1024

const OPEN = 0
const DATA = 1
const CREDIT = 2
const CLOSE = 3
const RESET = 4
const GOAWAY = 5

class ReferenceStream extends AbstractStream {
  readonly #muxer: ReferenceMuxer
  readonly #numericId: number
  #credit = WINDOW
  #unreturned = 0
  #sent = 0
  /** Bytes the remote may still send before we return credit. */
  remoteCredit = WINDOW
  #waiter?: { resolve(): void, reject(err: Error): void }
  #ended = false
  #endError?: Error

  constructor (muxer: ReferenceMuxer, id: number, direction: Direction) {
    const self: { stream?: ReferenceStream } = {}
    super({
      id: String(id),
      direction,
      log: muxer.streamLog,
      closeTimeout: 2000,
      onEnd: (err) => { self.stream?.ended(err) }
    })
    self.stream = this
    this.#muxer = muxer
    this.#numericId = id
  }

  ended (err?: Error): void {
    if (this.#ended) return
    this.#ended = true
    this.#endError = err ?? new StreamStateError('stream closed')
    this.#waiter?.reject(this.#endError)
    this.#waiter = undefined
    this.#muxer.streamEnded(this.#numericId, this)
  }

  addCredit (n: number): void {
    this.#credit += n
    this.#waiter?.resolve()
    this.#waiter = undefined
  }

  protected async sendData (data: Uint8ArrayList): Promise<void> {
    const flaws = this.#muxer.flaws
    const ignoreCredit = flaws.has('ignore-backpressure') || flaws.has('connection-level-backpressure')
    let offset = 0
    while (offset < data.byteLength) {
      if (!ignoreCredit) {
        while (this.#credit === 0) {
          if (this.#ended) throw this.#endError
          await new Promise<void>((resolve, reject) => { this.#waiter = { resolve, reject } })
        }
      }
      if (this.#ended) throw this.#endError
      const n = Math.min(data.byteLength - offset, MAX_FRAME, ignoreCredit ? Infinity : this.#credit)
      let payload = data.sublist(offset, offset + n)
      if (flaws.has('corrupt-large-writes') && this.#sent < CORRUPT_AT && this.#sent + n >= CORRUPT_AT) {
        const copy = payload.slice()
        copy[CORRUPT_AT - this.#sent - 1] ^= 0xff
        payload = new Uint8ArrayList(copy)
      }
      offset += n
      this.#sent += n
      if (!ignoreCredit) this.#credit -= n
      this.#muxer.send(DATA, this.#numericId, n, payload)
      await this.#muxer.drained()
    }
  }

  protected sendCloseWrite (): void {
    if (this.#muxer.flaws.has('drop-fin')) return
    this.#muxer.send(CLOSE, this.#numericId, 0)
  }

  protected sendReset (): void {
    if (this.#muxer.flaws.has('no-reset')) return
    this.#muxer.send(RESET, this.#numericId, 0)
  }

  protected override onDataConsumed (bytes: number): void {
    this.#unreturned += bytes
    if (this.#unreturned >= WINDOW / 2 && !this.#ended) {
      this.remoteCredit += this.#unreturned
      this.#muxer.send(CREDIT, this.#numericId, this.#unreturned)
      this.#unreturned = 0
    }
  }
}

class ReferenceMuxer implements StreamMuxer, ByteChannelMuxer {
  readonly protocol = PROTOCOL
  readonly source = new ChunkQueue({ highWaterMark: QUEUE_LIMIT })
  readonly flaws: Set<Flaw>
  readonly streamLog = logger('peerkit:test:reference-mux:stream')
  readonly #log = logger('peerkit:test:reference-mux')
  readonly #streams = new Map<number, ReferenceStream>()
  readonly #init: StreamMuxerInit
  readonly #input = new Uint8ArrayList()
  #nextId: number
  #state: 'open' | 'closing' | 'closed' = 'open'
  #remoteGoAway = false

  constructor (init: StreamMuxerInit, flaws: Set<Flaw>) {
    this.#init = init
    this.flaws = flaws
    this.#nextId = init.direction === 'outbound' ? 1 : 2
    if (flaws.has('leak-timer')) setInterval(() => {}, 60_000)
  }

  get streams (): ReferenceStream[] {
    return [...this.#streams.values()]
  }

  send (type: number, id: number, length: number, payload?: Uint8ArrayList): void {
    if (this.#state === 'closed') return
    const header = new Uint8Array(HEADER)
    const view = new DataView(header.buffer)
    view.setUint8(0, type)
    view.setUint32(1, id)
    view.setUint32(5, length)
    this.source.push(payload == null ? header : new Uint8ArrayList(header, payload))
  }

  async drained (): Promise<void> {
    if (this.source.needsDrain) await this.source.onDrain()
  }

  streamEnded (id: number, stream: ReferenceStream): void {
    if (!this.flaws.has('keep-ended-streams')) this.#streams.delete(id)
    this.#init.onStreamEnd?.(stream)
    if (this.flaws.has('double-end-callback')) this.#init.onStreamEnd?.(stream)
  }

  newStream (_name?: string, options?: AbortOptions): ReferenceStream {
    if (options?.signal?.aborted === true && !this.flaws.has('ignore-new-stream-signal')) {
      throw options.signal.reason instanceof Error ? options.signal.reason : new Error('aborted')
    }
    if (this.#state !== 'open' || this.#remoteGoAway) throw new ConnectionClosedError('reference muxer closed')
    if (this.#streams.size >= MAX_STREAMS) throw new LimitExceededError('maxStreams', MAX_STREAMS)
    const id = this.#nextId
    this.#nextId += 2
    const stream = new ReferenceStream(this, id, 'outbound')
    this.#streams.set(id, stream)
    this.send(OPEN, id, 0)
    return stream
  }

  sink = async (source: Source<Uint8Array | Uint8ArrayList>): Promise<void> => {
    try {
      for await (const chunk of source) {
        if (this.#state === 'closed') return
        this.#input.append(chunk)
        this.#parse()
        if (this.flaws.has('connection-level-backpressure')) {
          while (this.#isOpen() && this.streams.some(s => s.readBufferLength > QUEUE_LIMIT)) {
            await new Promise<void>(resolve => setTimeout(resolve, 5))
          }
        }
      }
    } catch (err) {
      this.#end(err instanceof Error ? err : new Error(String(err)), false)
      throw err
    }
    if (this.flaws.has('ignore-eof')) return
    this.#end(new ConnectionClosedError('connection closed'), false)
  }

  /** The same muxer on a byte channel: input through `sink`, output handed to the channel by calls. */
  [attachByteChannel] (channel: ByteChannel, events: ByteChannelMuxerEvents): void {
    const input = new ChunkQueue()
    const flaws = this.flaws
    const source = this.source
    source.pipeTo({
      write: (data) => channel.write(data),
      end: (err) => {
        const report = (e?: Error): void => {
          events.onOutputEnd(e)
          if (flaws.has('channel-double-report')) events.onOutputEnd(e)
        }
        if (err != null || flaws.has('channel-never-ended')) {
          report(err)
          return
        }
        channel.end().then(() => { report() }, (e: Error) => { report(e) })
      }
    })
    channel.attach({
      onData: (data) => { input.push(data) },
      onEnd: () => { input.end() },
      onError: (err) => { input.end(err) },
      onDrain: () => { source.resume() }
    })
    this.sink(input).then(() => { events.onInputEnd() }, (err: Error) => { events.onInputEnd(err) })
  }

  #isOpen (): boolean {
    return this.#state !== 'closed'
  }

  #parse (): void {
    const input = this.#input
    while (input.byteLength >= HEADER && this.#state !== 'closed') {
      const type = input.getUint8(0)
      const id = input.getUint32(1)
      const length = input.getUint32(5)
      if (type === DATA && input.byteLength < HEADER + length) return
      const payload = type === DATA ? input.sublist(HEADER, HEADER + length) : undefined
      input.consume(HEADER + (type === DATA ? length : 0))
      const stream = this.#streams.get(id)
      switch (type) {
        case OPEN: {
          if (this.#state !== 'open' || this.#streams.size >= MAX_STREAMS) {
            this.send(RESET, id, 0)
            break
          }
          const inbound = new ReferenceStream(this, id, 'inbound')
          this.#streams.set(id, inbound)
          this.#init.onIncomingStream?.(inbound)
          break
        }
        case DATA:
          if (stream == null || payload == null) break
          if (!this.flaws.has('ignore-backpressure') && !this.flaws.has('connection-level-backpressure')) {
            if (length > stream.remoteCredit) throw new ProtocolError(`stream ${id} overran its window`, PROTOCOL)
            stream.remoteCredit -= length
          }
          stream.pushData(payload)
          break
        case CREDIT: stream?.addCredit(length); break
        case CLOSE: stream?.remoteCloseWrite(); break
        case RESET: stream?.remoteReset(); break
        case GOAWAY: this.#remoteGoAway = true; break
        default: throw new ProtocolError(`unknown frame type ${type}`, PROTOCOL)
      }
    }
  }

  async close (options: AbortOptions = {}): Promise<void> {
    if (this.#state !== 'open') return
    this.#state = 'closing'
    if (this.flaws.has('close-resets-streams')) {
      for (const s of this.streams) s.abort(new Error('closing'))
    } else {
      await Promise.allSettled(this.streams.map(async s => { await s.close(options) }))
    }
    this.send(GOAWAY, 0, 0)
    this.#end(new ConnectionClosedError('muxer closed'), false)
  }

  abort (err: Error): void {
    this.#end(err, true)
  }

  #end (err: Error, local: boolean): void {
    if (this.#state === 'closed') return
    this.#log('ending: %s', err.message)
    for (const s of this.streams) {
      if (local) {
        s.abort(err)
      } else {
        s.destroy(err)
      }
    }
    this.send(GOAWAY, 0, 1)
    this.#state = 'closed'
    this.source.end()
  }
}

/** A factory of reference muxers with the given flaws. */
export function referenceMuxer (flaws: Flaw[] = []): StreamMuxerFactory {
  const set = new Set(flaws)
  return {
    protocol: PROTOCOL,
    createStreamMuxer: (init: StreamMuxerInit) => new ReferenceMuxer(init, set)
  }
}
