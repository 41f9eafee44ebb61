/**
 * A small transport over `node:net`, written only to exercise the transport suite: with no faults
 * it must pass the whole suite; each fault breaks one promise of the contract, and the suite must
 * notice.
 */
import net from 'node:net'
import { multiaddr } from '@multiformats/multiaddr'
import { AbortError, TransportDialError, transportSymbol } from '@peerkit/interfaces'
import { TypedEventEmitter, offerByteChannel } from '@peerkit/utils'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { ByteChannelReceiver, DialTransportOptions, Direction, Listener, ListenerCloseOptions, ListenerEvents, MultiaddrConnection, MultiaddrConnectionTimeline, Source, Transport } from '@peerkit/interfaces'
import type { Uint8ArrayList } from 'uint8arraylist'

/** Deliberate defects, one contract promise each. */
export interface Faults {
  /** The sink never writes the last chunk of its source. */
  dropLastChunk?: boolean
  /** The listener accepts sockets but never dispatches `connection`. */
  noConnectionEvent?: boolean
  /** The source queues everything the socket delivers and never pauses it. */
  unboundedRead?: boolean
  /** Dial failures reject with the raw `node:net` error. */
  untypedDialErrors?: boolean
  /** `listener.close({ closeConnections: true })` leaves the connections open. */
  ignoreCloseConnections?: boolean
  /** `abort()` only ends the write side; pending reads and writes carry on. */
  gracefulAbort?: boolean
  /** `close()` waits for the remote forever instead of destroying the socket after a timeout. */
  unboundedClose?: boolean
  /** `dial()` ignores its AbortSignal. */
  ignoreAbortSignal?: boolean
  /** `listener.close()` reports success but leaves the server socket listening. */
  leakListenerHandle?: boolean
  /** Sockets are not half-open: receiving FIN ends our side too. */
  noHalfClose?: boolean
  /**
   * Offers a byte channel that hands its receiver views of one reused buffer, even to a receiver
   * that did not declare `transientData`. (Without this fault no channel is offered.)
   */
  reuseChannelBuffer?: boolean
}

const HIGH_WATER = 64 * 1024
const CLOSE_TIMEOUT = 200
const STOP = Symbol('stop')

const noopLog = Object.assign((): void => {}, { error: (): void => {}, trace: (): void => {}, enabled: false })

function parse (ma: Multiaddr): { host: string, port: number, family: 4 | 6 } | undefined {
  const c = ma.getComponents()
  if (c.length !== 2 || c[1].name !== 'tcp' || c[0].value == null || c[1].value == null) return undefined
  if (c[0].name !== 'ip4' && c[0].name !== 'ip6') return undefined
  return { host: c[0].value, port: Number(c[1].value), family: c[0].name === 'ip4' ? 4 : 6 }
}

interface Waiter {
  resolve(value: unknown): void
  reject(err: Error): void
}

class NetConnection implements MultiaddrConnection {
  readonly remoteAddr: Multiaddr
  readonly direction: Direction
  readonly timeline: MultiaddrConnectionTimeline = { open: Date.now() }
  readonly log = noopLog
  readonly source: AsyncGenerator<Uint8Array>
  readonly #socket: net.Socket
  readonly #faults: Faults
  readonly #chunks: Uint8Array[] = []
  #buffered = 0
  #ended = false
  #closed = false
  #stopping = false
  #error: Error | undefined
  #notify: (() => void) | undefined
  readonly #waiters = new Set<Waiter>()
  readonly #closedPromise: Promise<void>

  constructor (socket: net.Socket, direction: Direction, remoteAddr: Multiaddr, faults: Faults) {
    this.#socket = socket
    this.direction = direction
    this.remoteAddr = remoteAddr
    this.#faults = faults
    socket.setNoDelay(true)
    socket.on('data', (buf: Buffer) => {
      if (this.#channelReceiver != null) {
        // The fault: one buffer for every chunk, overwritten by the next.
        const n = Math.min(buf.byteLength, this.#reused.byteLength)
        for (let off = 0; off < buf.byteLength; off += n) {
          const part = buf.subarray(off, off + n)
          this.#reused.set(part)
          this.#channelReceiver.onData(this.#reused.subarray(0, part.byteLength))
        }
        return
      }
      this.#chunks.push(buf)
      this.#buffered += buf.byteLength
      if (this.#faults.unboundedRead !== true && this.#buffered > HIGH_WATER) socket.pause()
      this.#wake()
    })
    socket.on('end', () => {
      this.#ended = true
      this.#wake()
    })
    socket.on('error', (err) => {
      this.#error ??= err
      this.#wake()
      this.#interrupt(this.#error)
    })
    this.#closedPromise = new Promise(resolve => {
      socket.on('close', () => {
        this.#closed = true
        this.timeline.close ??= Date.now()
        if (this.#error == null && !this.#ended && !this.#stopping) this.#error = new Error('connection lost')
        this.#wake()
        this.#interrupt(this.#error)
        resolve()
      })
    })
    this.source = this.#read()
    // An offer is tied to the duplex's source and sink, so it is made once they exist.
    if (faults.reuseChannelBuffer === true) this.#offerReusingChannel()
  }

  #channelReceiver: ByteChannelReceiver | undefined
  readonly #reused = Buffer.alloc(4096)

  #offerReusingChannel (): void {
    const socket = this.#socket
    offerByteChannel(this, () => ({
      attach: (receiver) => {
        this.#channelReceiver = receiver
        for (const chunk of this.#chunks.splice(0)) receiver.onData(chunk)
        this.#buffered = 0
        socket.resume()
        socket.on('end', () => { receiver.onEnd() })
      },
      write: (data) => socket.write(data instanceof Uint8Array ? data : data.subarray()),
      end: async () => { await new Promise<void>(resolve => { socket.end(resolve) }) }
    }))
  }

  #wake (): void {
    const notify = this.#notify
    this.#notify = undefined
    notify?.()
  }

