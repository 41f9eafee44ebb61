import { InvalidMessageError, LimitExceededError, StreamStateError, UnexpectedEOFError } from '@peerkit/interfaces'
import * as varint from 'uint8-varint'
import { Uint8ArrayList } from 'uint8arraylist'
import { raceSignal, throwIfAborted } from './abort.js'
import { currentByteChannelOffer, offerByteChannel, prefixByteChannel } from './byte-channel.js'
import type { AbortOptions, ByteChannel, ByteChannelOffer, Duplex, Source } from '@peerkit/interfaces'

type Chunk = Uint8Array | Uint8ArrayList
/** Any byte duplex: raw connections, secured connections, muxed streams. */
export type ByteDuplex = Duplex<AsyncIterable<Chunk>, Source<Chunk>, Promise<void>>

export interface ByteStreamInit {
  /** Longest varint accepted by `readVarint`, in bytes. Default 9 (values up to 2^63). */
  maxVarintBytes?: number
}

export interface ReadLPOptions extends AbortOptions {
  /** Messages longer than this are refused with `LimitExceededError` before being read. */
  maxLength: number
}

/**
 * Message-level reading and writing over a byte duplex, for handshakes and request/response
 * protocols (multistream-select, Noise, identify...). When the exchange is over, `unwrap()` hands
 * the duplex back: bytes already read past the last message are replayed first, and when there are
 * none the original source iterator and sink are returned untouched, so no stage is left on the
 * data path.
 *
 * Reads are sequential (one at a time); an aborted read keeps its pending chunk for the next read.
 */
export class ByteStream<S extends ByteDuplex = ByteDuplex> {
  readonly #duplex: S
  readonly #buffer = new Uint8ArrayList()
  readonly #maxVarintBytes: number
  /** The duplex's byte channel offer when we took it over; passed on (with what we hold) by unwrap(). */
  readonly #offer?: ByteChannelOffer
  #iterator?: AsyncIterator<Chunk>
  #pendingNext?: Promise<IteratorResult<Chunk>>
  #reading = false
  #eof = false
  #unwrapped = false

  // Writing: the duplex's sink is called once, lazily, with a feeder that yields queued writes and,
  // after unwrap(), delegates to the source given to the new sink.
  #sinkPromise?: Promise<void>
  /** Why writes fail from now on; a factory until first needed (building an error costs a stack trace). */
  #sinkError?: Error | (() => Error)
  #writes: PendingWrite[] = []
  #inflight?: PendingWrite
  #handoff?: Source<Chunk>
  #wake?: () => void

  constructor (duplex: S, init: ByteStreamInit = {}) {
    this.#duplex = duplex
    this.#maxVarintBytes = init.maxVarintBytes ?? 9
    this.#offer = currentByteChannelOffer(duplex)
  }

  /** Bytes read from the duplex but not yet consumed by a read call. */
  get buffered (): number {
    return this.#buffer.byteLength
  }

