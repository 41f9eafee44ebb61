import { lstat, unlink } from 'node:fs/promises'
import { createServer } from 'node:net'
import { InvalidMessageError, InvalidParametersError, LimitExceededError, NotStartedError, PeerkitError, UnexpectedEOFError } from '@peerkit/interfaces'
import { anySignal, logger, shutdownController } from '@peerkit/utils'
import * as varint from 'uint8-varint'
import { bridge } from './bridge.js'
import { DEFAULT_MAX_MESSAGE_SIZE, SocketChannel } from './channel.js'
import { controlAddrToMultiaddr, parseControlAddr } from './control-addr.js'
import { multiaddrFromBytes, peerIdFromBytes } from './convert.js'
import { connectSocket } from './net.js'
import { PeerstoreRequest, Request, Response, StreamInfo } from './pb/control.js'
import type { ControlAddr } from './control-addr.js'
import type { PeerInfo } from './pb/control.js'
import type { AbortOptions, Connection, DialOptions, IncomingStreamData, Logger, PeerId, PeerStore, StreamHandler, StreamHandlerOptions } from '@peerkit/interfaces'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Server, Socket } from 'node:net'
import type { Uint8ArrayList } from 'uint8arraylist'

/** The protocol p2pd serves with `-echo` (on by default there): every byte is sent back. */
export const ECHO_PROTOCOL = '/echo/1.0.0'

/** Multiaddr code of `/p2p`. */
const P2P_CODE = 421

/** What the daemon server needs from a node; a `@peerkit/libp2p` `Node` provides it. */
export interface DaemonNode {
  /** Our PeerId. */
  readonly id: PeerId
  /** Where CONNECT puts addresses and PEERSTORE reads. */
  readonly peerStore: PeerStore
  /** Our listen addresses, each ending with `/p2p/<id>`. */
  getMultiaddrs(): Multiaddr[]
  /** Connects to a peer (reusing an open connection). */
  dial(peer: PeerId | Multiaddr | Multiaddr[], options?: DialOptions): Promise<Connection>
  /** Open connections, to one peer or to all. */
  getConnections(peer?: PeerId): Connection[]
  /** Closes every connection to a peer. */
  hangUp(peer: PeerId, options?: AbortOptions): Promise<void>
  /** Registers a protocol handler. */
  handle(protocol: string, handler: StreamHandler, options?: StreamHandlerOptions): void
  /** Removes a protocol handler. */
  unhandle(protocol: string): void
  /** The protocol table, to tell the node's own protocols from those handed to clients. */
  readonly swarm: { getProtocols(): string[] }
}

export interface DaemonServerInit {
  /**
   * The control address: `/unix/<path>` (p2pd's default is `/unix/tmp/p2pd.sock`),
   * `/ip4/<ip>/tcp/<port>` or `/ip6/<ip>/tcp/<port>`; port 0 picks a free port. A stale unix
   * socket file left by a process that died is replaced; one that still answers is not.
   */
  listen: string | Multiaddr
  /** Longest control request accepted, in bytes; a longer one is answered with ERROR and the connection closed. Default 4 MiB. */
  maxMessageSize?: number
  /** Control connections open at once (streams opened through STREAM_OPEN included); one more is answered with ERROR and closed. Default 256. */
  maxControlConnections?: number
  /** Connections the daemon opens to clients' stream handlers at once; an inbound stream past it is reset. Default 256. */
  maxHandlerConnections?: number
  /** A control connection that sends no complete request, or does not read an answer, for this long is closed, in ms. Default 60 000. */
  idleTimeout?: number
  /** Deadline of CONNECT and STREAM_OPEN when the request gives none, in ms. Default 60 000 (p2pd's). */
  requestTimeout?: number
  /** Upper bound on the deadline a request may ask for, in ms. Default 600 000. */
  maxRequestTimeout?: number
  /** Deadline for reaching a client's handler address and sending it the StreamInfo, in ms. Default 10 000. */
  handlerTimeout?: number
  /** Protocols handed to clients through STREAM_HANDLER, in total. Default 256. */
  maxStreamHandlers?: number
  /** Per-connection cap on concurrent inbound streams of each protocol handed to a client. Default 64. */
  maxInboundStreamsPerProtocol?: number
  /** Most addresses in a CONNECT request and protocols in STREAM_OPEN / STREAM_HANDLER. Default 64. */
  maxListLength?: number
  /** Serve `/echo/1.0.0` until a client registers a handler for it (p2pd's `-echo`). Default false. */
  echo?: boolean
  /** Default: `peerkit:daemon`. */
  log?: Logger
}

