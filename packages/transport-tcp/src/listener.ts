import net from 'node:net'
import { lookup } from 'node:dns/promises'
import { InvalidParametersError, StreamStateError, TransportDialError } from '@peerkit/interfaces'
import { TypedEventEmitter, abortReason, logger } from '@peerkit/utils'
import { adoptSharedRead, toMultiaddrConnection } from './socket-to-conn.js'
import { ipPortToMultiaddr, isUnspecifiedHost, localInterfaceAddresses, parseTCPAddress } from './utils.js'
import type { TCPConnectionOptions } from './socket-to-conn.js'
import type { TCPAddress } from './utils.js'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Listener, ListenerCloseOptions, ListenerEvents, MultiaddrConnection } from '@peerkit/interfaces'

const log = logger('peerkit:tcp:listener')
const connLog = logger('peerkit:tcp:connection')
/** Distinct local addresses remembered by a listener (more than a host has interfaces). */
const MAX_CACHED_LOCAL_ADDRS = 64

/** Settings of one {@link TCPListener}. */
export interface TCPListenerInit extends TCPConnectionOptions {
  /** Simultaneously open inbound connections beyond which new sockets are dropped at once. */
  maxConnections: number
  /** Length of the kernel's queue of connections not yet accepted. */
  backlog: number
  /** Accepted sockets read into the process's shared read buffer (see `adoptSharedRead`). Default true. */
  sharedReadBuffer?: boolean
}

type State =
  | { kind: 'idle' }
  | { kind: 'binding' }
  | { kind: 'listening', server: net.Server, addr: TCPAddress, ma: Multiaddr }
  | { kind: 'closed' }

/**
 * Listens on one TCP address. Each accepted socket becomes a `MultiaddrConnection` handed out with
 * the `connection` event; the listener tracks them until they close so that
 * `close({ closeConnections: true })` can close them.
 *
 * A listener listens once: after `close()` create a new one.
 */
export class TCPListener extends TypedEventEmitter<ListenerEvents & Record<string, unknown>> implements Listener {
  readonly #init: TCPListenerInit
  readonly #connections = new Set<MultiaddrConnection>()
  /** Our side's address of accepted connections, one object per local address (few: one per interface). */
  readonly #localAddrs = new Map<string, Multiaddr>()
  #state: State = { kind: 'idle' }

  constructor (init: TCPListenerInit) {
    super()
    this.#init = init
  }

  /** Number of accepted connections that are still open. */
  get connectionCount (): number {
    return this.#connections.size
  }

