import { Uint8ArrayList } from 'uint8arraylist'

export interface ChunkQueueInit {
  /**
   * `onDrain()` resolves once fewer than this many bytes are queued. Producers that respect it keep
   * the queue bounded. Default 4 MiB.
   */
  highWaterMark?: number
  /**
   * Upper bound on the bytes handed out by one `next()`; larger backlogs are split across calls
   * (without copying). Default: unlimited.
   */
  maxYieldBytes?: number
  /** Called with the number of bytes each time the consumer takes data. */
  onConsumed?(bytes: number): void
  /**
   * When the consumer is waiting, hand it what was pushed only once the current turn of the event
   * loop is done (`setImmediate`), so pushes made by different callbacks of that turn reach it as
   * one batch: for a muxer's outbound queue, one encrypted frame and one syscall instead of one per
   * push. A consumer that is busy when data arrives is unaffected. Default false (hand over at once).
   */
  coalesce?: boolean
}

/** Takes a {@link ChunkQueue}'s batches by calls (see `ChunkQueue.pipeTo`). */
export interface ChunkConsumer {
  /** Takes a batch; returns `false` to have the queue wait for `resume()` before the next one. */
  write(data: Uint8ArrayList): boolean
  /** The queue ended: after its last batch when `err` is undefined, with queued data dropped otherwise. */
  end(err?: Error): void
}

/**
 * A queue of byte chunks consumed as an async iterator. Each `next()` hands the consumer everything
 * queued so far as one `Uint8ArrayList` (no copying), so a burst of small pushes reaches the next
 * stage as one batch: one syscall, one encrypted frame.
 *
 * Producers push synchronously and await `onDrain()` when `needsDrain` is true; the queue never
 * refuses data itself, bounding is the producer's job (muxers do it with flow control or limits).
 */
export class ChunkQueue implements AsyncGenerator<Uint8ArrayList, undefined, unknown> {
  #buffer = new Uint8ArrayList()
  readonly #highWaterMark: number
  readonly #maxYieldBytes: number
  readonly #onConsumed?: (bytes: number) => void
  #coalesce: boolean
  #flushScheduled?: ReturnType<typeof setImmediate>
  #ended = false
  #error?: Error
  #waiter?: { resolve(r: IteratorResult<Uint8ArrayList, undefined>): void, reject(err: Error): void }
  #drainWaiters: Array<() => void> = []
  /** Bytes at the front that were put back with unshift(): already reported as consumed. */
  #unshifted = 0
  /** Takes the batches instead of an iterating reader (see pipeTo). */
  #consumer?: ChunkConsumer
  /** The consumer asked us to wait (its write returned false) until resume(). */
  #blocked = false

  constructor (init: ChunkQueueInit = {}) {
    this.#highWaterMark = init.highWaterMark ?? 4 * 1024 * 1024
    this.#maxYieldBytes = init.maxYieldBytes ?? Infinity
    this.#onConsumed = init.onConsumed
    this.#coalesce = init.coalesce ?? false
  }

  /** Bytes queued and not yet taken by the consumer. */
  get byteLength (): number {
    return this.#buffer.byteLength
  }

  /** True once `end()` was called (queued data may remain). */
  get ended (): boolean {
    return this.#ended
  }

  /** True when producers should wait for `onDrain()` before pushing more. */
  get needsDrain (): boolean {
    return this.#buffer.byteLength >= this.#highWaterMark
  }

