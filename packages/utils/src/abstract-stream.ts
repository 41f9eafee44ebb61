import { AbortError, StreamResetError, StreamStateError, TimeoutError } from '@peerkit/interfaces'
import { Uint8ArrayList } from 'uint8arraylist'
import { raceSignal } from './abort.js'
import { ChunkQueue } from './chunk-queue.js'
import type { AbortOptions, Direction, Logger, ReadStatus, Source, Stream, StreamStatus, StreamTimeline, WriteStatus } from '@peerkit/interfaces'

const STOPPED = Symbol('stopped')

export interface AbstractStreamInit {
  /** Stream id, unique within its connection. */
  id: string
  direction: Direction
  log: Logger
  /** How long `close()` waits for the remote to close its side before aborting. Default 10 s. */
  closeTimeout?: number
  /** Called once when the stream has fully ended (closed, aborted or reset). */
  onEnd?(err?: Error): void
}

/** The stream's send signal, made on first use (set in AbstractStream's static block). */
let sendSignalOf: (stream: AbstractStream) => AbortSignal

/**
 * The options handed to `sendData`: their `signal` is created only if a muxer reads it. A class
 * with a prototype getter rather than an object with an own accessor, which V8 keeps in a slow
 * shape with a closure per stream.
 */
class SendOptions implements AbortOptions {
  readonly #stream: AbstractStream
  constructor (stream: AbstractStream) {
    this.#stream = stream
  }

  get signal (): AbortSignal {
    return sendSignalOf(this.#stream)
  }
}

/**
 * Base class of muxed streams (yamux, mplex): everything but the framing.
 *
 * Reading: the muxer calls `pushData()` for received payloads, `remoteCloseWrite()` on FIN and
 * `remoteReset()` on RST; the reader consumes `source`, and every consumed byte is reported to
 * `onDataConsumed()` so a muxer with flow control can grant new credit exactly as fast as the
 * application reads.
 *
 * Writing: `sink` pulls from its source only after `sendData()` of the previous chunk has resolved,
 * so a muxer that awaits send credit inside `sendData()` holds the writer back (backpressure).
 *
 * Subclasses implement `sendData`, `sendCloseWrite`, `sendReset` and may override
 * `sendCloseRead` and `onDataConsumed`.
 */
export abstract class AbstractStream implements Stream {
  readonly id: string
  readonly direction: Direction
  readonly log: Logger
  readonly timeline: StreamTimeline
  readonly metadata: Record<string, unknown> = {}
  protocol?: string
  source: AsyncGenerator<Uint8ArrayList>

  #status: StreamStatus = 'open'
  #readStatus: ReadStatus = 'ready'
  #writeStatus: WriteStatus = 'ready'
  readonly #readQueue: ChunkQueue
  readonly #closeTimeout: number
  readonly #onEnd?: (err?: Error) => void
  #sinkCalled = false
  /** The sink's run while the application writes; settles when it stops. */
  #sinkRun?: Promise<void>
  /** Set to stop the sink from pulling more data (closeWrite, abort, reset, end). */
  #sinkStopped = false
  /** Wakes the sink's pending pull when it is told to stop. */
  #wakeSink?: () => void
  /**
   * Passed to `sendData`: its signal aborts only when the stream is aborted or reset, never by a
   * graceful closeWrite (which must still flush what was pulled). The controller behind it is
   * created only if a muxer reads the signal (most never do: one less object per stream).
   */
  #sendController?: AbortController
  readonly #sendOptions: AbortOptions
  #remoteClosedWrite = false
  #remoteClosedWaiters?: Array<() => void>
  #ended = false

  constructor (init: AbstractStreamInit) {
    this.id = init.id
    this.direction = init.direction
    this.log = init.log
    this.timeline = { open: Date.now() }
    this.#closeTimeout = init.closeTimeout ?? 10_000
    this.#onEnd = init.onEnd
    this.#readQueue = new ChunkQueue({ onConsumed: bytes => { this.onDataConsumed(bytes) } })
    this.source = this.#readQueue
    this.#sendOptions = new SendOptions(this)
  }

  /** Wakes the graceful closes waiting for the remote to close its side. */
  #releaseRemoteClosedWaiters (): void {
    const waiters = this.#remoteClosedWaiters
    if (waiters == null) return
    this.#remoteClosedWaiters = undefined
    for (const fn of waiters) fn()
  }

  static {
    sendSignalOf = (stream) => stream.#sendSignal()
  }

  /** The signal passed to `sendData`, created on first use (already aborted if the stream ended badly). */
  #sendSignal (): AbortSignal {
    if (this.#sendController == null) {
      this.#sendController = new AbortController()
      if (this.#ended && this.#endError != null) this.#sendController.abort(this.#endError)
    }
    return this.#sendController.signal
  }

