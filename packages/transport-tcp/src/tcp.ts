import net from 'node:net'
import { AbortError, InvalidParametersError, TimeoutError, TransportDialError, transportSymbol } from '@peerkit/interfaces'
import { logger } from '@peerkit/utils'
import { DEFAULT_BACKLOG, DEFAULT_DIAL_TIMEOUT, DEFAULT_MAX_CONNECTIONS, TAG } from './constants.js'
import { TCPListener } from './listener.js'
import { sharedReadOption, toMultiaddrConnection } from './socket-to-conn.js'
import { ipPortToMultiaddr, isUnspecifiedHost, parseTCPAddress } from './utils.js'
import type { TCPConnectionOptions } from './socket-to-conn.js'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { CreateListenerOptions, DialTransportOptions, Listener, MultiaddrConnection, Transport } from '@peerkit/interfaces'

const log = logger('peerkit:tcp')
const connLog = logger('peerkit:tcp:connection')

/** Options of the {@link tcp} transport. Connection options apply to dialled and accepted sockets alike. */
export interface TCPInit extends TCPConnectionOptions {
  /**
   * Milliseconds a dial may take before it fails with a `TimeoutError`; a dial's own
   * `options.timeout` overrides it. `0` disables the timeout (the caller's signal still applies).
   *
   * @default 5000
   */
  dialTimeout?: number
  /**
   * Open inbound connections allowed per listener. Further sockets are destroyed as soon as they
   * are accepted (and a log line is written); the listener keeps serving. A listener's
   * `createListener({ maxConnections })` overrides it.
   *
   * @default 1024
   */
  maxConnections?: number
  /**
   * Length of the kernel's queue of inbound connections not yet accepted (`listen(2)` backlog).
   *
   * @default 511
   */
  backlog?: number
  /**
   * Sockets read into one 256 KiB buffer shared by the process instead of into a new 64 KiB buffer
   * per read: dialled sockets through Node's `onread` option, accepted ones through
   * `adoptSharedRead()` (which falls back to Node's own reads on a runtime where it cannot). Each
   * read is handed on within its callback; receivers that keep data get a copy, in pieces of at
   * most 64 KiB (see `ByteChannelReceiver.transientData`). `false`: a new buffer per read, as
   * Node does by default.
   *
   * @default true
   */
  sharedReadBuffer?: boolean
}

function positiveInt (name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback
  if (!Number.isSafeInteger(v) || v < 1) throw new InvalidParametersError(`${name} must be a positive integer, got ${String(v)}`)
  return v
}

function nonNegative (name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback
  if (typeof v !== 'number' || Number.isNaN(v) || v < 0) throw new InvalidParametersError(`${name} must be a number >= 0, got ${String(v)}`)
  return v
}

/** The TCP transport: see {@link tcp}. */
export class TCPTransport implements Transport {
  readonly [transportSymbol] = true as const
  readonly [Symbol.toStringTag] = TAG
  readonly tag = TAG

  readonly #connOptions: TCPConnectionOptions
  readonly #dialTimeout: number
  readonly #maxConnections: number
  readonly #backlog: number
  readonly #sharedReadBuffer: boolean

  constructor (init: TCPInit = {}) {
    const { dialTimeout, maxConnections, backlog, sharedReadBuffer, ...connOptions } = init
    this.#sharedReadBuffer = sharedReadBuffer ?? true
    this.#dialTimeout = nonNegative('dialTimeout', dialTimeout, DEFAULT_DIAL_TIMEOUT)
    this.#maxConnections = positiveInt('maxConnections', maxConnections, DEFAULT_MAX_CONNECTIONS)
    this.#backlog = positiveInt('backlog', backlog, DEFAULT_BACKLOG)
    this.#connOptions = connOptions
  }

