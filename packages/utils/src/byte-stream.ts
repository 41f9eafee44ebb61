import { InvalidMessageError, LimitExceededError, StreamStateError, UnexpectedEOFError } from '@peerkit/interfaces'
import * as varint from 'uint8-varint'
import { Uint8ArrayList } from 'uint8arraylist'
import { raceSignal, throwIfAborted } from './abort.js'
import type { AbortOptions, Duplex, Source } from '@peerkit/interfaces'

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
  #iterator?: AsyncIterator<Chunk>
  #pendingNext?: Promise<IteratorResult<Chunk>>
  #reading = false
  #eof = false
  #unwrapped = false

  // Writing: the duplex's sink is called once, lazily, with a feeder that yields queued writes and,
  // after unwrap(), delegates to the source given to the new sink.
  #sinkPromise?: Promise<void>
  #sinkError?: Error
  #writes: PendingWrite[] = []
  #inflight?: PendingWrite
  #handoff?: Source<Chunk>
  #wake?: () => void

  constructor (duplex: S, init: ByteStreamInit = {}) {
    this.#duplex = duplex
    this.#maxVarintBytes = init.maxVarintBytes ?? 9
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

  /** Reads an unsigned LEB128 varint. Throws `InvalidMessageError` when it is longer than allowed. */
  async readVarint (options?: AbortOptions): Promise<number> {
    this.#begin(options)
    try {
      for (let i = 0; ; i++) {
        if (i >= this.#buffer.byteLength && !await this.#pull(options)) {
          throw new UnexpectedEOFError(this.#buffer.byteLength === 0 ? 'Stream ended before a varint' : 'Stream ended inside a varint')
        }
        if (i >= this.#maxVarintBytes) throw new InvalidMessageError(`Varint longer than ${this.#maxVarintBytes} bytes`)
        if ((this.#buffer.get(i) & 0x80) === 0) {
          const value = varint.decode(this.#buffer)
          this.#buffer.consume(i + 1)
          return value
        }
      }
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
    if (this.#sinkError != null) throw this.#sinkError
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
      this.#failWrites(new StreamStateError('The sink ended before taking all writes'))
    }, (err: unknown) => {
      const error = err instanceof Error ? err : new Error(String(err))
      this.#failWrites(error)
      throw error
    })
    // Observed through write() and the unwrapped sink; avoid an unhandled rejection meanwhile.
    this.#sinkPromise.catch(() => {})
  }

  #failWrites (error: Error): void {
    this.#sinkError = error
    this.#inflight?.reject(error)
    this.#inflight = undefined
    for (const w of this.#writes.splice(0)) w.reject(error)
  }

  async * #feed (): AsyncGenerator<Chunk, void, undefined> {
    while (true) {
      const w = this.#writes.shift()
      if (w != null) {
        this.#inflight = w
        yield w.data
        this.#inflight = undefined
        w.resolve()
        continue
      }
      if (this.#handoff != null) {
        yield * this.#handoff
        return
      }
      await new Promise<void>(resolve => { this.#wake = resolve })
      this.#wake = undefined
    }
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

    if (this.#iterator != null) {
      const iterator = this.#iterator
      const leftover = this.#buffer.byteLength > 0 ? this.#buffer.sublist() : undefined
      this.#buffer.consume(this.#buffer.byteLength)
      let pending = this.#pendingNext
      this.#pendingNext = undefined
      const selfIterating = (duplex.source as unknown) === iterator
      if (leftover != null && pending == null && selfIterating && isUnshiftable(iterator)) {
        // Our own streams: put the bytes back in front of the queue, no wrapper needed.
        iterator.unshift(leftover)
      } else if (leftover != null || pending != null || !selfIterating) {
        duplex.source = (async function * () {
          if (leftover != null) yield leftover
          while (true) {
            const result = await (pending ?? iterator.next())
            pending = undefined
            if (result.done === true) return
            yield result.value
          }
        })() as S['source']
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
        await sinkPromise
      }
    }
    return duplex
  }
}

interface PendingWrite { data: Chunk, resolve(): void, reject(err: Error): void }

function isUnshiftable (it: unknown): it is { unshift(data: Uint8ArrayList): void } {
  return typeof (it as { unshift?: unknown }).unshift === 'function'
}