  async #pull (options?: AbortOptions): Promise<boolean> {
    if (this.#eof) return false
    if (this.#iterator == null) {
      const source = this.#duplex.source
      this.#iterator = source[Symbol.asyncIterator]()
    }
    this.#pendingNext ??= this.#iterator.next()
    const result = await raceSignal(this.#pendingNext, options?.signal)
    this.#pendingNext = undefined
    if (result.done === true) {
      this.#eof = true
      return false
    }
    this.#buffer.append(result.value)
    return true
  }

  #begin (options?: AbortOptions): void {
    if (this.#unwrapped) throw new StreamStateError('ByteStream was unwrapped')
    if (this.#reading) throw new StreamStateError('Concurrent reads on a ByteStream')
    throwIfAborted(options?.signal)
    this.#reading = true
  }

  /** Reads exactly `bytes` bytes. Throws `UnexpectedEOFError` if the stream ends first. */
  async read (bytes: number, options?: AbortOptions): Promise<Uint8ArrayList> {
    this.#begin(options)
    try {
      while (this.#buffer.byteLength < bytes) {
        if (!await this.#pull(options)) throw new UnexpectedEOFError(`Stream ended after ${this.#buffer.byteLength} of ${bytes} bytes`)
      }
      const out = this.#buffer.sublist(0, bytes)
      this.#buffer.consume(bytes)
      return out
    } finally {
      this.#reading = false
    }
  }

  /**
   * Reads one more chunk from the duplex into the buffer, consuming nothing; `false` at the end of
   * the stream. For parsers that take whole messages from the buffer with `takeBufferedLP` and
   * wait only when it holds none.
   */
  async fill (options?: AbortOptions): Promise<boolean> {
    this.#begin(options)
    try {
      return await this.#pull(options)
    } finally {
      this.#reading = false
    }
  }

  /**
   * Synchronous: when the buffer already holds a whole varint-length-prefixed message whose body
   * is at most `maxLength` bytes, consumes it and returns the body; otherwise consumes nothing and
   * returns `undefined` — an incomplete message, an overlong varint or body (`readVarint` and
   * `readLP` then report those), a read in progress, an unwrapped stream. Never reads from the
   * duplex: messages that arrived together are parsed without a turn of the event loop each.
   */
  takeBufferedLP (maxLength: number): Uint8ArrayList | undefined {
    if (this.#unwrapped || this.#reading) return undefined
    const end = this.#varintEnd()
    if (end < 0) return undefined
    const buffer = this.#buffer
    let length: number
    try {
      length = varint.decode(buffer)
    } catch {
      return undefined // a value past 2^53: readVarint reports it
    }
    const start = end + 1
    if (length > maxLength || start + length > buffer.byteLength) return undefined
    const out = buffer.sublist(start, start + length)
    buffer.consume(start + length)
    return out
  }

  /** Reads whatever is available (buffered bytes, else the next chunk); `null` at the end of the stream. */
  async readSome (options?: AbortOptions): Promise<Uint8ArrayList | null> {
    this.#begin(options)
    try {
      if (this.#buffer.byteLength === 0 && !await this.#pull(options)) return null
      const out = this.#buffer.sublist()
      this.#buffer.consume(this.#buffer.byteLength)
      return out
    } finally {
      this.#reading = false
    }
  }

  /**
   * Where the varint at the front of the buffer ends: the index of its last byte; `INCOMPLETE` when
   * the buffer ends first, `OVERLONG` when more than `maxVarintBytes` bytes are buffered without its
   * end.
   */
  #varintEnd (): number {
    const buffer = this.#buffer
    const scan = Math.min(buffer.byteLength, this.#maxVarintBytes)
    for (let i = 0; i < scan; i++) {
      if ((buffer.get(i) & 0x80) === 0) return i
    }
    return buffer.byteLength > this.#maxVarintBytes ? OVERLONG : INCOMPLETE
  }

  /** Reads an unsigned LEB128 varint. Throws `InvalidMessageError` when it is longer than allowed. */
  async readVarint (options?: AbortOptions): Promise<number> {
    this.#begin(options)
    try {
      let end: number
      while ((end = this.#varintEnd()) === INCOMPLETE) {
        if (!await this.#pull(options)) {
          throw new UnexpectedEOFError(this.#buffer.byteLength === 0 ? 'Stream ended before a varint' : 'Stream ended inside a varint')
        }
      }
      if (end === OVERLONG) throw new InvalidMessageError(`Varint longer than ${this.#maxVarintBytes} bytes`)
      const value = varint.decode(this.#buffer)
      this.#buffer.consume(end + 1)
      return value
    } finally {
      this.#reading = false
    }
  }

  /** Reads a varint-length-prefixed message of at most `options.maxLength` bytes. */
  async readLP (options: ReadLPOptions): Promise<Uint8ArrayList> {
    const length = await this.readVarint(options)
    if (length > options.maxLength) throw new LimitExceededError('maxLength', options.maxLength, length, 'message')
    return this.read(length, options)
  }

  /**
   * Queues `data` for the duplex's sink; resolves once the sink has taken it. Rejects if the sink
   * failed.
   */
  async write (data: Chunk, options?: AbortOptions): Promise<void> {
    if (this.#unwrapped) throw new StreamStateError('ByteStream was unwrapped')
    throwIfAborted(options?.signal)
    if (this.#sinkError != null) {
      if (typeof this.#sinkError === 'function') this.#sinkError = this.#sinkError()
      throw this.#sinkError
    }
    this.#startSink()
    const done = new Promise<void>((resolve, reject) => { this.#writes.push({ data, resolve, reject }) })
    this.#wake?.()
    await raceSignal(done, options?.signal)
  }

  /** Writes `data` prefixed with its varint length, as one chunk. */
  async writeLP (data: Chunk, options?: AbortOptions): Promise<void> {
    const list = new Uint8ArrayList(varint.encode(data.byteLength), data)
    await this.write(list, options)
  }

  #startSink (): void {
    if (this.#sinkPromise != null) return
    const feeder = this.#feed()
    this.#sinkPromise = this.#duplex.sink(feeder).then(() => {
      // The sink finished without taking everything (it stopped reading early).
      this.#failWrites(() => new StreamStateError('The sink ended before taking all writes'))
    }, (err: unknown) => {
      const error = err instanceof Error ? err : new Error(String(err))
      this.#failWrites(error)
      throw error
    })
    // Observed through write() and the unwrapped sink; avoid an unhandled rejection meanwhile.
    this.#sinkPromise.catch(() => {})
  }

  #failWrites (error: Error | (() => Error)): void {
    this.#sinkError = error
    if (this.#inflight == null && this.#writes.length === 0) return
    const err = typeof error === 'function' ? error() : error
    this.#sinkError = err
    this.#inflight?.reject(err)
    this.#inflight = undefined
    for (const w of this.#writes.splice(0)) w.reject(err)
  }

  /**
   * The source handed to the duplex's sink: queued writes, then (after `unwrap()` and a call of
   * the new sink) the caller's source itself — its iterator is called directly, so no stage is
   * left on the data path. A write resolves when the sink asks for the next chunk.
   */
  #feed (): AsyncGenerator<Chunk, void, undefined> {
    let handoff: AsyncIterator<Chunk> | Iterator<Chunk> | undefined
    let finished = false
    const DONE: IteratorResult<Chunk, void> = { done: true, value: undefined }
    const slowNext = async (): Promise<IteratorResult<Chunk, void>> => {
      while (true) {
        if (finished) return DONE
        const w = this.#writes.shift()
        if (w != null) {
          this.#inflight = w
          return { done: false, value: w.data }
        }
        const source = this.#handoff
        if (source != null) {
          handoff = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]()
          return handoff.next()
        }
        await new Promise<void>(resolve => { this.#wake = resolve })
        this.#wake = undefined
      }
    }
    const feeder: AsyncGenerator<Chunk, void, undefined> = {
      next: () => {
        // Being asked for more means the previous write was taken.
        const taken = this.#inflight
        if (taken != null) {
          this.#inflight = undefined
          taken.resolve()
        }
        // After the hand-off: one direct call into the caller's iterator per chunk.
        if (handoff != null) return Promise.resolve(handoff.next())
        return slowNext()
      },
      return: async () => {
        finished = true
        const it = handoff
        handoff = undefined
        if (it != null && typeof it.return === 'function') await it.return()
        return DONE
      },
      throw: async (err?: unknown) => {
        await feeder.return(undefined)
        throw err
      },
      [Symbol.asyncIterator]: () => feeder
    }
    return feeder
  }

  /**
   * Ends message mode and returns the duplex for direct use. Must not be called during a read.
   * After this, `read*`/`write*` throw `StreamStateError`.
   */
  unwrap (): S {
    if (this.#reading) throw new StreamStateError('Cannot unwrap during a read')
    if (this.#unwrapped) return this.#duplex
    this.#unwrapped = true
    const duplex = this.#duplex
    // Replayed before the rest of the source: bytes read past the last message, a read in flight.
    let first: Uint8ArrayList | undefined
    let pending: Promise<IteratorResult<Chunk>> | undefined

    if (this.#iterator != null) {
      const iterator = this.#iterator
      const leftover = this.#buffer.byteLength > 0 ? this.#buffer.sublist() : undefined
      this.#buffer.consume(this.#buffer.byteLength)
      pending = this.#pendingNext
      this.#pendingNext = undefined
      const selfIterating = (duplex.source as unknown) === iterator
      if (leftover != null && pending == null && selfIterating && isUnshiftable(iterator)) {
        // Our own streams: put the bytes back in front of the queue, no wrapper needed.
        iterator.unshift(leftover)
      } else if (leftover != null || pending != null || !selfIterating) {
        // Replay the leftover (and a read already in flight), then call the iterator directly:
        // a plain iterator object, no generator stage for the rest of the connection.
        first = leftover
        const DONE: IteratorResult<Chunk, void> = { done: true, value: undefined }
        const replay: AsyncGenerator<Chunk, void, undefined> = {
          next: async () => {
            if (first != null) {
              const value = first
              first = undefined
              return { done: false, value }
            }
            if (pending != null) {
              const p = pending
              pending = undefined
              return p
            }
            return iterator.next()
          },
          return: async () => {
            first = undefined
            pending = undefined
            if (typeof iterator.return === 'function') await iterator.return()
            return DONE
          },
          throw: async (err?: unknown) => {
            await replay.return(undefined)
            throw err
          },
          [Symbol.asyncIterator]: () => replay
        }
        duplex.source = replay as S['source']
      }
      // else: the source is an async generator that is its own iterator, already positioned after
      // the last message: hand it back as it is.
    }

    if (this.#sinkPromise != null) {
      const sinkPromise = this.#sinkPromise
      duplex.sink = async (source: Source<Chunk>): Promise<void> => {
        if (this.#handoff != null) throw new StreamStateError('sink already called')
        this.#handoff = source
        this.#wake?.()
        return sinkPromise
      }
    }

    const offer = this.#offer
    if (offer != null) {
      // The channel below, with what we hold replayed first. Not while a read is in flight or one
      // of our writes is on its way (the bytes would overtake it). A source handed to the new
      // sink is the claimer's to have drained: the layer that wrote through it claims through it.
      offerByteChannel(duplex, (): ByteChannel | undefined => {
        if (pending != null || this.#inflight != null || this.#writes.length > 0) return undefined
        const channel = offer.claim()
        if (channel == null) return undefined
        const prefix = first
        first = undefined
        return prefixByteChannel(channel, prefix)
      })
    }
    return duplex
  }
}

/** `#varintEnd`: the buffer ends before the varint does. */
const INCOMPLETE = -1
/** `#varintEnd`: the varint is longer than allowed. */
const OVERLONG = -2

interface PendingWrite { data: Chunk, resolve(): void, reject(err: Error): void }

function isUnshiftable (it: unknown): it is { unshift(data: Uint8ArrayList): void } {
  return typeof (it as { unshift?: unknown }).unshift === 'function'
}
