import net from 'node:net'
import { AbortError, ConnectionClosedError, InvalidParametersError, StreamStateError, TimeoutError, byteChannel } from '@peerkit/interfaces'
import { abortReason, logger, offerByteChannel, ownedCopy } from '@peerkit/utils'
import { isUint8ArrayList } from 'uint8arraylist'
import { DEFAULT_CLOSE_TIMEOUT, DEFAULT_INACTIVITY_TIMEOUT, DEFAULT_KEEP_ALIVE_INITIAL_DELAY, DEFAULT_MAX_READ_BUFFER_BYTES } from './constants.js'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { ByteChannel, ByteChannelReceiver, Direction, Logger, MultiaddrConnection, MultiaddrConnectionCloseOptions, MultiaddrConnectionTimeline, Source } from '@peerkit/interfaces'
import type { Socket } from 'node:net'
import type { Uint8ArrayList } from 'uint8arraylist'

/** Per-connection socket settings, shared by dialled and accepted connections. */
export interface TCPConnectionOptions {
  /**
   * Disables Nagle's algorithm so small writes are sent at once.
   *
   * @default true
   */
  noDelay?: boolean
  /**
   * Enables TCP keep-alive probes, so a peer that vanished without closing is eventually detected.
   *
   * @default true
   */
  keepAlive?: boolean
  /**
   * Milliseconds of idleness before the first keep-alive probe (when `keepAlive` is on).
   *
   * @default 60000
   */
  keepAliveInitialDelay?: number
  /**
   * Milliseconds without any traffic in either direction after which the connection is aborted
   * with a `TimeoutError`. `0` disables the timeout.
   *
   * @default 300000 (5 minutes)
   */
  inactivityTimeout?: number
  /**
   * Milliseconds a graceful `close()` may take (flushing our writes and waiting for the remote to
   * end its side) before the socket is destroyed. `0` destroys it on the next timer tick.
   *
   * @default 1000
   */
  closeTimeout?: number
  /**
   * Received bytes that may wait unread in the connection's queue. Once more than this is queued
   * the socket stops reading, so the kernel's TCP window holds the remote back; reading resumes
   * when the queue has drained to half of it.
   *
   * @default 131072 (128 KiB)
   */
  maxReadBufferBytes?: number
}

/** Options of {@link toMultiaddrConnection}. */
export interface ToMultiaddrConnectionOptions extends TCPConnectionOptions {
  /** The remote peer's address (for outbound connections, usually the address that was dialled). */
  remoteAddr: Multiaddr
  /** Our side's address, if known. */
  localAddr?: Multiaddr
  /** Whether we dialled (`outbound`) or accepted (`inbound`) the socket. */
  direction: Direction
  /**
   * Logger for this connection.
   *
   * @default logger('peerkit:tcp:connection')
   */
  log?: Logger
  /** Called once when the socket has closed (a listener forgets its connections this way). */
  onClose?: (conn: MultiaddrConnection) => void
}

const defaultLog = logger('peerkit:tcp:connection')

/** What the source returns once it has ended. */
const READ_DONE: IteratorResult<Uint8Array> = { done: true, value: undefined }

/** Result handed to a waiting sink when a local `close()` asks it to stop. */
const STOP = Symbol('stop')

type SinkWake = 'next' | 'drain' | 'finish'

interface SinkWaiter {
  kind: SinkWake
  resolve(value: unknown): void
  reject(err: Error): void
}

function checkTimeout (name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new InvalidParametersError(`${name} must be a finite number >= 0, got ${String(v)}`)
  }
  return v
}

/**
 * A {@link MultiaddrConnection} over a connected `node:net` socket.
 *
 * - `source` yields the socket's chunks as they arrive, with backpressure bounded by
 *   `maxReadBufferBytes`; it ends when the remote half-closes (FIN) or when we close the
 *   connection, and throws the socket error (or the `abort` error) otherwise.
 * - `sink` writes chunks in order, waits for `drain` whenever the socket's write buffer is full,
 *   and half-closes the socket when its source ends. It may be called once.
 * - `close()` ends our side, lets the remote end its side, and destroys the socket after
 *   `closeTimeout`; with `waitForRemote: false` it resolves once every byte is in the kernel and
 *   our FIN is requested (see `#endWrites`), and the rest goes on without the caller. `abort()`
 *   resets the connection at once.
 */
