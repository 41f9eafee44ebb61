import { unlink } from 'node:fs/promises'
import { createServer } from 'node:net'
import { InvalidMessageError, InvalidParametersError, LimitExceededError, UnexpectedEOFError, isPeerId } from '@peerkit/interfaces'
import { anySignal, logger } from '@peerkit/utils'
import { DEFAULT_MAX_MESSAGE_SIZE, SocketChannel } from './channel.js'
import { controlAddrToMultiaddr, parseControlAddr } from './control-addr.js'
import { multiaddrFromBytes, peerIdFromBytes } from './convert.js'
import { DaemonResponseError } from './errors.js'
import { connectSocket } from './net.js'
import { Request, Response, StreamInfo } from './pb/control.js'
import type { ControlAddr } from './control-addr.js'
import type { AbortOptions, Logger, PeerId, Source } from '@peerkit/interfaces'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Server, Socket } from 'node:net'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface DaemonClientInit {
  /** Deadline of each request (connecting, writing, and reading the response), in ms. Default 30 000. */
  timeout?: number
  /** Longest response accepted, in bytes. Default 4 MiB. */
  maxMessageSize?: number
  /** Where `registerStreamHandler` listens for the daemon's connections. Default `/ip4/127.0.0.1/tcp/0`. */
  handlerAddr?: string | Multiaddr
  /** Deadline for the daemon to send the StreamInfo on a handler connection, in ms. Default 10 000. */
  handlerTimeout?: number
  /** Handler connections open at once; more are closed at once. Default 256. */
  maxHandlerConnections?: number
  /** Default: `peerkit:daemon:client`. */
  log?: Logger
}

/** What the daemon says about a stream: the remote peer, its address, the negotiated protocol. */
export interface DaemonStreamInfo {
  /** The remote peer. */
  peer: PeerId
  /** The remote address of the connection the stream is on. */
  addr: Multiaddr
  /** The protocol negotiated on the stream. */
  protocol: string
}

/** A peer the daemon is connected to, with the remote address of each connection. */
export interface DaemonPeerInfo {
  /** The peer. */
  id: PeerId
  /** The remote address of each connection to it. */
  addrs: Multiaddr[]
}

/** Handles one inbound stream delivered by the daemon; owns it (must close or abort it). */
export type DaemonStreamHandler = (stream: DaemonStream) => void | Promise<void>

/**
 * A libp2p stream proxied by the daemon over a socket: `source` yields what the remote peer sends,
 * `sink` sends to it and then half-closes (the daemon half-closes the libp2p stream in turn).
 * A reset of the libp2p stream arrives as an error from `source` (TCP control sockets) or an early
 * end (unix sockets).
 */
export class DaemonStream {
  /** What the daemon said about the stream. */
  readonly info: DaemonStreamInfo
  /** What the remote peer sends; ends when it closes its side. Read it once. */
  readonly source: AsyncGenerator<Uint8Array, void, undefined>
  readonly #channel: SocketChannel

  /** Wraps a control connection that has become a stream. */
  constructor (channel: SocketChannel, info: DaemonStreamInfo) {
    this.#channel = channel
    this.info = info
    this.source = channel.source()
  }

  /** Sends every chunk of `source`, then ends our write side. */
  sink = async (source: Source<Uint8Array | Uint8ArrayList>): Promise<void> => {
    await this.#channel.sink(source)
  }

  /** Ends our write side; reading continues. */
  async closeWrite (): Promise<void> {
    await this.#channel.closeWrite()
  }