interface Options {
  maxMessageSize: number
  maxControlConnections: number
  maxHandlerConnections: number
  idleTimeout: number
  requestTimeout: number
  maxRequestTimeout: number
  handlerTimeout: number
  maxStreamHandlers: number
  maxInboundStreamsPerProtocol: number
  maxListLength: number
}

function positive (name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback
  if (!(v > 0) || !Number.isFinite(v)) throw new InvalidParametersError(`${name} must be a positive number, got ${String(value)}`)
  return v
}

/**
 * The daemon side of the control protocol (go-libp2p-daemon `specs/CONTROL.md`): serves IDENTIFY,
 * CONNECT, LIST_PEERS, DISCONNECT, STREAM_OPEN, STREAM_HANDLER and the PEERSTORE extension over a
 * unix or TCP control socket for a node it does not own. A control connection may carry any number
 * of requests, one after the other, until STREAM_OPEN turns it into a stream. DHT, PUBSUB and
 * CONNMANAGER requests are answered with an ERROR saying they are not supported.
 *
 * Bad input never takes the daemon down: a malformed request is answered with ERROR; a broken
 * frame (oversized, endless varint, truncated) gets an ERROR if the socket is still writable and
 * the connection is closed; other clients and the node's connections are unaffected.
 */
export class DaemonServer {
  readonly #node: DaemonNode
  readonly #listen: ControlAddr
  readonly #opts: Options
  readonly #echo: boolean
  readonly #log: Logger
  #server?: Server
  #addr?: ControlAddr
  #shutdown = shutdownController()
  readonly #sockets = new Set<Socket>()
  readonly #tasks = new Set<Promise<void>>()
  /** protocol → client handler address, for protocols handed to clients. */
  readonly #handlers = new Map<string, ControlAddr>()
  #controlConnections = 0
  #handlerConnections = 0
  #echoRegistered = false