  get status (): StreamStatus { return this.#status }
  get readStatus (): ReadStatus { return this.#readStatus }
  get writeStatus (): WriteStatus { return this.#writeStatus }

  /** Bytes received and not yet read by the application. */
  get readBufferLength (): number {
    return this.#readQueue.byteLength
  }

  // ---- to be implemented by muxers ----

  /**
   * Sends one chunk of payload; resolve when the chunk may be considered sent (after awaiting
   * credit). `options.signal` aborts when the stream is reset or aborted; it is a getter that
   * creates the signal on first read, so pass `options` (or read `signal`) rather than spread it.
   */
  protected abstract sendData (data: Uint8ArrayList, options: AbortOptions): Promise<void> | void
  /** Tells the remote we will send no more data (yamux FIN, mplex Close). */
  protected abstract sendCloseWrite (options: AbortOptions): Promise<void> | void
  /** Tells the remote the stream is reset (yamux RST, mplex Reset). Must not throw. */
  protected abstract sendReset (err: Error): void
  /** Our read side closed; muxers with no frame for it need not do anything. */
  protected sendCloseRead (_options: AbortOptions): Promise<void> | void {}
  /** The application consumed `bytes` bytes of received data. */
  protected onDataConsumed (_bytes: number): void {}

  // ---- called by muxers ----

  /** Queues received payload for the reader; ignored once our read side is closed. */
  pushData (data: Uint8Array | Uint8ArrayList): void {
    if (this.#readStatus === 'closed') return
    this.#readQueue.push(data)
  }

  /** The remote closed its write side: the reader gets what is buffered, then the end. */
  remoteCloseWrite (): void {
    if (this.#remoteClosedWrite) return
    this.#remoteClosedWrite = true
    this.#readQueue.end()
    if (this.#readStatus !== 'closed') {
      this.#readStatus = 'closed'
      this.timeline.closeRead = Date.now()
    }
    this.#releaseRemoteClosedWaiters()
    this.#maybeEnd()
  }

  /** The remote reset the stream, or the connection died: pending reads and writes fail. */
  remoteReset (err: Error = new StreamResetError()): void {
    if (this.#ended) return
    this.log('stream reset by remote')
    this.timeline.reset = Date.now()
    this.#terminate('reset', err)
  }

  // ---- Stream API ----

  sink = (source: Source<Uint8Array | Uint8ArrayList>): Promise<void> => {
    if (this.#sinkCalled) return Promise.reject(new StreamStateError('sink can be called only once'))
    this.#sinkCalled = true
    if (this.#writeStatus !== 'ready') return Promise.reject(new StreamStateError(`Cannot write: stream write side is ${this.#writeStatus}`))
    this.#writeStatus = 'writing'
    // The run itself is returned: no wrapper promise per stream. `closeWrite` waits on it.
    const run = this.#runSink(source)
    this.#sinkRun = run
    return run
  }

  async #runSink (source: Source<Uint8Array | Uint8ArrayList>): Promise<void> {
    const iterator = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]()
    const isAsync = Symbol.asyncIterator in source
    try {
      while (true) {
        if (this.#sinkStopped) break
        let result: IteratorResult<Uint8Array | Uint8ArrayList> | typeof STOPPED
        if (isAsync) {
          // Each pull waits for the source or for a stop. The waker slot is replaced per pull
          // (instead of racing against one long-lived promise, which would keep a reaction per chunk).
          result = await new Promise<IteratorResult<Uint8Array | Uint8ArrayList> | typeof STOPPED>((resolve, reject) => {
            this.#wakeSink = () => { resolve(STOPPED) }
            Promise.resolve(iterator.next()).then(resolve, reject)
          })
          this.#wakeSink = undefined
        } else {
          // A synchronous source cannot be waiting when a stop comes: no waker needed.
          result = (iterator as Iterator<Uint8Array | Uint8ArrayList>).next()
        }
        // A chunk already pulled when a graceful closeWrite stops the sink is still sent (the loop
        // stops before the next pull); after an abort or reset nothing more goes out.
        if (result === STOPPED || (this.#sinkStopped && this.#ended)) break
        if (result.done === true) break
        const chunk = result.value
        if (chunk.byteLength === 0) continue
        // Awaited only when the muxer has to wait (credit, queue room): most chunks go at once.
        const sent = this.sendData(chunk instanceof Uint8Array ? new Uint8ArrayList(chunk) : chunk, this.#sendOptions)
        if (sent != null) await sent
      }
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err))
      // A failure of the application's source aborts the stream; a failure because the stream
      // was aborted/reset is reported as that.
      if (!this.#ended) this.abort(error)
      throw this.#endError ?? error
    } finally {
      this.#wakeSink = undefined
      // Let the application's generator clean up, without waiting for it.
      if (typeof iterator.return === 'function') {
        void Promise.resolve(iterator.return()).catch(() => {})
      }
    }
    if (this.#ended) {
      if (this.#endError != null) throw this.#endError
      return
    }
    await this.#closeWriteNow({})
  }

  #endError?: Error

  async #closeWriteNow (options: AbortOptions): Promise<void> {
    if (this.#writeStatus === 'closed' || this.#writeStatus === 'closing') return
    this.#writeStatus = 'closing'
    try {
      const sent = this.sendCloseWrite(options)
      if (sent != null) await sent
    } finally {
      if (this.#writeStatus === 'closing') {
        this.#writeStatus = 'closed'
        this.timeline.closeWrite = Date.now()
      }
      this.#maybeEnd()
    }
  }

  async closeWrite (options: AbortOptions = {}): Promise<void> {
    if (this.#writeStatus === 'closed' || this.#writeStatus === 'closing' || this.#ended) return
    if (this.#writeStatus === 'writing') {
      // Stop pulling from the application's source; what was pulled is sent, then FIN. The
      // caller's signal bounds the wait (the remote may be slow to grant send credit).
      this.#stopSink()
      try {
        const run = this.#sinkRun
        if (run != null) await raceSignal(run.then(() => {}, () => {}), options.signal)
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err))
        this.abort(error)
        throw error
      }
      if (this.#ended) return
    } else {
      this.#sinkCalled = true
    }
    try {
      await this.#closeWriteNow(options)
    } catch (err) {
      this.abort(err instanceof Error ? err : new Error(String(err)))
      throw err
    }
  }

  async closeRead (options: AbortOptions = {}): Promise<void> {
    if (this.#ended) return
    // Discard what is buffered even when the remote already ended its side.
    void this.#readQueue.return()
    if (this.#readStatus === 'closed') return
    this.#readStatus = 'closed'
    this.timeline.closeRead = Date.now()
    await this.sendCloseRead(options)
    this.#maybeEnd()
  }

  async close (options: AbortOptions = {}): Promise<void> {
    if (this.#ended) return
    if (options.signal?.aborted === true) {
      const err = options.signal.reason instanceof Error ? options.signal.reason : new AbortError()
      this.abort(err)
      throw err
    }
    if (this.#status === 'open') this.#status = 'closing'
    const timeout = this.#closeTimeout
    let timer: ReturnType<typeof setTimeout> | undefined
    let onAbort: (() => void) | undefined
    const bounded = new Promise<void>((_resolve, reject) => {
      timer = setTimeout(() => { reject(new TimeoutError(`Stream close timed out after ${timeout}ms`, timeout)) }, timeout)
      onAbort = () => { reject(options.signal?.reason instanceof Error ? options.signal.reason : new AbortError()) }
      options.signal?.addEventListener('abort', onAbort, { once: true })
    })
    bounded.catch(() => {})
    try {
      await Promise.race([
        (async () => {
          await this.closeWrite(options)
          if (!this.#remoteClosedWrite && this.#readStatus !== 'closed') {
            await new Promise<void>(resolve => { (this.#remoteClosedWaiters ??= []).push(resolve) })
          }
        })(),
        bounded
      ])
      this.#maybeEnd()
    } catch (err) {
      this.abort(err instanceof Error ? err : new Error(String(err)))
      throw err
    } finally {
      clearTimeout(timer)
      if (onAbort != null) options.signal?.removeEventListener('abort', onAbort)
    }
  }

  abort (err: Error): void {
    if (this.#ended) return
    this.log('stream aborted: %s', err.message)
    this.timeline.abort = Date.now()
    try {
      this.sendReset(err)
    } catch (e) {
      this.log.error('sending reset failed', e)
    }
    this.#terminate('aborted', err)
  }

  /**
   * Ends the stream without telling the remote (the connection is gone). Pending reads and writes
   * fail with `err`.
   */
  destroy (err: Error): void {
    if (this.#ended) return
    this.timeline.reset = Date.now()
    this.#terminate('reset', err)
  }

  #terminate (status: StreamStatus, err: Error): void {
    this.#ended = true
    this.#endError = err
    this.#status = status
    this.#readStatus = 'closed'
    this.#writeStatus = 'closed'
    this.timeline.close = Date.now()
    this.#readQueue.end(err)
    this.#stopSink()
    this.#sendController?.abort(err)
    this.#releaseRemoteClosedWaiters()
    this.#onEnd?.(err)
  }

  /** Tells the sink to pull nothing more (what it already pulled is still sent). */
  #stopSink (): void {
    if (this.#sinkStopped) return
    this.#sinkStopped = true
    const wake = this.#wakeSink
    this.#wakeSink = undefined
    wake?.()
  }

  #maybeEnd (): void {
    if (this.#ended) return
    if (this.#readStatus === 'closed' && this.#writeStatus === 'closed') {
      this.#ended = true
      this.#status = 'closed'
      this.timeline.close = Date.now()
      this.#stopSink()
      this.#releaseRemoteClosedWaiters()
      this.#onEnd?.()
    }
  }
}