  async dial (ma: Multiaddr, options: DialTransportOptions = {}): Promise<MultiaddrConnection> {
    const address = ma.toString()
    const addr = parseTCPAddress(ma)
    if (addr == null) throw new InvalidParametersError(`Not a TCP address: ${address}`)
    if (addr.port === 0 || isUnspecifiedHost(addr.host)) {
      throw new InvalidParametersError(`Cannot dial ${address}: a dial needs a concrete host and a non-zero port`)
    }
    const timeout = nonNegative('timeout', options.timeout, this.#dialTimeout)
    const { signal } = options
    if (signal?.aborted === true) throw dialAbortError(signal, address)

    log('dialing %s', address)
    const socket = net.connect({
      host: addr.host,
      port: addr.port,
      family: addr.family,
      allowHalfOpen: true,
      noDelay: this.#connOptions.noDelay ?? true,
      // Reads go to one buffer shared by our sockets (see sharedReadOption).
      onread: this.#sharedReadBuffer ? sharedReadOption() : undefined
    })

    await new Promise<void>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined
      const done = (err?: Error): void => {
        socket.removeListener('connect', onConnect)
        socket.removeListener('error', onError)
        signal?.removeEventListener('abort', onAbort)
        if (timer != null) clearTimeout(timer)
        if (err == null) {
          resolve()
          return
        }
        socket.destroy()
        reject(err)
      }
      const onConnect = (): void => { done() }
      const onError = (err: NodeJS.ErrnoException): void => {
        const reason = err.code ?? err.message
        log('dial to %s failed: %s', address, reason)
        done(new TransportDialError(address, `Could not connect to ${address}: ${reason}${err.code != null && err.message !== '' ? ` (${err.message})` : ''}`, { cause: err }))
      }
      const onAbort = (): void => {
        log('dial to %s aborted', address)
        done(dialAbortError(signal!, address))
      }
      socket.once('connect', onConnect)
      socket.once('error', onError)
      signal?.addEventListener('abort', onAbort, { once: true })
      if (timeout > 0 && timeout < Infinity) {
        timer = setTimeout(() => {
          log('dial to %s timed out after %dms', address, timeout)
          done(new TimeoutError(`Dial to ${address} timed out after ${timeout}ms`, timeout))
        }, timeout)
      }
    })

    try {
      const { localAddress, localPort } = socket
      const maConn = toMultiaddrConnection(socket, {
        ...this.#connOptions,
        direction: 'outbound',
        remoteAddr: ma,
        localAddr: localAddress != null && localPort != null ? ipPortToMultiaddr(localAddress, localPort) : undefined,
        log: connLog
      })
      log('connected to %s', address)
      return maConn
    } catch (err) {
      socket.destroy()
      throw new TransportDialError(address, `Connection to ${address} failed right after it opened: ${(err as Error).message}`, { cause: err })
    }
  }

  createListener (options: CreateListenerOptions = {}): Listener {
    return new TCPListener({
      ...this.#connOptions,
      maxConnections: positiveInt('maxConnections', options.maxConnections, this.#maxConnections),
      backlog: this.#backlog,
      sharedReadBuffer: this.#sharedReadBuffer
    })
  }

  /** Keeps plain TCP addresses: `(ip4|ip6|dns|dns4|dns6)/<host>/tcp/<port>`, optionally followed by `/p2p/<id>`. */
  listenFilter (multiaddrs: Multiaddr[]): Multiaddr[] {
    return multiaddrs.filter(ma => parseTCPAddress(ma) != null)
  }

  /** Like {@link listenFilter}, and also drops wildcard hosts (`0.0.0.0`, `::`) and port 0, which cannot be dialled. */
  dialFilter (multiaddrs: Multiaddr[]): Multiaddr[] {
    return multiaddrs.filter(ma => {
      const addr = parseTCPAddress(ma)
      return addr != null && addr.port !== 0 && !isUnspecifiedHost(addr.host)
    })
  }
}

function dialAbortError (signal: AbortSignal, address: string): Error {
  const reason: unknown = signal.reason
  if (reason instanceof Error && reason.name !== 'AbortError') return reason
  return new AbortError(`Dial to ${address} was aborted`)
}