  /** Queues a chunk. Ignored after `end()`. Empty chunks are dropped. */
  push (data: Uint8Array | Uint8ArrayList): void {
    if (this.#ended || data.byteLength === 0) return
    this.#buffer.append(data)
    this.#handOver()
  }

  /**
   * Hands every batch to `consumer` by calls from now on, instead of to a reader of `next()`:
   * what is queued at once (or, coalescing, at the end of this turn of the event loop), then each
   * batch as it is pushed, pausing while the consumer is blocked (until `resume()`). When the queue
   * ends, the consumer gets the rest, then `end()`. Call once, instead of iterating.
   *
   * `options.coalesce`, when given, replaces the constructor's `coalesce` from now on: a queue
   * whose iterating reader wants each push at once can still batch per turn for a consumer whose
   * every `write` costs a syscall.
   */
  pipeTo (consumer: ChunkConsumer, options?: { coalesce?: boolean }): void {
    if (this.#consumer != null || this.#waiter != null) throw new Error('ChunkQueue already has a consumer')
    this.#consumer = consumer
    if (options?.coalesce != null) this.#coalesce = options.coalesce
    if (this.#error != null) {
      const err = this.#error
      this.#error = undefined
      consumer.end(err)
      return
    }
    if (this.#ended) {
      if (this.#buffer.byteLength > 0) consumer.write(this.#take())
      consumer.end()
      return
    }
    if (this.#buffer.byteLength > 0) this.#handOver()
  }

  /** The consumer that returned `false` from `write` can take more: hand over what is queued. */
  resume (): void {
    if (!this.#blocked) return
    this.#blocked = false
    if (this.#buffer.byteLength > 0) this.#flush()
  }

  /** Gives the waiting consumer what is queued, now or (coalescing) at the end of this loop turn. */
  #handOver (): void {
    if (this.#consumer != null) {
      if (this.#blocked) return
      if (this.#coalesce) {
        this.#flushScheduled ??= setImmediate(ChunkQueue.#flushLater, this)
        return
      }
      this.#flush()
      return
    }
    if (this.#waiter == null) return
    if (this.#coalesce) {
      this.#flushScheduled ??= setImmediate(ChunkQueue.#flushLater, this)
      return
    }
    this.#flush()
  }

  /** The scheduled hand-over (a static function: no closure per queue). */
  static #flushLater (queue: ChunkQueue): void {
    queue.#flush()
  }

  #flush (): void {
    if (this.#flushScheduled != null) {
      clearImmediate(this.#flushScheduled)
      this.#flushScheduled = undefined
    }
    const consumer = this.#consumer
    if (consumer != null) {
      // Several batches when `maxYieldBytes` splits the backlog, until the consumer asks to wait.
      while (!this.#blocked && this.#buffer.byteLength > 0) {
        if (!consumer.write(this.#take())) this.#blocked = true
      }
      return
    }
    const waiter = this.#waiter
    if (waiter == null || this.#buffer.byteLength === 0) return
    this.#waiter = undefined
    waiter.resolve({ done: false, value: this.#take() })
  }

  /**
   * Puts bytes back in front of the queue (a parser read past its message). Allowed after `end()`
   * as long as the queue has not failed.
   */
  unshift (data: Uint8Array | Uint8ArrayList): void {
    if (this.#error != null || data.byteLength === 0) return
    this.#unshifted += data.byteLength
    this.#buffer.prepend(data)
    this.#handOver()
  }

  /**
   * Ends the queue. Without `err` the consumer first receives what is queued, then `done`. With
   * `err` queued data is discarded and the consumer's next read rejects with `err`.
   */
  end (err?: Error): void {
    if (this.#ended) {
      // An error after a graceful end still wins if the consumer has not finished.
      if (err != null && this.#error == null && this.#buffer.byteLength > 0) this.#fail(err)
      return
    }
    this.#ended = true
    if (err != null) {
      this.#fail(err)
      return
    }
    const consumer = this.#consumer
    if (consumer != null) {
      if (this.#flushScheduled != null) {
        clearImmediate(this.#flushScheduled)
        this.#flushScheduled = undefined
      }
      // The last batch goes out even if the consumer asked to wait: nothing follows it.
      if (this.#buffer.byteLength > 0) consumer.write(this.#take())
      this.#releaseDrainWaiters()
      consumer.end()
      return
    }
    // A coalesced hand-over still pending: the consumer gets the data now, then the end.
    if (this.#flushScheduled != null) this.#flush()
    const waiter = this.#waiter
    if (waiter != null) {
      this.#waiter = undefined
      waiter.resolve({ done: true, value: undefined })
    }
    this.#releaseDrainWaiters()
  }

  #fail (err: Error): void {
    if (this.#flushScheduled != null) {
      clearImmediate(this.#flushScheduled)
      this.#flushScheduled = undefined
    }
    this.#error = err
    this.#unshifted = 0
    this.#buffer.consume(this.#buffer.byteLength)
    const consumer = this.#consumer
    if (consumer != null) {
      this.#error = undefined
      this.#releaseDrainWaiters()
      consumer.end(err)
      return
    }
    const waiter = this.#waiter
    if (waiter != null) {
      this.#waiter = undefined
      this.#error = undefined
      waiter.reject(err)
    }
    this.#releaseDrainWaiters()
  }

  /** Resolves when fewer than `highWaterMark` bytes are queued, or the queue has ended. */
  async onDrain (): Promise<void> {
    if (!this.needsDrain || this.#ended) return
    await new Promise<void>(resolve => { this.#drainWaiters.push(resolve) })
  }

  #releaseDrainWaiters (): void {
    for (const fn of this.#drainWaiters.splice(0)) fn()
  }

  #take (): Uint8ArrayList {
    let out: Uint8ArrayList
    if (this.#buffer.byteLength <= this.#maxYieldBytes) {
      // Hand over the whole list: O(1) however many chunks are queued.
      out = this.#buffer
      this.#buffer = new Uint8ArrayList()
    } else {
      out = this.#buffer.sublist(0, this.#maxYieldBytes)
      this.#buffer.consume(this.#maxYieldBytes)
    }
    if (this.#drainWaiters.length > 0 && !this.needsDrain) this.#releaseDrainWaiters()
    // Bytes put back by unshift() were reported when first taken: report only the new ones.
    const replayed = Math.min(this.#unshifted, out.byteLength)
    this.#unshifted -= replayed
    if (out.byteLength > replayed) this.#onConsumed?.(out.byteLength - replayed)
    return out
  }

  async next (): Promise<IteratorResult<Uint8ArrayList, undefined>> {
    if (this.#consumer != null) throw new Error('ChunkQueue is piped to a consumer')
    if (this.#error != null) {
      const err = this.#error
      this.#error = undefined
      throw err
    }
    if (this.#buffer.byteLength > 0) return { done: false, value: this.#take() }
    if (this.#ended) return { done: true, value: undefined }
    if (this.#waiter != null) throw new Error('ChunkQueue supports one pending next() at a time')
    return new Promise((resolve, reject) => { this.#waiter = { resolve, reject } })
  }

  /** Ends the queue from the consumer's side, discarding what is queued. */
  async return (): Promise<IteratorResult<Uint8ArrayList, undefined>> {
    this.#unshifted = 0
    this.#buffer.consume(this.#buffer.byteLength)
    this.#error = undefined
    this.end()
    return { done: true, value: undefined }
  }

  async throw (err: unknown): Promise<IteratorResult<Uint8ArrayList, undefined>> {
    this.end(err instanceof Error ? err : new Error(String(err)))
    return this.next()
  }

  [Symbol.asyncIterator] (): this {
    return this
  }
}
