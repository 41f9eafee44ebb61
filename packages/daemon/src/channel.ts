import { ConnectionClosedError, InvalidMessageError, LimitExceededError, StreamStateError, UnexpectedEOFError } from '@peerkit/interfaces'
import { raceSignal } from '@peerkit/utils'
import * as varint from 'uint8-varint'
import { Uint8ArrayList } from 'uint8arraylist'
import type { AbortOptions, Logger, Source } from '@peerkit/interfaces'
import type { Socket } from 'node:net'

/** Largest control message accepted by default: 4 MiB, as p2pd and the js daemon. */
export const DEFAULT_MAX_MESSAGE_SIZE = 4 * 1024 * 1024

/** Received bytes queued before the socket is paused. */
const QUEUE_HIGH_WATER_MARK = 64 * 1024

/** A varint longer than this cannot be a length we would accept. */
const MAX_VARINT_BYTES = 9

export interface SocketChannelInit {
  /** Longest message `readFrame` accepts, in bytes. Default 4 MiB. */
  maxMessageSize?: number
  /** Where socket errors are logged. */
  log: Logger
}

/**
 * A control connection: varint-length-prefixed messages over a `net.Socket`, then (for streams)
 * raw bytes both ways. At most 64 KiB of unread data is queued before the socket is paused, so a
 * reader that does not keep up holds the sender back. Bytes read past the last message are handed
 * to `source()` first, so nothing is lost when the connection turns into a stream.
 *
 * The channel installs an `error` listener on the socket: a socket error never becomes an uncaught
 * exception, it fails the pending read or write instead.
 */
export class SocketChannel {
  /** The socket (for its events and addresses; read and write through the channel). */
  readonly socket: Socket
  readonly #maxMessageSize: number
  readonly #log: Logger
  readonly #buffer = new Uint8ArrayList()
  /** Chunks received and not yet pulled; the socket is paused while they exceed the high water mark. */
  readonly #queue: Uint8Array[] = []
  #queued = 0
  /** Woken on every socket event: a reader waiting for data, a closer waiting for the end. */
  #waiters: Array<() => void> = []
  #ended = false
  #closed = false
  #eof = false
  #sourceTaken = false
  #error?: Error

  constructor (socket: Socket, init: SocketChannelInit) {
    this.socket = socket
    this.#maxMessageSize = init.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE
    this.#log = init.log
    // Events rather than the socket's async iterator: that iterator destroys the socket when the
    // peer ends its side, which would cut our write side of a half-closed stream.
    socket.on('data', (chunk: Uint8Array) => {
      this.#queue.push(chunk)
      this.#queued += chunk.byteLength
      if (this.#queued >= QUEUE_HIGH_WATER_MARK) socket.pause()
      this.#notify()
    })
    socket.on('end', () => {
      this.#ended = true
      this.#notify()
    })
    socket.on('error', (err) => {
      this.#error ??= err
      this.#log('control socket error: %s', err.message)
      this.#notify()
    })
    socket.on('close', () => {
      this.#closed = true
      this.#notify()
    })
  }

  #notify (): void {
    if (this.#waiters.length === 0) return
    const waiters = this.#waiters
    this.#waiters = []
    for (const wake of waiters) wake()
  }

  /** Waits for the next socket event (or the signal). */
  async #event (options?: AbortOptions): Promise<void> {
    let wake!: () => void
    const event = new Promise<void>(resolve => { wake = resolve })
    this.#waiters.push(wake)
    try {
      await raceSignal(event, options?.signal)
    } finally {
      const i = this.#waiters.indexOf(wake)
      if (i !== -1) this.#waiters.splice(i, 1)
    }
  }

  /** True once the socket is destroyed. */
  get destroyed (): boolean {
    return this.socket.destroyed
  }