  /**
   * Graceful close: ends our write side, waits for the daemon to end its side (what it still sends
   * is not read), then releases the socket. Bounded by `options.signal`, else 10 s, after which the
   * socket is destroyed.
   */
  async close (options: AbortOptions = {}): Promise<void> {
    if (this.#channel.destroyed) return
    const signal = anySignal([options.signal], 10_000, 'closing a daemon stream')
    try {
      await this.#channel.closeWrite()
      await this.#channel.waitForEnd({ signal })
    } catch (err) {
      this.#channel.abort(err as Error)
      throw err
    } finally {
      signal.clear()
      this.#channel.abort()
    }
  }

  /** Closes at once; the daemon resets the libp2p stream. */
  abort (err: Error): void {
    this.#channel.abort(err)
  }
}

function positive (name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback
  if (!(v > 0) || !Number.isFinite(v)) throw new InvalidParametersError(`${name} must be a positive number, got ${String(value)}`)
  return v
}

/**
 * A client of the daemon control protocol, for any p2pd-compatible daemon (ours, go's, js's). Each
 * request uses its own control connection. `registerStreamHandler` listens on `handlerAddr` (one
 * listener for all protocols) until `close()`.
 */
export class DaemonClient {
  readonly #addr: ControlAddr
  readonly #timeout: number
  readonly #maxMessageSize: number
  readonly #handlerAddr: ControlAddr
  readonly #handlerTimeout: number
  readonly #maxHandlerConnections: number
  readonly #log: Logger
  readonly #handlers = new Map<string, DaemonStreamHandler>()
  readonly #handlerSockets = new Set<Socket>()
  #listener?: Promise<{ server: Server, addr: ControlAddr }>
  #closed = false

  /**
   * @param controlAddr - the daemon's control address, as printed after `Control socket:`
   */
  constructor (controlAddr: string | Multiaddr, init: DaemonClientInit = {}) {
    this.#addr = parseControlAddr(controlAddr)
    this.#timeout = positive('timeout', init.timeout, 30_000)
    this.#maxMessageSize = positive('maxMessageSize', init.maxMessageSize, DEFAULT_MAX_MESSAGE_SIZE)
    this.#handlerAddr = parseControlAddr(init.handlerAddr ?? '/ip4/127.0.0.1/tcp/0')
    this.#handlerTimeout = positive('handlerTimeout', init.handlerTimeout, 10_000)
    this.#maxHandlerConnections = positive('maxHandlerConnections', init.maxHandlerConnections, 256)
    this.#log = init.log ?? logger('peerkit:daemon:client')
  }

  /** The daemon's control address. */
  get controlAddr (): Multiaddr {
    return controlAddrToMultiaddr(this.#addr)
  }

  async #open (signal: AbortSignal): Promise<SocketChannel> {
    const socket = await connectSocket(this.#addr, signal)
    return new SocketChannel(socket, { maxMessageSize: this.#maxMessageSize, log: this.#log })
  }

  /** Sends `request` and reads one response on `channel`. */
  async #exchange (channel: SocketChannel, request: Request, signal: AbortSignal): Promise<Response> {
    const onAbort = (): void => { channel.abort() }
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      await channel.writeFrame(Request.encode(request))
      const frame = await channel.readFrame({ signal })
      if (frame == null) throw new UnexpectedEOFError(`The daemon closed the connection without answering ${request.type ?? ''}`)
      try {
        return Response.decode(frame)
      } catch (err) {
        throw new InvalidMessageError(`Malformed response to ${request.type ?? ''}: ${(err as Error).message}`, { cause: err })
      }
    } catch (err) {
      if (signal.aborted) throw signal.reason
      throw err
    } finally {
      signal.removeEventListener('abort', onAbort)
    }
  }

  /**
   * Sends one request on a new control connection and returns the daemon's response as it is
   * (`ERROR` responses included), then closes the connection. For requests this class has no
   * method for (DHT, PUBSUB, CONNMANAGER...).
   */
  async request (request: Request, options: AbortOptions = {}): Promise<Response> {
    const signal = anySignal([options.signal], this.#timeout, `daemon request ${request.type ?? ''}`)
    let channel: SocketChannel | undefined
    try {
      channel = await this.#open(signal)
      return await this.#exchange(channel, request, signal)
    } finally {
      signal.clear()
      channel?.abort()
    }
  }

  async #ok (request: Request, options?: AbortOptions): Promise<Response> {
    const response = await this.request(request, options)
    if (response.type !== Response.Type.OK) {
      throw new DaemonResponseError(request.type ?? 'UNKNOWN', response.error?.msg ?? 'no error message')
    }
    return response
  }

  /** The daemon's PeerId and listen addresses. */
  async identify (options?: AbortOptions): Promise<{ peerId: PeerId, addrs: Multiaddr[] }> {
    const response = await this.#ok({ type: Request.Type.IDENTIFY }, options)
    if (response.identify == null) throw new InvalidMessageError('IDENTIFY response without an identify field')
    return {
      peerId: peerIdFromBytes(response.identify.id, 'IdentifyResponse.id'),
      addrs: response.identify.addrs.map((a, i) => multiaddrFromBytes(a, `IdentifyResponse.addrs[${i}]`))
    }
  }

  /**
   * Asks the daemon to connect to `peer` at `addrs` (or at addresses it knows when empty).
   * `options.timeout` is passed to the daemon, in seconds.
   */
  async connect (peer: AnyPeerId, addrs: Array<{ bytes: Uint8Array }>, options: AbortOptions & { timeout?: number } = {}): Promise<void> {
    const id = peerBytes(peer, 'connect')
    await this.#ok({
      type: Request.Type.CONNECT,
      connect: { peer: id, addrs: addrs.map(a => a.bytes as Uint8Array<ArrayBuffer>), timeout: seconds(options.timeout) }
    }, options)
  }