class TCPMultiaddrConnection implements MultiaddrConnection {
  readonly remoteAddr: Multiaddr
  readonly localAddr?: Multiaddr
  readonly direction: Direction
  readonly timeline: MultiaddrConnectionTimeline
  readonly log: Logger
  readonly source: AsyncGenerator<Uint8Array>

  readonly #socket: Socket
  readonly #closeTimeout: number
  readonly #inactivityTimeout: number
  readonly #maxReadBufferBytes: number
  readonly #resumeBelow: number

  // read side
  readonly #queue: Uint8Array[] = []
  #queueHead = 0
  #queuedBytes = 0
  #paused = false
  #readStarted = false
  #readDone = false
  #discarding = false
  #remoteEnded = false
  #readWaiter: (() => void) | undefined

  // write side
  #sinkCalled = false
  #sinkWaiter: SinkWaiter | undefined

  // byte channel (see claim): once claimed, received bytes go to the receiver, not the queue
  #claimed = false
  #receiver: ByteChannelReceiver | undefined
  #receiverDone = false

  // lifecycle
  #error: Error | undefined
  #closing = false
  #closed = false
  #closePromise: Promise<void> | undefined
  #onClosed: (() => void) | undefined
  /** Settles when our side is done after a local close(): FIN queued (`finish`) or socket closed. */
  #sentPromise: Promise<void> | undefined
  #onSent: (() => void) | undefined
  readonly #onCloseOption?: (conn: MultiaddrConnection) => void
  #closeTimer: ReturnType<typeof setTimeout> | undefined

  constructor (socket: Socket, options: ToMultiaddrConnectionOptions) {
    if (socket.destroyed) throw new ConnectionClosedError(`Socket to ${options.remoteAddr.toString()} is already closed`)
    const inactivityTimeout = checkTimeout('inactivityTimeout', options.inactivityTimeout, DEFAULT_INACTIVITY_TIMEOUT)
    this.#closeTimeout = checkTimeout('closeTimeout', options.closeTimeout, DEFAULT_CLOSE_TIMEOUT)
    const keepAliveInitialDelay = checkTimeout('keepAliveInitialDelay', options.keepAliveInitialDelay, DEFAULT_KEEP_ALIVE_INITIAL_DELAY)
    const maxRead = options.maxReadBufferBytes ?? DEFAULT_MAX_READ_BUFFER_BYTES
    if (!Number.isSafeInteger(maxRead) || maxRead < 1) {
      throw new InvalidParametersError(`maxReadBufferBytes must be a positive integer, got ${String(maxRead)}`)
    }
    this.#maxReadBufferBytes = maxRead
    this.#resumeBelow = Math.floor(maxRead / 2)

    this.#socket = socket
    this.remoteAddr = options.remoteAddr
    if (options.localAddr != null) this.localAddr = options.localAddr
    this.direction = options.direction
    this.timeline = { open: Date.now() }
    this.log = options.log ?? defaultLog
    if (options.onClose != null) this.#onCloseOption = options.onClose

    socket.setNoDelay(options.noDelay ?? true)
    socket.setKeepAlive(options.keepAlive ?? true, keepAliveInitialDelay)
    if (inactivityTimeout > 0) socket.setTimeout(inactivityTimeout)

    this.#inactivityTimeout = inactivityTimeout
    // The listeners are shared by every connection and find theirs through the socket.
    ;(socket as OwnedSocket)[OWNER] = this
    const on = TCPMultiaddrConnection.#listeners
    socket.on('data', on.data)
    socket.on('end', on.end)
    socket.on('error', on.error)
    socket.on('close', on.close)
    socket.on('drain', on.drain)
    socket.on('finish', on.finish)
    socket.on('timeout', on.timeout)

    this.source = this.#createSource()
    offerByteChannel(this, () => this.#claim())
  }

  /** For log lines and error messages, made when needed (most connections never log). */
  get #name (): string {
    return `${this.direction} ${this.remoteAddr.toString()}`
  }

  // ---------------------------------------------------------------- socket events

