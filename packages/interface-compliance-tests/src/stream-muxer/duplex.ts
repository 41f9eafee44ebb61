/**
 * Byte connections to run muxer pairs over: in memory (batched, with a bounded "socket buffer"),
 * in memory re-cut into small random pieces (frame boundaries never line up with chunks), real
 * TCP on the loopback interface, and in-memory byte channels (for muxers that attach to one).
 */
import { createServer, connect } from 'node:net'
import { ChunkQueue } from '@peerkit/utils'
import { prng } from './utils.js'
import type { Chunk } from './utils.js'
import type { ByteChannel, ByteChannelReceiver, Source } from '@peerkit/interfaces'
import type { Socket } from 'node:net'

/** One end of a test connection: what a muxer is piped to. */
export interface TestConnection {
  /** Bytes from the other end. Ends when the other end stops writing or either end is closed. */
  source: AsyncIterable<Chunk>
  /** Sends everything `source` yields to the other end; ends our direction when it ends. */
  sink(source: Source<Chunk>): Promise<void>
  /** Closes the connection abruptly, in both directions (like destroying a socket). */
  close(): void
  /** Bytes written by `sink` so far. */
  readonly bytesWritten: number
  /** Batches (`next()` results) `sink` took from its source so far. */
  readonly batches: number
}

/**
 * The transports the suite runs muxers over. Over `channel`, a muxer that offers
 * `[attachByteChannel]` is attached to the connection's byte channel; any other is piped to it.
 */
export type TransportKind = 'memory' | 'fragmenting' | 'tcp' | 'channel'

/** Options of `memoryConnectionPair`. */
export interface MemoryPairOptions {
  /**
   * Bytes one direction holds before the writer waits, like a socket buffer. A muxer that stops
   * reading its input therefore eventually stops the remote's output too. Default 1 MiB.
   */
  bufferSize?: number
  /**
   * When set, the reader receives every batch re-cut into pieces of 1..`maxPiece` bytes
   * (deterministic, seeded), one piece per `next()`.
   */
  fragment?: { seed: number, maxPiece: number }
}

class MemoryEnd implements TestConnection {
  readonly #incoming: ChunkQueue
  readonly #outgoing: ChunkQueue
  readonly source: AsyncIterable<Chunk>
  #closed = false
  #sinkCalled = false
  bytesWritten = 0
  batches = 0
  peer!: MemoryEnd

  constructor (incoming: ChunkQueue, outgoing: ChunkQueue, fragment?: { seed: number, maxPiece: number }) {
    this.#incoming = incoming
    this.#outgoing = outgoing
    this.source = fragment == null ? incoming : fragmented(incoming, fragment.seed, fragment.maxPiece)
  }

