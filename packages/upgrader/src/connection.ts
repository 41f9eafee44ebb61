import { ConnectionClosedError, LimitExceededError, StreamStateError, TimeoutError } from '@peerkit/interfaces'
import { handle as mssHandle, select as mssSelect } from '@peerkit/multistream-select'
import { anySignal, raceSignal } from '@peerkit/utils'
import type { AbortOptions, Connection, ConnectionStatus, ConnectionTimeline, Direction, Logger, MultiaddrConnection, NewStreamOptions, PeerId, Registrar, RemoteIdentity, Stream, StreamMuxer } from '@peerkit/interfaces'
import type { Multiaddr } from '@multiformats/multiaddr'

/**
 * Aborts `stream` with a `TimeoutError` unless the returned timer is cleared within `ms` (0 or
 * Infinity: no deadline). Pending reads and writes of the negotiation then fail with that error.
 */
function negotiationDeadline (stream: Stream, ms: number, what: string): ReturnType<typeof setTimeout> | undefined {
  if (!(ms > 0 && ms < Infinity)) return undefined
  const timer = setTimeout(() => { stream.abort(new TimeoutError(`${what} timed out after ${ms}ms`, ms)) }, ms)
  timer.unref?.()
  return timer
}

const NO_PROTOCOLS: readonly string[] = Object.freeze([])

/** Distinct protocol lists remembered for sharing; past it the memory starts over. */
const MAX_SHARED_PROTOCOL_LISTS = 64

/**
 * The settings' shared copy of `protocols` (frozen), so that the connections to peers that
 * announce the same list hold one array between them rather than one each.
 */
function sharedProtocolList (settings: ConnectionSettings, protocols: readonly string[]): readonly string[] {
  const lists = (settings.protocolLists ??= new Map())
  const key = JSON.stringify(protocols)
  let shared = lists.get(key)
  if (shared == null) {
    if (lists.size >= MAX_SHARED_PROTOCOL_LISTS) lists.clear()
    shared = Object.freeze([...protocols])
    lists.set(key, shared)
  }
  return shared
}

/** Longest a graceful close waits for the muxer's last frames to be written, in ms. */
const FLUSH_TIMEOUT = 1_000

/** Defaults for protocols that have no registered handler (e.g. streams we only dial). */
export const DEFAULT_MAX_INBOUND_STREAMS = 32
export const DEFAULT_MAX_OUTBOUND_STREAMS = 64
const DEFAULT_LIMITS = Object.freeze({ maxInboundStreams: DEFAULT_MAX_INBOUND_STREAMS, maxOutboundStreams: DEFAULT_MAX_OUTBOUND_STREAMS })

export interface ConnectionInit {
  id: string
  maConn: MultiaddrConnection
  remotePeer: PeerId
  direction: Direction
  encryption: string
  muxer: StreamMuxer
  log: Logger
  /** What every connection of an upgrader shares (one object for all of them). */
  settings: ConnectionSettings
}

/** Settings shared by the connections of one upgrader. */
export interface ConnectionSettings {
  /** Handlers for inbound streams; without it inbound streams are reset. */
  registrar?: Pick<Registrar, 'getProtocols' | 'getHandler' | 'findHandler'>
  /** Bound on negotiating the protocol of an inbound stream. */
  inboundStreamNegotiationTimeout: number
  /** Bound on negotiating the protocol of an outbound stream. */
  outboundStreamNegotiationTimeout: number
  /** Longest multistream-select message accepted on streams. */
  maxProtocolLength?: number
  /** Remotes (by `agentVersion`) whose listed protocols are selected optimistically with an early half-close; none when unset. */
  optimisticAgents?(agentVersion: string): boolean
  /**
   * One shared array per distinct protocol list (peers of one application announce the same):
   * what a connection keeps of its remote's list. Bounded; see `sharedProtocolList`.
   */
  protocolLists?: Map<string, readonly string[]>
  /** Called once, when the connection has closed (gracefully or not). */
  onClose?(connection: Connection): void
  /**
   * Called when a graceful close has resolved before the raw connection finished closing, with
   * the raw connection's close (which never rejects and is bounded by the transport) and a way to
   * cut it short (aborts the raw connection).
   */
  onReleasing?(released: Promise<void>, abort: (err: Error) => void): void
}

/**
 * An upgraded connection. Owns its muxer and raw connection: closing it closes both. Inbound
 * streams are negotiated against the registrar's protocols and handed to the handler, within the
 * handler's `maxInboundStreams` per connection; outbound streams respect `maxOutboundStreams`.
 */
