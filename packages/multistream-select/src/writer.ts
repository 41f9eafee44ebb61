import { StreamStateError } from '@peerkit/interfaces'
import { raceSignal, throwIfAborted } from '@peerkit/utils'
import { Uint8ArrayList } from 'uint8arraylist'
import type { AbortOptions, Source } from '@peerkit/interfaces'
import type { ByteDuplex } from '@peerkit/utils'

type Chunk = Uint8Array | Uint8ArrayList
type AnyIterator = AsyncIterator<Chunk> | Iterator<Chunk>

interface Waiter { resolve(): void, reject(err: Error): void }
interface QueuedWrite extends Waiter { data: Chunk }

const DONE: IteratorResult<Chunk, undefined> = { done: true, value: undefined }

/**
 * The outbound side of a negotiation.
 *
 * A duplex's sink can be called only once, yet negotiation messages must go out before the
 * application has anything to write. So the writer calls the original sink (on first use) with
 * itself as the source: it yields the negotiation messages queued by `write()`, then, once the
 * application calls `sink` with its own source, hands out that source's chunks by calling its
 * iterator directly — one function call per chunk, no generator stage.
 *
 * For optimistic selection a `prefix` (header and proposal) is held back and sent in the same
 * chunk as the application's first chunk, or alone when `flush()` asks for it first (the
 * application reads before writing) or the application's source ends without a chunk.
 */
export class NegotiationWriter implements AsyncIterableIterator<Chunk, undefined, undefined> {
  readonly #sink: (source: Source<Chunk>) => Promise<void>
  #sinkPromise?: Promise<void>
  #sinkError?: Error
  readonly #queue: QueuedWrite[] = []
  #inflight?: QueuedWrite
  #held?: Uint8Array
  readonly #heldWaiters: Waiter[] = []
  #flushRequested = false
  #app?: AnyIterator
  #appIsAsync = false
  #appCalled = false
  /** A `next()` of the application's iterator taken while racing a flush request, not handed out yet. */
  #appPending?: Promise<IteratorResult<Chunk>>
  /** The application's iterator once nothing else can come first: the hot path. */
  #direct?: AsyncIterator<Chunk>
  /** No more negotiation output (negotiation failed): the source ends. */
  #ended = false
  /** The original sink stopped pulling (it returned, failed, or called `return()`). */
  #closed = false
  #wake?: () => void
  #endGate?: () => Promise<void>

  /**
   * @param sink - the duplex's original sink; called once, on the first write, flush or
   * application `sink` call
   * @param prefix - bytes to send in front of the application's first chunk (optimistic select)
   */
  constructor (sink: (source: Source<Chunk>) => Promise<void>, prefix?: Uint8Array) {
    this.#sink = sink
    this.#held = prefix
  }