  /** The next received chunk; undefined once the peer ended its side. */
  async #next (options?: AbortOptions): Promise<Uint8Array | undefined> {
    while (true) {
      const chunk = this.#queue.shift()
      if (chunk != null) {
        this.#queued -= chunk.byteLength
        if (this.#queued < QUEUE_HIGH_WATER_MARK && this.socket.isPaused() && !this.#closed) this.socket.resume()
        return chunk
      }
      if (this.#error != null) throw this.#error
      if (this.#ended) return undefined
      if (this.#closed) throw new ConnectionClosedError('The control connection closed before the peer ended it')
      await this.#event(options)
    }
  }

  /**
   * Resolves once the peer ended its side or the socket closed or failed, whether or not the data
   * before the end was read (at most the queue's high water mark is buffered meanwhile).
   */
  async waitForEnd (options?: AbortOptions): Promise<void> {
    while (!this.#ended && !this.#closed && this.#error == null) {
      await this.#event(options)
    }
  }

  async #pull (options?: AbortOptions): Promise<boolean> {
    if (this.#eof) return false
    const chunk = await this.#next(options)
    if (chunk == null) {
      this.#eof = true
      return false
    }
    this.#buffer.append(chunk)
    return true
  }

  /**
   * Reads one length-prefixed message. Resolves `undefined` when the peer ended the connection
   * cleanly between messages.
   *
   * @throws LimitExceededError (`maxMessageSize`) as soon as the announced length is too large,
   * before the body is read; InvalidMessageError for a varint longer than 9 bytes;
   * UnexpectedEOFError when the connection ends inside a message; the abort reason when
   * `options.signal` aborts
   */
  async readFrame (options?: AbortOptions): Promise<Uint8ArrayList | undefined> {
    if (this.#sourceTaken) throw new StreamStateError('The control connection is now a stream')
    let header: { length: number, bytes: number } | undefined
    while ((header = this.#parseLength()) == null) {
      if (!await this.#pull(options)) {
        if (this.#buffer.byteLength === 0) return undefined
        throw new UnexpectedEOFError('The control connection ended inside a length prefix')
      }
    }
    const end = header.bytes + header.length
    while (this.#buffer.byteLength < end) {
      if (!await this.#pull(options)) {
        throw new UnexpectedEOFError(`The control connection ended after ${this.#buffer.byteLength - header.bytes} of ${header.length} message bytes`)
      }
    }
    const frame = this.#buffer.sublist(header.bytes, end)
    this.#buffer.consume(end)
    return frame
  }

  /** The length prefix at the head of the buffer, or undefined when it is incomplete. */
  #parseLength (): { length: number, bytes: number } | undefined {
    let value = 0
    for (let i = 0; i < this.#buffer.byteLength; i++) {
      if (i >= MAX_VARINT_BYTES) throw new InvalidMessageError(`Length prefix longer than ${MAX_VARINT_BYTES} bytes`)
      const byte = this.#buffer.get(i)
      value += (byte & 0x7f) * 2 ** (7 * i)
      if ((byte & 0x80) === 0) {
        // Refused on the prefix alone: the body is never read or buffered.
        if (value > this.#maxMessageSize) {
          throw new LimitExceededError('maxMessageSize', this.#maxMessageSize, value, 'control message')
        }
        return { length: value, bytes: i + 1 }
      }
    }
    if (this.#buffer.byteLength >= MAX_VARINT_BYTES) throw new InvalidMessageError(`Length prefix longer than ${MAX_VARINT_BYTES} bytes`)
    return undefined
  }

  /** Writes `message` prefixed with its varint length, waiting for the socket to drain if needed. */
  async writeFrame (message: Uint8Array): Promise<void> {
    this.#assertWritable()
    const socket = this.socket
    socket.cork()
    socket.write(varint.encode(message.byteLength))
    const flushed = socket.write(message)
    socket.uncork()
    if (!flushed) await this.#drain()
  }

  #assertWritable (): void {
    if (this.socket.destroyed || !this.socket.writable) {
      throw new ConnectionClosedError('The control connection is closed', { cause: this.#error })
    }
  }

  async #drain (): Promise<void> {
    const socket = this.socket
    if (socket.destroyed) throw new ConnectionClosedError('The control connection is closed', { cause: this.#error })
    await new Promise<void>((resolve, reject) => {
      const cleanup = (): void => {
        socket.off('drain', onDrain)
        socket.off('close', onClose)
      }
      const onDrain = (): void => { cleanup(); resolve() }
      const onClose = (): void => { cleanup(); reject(new ConnectionClosedError('The control connection closed while writing', { cause: this.#error })) }
      socket.on('drain', onDrain)
      socket.on('close', onClose)
    })
  }

  /**
   * What the peer sends from now on, starting with bytes already read past the last message. Can
   * be called once; message reads are refused afterwards. The generator ends when the peer ends its
   * write side and throws if the socket fails.
   */
  source (): AsyncGenerator<Uint8Array, void, undefined> {
    if (this.#sourceTaken) throw new StreamStateError('source() can be called only once')
    this.#sourceTaken = true
    const buffer = this.#buffer
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this
    return (async function * () {
      if (buffer.byteLength > 0) {
        const leftover = [...buffer]
        buffer.consume(buffer.byteLength)
        yield * leftover
      }
      if (self.#eof) return
      while (true) {
        const chunk = await self.#next()
        if (chunk == null) return
        yield chunk
      }
    })()
  }

  /**
   * Writes every chunk of `source` to the socket (waiting for it to drain when its buffer is full),
   * then ends our write side. Rejects if the socket fails or closes first.
   */
  async sink (source: Source<Uint8Array | Uint8ArrayList>): Promise<void> {
    const socket = this.socket
    for await (const chunk of source) {
      this.#assertWritable()
      let flushed = true
      if (chunk instanceof Uint8Array) {
        flushed = socket.write(chunk)
      } else {
        for (const buf of chunk) flushed = socket.write(buf)
      }
      if (!flushed) await this.#drain()
    }
    await this.closeWrite()
  }

  /** Ends our write side (TCP FIN / unix shutdown) once queued bytes are flushed. */
  async closeWrite (): Promise<void> {
    const socket = this.socket
    if (socket.destroyed) throw new ConnectionClosedError('The control connection is closed', { cause: this.#error })
    if (socket.writableFinished) return
    await new Promise<void>((resolve, reject) => {
      const cleanup = (): void => {
        socket.off('finish', onFinish)
        socket.off('close', onClose)
      }
      const onFinish = (): void => { cleanup(); resolve() }
      const onClose = (): void => {
        cleanup()
        if (socket.writableFinished) resolve()
        else reject(new ConnectionClosedError('The control connection closed before our side was ended', { cause: this.#error }))
      }
      socket.on('finish', onFinish)
      socket.on('close', onClose)
      socket.end()
    })
  }

  /**
   * Closes at once. With an error the peer sees a reset (TCP RST) where the socket type allows it,
   * so it can tell an abort from a clean end.
   */
  abort (err?: Error): void {
    const socket = this.socket
    if (socket.destroyed) return
    if (err != null) {
      this.#error ??= err
      try {
        socket.resetAndDestroy()
        return
      } catch {
        // not a TCP socket (unix): a plain destroy
      }
    }
    socket.destroy()
  }
}