  /**
   * @param node - the node to serve (not started or stopped by the server)
   * @param init - the control address and limits
   * @throws InvalidParametersError for an unsupported control address or a non-positive limit
   */
  constructor (node: DaemonNode, init: DaemonServerInit) {
    this.#node = node
    this.#listen = parseControlAddr(init.listen)
    this.#opts = {
      maxMessageSize: positive('maxMessageSize', init.maxMessageSize, DEFAULT_MAX_MESSAGE_SIZE),
      maxControlConnections: positive('maxControlConnections', init.maxControlConnections, 256),
      maxHandlerConnections: positive('maxHandlerConnections', init.maxHandlerConnections, 256),
      idleTimeout: positive('idleTimeout', init.idleTimeout, 60_000),
      requestTimeout: positive('requestTimeout', init.requestTimeout, 60_000),
      maxRequestTimeout: positive('maxRequestTimeout', init.maxRequestTimeout, 600_000),
      handlerTimeout: positive('handlerTimeout', init.handlerTimeout, 10_000),
      maxStreamHandlers: positive('maxStreamHandlers', init.maxStreamHandlers, 256),
      maxInboundStreamsPerProtocol: positive('maxInboundStreamsPerProtocol', init.maxInboundStreamsPerProtocol, 64),
      maxListLength: positive('maxListLength', init.maxListLength, 64)
    }
    this.#echo = init.echo === true
    this.#log = init.log ?? logger('peerkit:daemon')
  }

  /** True between `start()` and `stop()`. */
  get isStarted (): boolean {
    return this.#server != null
  }

  /** The control address we listen on (the actual port when 0 was asked for). */
  getMultiaddr (): Multiaddr {
    if (this.#addr == null) throw new NotStartedError('The daemon server is not started')
    return controlAddrToMultiaddr(this.#addr)
  }

  /** Control connections open now (streams included). */
  get controlConnections (): number {
    return this.#controlConnections
  }

  /** Listens on the control address and registers the echo handler when asked to. */
  async start (): Promise<void> {
    if (this.#server != null) return
    this.#shutdown = shutdownController()
    if (this.#listen.type === 'unix') await removeStaleSocket(this.#listen.path)
    const server = createServer({ allowHalfOpen: true }, (socket) => { this.#accept(socket) })
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => { reject(err) }
      server.once('error', onError)
      const done = (): void => { server.off('error', onError); resolve() }
      if (this.#listen.type === 'unix') server.listen(this.#listen.path, done)
      else server.listen(this.#listen.port, this.#listen.host, done)
    })
    server.on('error', (err) => { this.#log.error('control server error: %s', err.message) })
    this.#server = server
    const address = server.address()
    this.#addr = this.#listen.type === 'tcp' && address != null && typeof address === 'object'
      ? { ...this.#listen, port: address.port }
      : this.#listen
    if (this.#echo) {
      this.#node.handle(ECHO_PROTOCOL, echoHandler, { force: true })
      this.#echoRegistered = true
    }
    this.#log('control socket listening on %s', this.getMultiaddr().toString())
  }

  /**
   * Stops listening, closes every control, stream and handler connection, and removes the
   * protocol handlers it registered (the node itself is left running). Leaves no socket or timer.
   */
  async stop (): Promise<void> {
    const server = this.#server
    if (server == null) return
    this.#server = undefined
    this.#shutdown.abort(new NotStartedError('The daemon is stopping'))
    const closed = new Promise<void>(resolve => { server.close(() => { resolve() }) })
    for (const socket of this.#sockets) socket.destroy()
    for (const protocol of this.#handlers.keys()) this.#unhandle(protocol)
    this.#handlers.clear()
    if (this.#echoRegistered) this.#unhandle(ECHO_PROTOCOL)
    this.#echoRegistered = false
    await closed
    await Promise.allSettled([...this.#tasks])
    if (this.#listen.type === 'unix') await unlink(this.#listen.path).catch(() => {})
    this.#log('control socket closed')
  }

  #unhandle (protocol: string): void {
    try {
      this.#node.unhandle(protocol)
    } catch (err) {
      this.#log('unhandle %s: %s', protocol, (err as Error).message)
    }
  }

  #track (socket: Socket, task: Promise<void>): void {
    this.#sockets.add(socket)
    socket.once('close', () => { this.#sockets.delete(socket) })
    this.#tasks.add(task)
    void task.finally(() => { this.#tasks.delete(task) })
  }

  #accept (socket: Socket): void {
    socket.setNoDelay?.(true)
    if (this.#controlConnections >= this.#opts.maxControlConnections) {
      const err = new LimitExceededError('maxControlConnections', this.#opts.maxControlConnections, undefined, 'daemon')
      this.#log('refusing a control connection: %s', err.message)
      socket.on('error', () => {})
      this.#sockets.add(socket)
      socket.once('close', () => { this.#sockets.delete(socket) })
      // Tell the client why, then close; a client that does not read is cut off after a second.
      socket.end(frame(errorResponse(err)))
      socket.setTimeout(1000, () => { socket.destroy() })
      return
    }
    this.#controlConnections++
    const channel = new SocketChannel(socket, { maxMessageSize: this.#opts.maxMessageSize, log: this.#log })
    const task = this.#serve(channel)
      .catch((err: unknown) => { this.#log('control connection failed: %s', (err as Error).message) })
      .finally(() => {
        this.#controlConnections--
        if (!socket.destroyed) socket.destroy()
      })
    this.#track(socket, task)
  }

  /** Serves requests on one control connection until it ends, fails, or becomes a stream. */
  async #serve (channel: SocketChannel): Promise<void> {
    while (true) {
      let frame: Uint8ArrayList | undefined
      const signal = anySignal([this.#shutdown.signal], this.#opts.idleTimeout, 'waiting for a control request')
      try {
        frame = await channel.readFrame({ signal })
      } catch (err) {
        // The framing is lost (or the client is gone): report if we can, then close.
        if (err instanceof PeerkitError && (err instanceof LimitExceededError || err instanceof InvalidMessageError || err instanceof UnexpectedEOFError)) {
          this.#log('bad control frame: %s', err.message)
          // Flushed before the connection is closed below.
          await this.#reply(channel, errorResponse(err), true)
        } else {
          this.#log('control connection closed while waiting for a request: %s', (err as Error).message)
        }
        channel.abort()
        return
      } finally {
        signal.clear()
      }
      if (frame == null) {
        // Clean end between requests.
        await channel.closeWrite().catch(() => {})
        return
      }
      let request: Request
      try {
        request = Request.decode(frame, {
          limits: {
            connect: { addrs: this.#opts.maxListLength },
            streamOpen: { proto: this.#opts.maxListLength },
            streamHandler: { proto: this.#opts.maxListLength },
            peerStore: { protos: this.#opts.maxListLength }
          }
        })
      } catch (err) {
        this.#log('malformed control request: %s', (err as Error).message)
        if (!await this.#reply(channel, errorResponse(new InvalidMessageError(`Malformed request: ${(err as Error).message}`)))) return
        continue
      }
      const type = request.type
      if (type == null) {
        if (!await this.#reply(channel, errorResponse(new InvalidMessageError('Malformed request: the type field is missing')))) return
        continue
      }
      this.#log.trace('request %s', type)
      if (type === Request.Type.STREAM_OPEN) {
        // On success the connection becomes the stream and is done with requests.
        if (await this.#streamOpen(channel, request)) return
        continue
      }
      let response: Response
      try {
        response = await this.#handle(request, type)
      } catch (err) {
        this.#log('%s failed: %s', type, (err as Error).message)
        response = errorResponse(err)
      }
      if (!await this.#reply(channel, response)) return
    }
  }

  /**
   * Writes a response; false when the connection can no longer be written. With `end`, our side is
   * ended once the response is flushed. A client that does not read is cut off after
   * `idleTimeout`.
   */
  async #reply (channel: SocketChannel, response: Response, end = false): Promise<boolean> {
    const signal = anySignal([this.#shutdown.signal], this.#opts.idleTimeout, 'writing a control response')
    const onAbort = (): void => { channel.abort() }
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      await channel.writeFrame(Response.encode(response))
      if (end) await channel.closeWrite()
      return !signal.aborted
    } catch (err) {
      this.#log('cannot write a response: %s', (err as Error).message)
      channel.abort()
      return false
    } finally {
      signal.removeEventListener('abort', onAbort)
      signal.clear()
    }
  }

  async #handle (request: Request, type: Request.Type): Promise<Response> {
    switch (type) {
      case Request.Type.IDENTIFY: return this.#identify()
      case Request.Type.CONNECT: return this.#connect(request)
      case Request.Type.LIST_PEERS: return this.#listPeers()
      case Request.Type.DISCONNECT: return this.#disconnect(request)
      case Request.Type.STREAM_HANDLER: return this.#streamHandler(request)
      case Request.Type.PEERSTORE: return this.#peerStore(request)
      case Request.Type.DHT:
        return errorResponse(notSupported(`DHT request ${request.dht?.type ?? '(no type)'} refused: this daemon has no DHT (peerkit has no Kademlia implementation yet)`))
      case Request.Type.PUBSUB:
        return errorResponse(notSupported(`PUBSUB request ${request.pubsub?.type ?? '(no type)'} refused: this daemon has no pubsub (peerkit has no gossipsub/floodsub implementation yet)`))
      case Request.Type.CONNMANAGER:
        return errorResponse(notSupported(`CONNMANAGER request ${request.connManager?.type ?? '(no type)'} refused: this daemon has no connection manager`))
      default:
        return errorResponse(new InvalidMessageError(`Unknown request type ${String(type)}`))
    }
  }

  #identify (): Response {
    const addrs = this.#node.getMultiaddrs().map(a => a.decapsulateCode(P2P_CODE).bytes)
    return { type: Response.Type.OK, identify: { id: this.#node.id.toMultihash().bytes, addrs }, peers: [] }
  }

  /** A deadline from the request's timeout (seconds) or the default, bounded. */
  #deadline (timeout: bigint | undefined): number {
    if (timeout != null && timeout > 0n) {
      const ms = Number(timeout) * 1000
      return Math.min(ms, this.#opts.maxRequestTimeout)
    }
    return this.#opts.requestTimeout
  }

  async #connect (request: Request): Promise<Response> {
    const connect = request.connect
    if (connect == null) throw new InvalidMessageError('Malformed CONNECT request: the connect field is missing')
    const peer = peerIdFromBytes(connect.peer, 'ConnectRequest.peer')
    const addrs = connect.addrs.map((a, i) => withPeer(multiaddrFromBytes(a, `ConnectRequest.addrs[${i}]`), peer))
    const signal = anySignal([this.#shutdown.signal], this.#deadline(connect.timeout), `CONNECT to ${peer.toString()}`)
    try {
      if (addrs.length > 0) await this.#node.peerStore.merge(peer, { multiaddrs: addrs }, { signal })
      await this.#node.dial(addrs.length > 0 ? addrs : peer, { signal })
    } finally {
      signal.clear()
    }
    return okResponse()
  }

  #listPeers (): Response {
    const byPeer = new Map<string, PeerInfo>()
    for (const conn of this.#node.getConnections()) {
      const key = conn.remotePeer.toString()
      let info = byPeer.get(key)
      if (info == null) {
        info = { id: conn.remotePeer.toMultihash().bytes, addrs: [] }
        byPeer.set(key, info)
      }
      info.addrs.push(remoteAddrBytes(conn))
    }
    return { type: Response.Type.OK, peers: [...byPeer.values()] }
  }

  async #disconnect (request: Request): Promise<Response> {
    if (request.disconnect == null) throw new InvalidMessageError('Malformed DISCONNECT request: the disconnect field is missing')
    const peer = peerIdFromBytes(request.disconnect.peer, 'DisconnectRequest.peer')
    const signal = anySignal([this.#shutdown.signal], this.#opts.requestTimeout, `DISCONNECT from ${peer.toString()}`)
    try {
      await this.#node.hangUp(peer, { signal })
    } finally {
      signal.clear()
    }
    return okResponse()
  }

  async #peerStore (request: Request): Promise<Response> {
    const req = request.peerStore
    if (req == null) throw new InvalidMessageError('Malformed PEERSTORE request: the peerStore field is missing')
    const peer = peerIdFromBytes(req.id, 'PeerstoreRequest.id')
    switch (req.type) {
      case PeerstoreRequest.Type.GET_PROTOCOLS: {
        const stored = await this.#node.peerStore.get(peer)
        return { type: Response.Type.OK, peers: [], peerStore: { protos: stored.protocols } }
      }
      case PeerstoreRequest.Type.GET_PEER_INFO: {
        const stored = await this.#node.peerStore.get(peer)
        return { type: Response.Type.OK, peers: [], peerStore: { protos: [], peer: { id: peer.toMultihash().bytes, addrs: stored.addresses.map(a => a.multiaddr.bytes) } } }
      }
      default:
        throw new InvalidMessageError(`Unknown PEERSTORE request type ${String(req.type)}`)
    }
  }

  #streamHandler (request: Request): Response {
    const req = request.streamHandler
    if (req == null) throw new InvalidMessageError('Malformed STREAM_HANDLER request: the streamHandler field is missing')
    if (req.proto.length === 0) throw new InvalidMessageError('Malformed STREAM_HANDLER request: no protocol given')
    const addr = multiaddrFromBytes(req.addr, 'StreamHandlerRequest.addr')
    let target: ControlAddr
    try {
      target = parseControlAddr(addr)
    } catch (err) {
      throw new InvalidParametersError(`The handler address ${addr.toString()} cannot be dialled: ${(err as Error).message}`, { cause: err })
    }
    const own = new Set(this.#node.swarm.getProtocols())
    const added = req.proto.filter(p => !this.#handlers.has(p))
    for (const protocol of req.proto) {
      if (protocol === '') throw new InvalidMessageError('Malformed STREAM_HANDLER request: empty protocol')
      const replaceable = this.#handlers.has(protocol) || (protocol === ECHO_PROTOCOL && this.#echoRegistered)
      if (own.has(protocol) && !replaceable) {
        throw new InvalidParametersError(`${protocol} is served by the node itself and cannot be handed to a client`)
      }
    }
    if (this.#handlers.size + added.length > this.#opts.maxStreamHandlers) {
      throw new LimitExceededError('maxStreamHandlers', this.#opts.maxStreamHandlers, this.#handlers.size + added.length, 'daemon')
    }
    for (const protocol of req.proto) {
      const isNew = !this.#handlers.has(protocol)
      this.#handlers.set(protocol, target)
      if (isNew) {
        this.#node.handle(protocol, this.#inbound, { force: true, maxInboundStreams: this.#opts.maxInboundStreamsPerProtocol })
        if (protocol === ECHO_PROTOCOL) this.#echoRegistered = false
      }
      this.#log('protocol %s handed to %s', protocol, addr.toString())
    }
    return okResponse()
  }

  /**
   * STREAM_OPEN. Answers ERROR (and keeps serving the connection) when the stream cannot be opened;
   * otherwise answers OK with the StreamInfo and pipes. True when the connection became a stream.
   */
  async #streamOpen (channel: SocketChannel, request: Request): Promise<boolean> {
    let stream
    let connection: Connection
    try {
      const req = request.streamOpen
      if (req == null) throw new InvalidMessageError('Malformed STREAM_OPEN request: the streamOpen field is missing')
      if (req.proto.length === 0) throw new InvalidMessageError('Malformed STREAM_OPEN request: no protocol given')
      const peer = peerIdFromBytes(req.peer, 'StreamOpenRequest.peer')
      const signal = anySignal([this.#shutdown.signal], this.#deadline(req.timeout), `STREAM_OPEN to ${peer.toString()}`)
      try {
        connection = await this.#node.dial(peer, { signal })
        stream = await connection.newStream(req.proto, { signal })
      } finally {
        signal.clear()
      }
    } catch (err) {
      this.#log('STREAM_OPEN failed: %s', (err as Error).message)
      return !await this.#reply(channel, errorResponse(err))
    }
    const info: StreamInfo = { peer: connection.remotePeer.toMultihash().bytes, addr: remoteAddrBytes(connection), proto: stream.protocol ?? '' }
    try {
      await channel.writeFrame(Response.encode({ type: Response.Type.OK, streamInfo: info, peers: [] }))
    } catch (err) {
      stream.abort(err as Error)
      channel.abort()
      return true
    }
    this.#log('stream %s to %s on %s handed to a client', stream.id, connection.remotePeer.toString(), stream.protocol)
    await bridge(channel, stream, this.#log)
    return true
  }

  /** An inbound stream for a protocol handed to a client: dial its handler address and pipe. */
  readonly #inbound = async ({ stream, connection }: IncomingStreamData): Promise<void> => {
    const protocol = stream.protocol ?? ''
    const target = this.#handlers.get(protocol)
    if (target == null || this.#server == null) {
      stream.abort(new InvalidParametersError(`No client handles ${protocol}`))
      return
    }
    if (this.#handlerConnections >= this.#opts.maxHandlerConnections) {
      const err = new LimitExceededError('maxHandlerConnections', this.#opts.maxHandlerConnections, undefined, 'daemon')
      this.#log('inbound %s stream from %s reset: %s', protocol, connection.remotePeer.toString(), err.message)
      stream.abort(err)
      return
    }
    this.#handlerConnections++
    let resolveTask!: () => void
    const task = new Promise<void>(resolve => { resolveTask = resolve })
    const signal = anySignal([this.#shutdown.signal], this.#opts.handlerTimeout, `handing a ${protocol} stream to its client`)
    let channel: SocketChannel | undefined
    try {
      const socket = await connectSocket(target, signal)
      this.#track(socket, task)
      channel = new SocketChannel(socket, { maxMessageSize: this.#opts.maxMessageSize, log: this.#log })
      const info = StreamInfo.encode({ peer: connection.remotePeer.toMultihash().bytes, addr: remoteAddrBytes(connection), proto: protocol })
      await raceWrite(channel, info, signal)
      signal.clear()
      await bridge(channel, stream, this.#log)
    } catch (err) {
      this.#log('inbound %s stream from %s not handed over: %s', protocol, connection.remotePeer.toString(), (err as Error).message)
      stream.abort(err as Error)
      channel?.abort(err as Error)
    } finally {
      signal.clear()
      this.#handlerConnections--
      resolveTask()
    }
  }
}

/** Writes a frame bounded by `signal`. */
async function raceWrite (channel: SocketChannel, message: Uint8Array, signal: AbortSignal): Promise<void> {
  const onAbort = (): void => { channel.abort(signal.reason as Error) }
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    await channel.writeFrame(message)
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
  if (signal.aborted) throw signal.reason
}

const echoHandler: StreamHandler = async ({ stream }) => {
  await stream.sink(stream.source)
}

function okResponse (): Response {
  return { type: Response.Type.OK, peers: [] }
}

function errorResponse (err: unknown): Response {
  const msg = err instanceof Error ? err.message : String(err)
  return { type: Response.Type.ERROR, error: { msg }, peers: [] }
}

function notSupported (message: string): PeerkitError {
  return new PeerkitError(message, 'ERR_NOT_SUPPORTED')
}

/** The varint-length-prefixed encoding of a response, for a single write. */
function frame (response: Response): Uint8Array {
  const body = Response.encode(response)
  const prefix = varint.encode(body.byteLength)
  const out = new Uint8Array(prefix.byteLength + body.byteLength)
  out.set(prefix, 0)
  out.set(body, prefix.byteLength)
  return out
}

/** A connection's remote address as p2pd reports it: without the trailing `/p2p/<peer>`. */
function remoteAddrBytes (connection: Connection): Uint8Array<ArrayBuffer> {
  return connection.remoteAddr.decapsulateCode(P2P_CODE).bytes as Uint8Array<ArrayBuffer>
}

/** `addr` ending with `/p2p/<peer>` (added when absent). */
function withPeer (addr: Multiaddr, peer: PeerId): Multiaddr {
  const named = addr.getComponents().find(c => c.code === P2P_CODE)?.value
  if (named != null) {
    if (named !== peer.toString()) throw new InvalidParametersError(`Address ${addr.toString()} names peer ${named}, not ${peer.toString()}`)
    return addr
  }
  return addr.encapsulate(`/p2p/${peer.toString()}`)
}

/** Removes a unix socket file left behind by a dead process; refuses to touch a live one or a non-socket. */
async function removeStaleSocket (path: string): Promise<void> {
  let stats
  try {
    stats = await lstat(path)
  } catch {
    return
  }
  if (!stats.isSocket()) throw new InvalidParametersError(`${path} exists and is not a unix socket`)
  try {
    const probe = await connectSocket({ type: 'unix', path }, AbortSignal.timeout(1000))
    probe.destroy()
  } catch {
    await unlink(path).catch(() => {})
    return
  }
  throw new InvalidParametersError(`Another process is serving the control socket ${path}`)
}