  /** The socket listeners, one set for all connections (no closures per connection). */
  static readonly #listeners = {
    data (this: OwnedSocket, buf: Buffer): void { this[OWNER].#onData(buf) },
    end (this: OwnedSocket): void { this[OWNER].#onEnd() },
    error (this: OwnedSocket, err: Error): void { this[OWNER].#onError(err) },
    close (this: OwnedSocket): void { this[OWNER].#onClose() },
    drain (this: OwnedSocket): void { this[OWNER].#onDrain() },
    finish (this: OwnedSocket): void { this[OWNER].#onFinish() },
    timeout (this: OwnedSocket): void { this[OWNER].#onTimeout() }
  }

  #onTimeout (): void {
    const ms = this.#inactivityTimeout
    this.log('%s: no traffic for %dms, aborting', this.#name, ms)
    this.abort(new TimeoutError(`Connection ${this.#name} was inactive for ${ms}ms`, ms))
  }

  /**
   * `onread` callback of sockets dialled with {@link sharedReadOption}: `buf` is the shared read
   * buffer, valid only during this call. A receiver that takes transient data decodes it in place;
   * anything else gets a copy.
   */
  static readonly onSharedRead = function (this: OwnedSocket, nread: number, buf: Uint8Array): boolean {
    const owner = this[OWNER]
    // Nothing arrives before the connection owns the socket (reads start on connect and the
    // connection is made in the same turn); a socket without one has nobody to read for.
    if (owner == null) return false
    const view = buf.subarray(0, nread)
    const receiver = owner.#receiver
    if (receiver?.transientData === true) {
      if (!owner.#receiverDone) receiver.onData(view)
    } else if (receiver != null || !owner.#discarding) {
      // In pieces of at most 64 KiB, the size of node's own read buffers: copying whole reads of up
      // to 256 KiB took half of a plaintext receiver's CPU, nearly all of it in the copy and the
      // allocation (buffers that large are mapped fresh from the kernel each time, zeroed and
      // faulted in; 64 KiB ones are reused from the C allocator's heap).
      for (const piece of ownedCopy(view)) owner.#onData(piece)
    }
    // Pausing, when the queue is full, is #onData's: `false` would pause the socket again.
    return true
  }

  #onData (buf: Uint8Array): void {
    const receiver = this.#receiver
    if (receiver != null) {
      if (!this.#receiverDone) receiver.onData(buf)
      return
    }
    if (this.#discarding) {
      this.log.trace('%s: discarding %d unread bytes', this.#name, buf.byteLength)
      return
    }
    this.#queue.push(buf)
    this.#queuedBytes += buf.byteLength
    if (this.#queuedBytes > this.#maxReadBufferBytes && !this.#paused) {
      this.#paused = true
      this.#socket.pause()
    }
    this.#wakeReader()
  }

  #onEnd (): void {
    this.log('%s: remote ended its side', this.#name)
    this.#remoteEnded = true
    this.#wakeReader()
  }

  #onError (err: Error): void {
    this.log('%s: socket error %s', this.#name, (err as NodeJS.ErrnoException).code ?? err.message)
    this.#fail(err)
  }

  #onClose (): void {
    this.#closed = true
    this.timeline.close ??= Date.now()
    if (this.#closeTimer != null) clearTimeout(this.#closeTimer)
    this.#closeTimer = undefined
    if (this.#error == null && !this.#closing && !this.#remoteEnded) {
      // Neither an error, nor our own close, nor a FIN: treat it as a loss of the connection.
      this.#error = new ConnectionClosedError(`Connection ${this.#name} closed unexpectedly`)
    }
    this.log('%s: closed%s', this.#name, this.#error != null ? ` (${this.#error.message})` : '')
    this.#wakeReader()
    const waiter = this.#sinkWaiter
    if (waiter != null) {
      this.#sinkWaiter = undefined
      if (this.#error != null) waiter.reject(this.#error)
      else if (waiter.kind === 'finish' && this.#socket.writableFinished) waiter.resolve(undefined)
      else if (this.#closing) waiter.resolve(STOP)
      else waiter.reject(new ConnectionClosedError(`Connection ${this.#name} closed while writing`))
    }
    this.#onSent?.()
    this.#onClosed?.()
    this.#onCloseOption?.(this)
  }

  #onDrain (): void {
    if (this.#sinkWaiter?.kind === 'drain') this.#wakeSink(undefined)
    if (this.#receiver != null && !this.#receiverDone) this.#receiver.onDrain()
  }

  #onFinish (): void {
    this.#onSent?.()
    if (this.#sinkWaiter?.kind === 'finish') this.#wakeSink(undefined)
  }

  /** Records the first error, fails the pending read and write. */
  #fail (err: Error): void {
    this.#error ??= err
    this.#wakeReader()
    const waiter = this.#sinkWaiter
    if (waiter != null) {
      this.#sinkWaiter = undefined
      waiter.reject(this.#error)
    }
  }

  #wakeReader (): void {
    if (this.#receiver != null) this.#notifyReceiver()
    const waiter = this.#readWaiter
    if (waiter != null) {
      this.#readWaiter = undefined
      waiter()
    }
  }

  #wakeSink (value: unknown): void {
    const waiter = this.#sinkWaiter
    if (waiter != null) {
      this.#sinkWaiter = undefined
      waiter.resolve(value)
    }
  }

  // ---------------------------------------------------------------- byte channel

  /**
   * Hands the connection over to a byte channel, when nothing is in progress through the duplex:
   * no read waiting, and the sink (if a handshake started it) waiting for its next chunk — it is
   * stopped without ending our side, and the chain of sources it pulled from is released.
   */
  #claim (): ByteChannel | undefined {
    if (this.#claimed || this.#readDone || this.#discarding || this.#readWaiter != null) return undefined
    if (this.#sinkCalled && this.#sinkWaiter?.kind !== 'next') return undefined
    this.#claimed = true
    this.#readStarted = true
    this.#sinkCalled = true
    this.#wakeSink(STOP)
    // The duplex is spent: drop the wrappers earlier layers installed on it.
    const self = this as unknown as { source: AsyncGenerator<Uint8Array>, sink: (source: Source<Uint8Array | Uint8ArrayList>) => Promise<void> }
    self.source = SPENT_SOURCE
    self.sink = spentSink
    // The offers layers left on this object hold their handshake state (readers, writers): let go.
    delete (this as { [byteChannel]?: unknown })[byteChannel]
    this.log.trace('%s: byte channel claimed', this.#name)
    return new TCPMultiaddrConnection.#Channel(this)
  }

  /** The byte channel of a claimed connection: methods on a small object, no closures. */
  static readonly #Channel = class TCPByteChannel implements ByteChannel {
    readonly #conn: TCPMultiaddrConnection
    constructor (conn: TCPMultiaddrConnection) { this.#conn = conn }
    attach (receiver: ByteChannelReceiver): void { this.#conn.#attach(receiver) }
    write (data: Uint8Array | Uint8ArrayList, release?: () => void): boolean { return this.#conn.#channelWrite(data, release) }
    async end (): Promise<void> { return this.#conn.#channelEnd() }
  }

  #attach (receiver: ByteChannelReceiver): void {
    if (this.#receiver != null) throw new StreamStateError(`The byte channel of connection ${this.#name} is already attached`)
    this.#receiver = receiver
    // What arrived before: delivered now, in order.
    const queued = this.#queue.slice(this.#queueHead)
    this.#queue.length = 0
    this.#queueHead = 0
    this.#queuedBytes = 0
    for (const buf of queued) {
      if (this.#receiverDone) break
      receiver.onData(buf)
    }
    if (this.#paused) {
      this.#paused = false
      if (!this.#socket.destroyed) this.#socket.resume()
    }
    this.#notifyReceiver()
  }

  /** Tells the receiver, once, that the connection ended or failed. */
  #notifyReceiver (): void {
    const receiver = this.#receiver
    if (receiver == null || this.#receiverDone) return
    if (this.#error != null) {
      this.#receiverDone = true
      receiver.onError(this.#error)
    } else if (this.#remoteEnded || this.#closed) {
      this.#receiverDone = true
      receiver.onEnd()
    }
  }

  #channelWrite (data: Uint8Array | Uint8ArrayList, release?: () => void): boolean {
    // A failed or ending connection drops the bytes; its receiver hears of the failure.
    if (this.#error != null || this.#socket.destroyed || this.#socket.writableEnded) return true
    return this.#write(data, release)
  }

  async #channelEnd (): Promise<void> {
    if (this.#error != null) throw this.#error
    if (this.#socket.writableFinished) return
    await this.#endWrites()
  }

  /**
   * Ends our side (FIN after what is buffered) and waits until everything is handed to the kernel:
   * at once when nothing is left in our buffer, since libuv then only has the FIN itself to queue
   * (on its next turn), else until `finish`.
   */
  async #endWrites (): Promise<unknown> {
    const finished = this.#waitSink('finish')
    if (!this.#socket.writableEnded && !this.#socket.destroyed) this.#socket.end()
    if (this.#allInKernel()) {
      // The waiter stays for `#onFinish` / `#onClose`; a failure still reaches the connection's state.
      finished.catch(() => {})
      return undefined
    }
    return finished
  }

  /** Our side is ended and every byte written is in the kernel (only the FIN may still be to queue). */
  #allInKernel (): boolean {
    return this.#error == null && !this.#socket.destroyed && this.#socket.writableEnded && this.#socket.writableLength === 0
  }

  // ---------------------------------------------------------------- read side

  /**
   * The connection's `source`: a plain iterator object over the receive queue rather than an async
   * generator, so a chunk costs one settled promise on its way to the reader. Ending it early
   * (`return()`, or an error it threw) drops what is queued and keeps the socket flowing.
   */
  #createSource (): AsyncGenerator<Uint8Array> {
    const source: AsyncGenerator<Uint8Array> = {
      next: () => this.#nextChunk(),
      return: async () => {
        this.#endRead()
        return READ_DONE
      },
      throw: async (err?: unknown) => {
        this.#endRead()
        throw err
      },
      [Symbol.asyncIterator]: () => source
    }
    return source
  }

  async #nextChunk (): Promise<IteratorResult<Uint8Array>> {
    if (this.#readDone) return READ_DONE
    this.#readStarted = true
    if (this.#error != null) {
      const err = this.#error
      this.#endRead()
      throw err
    }
    if (this.#queueHead < this.#queue.length) {
      const buf = this.#queue[this.#queueHead]
      this.#queue[this.#queueHead++] = EMPTY
      if (this.#queueHead === this.#queue.length) {
        this.#queue.length = 0
        this.#queueHead = 0
      } else if (this.#queueHead >= 1024 && this.#queueHead * 2 >= this.#queue.length) {
        // A reader that never quite catches up: drop the consumed slots (amortised O(1)).
        this.#queue.splice(0, this.#queueHead)
        this.#queueHead = 0
      }
      this.#queuedBytes -= buf.byteLength
      if (this.#paused && this.#queuedBytes <= this.#resumeBelow) {
        this.#paused = false
        if (!this.#socket.destroyed) this.#socket.resume()
      }
      return { done: false, value: buf }
    }
    if (this.#remoteEnded || this.#closed || this.#discarding) {
      this.#endRead()
      return READ_DONE
    }
    // A read that has to wait is parked as one promise reaction rather than a suspended async
    // frame, which (with its context) would live as long as the connection stays idle.
    return new Promise<void>(resolve => { this.#readWaiter = resolve }).then(async () => this.#nextChunk())
  }

  /** The reader is done (end, error or `return()`): release a pending read and drop what is queued. */
  #endRead (): void {
    if (this.#readDone) return
    this.#readDone = true
    if (!this.#remoteEnded && !this.#closed) this.#discard()
    this.#wakeReader()
  }

  /**
   * Nobody will read any more: drop what is queued and keep the socket flowing so the remote's
   * FIN (and with it the socket's close) is not held up behind unread data.
   */
  #discard (): void {
    if (this.#discarding) return
    this.#discarding = true
    if (this.#queuedBytes > 0) this.log.trace('%s: discarding %d unread bytes', this.#name, this.#queuedBytes)
    this.#queue.length = 0
    this.#queueHead = 0
    this.#queuedBytes = 0
    if (this.#paused) {
      this.#paused = false
      if (!this.#socket.destroyed) this.#socket.resume()
    }
    this.#wakeReader()
  }

  // ---------------------------------------------------------------- write side

  readonly sink = async (source: Source<Uint8Array | Uint8ArrayList>): Promise<void> => {
    if (this.#sinkCalled) throw new StreamStateError(`The sink of connection ${this.#name} was already called`)
    this.#sinkCalled = true
    if (this.#error != null) throw this.#error
    if (this.#closing || this.#closed) throw new StreamStateError(`Connection ${this.#name} is closed`)

    const asyncIt = (source as Partial<AsyncIterable<Uint8Array | Uint8ArrayList>>)[Symbol.asyncIterator]
    const isAsync = typeof asyncIt === 'function'
    const iterator: AsyncIterator<Uint8Array | Uint8ArrayList> | Iterator<Uint8Array | Uint8ArrayList> = isAsync
      ? asyncIt.call(source)
      : (source as Iterable<Uint8Array | Uint8ArrayList>)[Symbol.iterator]()
    let finished = false
    let sourceError: unknown
    let hasSourceError = false

    try {
      while (true) {
        let result: IteratorResult<Uint8Array | Uint8ArrayList>
        try {
          const next = iterator.next()
          if (isAsync) {
            const r = await this.#waitSink('next', Promise.resolve(next))
            if (r === STOP) return
            result = r as IteratorResult<Uint8Array | Uint8ArrayList>
          } else {
            result = next as IteratorResult<Uint8Array | Uint8ArrayList>
          }
        } catch (err) {
          if (err === this.#error) throw err
          hasSourceError = true
          sourceError = err
          throw err
        }
        if (result.done === true) {
          finished = true
          break
        }
        // A local close() stops the sink quietly.
        if (this.#closing) return
        this.#checkWritable()
        if (!this.#write(result.value)) {
          const r = await this.#waitSink('drain')
          if (r === STOP) return
        }
      }

      // Source done: half-close and wait until everything is handed to the kernel.
      if (this.#closing) return
      this.#checkWritable()
      this.log.trace('%s: sink done, ending our side', this.#name)
      await this.#endWrites()
    } catch (err) {
      if (hasSourceError) {
        const e = sourceError instanceof Error ? sourceError : new Error(String(sourceError))
        this.log('%s: sink source failed, aborting: %s', this.#name, e.message)
        this.abort(e)
      }
      throw err
    } finally {
      if (!finished && typeof iterator.return === 'function') {
        try {
          const r = iterator.return()
          if (r instanceof Promise) r.catch(() => {})
        } catch {
          // The source's own cleanup failed; the sink's outcome is already decided.
        }
      }
    }
  }

  #checkWritable (): void {
    if (this.#error != null) throw this.#error
    if (this.#socket.destroyed || this.#socket.writableEnded) {
      throw new StreamStateError(`Connection ${this.#name} is closed for writing`)
    }
  }

  /**
   * Writes one chunk; returns false when the socket asks us to wait for `drain`. `release` is
   * called once the socket is done with every byte of the chunk: node calls a write's callback
   * after libuv has written it (or, on failure, after libuv has let go of it, or without ever
   * having handed it over), and in the order of the writes.
   */
  #write (chunk: Uint8Array | Uint8ArrayList, release?: () => void): boolean {
    if (chunk instanceof Uint8Array) {
      if (chunk.byteLength === 0) return true
      return release == null ? this.#socket.write(chunk) : this.#socket.write(chunk, release)
    }
    if (!isUint8ArrayList(chunk)) {
      const err = new InvalidParametersError(`The sink of connection ${this.#name} was given a ${typeof chunk}, expected Uint8Array or Uint8ArrayList`)
      this.abort(err)
      throw err
    }
    // Hand every part to the socket in one writev, without concatenating.
    let ok = true
    let last: Uint8Array | undefined
    this.#socket.cork()
    try {
      for (const buf of chunk) {
        if (buf.byteLength === 0) continue
        // Each piece goes out one behind: the last one carries `release`.
        if (last != null) ok = this.#socket.write(last)
        last = buf
      }
      if (last != null) ok = release == null ? this.#socket.write(last) : this.#socket.write(last, release)
    } finally {
      this.#socket.uncork()
    }
    return ok
  }

  /**
   * Waits for the socket event `kind` (or for `promise`, the source's next value), or until the
   * connection fails (rejects with its error) or is closed locally (resolves `STOP`).
   */
  async #waitSink (kind: SinkWake, promise?: Promise<unknown>): Promise<unknown> {
    if (this.#error != null) throw this.#error
    if (this.#closed) {
      if (kind === 'finish' && this.#socket.writableFinished) return undefined
      if (this.#closing) return STOP
      throw new ConnectionClosedError(`Connection ${this.#name} is closed`)
    }
    if (this.#closing && kind !== 'finish') return STOP
    return new Promise((resolve, reject) => {
      const waiter: SinkWaiter = { kind, resolve, reject }
      this.#sinkWaiter = waiter
      promise?.then(value => {
        if (this.#sinkWaiter === waiter) this.#sinkWaiter = undefined
        resolve(value)
      }, err => {
        if (this.#sinkWaiter === waiter) this.#sinkWaiter = undefined
        reject(err)
      })
    })
  }

  // ---------------------------------------------------------------- lifecycle

  async close (options?: MultiaddrConnectionCloseOptions): Promise<void> {
    if (this.#closed) return
    this.#closePromise ??= this.#gracefulClose()
    // #gracefulClose has set #sentPromise synchronously.
    const done = options?.waitForRemote === false ? this.#sentPromise ?? this.#closePromise : this.#closePromise
    const signal = options?.signal
    if (signal == null) return done
    if (signal.aborted) {
      const err = closeAbortReason(signal, this.#name)
      this.abort(err)
      throw err
    }
    let onAbort: (() => void) | undefined
    try {
      await new Promise<void>((resolve, reject) => {
        onAbort = () => {
          const err = closeAbortReason(signal, this.#name)
          this.abort(err)
          reject(err)
        }
        signal.addEventListener('abort', onAbort, { once: true })
        done.then(resolve, resolve)
      })
    } finally {
      if (onAbort != null) signal.removeEventListener('abort', onAbort)
    }
  }

  async #gracefulClose (): Promise<void> {
    this.#closing = true
    this.log('%s: closing', this.#name)
    const closed = new Promise<void>(resolve => { this.#onClosed = resolve })
    this.#sentPromise = new Promise<void>(resolve => { this.#onSent = resolve })
    // A sink still pulling from its source stops; what it already wrote is flushed below.
    if (this.#sinkWaiter?.kind !== 'finish') this.#wakeSink(STOP)
    // Without an active reader, incoming data would only hold the remote's FIN up.
    if (!this.#readStarted || this.#readDone) this.#discard()
    this.#closeTimer = setTimeout(() => {
      this.#closeTimer = undefined
      if (this.#closed) return
      this.log('%s: not closed after %dms, destroying', this.#name, this.#closeTimeout)
      this.#socket.destroy()
    }, this.#closeTimeout)
    if (!this.#socket.writableEnded && !this.#socket.destroyed) this.#socket.end()
    // Our side may have ended before (the sink finished): then it is already done; so it is when
    // the kernel has every byte (see #endWrites).
    if (this.#socket.writableFinished || this.#allInKernel()) this.#onSent?.()
    await closed
  }

  abort (err: Error): void {
    if (this.#closed) return
    this.log('%s: aborting: %s', this.#name, err.message)
    this.timeline.close ??= Date.now()
    this.#fail(err)
    if (this.#closeTimer != null) clearTimeout(this.#closeTimer)
    this.#closeTimer = undefined
    if (this.#socket.destroyed) return
    if (this.#socket.writableEnded) {
      // Our FIN is queued or sent; libuv refuses to reset a socket that is shutting down (and
      // would then never close it), so just close it.
      this.#socket.destroy()
      return
    }
    try {
      // Send RST, so the remote learns the connection failed rather than ended.
      this.#socket.resetAndDestroy()
    } catch {
      this.#socket.destroy()
    }
  }
}

const EMPTY = new Uint8Array(0)

/** Marks a socket with the connection its (shared) listeners serve. */
const OWNER = Symbol('peerkit.tcp.connection')
type OwnedSocket = Socket & { [OWNER]: TCPMultiaddrConnection }

function spentError (): StreamStateError {
  return new StreamStateError('The byte channel of this connection was claimed: use the channel, not source or sink')
}

/** `source` of a connection whose byte channel was claimed. */
const SPENT_SOURCE: AsyncGenerator<Uint8Array> = {
  next: async () => { throw spentError() },
  return: async () => READ_DONE,
  throw: async (err?: unknown) => { throw err },
  [Symbol.asyncIterator]: () => SPENT_SOURCE
}

/** `sink` of a connection whose byte channel was claimed. */
async function spentSink (): Promise<void> {
  throw spentError()
}

function closeAbortReason (signal: AbortSignal, name: string): Error {
  const reason = abortReason(signal)
  return reason.name === 'AbortError' ? new AbortError(`Closing connection ${name} was aborted`) : reason
}

/**
 * Size of the read buffer shared by our sockets. Node reads into a new 64 KiB buffer otherwise; one
 * shared buffer costs the same whatever its size, and a larger one means a quarter of the reads
 * (and read callbacks) of a bulk transfer, and a full-size Noise message (65,537 bytes on the wire)
 * split across two reads once per four messages instead of nearly every time. Measured on a
 * noise + yamux push: the receiver's CPU per GiB fell by about a quarter.
 */
const SHARED_READ_BUFFER_BYTES = 256 * 1024
let sharedReadBuffer: Buffer | undefined

/**
 * `net.connect`'s `onread` option for a socket that will be wrapped by
 * {@link toMultiaddrConnection}: the socket reads into one 256 KiB buffer shared by every such
 * socket in the process, instead of into a new buffer per read. Sharing is safe because each read
 * is handed on within the read's own callback: a byte-channel receiver that declares
 * `transientData` (Noise) decrypts it in place and copies only the part of a message it has to
 * keep, everything else gets a copy. Receivers of bulk data then cost no allocation per read and
 * the garbage collector has a buffer less to reclaim per read. For sockets a `net.Server` accepted,
 * see {@link adoptSharedRead}.
 */
export function sharedReadOption (): { buffer: Buffer, callback: (nread: number, buf: Uint8Array) => boolean } {
  return { buffer: (sharedReadBuffer ??= Buffer.allocUnsafe(SHARED_READ_BUFFER_BYTES)), callback: TCPMultiaddrConnection.onSharedRead }
}

/** Where a `net.Socket` keeps what its `onread` option set up (found at run time, see below). */
interface ReadHookKeys { buffer: symbol, callback: symbol }
/** `null`: this Node has no such fields (or they could not be told apart); `undefined`: not probed yet. */
let readHookKeys: ReadHookKeys | null | undefined

/**
 * Finds the two fields in which a `net.Socket` made with `onread` keeps the buffer and the
 * callback: a probe socket (never connected) is made with a unique buffer and callback, and the
 * fields are the own symbol-keyed properties holding exactly those values. Their names are Node's
 * own business, so nothing is assumed about them beyond that.
 */
function findReadHookKeys (): ReadHookKeys | null {
  if (readHookKeys !== undefined) return readHookKeys
  readHookKeys = null
  try {
    const buffer = Buffer.allocUnsafe(1)
    const callback = (): boolean => true
    // @types/node lists `onread` for `net.connect` only; the constructor takes it too.
    const probe = new net.Socket({ onread: { buffer, callback } } as unknown as net.SocketConstructorOpts)
    const fields = probe as unknown as Record<symbol, unknown>
    const keys = Object.getOwnPropertySymbols(probe)
    const bufferKeys = keys.filter(k => fields[k] === buffer)
    const callbackKeys = keys.filter(k => fields[k] === callback)
    probe.destroy()
    if (bufferKeys.length === 1 && callbackKeys.length === 1) {
      readHookKeys = { buffer: bufferKeys[0], callback: callbackKeys[0] }
    }
  } catch {
    // A Node whose sockets cannot be probed: accepted sockets keep Node's own reads.
  }
  return readHookKeys
}

/**
 * Makes a socket that a `net.Server` just accepted read into the shared buffer of
 * {@link sharedReadOption}, as a dialled socket does with `onread` (Node offers that option for
 * `net.connect` only). Call it in the server's `connection` event, before the first read; then
 * wrap the socket with {@link toMultiaddrConnection}.
 *
 * Node has no public way to do this, so it sets the socket up the way the `onread` option would:
 * the two fields that option fills (located by {@link findReadHookKeys}) and the handle's
 * `useUserBuffer()`. Everything it relies on is checked first; when something is missing (another
 * runtime, a future Node) it changes nothing and returns `false`, and the socket reads into a new
 * buffer per read as before. Returns `true` when the socket now reads into the shared buffer.
 */
export function adoptSharedRead (socket: Socket): boolean {
  const keys = findReadHookKeys()
  if (keys == null) return false
  const fields = socket as unknown as Record<symbol, unknown>
  const handle = (socket as unknown as { _handle?: { useUserBuffer?: unknown } })._handle
  // Not a fresh, plain socket (already reading into a user buffer, already read from, or closed).
  if (fields[keys.buffer] !== null || fields[keys.callback] !== null) return false
  if (handle == null || typeof handle.useUserBuffer !== 'function' || socket.bytesRead !== 0 || socket.destroyed) return false
  const { buffer, callback } = sharedReadOption()
  try {
    (handle.useUserBuffer as (buf: Uint8Array) => void).call(handle, buffer)
  } catch {
    return false
  }
  fields[keys.buffer] = buffer
  fields[keys.callback] = callback
  return true
}

/**
 * Wraps a connected socket in a {@link MultiaddrConnection}. The socket should have been created
 * with `allowHalfOpen: true` so that half-close works in both directions. The connection takes
 * over the socket: do not read from or write to it afterwards.
 *
 * @throws {InvalidParametersError} if an option is out of range
 * @throws {ConnectionClosedError} if the socket is already destroyed
 */
export function toMultiaddrConnection (socket: Socket, options: ToMultiaddrConnectionOptions): MultiaddrConnection {
  return new TCPMultiaddrConnection(socket, options)
}
