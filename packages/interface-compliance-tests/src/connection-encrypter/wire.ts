/**
 * Raw byte connections for the connection-encrypter suite: an in-memory pair built on `ChunkQueue`s
 * and a real TCP pair over the loopback interface, both exposed through the same `Endpoint`, which
 * gives the encrypter a `SecureStream` and gives the test control over the wire (hold back outgoing
 * bytes and release them as one write, count bytes, close abruptly, act as a raw remote).
 */
import { createServer, connect } from 'node:net'
import { ConnectionClosedError, StreamStateError } from '@peerkit/interfaces'
import { ChunkQueue } from '@peerkit/utils'
import { Uint8ArrayList } from 'uint8arraylist'
import type { SecureStream, Source } from '@peerkit/interfaces'
import type { Socket } from 'node:net'

type Chunk = Uint8Array | Uint8ArrayList

/** One side of a raw byte connection, as a transport would provide it. */
export interface RawWire {
  /** Bytes from the remote. Ends when the remote half-closes or either side closes abruptly. */
  readonly source: ChunkQueue
  /** Sends `data` to the remote; resolves once the wire accepted it (respecting backpressure). */
  write(data: Chunk): Promise<void>
  /** Half-closes: the remote's source ends after the bytes already written. */
  end(): void
  /** Closes both directions at once; pending and later operations fail. Idempotent. */
  destroy(): void
  /** Resolves once every resource held by this side has been released. */
  readonly closed: Promise<void>
}

/** Which kind of wire a pair runs over. */
export type WireKind = 'memory' | 'tcp'

const DESTROYED = Symbol('destroyed')

/**
 * The test's handle on one side of a raw connection. `conn` is what an encrypter is given; the rest
 * lets the test shape the traffic.
 */
export class Endpoint {
  /** The `SecureStream` handed to the encrypter under test. */
  readonly conn: SecureStream
  readonly #wire: RawWire
  readonly #held = new Uint8ArrayList()
  #holding = false
  #written = 0
  #sinkCalled = false
  #destroyed = false
  readonly #destroyedPromise: Promise<typeof DESTROYED>
  #onDestroy!: (value: typeof DESTROYED) => void
  #progress: Array<() => void> = []