  #interrupt (err?: Error): void {
    for (const w of this.#waiters) {
      if (err != null) w.reject(err)
      else w.resolve(STOP)
    }
    this.#waiters.clear()
  }

  /** Waits for `p`, unless the connection fails (rejects) or is being closed (resolves STOP). */
  async #race<T> (p: Promise<T>): Promise<T | typeof STOP> {
    if (this.#error != null) throw this.#error
    if (this.#stopping || this.#closed) return STOP
    return new Promise<T | typeof STOP>((resolve, reject) => {
      const w: Waiter = { resolve: resolve as (v: unknown) => void, reject }
      this.#waiters.add(w)
      p.then(v => { this.#waiters.delete(w); resolve(v) }, (e: Error) => { this.#waiters.delete(w); reject(e) })
    })
  }

  async * #read (): AsyncGenerator<Uint8Array> {
    while (true) {
      if (this.#error != null) throw this.#error
      const chunk = this.#chunks.shift()
      if (chunk != null) {
        this.#buffered -= chunk.byteLength
        if (this.#buffered <= HIGH_WATER && this.#socket.isPaused()) this.#socket.resume()
        yield chunk
        continue
      }
      if (this.#ended || this.#closed) return
      await new Promise<void>(resolve => { this.#notify = resolve })
    }
  }

  readonly sink = async (source: Source<Uint8Array | Uint8ArrayList>): Promise<void> => {
    const asyncFn = (source as Partial<AsyncIterable<Uint8Array | Uint8ArrayList>>)[Symbol.asyncIterator]
    const it: AsyncIterator<Uint8Array | Uint8ArrayList> | Iterator<Uint8Array | Uint8ArrayList> = typeof asyncFn === 'function'
      ? asyncFn.call(source)
      : (source as Iterable<Uint8Array | Uint8ArrayList>)[Symbol.iterator]()
    let held: Uint8Array | undefined
    let done = false
    try {
      while (true) {
        const r = await this.#race(Promise.resolve(it.next()))
        if (r === STOP) return
        if (r.done === true) {
          done = true
          break
        }
        const bufs = r.value instanceof Uint8Array ? [r.value] : [...r.value]
        for (let buf of bufs) {
          if (this.#faults.dropLastChunk === true) {
            const previous = held
            held = buf
            if (previous == null) continue
            buf = previous
          }
          if (!this.#socket.write(buf)) {
            const drained = await this.#race(new Promise(resolve => this.#socket.once('drain', resolve)))
            if (drained === STOP) return
          }
        }
      }
      if (this.#stopping) return
      const finished = this.#race(new Promise(resolve => this.#socket.once('finish', resolve)))
      this.#socket.end()
      await finished
    } finally {
      if (!done) void Promise.resolve(it.return?.()).catch(() => {})
    }
  }

  async close (): Promise<void> {
    if (this.#closed) return
    this.#stopping = true
    this.#interrupt()
    this.#socket.end()
    const timer = this.#faults.unboundedClose === true ? undefined : setTimeout(() => this.#socket.destroy(), CLOSE_TIMEOUT)
    await this.#closedPromise
    clearTimeout(timer)
  }

  abort (err: Error): void {
    if (this.#closed) return
    if (this.#faults.gracefulAbort === true) {
      this.#socket.end()
      return
    }
    this.#error ??= err
    this.timeline.close ??= Date.now()
    this.#wake()
    this.#interrupt(this.#error)
    if (!this.#socket.destroyed) this.#socket.resetAndDestroy()
  }
}

/** Every server any test transport created, so a test can close leaked ones. */
const servers = new Set<net.Server>()

/** Closes every server a test transport left open (the `leakListenerHandle` fault leaves them). */
export async function closeLeakedServers (): Promise<void> {
  await Promise.all([...servers].map(async s => new Promise<void>(resolve => {
    servers.delete(s)
    if (!s.listening) { resolve(); return }
    s.close(() => { resolve() })
  })))
}

class NetListener extends TypedEventEmitter<ListenerEvents & Record<string, unknown>> implements Listener {
  readonly #faults: Faults
  readonly #conns = new Set<NetConnection>()
  #server: net.Server | undefined
  #addrs: Multiaddr[] = []

  constructor (faults: Faults) {
    super()
    this.#faults = faults
  }

  async listen (ma: Multiaddr): Promise<void> {
    const addr = parse(ma)
    if (addr == null) throw new Error(`cannot listen on ${ma.toString()}`)
    const server = net.createServer({ allowHalfOpen: this.#faults.noHalfClose !== true }, socket => {
      if (socket.remoteAddress == null || socket.remotePort == null) {
        socket.destroy()
        return
      }
      const family = net.isIPv6(socket.remoteAddress) ? 'ip6' : 'ip4'
      const conn = new NetConnection(socket, 'inbound', multiaddr(`/${family}/${socket.remoteAddress}/tcp/${socket.remotePort}`), this.#faults)
      this.#conns.add(conn)
      socket.once('close', () => { this.#conns.delete(conn) })
      if (this.#faults.noConnectionEvent !== true) this.safeDispatchEvent('connection', { detail: conn })
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen({ host: addr.host, port: addr.port, ipv6Only: addr.family === 6 }, () => {
        server.removeListener('error', reject)
        resolve()
      })
    })
    servers.add(server)
    server.on('error', err => { this.safeDispatchEvent('error', { detail: err }) })
    this.#server = server
    const bound = server.address() as net.AddressInfo
    this.#addrs = [multiaddr(`/ip${addr.family}/${bound.address}/tcp/${bound.port}`)]
    this.safeDispatchEvent('listening')
  }

  getAddrs (): Multiaddr[] {
    return this.#addrs
  }

  async close (options?: ListenerCloseOptions): Promise<void> {
    const server = this.#server
    if (server == null) return
    this.#server = undefined
    if (this.#faults.leakListenerHandle !== true) {
      server.close()
      servers.delete(server)
    }
    if (options?.closeConnections === true && this.#faults.ignoreCloseConnections !== true) {
      await Promise.all([...this.#conns].map(async c => c.close()))
    }
    this.safeDispatchEvent('close')
  }
}

/** A `Transport` over `node:net` with the given faults (none: a correct transport). */
export class NetTransport implements Transport {
  readonly [transportSymbol] = true as const
  readonly tag = 'net-test-transport'
  readonly #faults: Faults

  constructor (faults: Faults = {}) {
    this.#faults = faults
  }

  async dial (ma: Multiaddr, options: DialTransportOptions = {}): Promise<MultiaddrConnection> {
    const addr = parse(ma)
    if (addr == null) throw new Error(`cannot dial ${ma.toString()}`)
    const signal = this.#faults.ignoreAbortSignal === true ? undefined : options.signal
    if (signal?.aborted === true) throw new AbortError(`dial to ${ma.toString()} aborted`)
    const socket = net.connect({ host: addr.host, port: addr.port, allowHalfOpen: this.#faults.noHalfClose !== true })
    await new Promise<void>((resolve, reject) => {
      const finish = (err?: Error): void => {
        socket.removeListener('connect', onConnect)
        socket.removeListener('error', onError)
        signal?.removeEventListener('abort', onAbort)
        if (err == null) {
          resolve()
          return
        }
        socket.destroy()
        reject(err)
      }
      const onConnect = (): void => { finish() }
      const onError = (err: NodeJS.ErrnoException): void => {
        finish(this.#faults.untypedDialErrors === true ? err : new TransportDialError(ma.toString(), `dial to ${ma.toString()} failed: ${err.code ?? err.message}`, { cause: err }))
      }
      const onAbort = (): void => { finish(new AbortError(`dial to ${ma.toString()} aborted`)) }
      socket.once('connect', onConnect)
      socket.once('error', onError)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
    return new NetConnection(socket, 'outbound', ma, this.#faults)
  }

  createListener (): Listener {
    return new NetListener(this.#faults)
  }

  listenFilter (multiaddrs: Multiaddr[]): Multiaddr[] {
    return multiaddrs.filter(ma => parse(ma) != null)
  }

  dialFilter (multiaddrs: Multiaddr[]): Multiaddr[] {
    return multiaddrs.filter(ma => {
      const addr = parse(ma)
      return addr != null && addr.port !== 0
    })
  }
}