export class UpgradedConnection implements Connection {
  readonly id: string
  readonly remoteAddr: Multiaddr
  readonly remotePeer: PeerId
  readonly direction: Direction
  readonly encryption: string
  readonly multiplexer: string
  readonly timeline: ConnectionTimeline
  #tags?: string[]
  readonly log: Logger
  readonly #maConn: MultiaddrConnection
  readonly #muxer: StreamMuxer
  readonly #settings: ConnectionSettings
  #status: ConnectionStatus = 'open'
  /** The muxer's frames are all written (see outboundEnded). */
  #outboundEnded = false
  #outboundWaiter?: () => void
  #closed = false
  /**
   * Set when the remote's listener is known (from its agent) to take proposal, data and half-close
   * together: the protocols it listed (a list shared between connections), or an empty list
   * until it has listed any. Unset for other remotes, whose streams are negotiated fully.
   */
  #optimisticProtocols?: readonly string[]

  constructor (init: ConnectionInit) {
    this.#settings = init.settings
    this.id = init.id
    this.#maConn = init.maConn
    this.#muxer = init.muxer
    this.remoteAddr = init.maConn.remoteAddr
    this.remotePeer = init.remotePeer
    this.direction = init.direction
    this.encryption = init.encryption
    this.multiplexer = init.muxer.protocol
    this.log = init.log
    this.timeline = { open: init.maConn.timeline.open, upgraded: Date.now() }
  }

  /** Free-form tags; the array is created on first use. */
  get tags (): string[] {
    return (this.#tags ??= [])
  }

  get status (): ConnectionStatus {
    return this.#status
  }

  get streams (): Stream[] {
    return this.#muxer.streams
  }

  #countStreams (protocol: string, direction: Direction): number {
    let n = 0
    for (const s of this.#muxer.streams) {
      if (s.protocol === protocol && s.direction === direction) n++
    }
    return n
  }