  /**
   * Holds `prefix` back to send it with the application's first chunk (or on `flush()`, or alone
   * when the application's source ends without a chunk), as the constructor's `prefix` does. Only
   * before the application called `sink` and while nothing else is held.
   */
  hold (prefix: Uint8Array): void {
    if (this.#held != null || this.#appCalled) throw new StreamStateError('Cannot hold a prefix now')
    this.#held = prefix
  }

  /**
   * Nothing held back, queued or handed out unconfirmed, and still open: everything written has
   * been taken by the original sink.
   */
  get idle (): boolean {
    return this.#held == null && this.#queue.length === 0 && this.#inflight == null && this.#heldWaiters.length === 0 && !this.#ended && !this.#closed
  }

  /**
   * While set, the end of the application's data is passed on only after `gate()` settles (its
   * rejection is ignored): chunks flow as usual, but the original sink sees the end (and so sends
   * its half-close) later. `undefined` clears it.
   */
  gateEnd (gate: (() => Promise<void>) | undefined): void {
    this.#endGate = gate
  }

  /** True once the application has called `sink`. */
  get sinkCalled (): boolean {
    return this.#appCalled
  }

  /** True once the prefix (if any) has been handed to the original sink. */
  get prefixSent (): boolean {
    return this.#held == null
  }

  /** Queues one negotiation message; resolves once the original sink has taken it. */
  async write (data: Chunk, options?: AbortOptions): Promise<void> {
    throwIfAborted(options?.signal)
    if (this.#sinkError != null) throw this.#sinkError
    if (this.#closed || this.#ended || this.#appCalled) throw new StreamStateError('The negotiation writer is closed')
    const done = new Promise<void>((resolve, reject) => { this.#queue.push({ data, resolve, reject }) })
    this.#start()
    this.#wakeUp()
    await raceSignal(done, options?.signal)
  }

  /**
   * Sends the held prefix now unless it is already on its way; resolves once the original sink has
   * taken it and rejects if the sink fails or stops first.
   */
  async flush (): Promise<void> {
    if (this.#held == null) return
    if (this.#sinkError != null) throw this.#sinkError
    if (this.#closed) throw new StreamStateError('The write side closed before the protocol proposal was sent')
    const sent = new Promise<void>((resolve, reject) => { this.#heldWaiters.push({ resolve, reject }) })
    this.#flushRequested = true
    this.#start()
    this.#wakeUp()
    await sent
  }

  /** Ends negotiation output after a failure: queued messages are dropped and the source ends. */
  end (): void {
    if (this.#ended) return
    this.#ended = true
    this.#failPending(() => new StreamStateError('Negotiation ended'))
    this.#wakeUp()
  }

  /**
   * The sink handed to the application: its chunks follow the negotiation messages (the first one
   * joined with the held prefix, if any). Resolves or rejects as the original sink does.
   */
  readonly sink = async (source: Source<Chunk>): Promise<void> => {
    if (this.#appCalled) throw new StreamStateError('sink can be called only once')
    this.#appCalled = true
    const isAsync = Symbol.asyncIterator in source
    const iterator: AnyIterator = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]()
    if (this.#closed || this.#ended) {
      closeIterator(iterator)
      throw this.#sinkError ?? new StreamStateError('The write side is closed')
    }
    this.#app = iterator
    this.#appIsAsync = isAsync
    this.#start()
    this.#wakeUp()
    // Returned, not awaited: no suspended frame per connection for as long as it lives.
    return this.#sinkPromise
  }

  #start (): void {
    if (this.#sinkPromise != null) return
    let run: Promise<void>
    try {
      run = this.#sink(this)
    } catch (err) {
      run = Promise.reject(err)
    }
    this.#sinkPromise = run.then(() => {
      this.#closed = true
      this.#failPending(() => new StreamStateError('The sink ended before taking all negotiation messages'))
    }, (err: unknown) => {
      const error = err instanceof Error ? err : new Error(String(err))
      this.#closed = true
      this.#sinkError = error
      this.#failPending(error)
      throw error
    })
    // Observed through write(), flush() and the application's sink call.
    this.#sinkPromise.catch(() => {})
  }

  /**
   * Rejects every pending write and flush. The error is built only when someone is waiting: an
   * error object costs a stack trace, and on the normal path nobody is.
   */
  #failPending (err: Error | (() => Error)): void {
    if (this.#inflight == null && this.#queue.length === 0 && this.#heldWaiters.length === 0) return
    const error = typeof err === 'function' ? err() : err
    this.#inflight?.reject(error)
    this.#inflight = undefined
    for (const w of this.#queue.splice(0)) w.reject(error)
    for (const w of this.#heldWaiters.splice(0)) w.reject(error)
  }

  #wakeUp (): void {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }

  next (): Promise<IteratorResult<Chunk, undefined>> {
    const direct = this.#direct
    if (direct != null) return direct.next() as Promise<IteratorResult<Chunk, undefined>>
    return this.#slowNext()
  }

  async #slowNext (): Promise<IteratorResult<Chunk, undefined>> {
    // Being asked for more means the previous chunk was taken.
    const taken = this.#inflight
    if (taken != null) {
      this.#inflight = undefined
      taken.resolve()
    }
    while (true) {
      if (this.#closed) return DONE
      const w = this.#queue.shift()
      if (w != null) {
        this.#inflight = w
        return { done: false, value: w.data }
      }
      if (this.#ended) return DONE
      const app = this.#app
      if (this.#held != null) {
        if (this.#flushRequested) return this.#handOutHeld()
        if (app != null && !this.#appIsAsync && this.#appPending == null) {
          // A synchronous source (an array, a generator) has its first chunk now: nothing to
          // race, no promise to wait on.
          return this.#handOutWithFirst(app.next() as IteratorResult<Chunk>)
        }
        if (app != null) {
          const first = this.#appPending ?? this.#appNext(app)
          this.#appPending = first
          const woken = new Promise<undefined>(resolve => { this.#wake = () => { resolve(undefined) } })
          let result: IteratorResult<Chunk> | undefined
          try {
            result = await Promise.race([first, woken])
          } catch (err) {
            this.#appPending = undefined
            throw err
          } finally {
            this.#wake = undefined
          }
          if (result == null) continue // flush requested or closed: look again
          this.#appPending = undefined
          return this.#handOutWithFirst(result)
        }
      } else if (app != null) {
        const pending = this.#appPending
        if (pending != null) {
          this.#appPending = undefined
          return this.#endGate == null ? pending as Promise<IteratorResult<Chunk, undefined>> : this.#gated(await pending)
        }
        if (this.#endGate != null) return this.#gated(await app.next())
        if (this.#appIsAsync) {
          this.#direct = app as AsyncIterator<Chunk>
          return this.#direct.next() as Promise<IteratorResult<Chunk, undefined>>
        }
        return app.next() as IteratorResult<Chunk, undefined>
      }
      await new Promise<void>(resolve => { this.#wake = resolve })
    }
  }

  /** Passes a chunk on at once, and the end once the end gate (if still set) has settled. */
  async #gated (result: IteratorResult<Chunk>): Promise<IteratorResult<Chunk, undefined>> {
    const gate = this.#endGate
    if (result.done === true && gate != null) await gate().catch(() => {})
    return result as IteratorResult<Chunk, undefined>
  }

  async #appNext (app: AnyIterator): Promise<IteratorResult<Chunk>> {
    return app.next()
  }

  /**
   * Hands out the held prefix with the application's first chunk; when the application wrote
   * nothing, the prefix alone, and its source's end is kept for the next call.
   */
  #handOutWithFirst (result: IteratorResult<Chunk>): IteratorResult<Chunk, undefined> {
    if (result.done === true) {
      this.#appPending = Promise.resolve(result)
      return this.#handOutHeld()
    }
    return this.#handOutHeld(result.value)
  }

  #handOutHeld (chunk?: Chunk): IteratorResult<Chunk, undefined> {
    const held = this.#held as Uint8Array
    this.#held = undefined
    this.#flushRequested = false
    for (const w of this.#heldWaiters.splice(0)) w.resolve()
    return { done: false, value: chunk == null ? held : new Uint8ArrayList(held, chunk) }
  }

  /** Called by the original sink when it stops pulling: the application's source is closed too. */
  async return (): Promise<IteratorResult<Chunk, undefined>> {
    if (!this.#closed) {
      this.#closed = true
      this.#failPending(() => new StreamStateError('The sink stopped reading'))
      this.#wakeUp()
    }
    this.#direct = undefined
    const app = this.#app
    if (app != null) closeIterator(app)
    return DONE
  }

  async throw (err?: unknown): Promise<IteratorResult<Chunk, undefined>> {
    await this.return()
    throw err
  }

  [Symbol.asyncIterator] (): this {
    return this
  }
}

function closeIterator (it: AnyIterator): void {
  if (typeof it.return !== 'function') return
  try {
    void Promise.resolve(it.return()).catch(() => {})
  } catch {
    // a failing return() of the application's iterator is not ours to report
  }
}

/** The stream's sink as a plain function, keeping `this` for sinks written as methods. */
export function originalSink (stream: ByteDuplex): (source: Source<Chunk>) => Promise<void> {
  const sink = stream.sink
  return async (source) => sink.call(stream, source)
}