  /** The peers the daemon is connected to. */
  async listPeers (options?: AbortOptions): Promise<DaemonPeerInfo[]> {
    const response = await this.#ok({ type: Request.Type.LIST_PEERS }, options)
    return response.peers.map((p, i) => ({
      id: peerIdFromBytes(p.id, `PeerInfo[${i}].id`),
      addrs: p.addrs.map((a, j) => multiaddrFromBytes(a, `PeerInfo[${i}].addrs[${j}]`))
    }))
  }

  /** Asks the daemon to close every connection to `peer`. */
  async disconnect (peer: AnyPeerId, options?: AbortOptions): Promise<void> {
    await this.#ok({ type: Request.Type.DISCONNECT, disconnect: { peer: peerBytes(peer, 'disconnect') } }, options)
  }

  /**
   * Opens a stream to `peer` for the first of `protocols` it supports; the control connection
   * becomes the stream. `options.timeout` is passed to the daemon, in seconds.
   */
  async openStream (peer: AnyPeerId, protocols: string | string[], options: AbortOptions & { timeout?: number } = {}): Promise<DaemonStream> {
    const id = peerBytes(peer, 'openStream')
    const proto = typeof protocols === 'string' ? [protocols] : protocols
    if (proto.length === 0) throw new InvalidParametersError('openStream: no protocol given')
    const request: Request = { type: Request.Type.STREAM_OPEN, streamOpen: { peer: id, proto, timeout: seconds(options.timeout) } }
    const signal = anySignal([options.signal], this.#timeout, 'daemon request STREAM_OPEN')
    let channel: SocketChannel | undefined
    try {
      channel = await this.#open(signal)
      const response = await this.#exchange(channel, request, signal)
      if (response.type !== Response.Type.OK) throw new DaemonResponseError('STREAM_OPEN', response.error?.msg ?? 'no error message')
      const info = decodeStreamInfo(response.streamInfo)
      const stream = new DaemonStream(channel, info)
      channel = undefined
      return stream
    } finally {
      signal.clear()
      channel?.abort()
    }
  }

  /**
   * Hands inbound streams for `protocols` to `handler`: starts (once) a listener at `handlerAddr`
   * and tells the daemon to connect there. Registering a protocol again replaces its handler.
   */
  async registerStreamHandler (protocols: string | string[], handler: DaemonStreamHandler, options?: AbortOptions): Promise<void> {
    if (this.#closed) throw new InvalidParametersError('The client is closed')
    const proto = typeof protocols === 'string' ? [protocols] : protocols
    if (proto.length === 0) throw new InvalidParametersError('registerStreamHandler: no protocol given')
    const { addr } = await this.#startListener()
    for (const p of proto) this.#handlers.set(p, handler)
    try {
      await this.#ok({ type: Request.Type.STREAM_HANDLER, streamHandler: { addr: controlAddrToMultiaddr(addr).bytes, proto } }, options)
    } catch (err) {
      for (const p of proto) if (this.#handlers.get(p) === handler) this.#handlers.delete(p)
      throw err
    }
  }

  async #startListener (): Promise<{ server: Server, addr: ControlAddr }> {
    this.#listener ??= (async () => {
      const server = createServer({ allowHalfOpen: true }, (socket) => { this.#onHandlerConnection(socket) })
      const want = this.#handlerAddr
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        const done = (): void => { server.off('error', reject); resolve() }
        if (want.type === 'unix') server.listen(want.path, done)
        else server.listen(want.port, want.host, done)
      })
      server.on('error', (err) => { this.#log.error('handler listener error: %s', err.message) })
      const address = server.address()
      const addr: ControlAddr = want.type === 'tcp' && address != null && typeof address === 'object' ? { ...want, port: address.port } : want
      return { server, addr }
    })()
    try {
      return await this.#listener
    } catch (err) {
      this.#listener = undefined
      throw err
    }
  }

  #onHandlerConnection (socket: Socket): void {
    socket.setNoDelay?.(true)
    if (this.#closed || this.#handlerSockets.size >= this.#maxHandlerConnections) {
      this.#log('handler connection refused: %s', this.#closed ? 'client closed' : new LimitExceededError('maxHandlerConnections', this.#maxHandlerConnections).message)
      socket.on('error', () => {})
      socket.destroy()
      return
    }
    this.#handlerSockets.add(socket)
    socket.once('close', () => { this.#handlerSockets.delete(socket) })
    const channel = new SocketChannel(socket, { maxMessageSize: this.#maxMessageSize, log: this.#log })
    void (async () => {
      const signal = anySignal([], this.#handlerTimeout, 'waiting for the StreamInfo')
      let stream: DaemonStream
      try {
        const frame = await channel.readFrame({ signal })
        if (frame == null) throw new UnexpectedEOFError('The daemon closed the handler connection before the StreamInfo')
        let decoded: StreamInfo
        try {
          decoded = StreamInfo.decode(frame)
        } catch (err) {
          throw new InvalidMessageError(`Malformed StreamInfo: ${(err as Error).message}`, { cause: err })
        }
        stream = new DaemonStream(channel, decodeStreamInfo(decoded))
      } catch (err) {
        this.#log('handler connection dropped: %s', (err as Error).message)
        channel.abort()
        return
      } finally {
        signal.clear()
      }
      const handler = this.#handlers.get(stream.info.protocol)
      if (handler == null) {
        this.#log('no handler for %s', stream.info.protocol)
        stream.abort(new InvalidParametersError(`No handler for ${stream.info.protocol}`))
        return
      }
      try {
        await handler(stream)
      } catch (err) {
        this.#log('handler for %s failed: %s', stream.info.protocol, (err as Error).message)
        stream.abort(err instanceof Error ? err : new Error(String(err)))
      }
    })()
  }

  /** Stops the handler listener and closes handler connections. Request methods keep working. */
  async close (): Promise<void> {
    this.#closed = true
    const listener = this.#listener
    this.#listener = undefined
    for (const socket of this.#handlerSockets) socket.destroy()
    if (listener == null) return
    const started = await listener.catch(() => undefined)
    if (started == null) return
    await new Promise<void>(resolve => { started.server.close(() => { resolve() }) })
    if (started.addr.type === 'unix') await unlink(started.addr.path).catch(() => {})
  }
}

/**
 * A PeerId of ours, or of another libp2p implementation (anything with `toMultihash().bytes`), as
 * the daemon only needs the multihash.
 */
export type AnyPeerId = PeerId | { toMultihash(): { bytes: Uint8Array } }

function peerBytes (peer: AnyPeerId, method: string): Uint8Array<ArrayBuffer> {
  if (isPeerId(peer)) return peer.toMultihash().bytes as Uint8Array<ArrayBuffer>
  const bytes = typeof (peer as { toMultihash?: unknown })?.toMultihash === 'function' ? peer.toMultihash().bytes : undefined
  if (!(bytes instanceof Uint8Array)) throw new InvalidParametersError(`${method}: peer must be a PeerId`)
  return bytes as Uint8Array<ArrayBuffer>
}

function seconds (value: number | undefined): bigint | undefined {
  if (value == null) return undefined
  if (!Number.isFinite(value) || value <= 0) throw new InvalidParametersError(`timeout must be a positive number of seconds, got ${value}`)
  return BigInt(Math.ceil(value))
}

function decodeStreamInfo (info: StreamInfo | undefined): DaemonStreamInfo {
  if (info == null) throw new InvalidMessageError('Missing StreamInfo')
  if (info.proto == null) throw new InvalidMessageError('StreamInfo without a protocol')
  return {
    peer: peerIdFromBytes(info.peer, 'StreamInfo.peer'),
    addr: multiaddrFromBytes(info.addr, 'StreamInfo.addr'),
    protocol: info.proto
  }
}