  constructor (wire: RawWire) {
    this.#wire = wire
    this.#destroyedPromise = new Promise(resolve => { this.#onDestroy = resolve })
    this.conn = {
      source: wire.source,
      sink: async (source: Source<Chunk>): Promise<void> => { await this.#sink(source) }
    }
  }

  /** Bytes the encrypter's `sink` has taken so far (sent or held). */
  get written (): number {
    return this.#written
  }

  /** Bytes taken by the sink but held back by {@link hold}. */
  get heldBytes (): number {
    return this.#held.byteLength
  }

  /** True once {@link destroy} was called. */
  get destroyed (): boolean {
    return this.#destroyed
  }

  /** A copy of the bytes currently held back. */
  peekHeld (): Uint8Array {
    return this.#held.slice()
  }

  /** From now on, bytes the encrypter writes are kept back instead of being sent. */
  hold (): void {
    this.#holding = true
  }

  /** Sends everything held back as one single write, and stops holding. */
  async release (): Promise<void> {
    this.#holding = false
    if (this.#held.byteLength === 0) return
    const data = new Uint8ArrayList(...this.#held)
    this.#held.consume(this.#held.byteLength)
    await this.#wire.write(data)
  }

  /** Resolves with true once at least `bytes` were taken by the sink, or false after `ms`. */
  async waitWritten (bytes: number, ms: number): Promise<boolean> {
    if (this.#written >= bytes) return true
    const deadline = Date.now() + ms
    while (this.#written < bytes) {
      const left = deadline - Date.now()
      if (left <= 0) return false
      await waitFor(new Promise<void>(resolve => { this.#progress.push(resolve) }), left)
    }
    return true
  }

  /** Writes bytes straight to the wire, bypassing `conn.sink` (the test acting as a raw remote). */
  async rawWrite (data: Chunk): Promise<void> {
    await this.#wire.write(data)
  }

  /** Half-closes the wire directly (the test acting as a raw remote). */
  rawEnd (): void {
    this.#wire.end()
  }

  /** The wire's incoming bytes, for the test acting as a raw remote. */
  get rawSource (): ChunkQueue {
    return this.#wire.source
  }

  /** Closes the connection abruptly in both directions (what an upgrader does after a failure). */
  destroy (): void {
    if (this.#destroyed) return
    this.#destroyed = true
    this.#held.consume(this.#held.byteLength)
    this.#onDestroy(DESTROYED)
    this.#wire.destroy()
    this.#notify()
  }

  /** Resolves once the underlying wire released its resources. */
  get closed (): Promise<void> {
    return this.#wire.closed
  }

  async #sink (source: Source<Chunk>): Promise<void> {
    if (this.#sinkCalled) throw new StreamStateError('The raw connection\'s sink was already called')
    this.#sinkCalled = true
    const iterator: Iterator<Chunk> | AsyncIterator<Chunk> = Symbol.asyncIterator in source
      ? source[Symbol.asyncIterator]()
      : source[Symbol.iterator]()
    try {
      while (true) {
        const next = Promise.resolve(iterator.next())
        next.catch(() => {})
        const result = await Promise.race([next, this.#destroyedPromise])
        if (result === DESTROYED) {
          Promise.resolve(iterator.return?.()).catch(() => {})
          throw new ConnectionClosedError('The raw connection was closed while writing')
        }
        if (result.done === true) break
        await this.#take(result.value)
      }
      await this.release()
      this.#wire.end()
    } catch (err) {
      this.destroy()
      throw err
    }
  }

  async #take (chunk: Chunk): Promise<void> {
    if (this.#destroyed) throw new ConnectionClosedError('The raw connection was closed while writing')
    this.#written += chunk.byteLength
    if (this.#holding) {
      this.#held.append(chunk)
    } else {
      await this.#wire.write(chunk)
    }
    this.#notify()
  }

  #notify (): void {
    for (const fn of this.#progress.splice(0)) fn()
  }
}

/** Creates a connected pair of raw wires of the given kind: `[dialer side, listener side]`. */
export async function wirePair (kind: WireKind): Promise<[RawWire, RawWire]> {
  return kind === 'memory' ? memoryWirePair() : tcpWirePair()
}

/**
 * An in-memory connection: each side's writes land in the other's `ChunkQueue`, whose high-water mark
 * provides backpressure. `destroy()` ends the remote's source (it reads EOF) and fails the local one.
 */
export function memoryWirePair (highWaterMark = 256 * 1024): [RawWire, RawWire] {
  const queues = [new ChunkQueue({ highWaterMark }), new ChunkQueue({ highWaterMark })]
  const destroyed = [false, false]
  const ended = [false, false]
  const side = (self: 0 | 1): RawWire => {
    const other = self === 0 ? 1 : 0
    const local = queues[self]
    const remote = queues[other]
    return {
      source: local,
      async write (data: Chunk): Promise<void> {
        if (destroyed[self]) throw new ConnectionClosedError('The connection was closed locally')
        if (destroyed[other]) throw new ConnectionClosedError('The remote closed the connection')
        if (ended[self]) throw new StreamStateError('Write after end')
        remote.push(data)
        if (remote.needsDrain) await remote.onDrain()
      },
      end (): void {
        if (ended[self]) return
        ended[self] = true
        remote.end()
      },
      destroy (): void {
        if (destroyed[self]) return
        destroyed[self] = true
        ended[self] = true
        remote.end()
        local.end(new ConnectionClosedError('The connection was closed locally'))
      },
      closed: Promise.resolve()
    }
  }
  return [side(0), side(1)]
}

/** A real TCP connection over 127.0.0.1, both sockets allowing half-open connections. */
export async function tcpWirePair (): Promise<[RawWire, RawWire]> {
  const server = createServer({ allowHalfOpen: true, noDelay: true })
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject)
        resolve()
      })
    })
    const address = server.address()
    if (address == null || typeof address === 'string') throw new Error('The TCP server has no port')
    const accepted = new Promise<Socket>(resolve => { server.once('connection', resolve) })
    const client = connect({ host: '127.0.0.1', port: address.port, allowHalfOpen: true, noDelay: true })
    await new Promise<void>((resolve, reject) => {
      client.once('error', (err) => {
        client.destroy()
        reject(err)
      })
      client.once('connect', () => {
        client.removeAllListeners('error')
        resolve()
      })
    })
    const serverSide = await accepted
    serverSide.setNoDelay(true)
    return [socketWire(client), socketWire(serverSide)]
  } finally {
    server.close()
  }
}

function socketWire (socket: Socket): RawWire {
  const queue = new ChunkQueue({ highWaterMark: 256 * 1024 })
  const closed = new Promise<void>(resolve => { socket.once('close', () => { resolve() }) })
  socket.on('data', (chunk: Buffer) => {
    queue.push(chunk)
    if (queue.needsDrain && !socket.isPaused()) {
      socket.pause()
      void queue.onDrain().then(() => { if (!socket.destroyed) socket.resume() })
    }
  })
  socket.on('end', () => { queue.end() })
  socket.on('error', (err: Error) => { queue.end(new ConnectionClosedError(`Socket error: ${err.message}`, { cause: err })) })
  socket.on('close', () => { queue.end() })
  return {
    source: queue,
    async write (data: Chunk): Promise<void> {
      if (socket.destroyed) throw new ConnectionClosedError('The socket is closed')
      if (socket.writableEnded) throw new StreamStateError('Write after end')
      let ok = true
      socket.cork()
      if (data instanceof Uint8Array) {
        ok = socket.write(data)
      } else {
        for (const buf of data) ok = socket.write(buf)
      }
      socket.uncork()
      if (ok) return
      await new Promise<void>((resolve, reject) => {
        const done = (err?: Error): void => {
          socket.off('drain', onDrain)
          socket.off('close', onClose)
          if (err != null) reject(err)
          else resolve()
        }
        const onDrain = (): void => { done() }
        const onClose = (): void => { done(new ConnectionClosedError('The socket closed while writing')) }
        socket.on('drain', onDrain)
        socket.on('close', onClose)
      })
    },
    end (): void {
      if (!socket.destroyed && !socket.writableEnded) socket.end()
    },
    destroy (): void {
      queue.end(new ConnectionClosedError('The connection was closed locally'))
      socket.destroy()
    },
    closed
  }
}

/** Resolves when `promise` settles or after `ms`, whichever comes first; the timer is always cleared. */
export async function waitFor (promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    await Promise.race([
      promise.then(() => {}, () => {}),
      new Promise<void>(resolve => { timer = setTimeout(resolve, ms) })
    ])
  } finally {
    clearTimeout(timer)
  }
}