  // An arrow property, like every peerkit duplex: callers may pass `sink` around detached.
  sink = async (source: Source<Chunk>): Promise<void> => {
    if (this.#sinkCalled) throw new Error('sink called twice')
    this.#sinkCalled = true
    try {
      for await (const chunk of source) {
        this.batches++
        if (this.#closed) break
        this.#outgoing.push(chunk)
        this.bytesWritten += chunk.byteLength
        // Wait like a full socket buffer would, until the reader has taken the backlog.
        if (this.#outgoing.needsDrain) await this.#outgoing.onDrain()
      }
    } finally {
      this.#outgoing.end()
    }
  }

  close (): void {
    if (this.#closed) return
    this.#closed = true
    this.peer.#closed = true
    this.#outgoing.end()
    this.#incoming.end()
  }
}

async function * fragmented (source: AsyncIterable<Chunk>, seed: number, maxPiece: number): AsyncGenerator<Uint8Array> {
  const rand = prng(seed)
  for await (const batch of source) {
    const bytes = batch instanceof Uint8Array ? batch : batch.subarray()
    let offset = 0
    while (offset < bytes.byteLength) {
      const size = 1 + Math.floor(rand() * maxPiece)
      yield bytes.subarray(offset, Math.min(offset + size, bytes.byteLength))
      offset += size
    }
  }
}

/**
 * Two connected in-memory ends. Each `next()` of a source yields everything written since the last
 * one as one batch, as a socket read would.
 */
export function memoryConnectionPair (options: MemoryPairOptions = {}): [TestConnection, TestConnection] {
  const bufferSize = options.bufferSize ?? 1024 * 1024
  const aToB = new ChunkQueue({ highWaterMark: bufferSize })
  const bToA = new ChunkQueue({ highWaterMark: bufferSize })
  const a = new MemoryEnd(bToA, aToB, options.fragment)
  const b = new MemoryEnd(aToB, bToA, options.fragment)
  a.peer = b
  b.peer = a
  return [a, b]
}

class SocketEnd implements TestConnection {
  readonly #socket: Socket
  readonly source: AsyncIterable<Chunk>
  bytesWritten = 0
  batches = 0

  constructor (socket: Socket) {
    this.#socket = socket
    socket.setNoDelay(true)
    // A reset by the other side must not become an uncaught 'error' event; the end of input shows it.
    socket.on('error', () => {})
    // Reads are queued (bounded: the socket is paused above 1 MiB) and handed out in batches. When
    // the reader stops early (`return()`), further input is discarded without destroying the
    // socket, as a real transport does, so frames still being written are not cut off.
    const queue = new ChunkQueue({ highWaterMark: 1024 * 1024 })
    socket.on('data', (buf: Uint8Array) => {
      queue.push(buf)
      if (queue.needsDrain && !socket.isPaused()) {
        socket.pause()
        void queue.onDrain().then(() => { socket.resume() })
      }
    })
    socket.once('end', () => { queue.end() })
    socket.once('close', () => { queue.end() })
    this.source = queue
  }

  sink = async (source: Source<Chunk>): Promise<void> => {
    const socket = this.#socket
    try {
      for await (const chunk of source) {
        this.batches++
        if (socket.destroyed) break
        let ok = true
        // One batch, one write call (writev through cork), as a real connection would do.
        socket.cork()
        if (chunk instanceof Uint8Array) {
          ok = socket.write(chunk)
        } else {
          for (const buf of chunk) ok = socket.write(buf)
        }
        socket.uncork()
        this.bytesWritten += chunk.byteLength
        if (!ok) await waitForDrain(socket)
      }
    } finally {
      if (!socket.destroyed) socket.end()
    }
  }

  close (): void {
    this.#socket.destroy()
  }
}

async function waitForDrain (socket: Socket): Promise<void> {
  await new Promise<void>(resolve => {
    const done = (): void => {
      socket.off('drain', done)
      socket.off('close', done)
      resolve()
    }
    socket.on('drain', done)
    socket.on('close', done)
  })
}

/** Two ends of a real TCP connection over 127.0.0.1 (the listening server is closed once connected). */
export async function tcpConnectionPair (): Promise<[TestConnection, TestConnection]> {
  const server = createServer()
  try {
    const accepted = new Promise<Socket>((resolve, reject) => {
      server.once('connection', resolve)
      server.once('error', reject)
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => { resolve() })
    })
    const address = server.address()
    if (address == null || typeof address === 'string') throw new Error('no TCP address')
    const dialled = connect(address.port, '127.0.0.1')
    await new Promise<void>((resolve, reject) => {
      dialled.once('connect', resolve)
      dialled.once('error', reject)
    })
    const inbound = await accepted
    return [new SocketEnd(dialled), new SocketEnd(inbound)]
  } finally {
    // Stops listening at once; the callback would only fire after the accepted socket closes.
    server.close()
  }
}

/** One end of a {@link byteChannelPair}. */
export interface ByteChannelEnd {
  /** The channel to attach a muxer to. */
  readonly channel: ByteChannel
  /** The receiver attached to this end, once `attach` was called. */
  receiver(): ByteChannelReceiver | undefined
  /** A copy of each chunk written at this end, one entry per `write()` call (when recording). */
  readonly writes: Uint8Array[]
  /** True once `end()` was called at this end. */
  readonly ended: boolean
  /**
   * What `write()` returns (default `true`). Set it to `false` to play a transport whose buffer is
   * full: writes are still taken and delivered, but the writer is asked to wait; set it back and
   * call the writer's `receiver()?.onDrain()` to let it go on.
   */
  accepting: boolean
}

/**
 * One end of a {@link channelConnectionPair}: a byte channel (`channel`) for a muxer that attaches
 * to one, and the same connection as `source`/`sink` for one that does not. Use one or the other.
 */
export class ChannelConnection implements TestConnection, ByteChannelEnd {
  readonly channel: ByteChannel
  readonly writes: Uint8Array[] = []
  accepting = true
  bytesWritten = 0
  batches = 0
  peer!: ChannelConnection
  #receiver?: ByteChannelReceiver
  #closed = false
  #ended = false
  #inputDone = false
  #source?: AsyncIterable<Chunk>

  /** @param record - keep a copy of every write in `writes` */
  constructor (record = false) {
    this.channel = {
      attach: (receiver) => { this.#receiver = receiver },
      write: (data) => {
        if (this.#closed || this.#ended) return true
        // A copy, as a socket takes it: the writer may reuse its buffers.
        const copy = data.subarray().slice()
        if (record) this.writes.push(copy)
        this.bytesWritten += copy.byteLength
        this.batches++
        setImmediate(() => { this.peer.#deliver(copy) })
        return this.accepting
      },
      end: async () => {
        if (this.#ended) return
        this.#ended = true
        setImmediate(() => { this.peer.#finish() })
      }
    }
  }

  get ended (): boolean {
    return this.#ended
  }

  receiver (): ByteChannelReceiver | undefined {
    return this.#receiver
  }

  /** The connection as a duplex (for a muxer that does not attach to the channel). */
  get source (): AsyncIterable<Chunk> {
    if (this.#source == null) {
      const queue = new ChunkQueue()
      this.channel.attach({ onData: (d) => { queue.push(d) }, onEnd: () => { queue.end() }, onError: (err) => { queue.end(err) }, onDrain: () => {} })
      this.#source = queue
    }
    return this.#source
  }

  sink = async (source: Source<Chunk>): Promise<void> => {
    try {
      for await (const chunk of source) {
        if (this.#closed) break
        this.channel.write(chunk)
      }
    } finally {
      await this.channel.end()
    }
  }

  /** Like a destroyed socket: both ends' input ends at once, later and pending bytes are dropped. */
  close (): void {
    if (this.#closed) return
    this.#closed = true
    this.peer.#closed = true
    this.#finish()
    this.peer.#finish()
  }

  #deliver (data: Uint8Array): void {
    if (this.#closed || this.#inputDone) return
    this.#receiver?.onData(data)
  }

  #finish (): void {
    if (this.#inputDone) return
    this.#inputDone = true
    this.#receiver?.onEnd()
  }
}

/**
 * Two connected in-memory byte channels wrapped as test connections: what one end writes reaches
 * the other end's receiver on a later turn of the event loop, one `onData` per write.
 */
export function channelConnectionPair (record = false): [ChannelConnection, ChannelConnection] {
  const a = new ChannelConnection(record)
  const b = new ChannelConnection(record)
  a.peer = b
  b.peer = a
  return [a, b]
}

/**
 * Two connected in-memory byte channels, for testing a muxer's `[attachByteChannel]` by hand.
 * Writes are copied (so a writer may reuse its buffers), recorded in `writes`, and delivered to the
 * other end's receiver a turn later (`write` returns the end's `accepting`, `true` unless a test
 * sets it); `end()` delivers `onEnd` the same way. Feed an end's own receiver by hand
 * (`end.receiver()?.onData(...)`) to play the remote.
 */
export function byteChannelPair (): [ByteChannelEnd, ByteChannelEnd] {
  return channelConnectionPair(true)
}

/** A connected pair of the given kind; the first end belongs to the dialer. */
export async function connectionPair (kind: TransportKind): Promise<[TestConnection, TestConnection]> {
  switch (kind) {
    case 'memory': return memoryConnectionPair()
    case 'fragmenting': return memoryConnectionPair({ fragment: { seed: 0x5eed, maxPiece: 23 } })
    case 'tcp': return tcpConnectionPair()
    case 'channel': return channelConnectionPair()
  }
}