  #limits (protocol: string): { maxInboundStreams: number, maxOutboundStreams: number } {
    const registrar = this.#settings.registrar
    if (registrar != null) {
      // Outbound protocols usually have no local handler: look up without building an error.
      if (registrar.findHandler != null) {
        const record = registrar.findHandler(protocol)
        if (record != null) return record.options
      } else {
        try {
          return registrar.getHandler(protocol).options
        } catch {
          // no handler: defaults
        }
      }
    }
    return DEFAULT_LIMITS
  }

  setRemoteIdentity (identity: RemoteIdentity): void {
    if (identity.agentVersion != null) {
      const trusted = this.#settings.optimisticAgents?.(identity.agentVersion) === true
      this.#optimisticProtocols = trusted ? (this.#optimisticProtocols ?? NO_PROTOCOLS) : undefined
    }
    if (identity.protocols != null && this.#optimisticProtocols != null) {
      this.#optimisticProtocols = sharedProtocolList(this.#settings, identity.protocols)
    }
  }

  async newStream (protocols: string | string[], options: NewStreamOptions = {}): Promise<Stream> {
    if (this.#status !== 'open') throw new ConnectionClosedError(`Cannot open a stream: connection is ${this.#status}`)
    const list = Array.isArray(protocols) ? protocols : [protocols]
    if (list.length === 1) {
      const max = options.maxOutboundStreams ?? this.#limits(list[0]).maxOutboundStreams
      if (this.#countStreams(list[0], 'outbound') >= max) {
        throw new LimitExceededError('maxOutboundStreams', max, undefined, `protocol ${list[0]} on connection ${this.id}`)
      }
    }
    // Without a caller's signal the negotiation is bounded by a plain timer that aborts the stream
    // (cheaper per stream than a combined AbortSignal); with one, both bound it.
    const signal = options.signal != null ? anySignal([options.signal], this.#settings.outboundStreamNegotiationTimeout, 'outbound stream negotiation') : undefined
    let stream: Stream | undefined
    let timer: ReturnType<typeof setTimeout> | undefined
    try {
      // The caller's signal (with the negotiation timeout) also bounds a muxer that has to wait
      // before it can open a stream (yamux's backlog of unacknowledged streams).
      stream = await this.#muxer.newStream(undefined, signal != null ? { signal } : undefined)
      if (signal == null) timer = negotiationDeadline(stream, this.#settings.outboundStreamNegotiationTimeout, 'outbound stream negotiation')
      // Unset negotiateFully: optimistic for a protocol that a trusted remote listed.
      const listed = this.#optimisticProtocols
      const { protocol, stream: negotiated } = await mssSelect(stream, list, {
        signal,
        log: stream.log,
        negotiateFully: options.negotiateFully ?? !(list.length === 1 && listed?.includes(list[0]) === true),
        // A trusted remote's listener takes the half-close together with the proposal.
        earlyClose: listed != null,
        maxMessageLength: this.#settings.maxProtocolLength
      })
      const max = options.maxOutboundStreams ?? this.#limits(protocol).maxOutboundStreams
      // The new stream is already counted among the muxer's streams once it has its protocol.
      negotiated.protocol = protocol
      if (this.#countStreams(protocol, 'outbound') > max) {
        throw new LimitExceededError('maxOutboundStreams', max, undefined, `protocol ${protocol} on connection ${this.id}`)
      }
      negotiated.timeline.upgraded = Date.now()
      return negotiated
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err))
      stream?.abort(error)
      throw error
    } finally {
      clearTimeout(timer)
      signal?.clear()
    }
  }

  /** Negotiates an inbound stream's protocol and runs its handler. Called by the muxer. */
  async handleIncomingStream (stream: Stream): Promise<void> {
    const registrar = this.#settings.registrar
    if (registrar == null || this.#status !== 'open') {
      stream.abort(new StreamStateError('No handlers on this connection'))
      return
    }
    let timer: ReturnType<typeof setTimeout> | undefined = negotiationDeadline(stream, this.#settings.inboundStreamNegotiationTimeout, 'inbound stream negotiation')
    try {
      const { protocol, stream: negotiated } = await mssHandle(stream, registrar.getProtocols(), {
        log: stream.log,
        maxMessageLength: this.#settings.maxProtocolLength
      })
      clearTimeout(timer)
      timer = undefined
      negotiated.protocol = protocol
      const { handler, options } = registrar.getHandler(protocol)
      if (this.#countStreams(protocol, 'inbound') > options.maxInboundStreams) {
        throw new LimitExceededError('maxInboundStreams', options.maxInboundStreams, undefined, `protocol ${protocol} on connection ${this.id}`)
      }
      negotiated.timeline.upgraded = Date.now()
      await handler({ stream: negotiated, connection: this })
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err))
      this.log('inbound stream %s failed: %s', stream.id, error.message)
      stream.abort(error)
    } finally {
      clearTimeout(timer)
    }
  }

  async close (options: AbortOptions = {}): Promise<void> {
    if (this.#status !== 'open') return
    this.#status = 'closing'
    this.log('closing connection to %s', this.remoteAddr.toString())
    try {
      await this.#muxer.close(options)
      // Let the muxer's last frames (its GoAway) reach the socket before closing it: closing the
      // raw connection stops its writer, dropping whatever is still on the way.
      await this.#flushed(options)
      // Done when our side is: everything sent and our write side ended. Waiting for the remote
      // to end its side too would add a round trip (and the remote's processing) to every close;
      // the raw connection keeps waiting for it in the background, bounded by its close timeout,
      // and the upgrader tracks that so that a stopping swarm can wait for it.
      await this.#maConn.close({ signal: options.signal, waitForRemote: false })
      const released = this.#maConn.close().catch(() => {})
      this.#settings.onReleasing?.(released, (err) => { this.#maConn.abort(err) })
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err))
      this.#muxer.abort(error)
      this.#maConn.abort(error)
    } finally {
      this.markClosed()
    }
  }

  /**
   * The upgrader reports that the muxer's frames have all reached the raw connection; `close()`
   * waits for this (boundedly) before closing the raw connection. @internal
   */
  outboundEnded (): void {
    if (this.#outboundEnded) return
    this.#outboundEnded = true
    const wake = this.#outboundWaiter
    this.#outboundWaiter = undefined
    wake?.()
  }

  /** Waits until the muxer's frames are written, at most `FLUSH_TIMEOUT` ms or until `options.signal` aborts. */
  async #flushed (options: AbortOptions): Promise<void> {
    if (this.#outboundEnded) return
    let timer: ReturnType<typeof setTimeout> | undefined
    try {
      await raceSignal(new Promise<void>(resolve => {
        this.#outboundWaiter = resolve
        timer = setTimeout(resolve, FLUSH_TIMEOUT)
      }), options.signal)
    } finally {
      clearTimeout(timer)
      this.#outboundWaiter = undefined
    }
  }

  abort (err: Error): void {
    if (this.#closed) return
    this.log('aborting connection: %s', err.message)
    this.#status = 'closing'
    this.#muxer.abort(err)
    this.#maConn.abort(err)
    this.markClosed()
  }

  /** Records the end of the connection; idempotent. */
  markClosed (): void {
    if (this.#closed) return
    this.#closed = true
    this.#status = 'closed'
    this.timeline.close = Date.now()
    this.#settings.onClose?.(this)
  }
}