  async listen (ma: Multiaddr): Promise<void> {
    if (this.#state.kind !== 'idle') {
      throw new StreamStateError(`Cannot listen on ${ma.toString()}: the listener is ${this.#state.kind}`)
    }
    const addr = parseTCPAddress(ma)
    if (addr == null) throw new InvalidParametersError(`Not a TCP address: ${ma.toString()}`)
    this.#state = { kind: 'binding' }

    let server: net.Server | undefined
    try {
      let host = addr.host
      let family = addr.family
      if (addr.dns) {
        const resolved = await lookup(addr.host, { family: addr.family, verbatim: true })
        host = resolved.address
        family = resolved.family === 6 ? 6 : 4
      }
      const bound = await this.#bind(host, addr.port)
      server = bound
      if (this.#state.kind !== 'binding') {
        // close() was called while binding.
        server.close()
        throw new StreamStateError(`Listener on ${ma.toString()} was closed while binding`)
      }
      this.#state = { kind: 'listening', server, addr: { ...addr, host, family }, ma }
    } catch (err) {
      server?.close()
      if (this.#state.kind === 'binding') this.#state = { kind: 'idle' }
      if (err instanceof StreamStateError) throw err
      const code = (err as NodeJS.ErrnoException).code
      const reason = code ?? (err as Error).message
      log.error('listening on %s failed: %s', ma.toString(), reason)
      throw new TransportDialError(ma.toString(), `Could not listen on ${ma.toString()}: ${reason}`, { cause: err })
    }

    log('listening on %s (%s)', ma.toString(), this.getAddrs().map(a => a.toString()).join(', '))
    this.safeDispatchEvent('listening')
  }

  async #bind (host: string, port: number): Promise<net.Server> {
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: false })
    server.maxConnections = this.#init.maxConnections
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => { reject(err) }
      server.once('error', onError)
      server.listen({
        host,
        port,
        backlog: this.#init.backlog,
        // Lets `/ip4/0.0.0.0/tcp/N` and `/ip6/::/tcp/N` be bound side by side.
        ipv6Only: net.isIPv6(host) && isUnspecifiedHost(host)
      }, () => {
        server.removeListener('error', onError)
        resolve()
      })
    })
    server.on('connection', this.#onSocket)
    server.on('error', (err: Error) => {
      log.error('server error: %s', err.message)
      this.safeDispatchEvent('error', { detail: err })
    })
    server.on('drop', (data?: { remoteAddress?: string, remotePort?: number }) => {
      log('dropped inbound connection from %s:%s: maxConnections (%d) reached', data?.remoteAddress, data?.remotePort, this.#init.maxConnections)
    })
    return server
  }

  /** The multiaddr of a local address, shared by the connections accepted on it (bounded cache). */
  #localAddr (address: string, port: number): Multiaddr {
    const key = `${address}|${port}`
    let addr = this.#localAddrs.get(key)
    if (addr == null) {
      addr = ipPortToMultiaddr(address, port)
      if (this.#localAddrs.size >= MAX_CACHED_LOCAL_ADDRS) this.#localAddrs.clear()
      this.#localAddrs.set(key, addr)
    }
    return addr
  }

  /** Forgets a connection whose socket closed (one function for all of this listener's connections). */
  readonly #forget = (maConn: MultiaddrConnection): void => {
    this.#connections.delete(maConn)
  }

  readonly #onSocket = (socket: net.Socket): void => {
    const state = this.#state
    if (state.kind !== 'listening') {
      socket.destroy()
      return
    }
    let maConn: MultiaddrConnection
    try {
      const { remoteAddress, remotePort, localAddress, localPort } = socket
      if (remoteAddress == null || remotePort == null) {
        // The peer already went away: there is nothing to hand out.
        throw new Error('the socket has no remote address (closed before it was accepted)')
      }
      // Before the first read, which comes in a later turn of the event loop.
      if (this.#init.sharedReadBuffer !== false) adoptSharedRead(socket)
      maConn = toMultiaddrConnection(socket, {
        ...this.#init,
        direction: 'inbound',
        remoteAddr: ipPortToMultiaddr(remoteAddress, remotePort),
        localAddr: localAddress != null && localPort != null ? this.#localAddr(localAddress, localPort) : undefined,
        log: connLog,
        onClose: this.#forget
      })
    } catch (err) {
      log('could not accept a socket: %s', (err as Error).message)
      socket.destroy()
      return
    }
    this.#connections.add(maConn)
    if (this.listenerCount('connection') === 0) {
      log('no handler for inbound connection from %s, closing it', maConn.remoteAddr.toString())
      maConn.abort(new StreamStateError('The listener has no connection handler'))
      return
    }
    log('inbound connection from %s', maConn.remoteAddr.toString())
    this.safeDispatchEvent('connection', { detail: maConn })
  }

  getAddrs (): Multiaddr[] {
    const state = this.#state
    if (state.kind !== 'listening') return []
    const bound = state.server.address()
    if (bound == null || typeof bound === 'string') return []
    const { addr } = state
    if (isUnspecifiedHost(addr.host)) {
      const family = addr.family === 6 ? 6 : 4
      return localInterfaceAddresses(family).map(ip => ipPortToMultiaddr(ip, bound.port, addr.peerId))
    }
    return [ipPortToMultiaddr(addr.host, bound.port, addr.peerId)]
  }

  /**
   * Stops accepting (the `close` event fires once, when the first call is done). With
   * `closeConnections`, also closes the connections this listener accepted, each bounded by the
   * close timeout; if `signal` aborts first they are reset and the call rejects with the abort
   * reason. Calling it again is harmless, and may close the connections a first call left open.
   */
  async close (options?: ListenerCloseOptions): Promise<void> {
    const closeConnections = options?.closeConnections === true
    const state = this.#state
    this.#state = { kind: 'closed' }
    if (state.kind === 'listening') {
      log('closing listener on %s%s', state.ma.toString(), closeConnections ? ` and its ${this.#connections.size} connection(s)` : '')
      // Stops accepting at once; the callback would only run once every accepted socket is gone.
      state.server.close()
    }
    try {
      if (closeConnections && this.#connections.size > 0) {
        await this.#closeConnections(options?.signal)
      }
    } finally {
      if (state.kind === 'listening') this.safeDispatchEvent('close')
    }
  }

  async #closeConnections (signal?: AbortSignal): Promise<void> {
    const conns = [...this.#connections]
    const closing = Promise.all(conns.map(async c => {
      try {
        await c.close()
      } catch (err) {
        c.abort(err as Error)
      }
    }))
    if (signal == null) {
      await closing
      return
    }
    let aborted: Error | undefined
    const onAbort = (): void => {
      aborted = abortReason(signal)
      log('closing connections aborted, resetting %d connection(s)', this.#connections.size)
      for (const c of conns) c.abort(aborted)
    }
    if (signal.aborted) onAbort()
    else signal.addEventListener('abort', onAbort, { once: true })
    try {
      await closing
    } finally {
      signal.removeEventListener('abort', onAbort)
    }
    if (aborted != null) throw aborted
  }
}
