import { ConnectionDeniedError, HandshakeError, InvalidParametersError, PeerkitError, StreamStateError, UnsupportedProtocolError, attachByteChannel } from '@peerkit/interfaces'
import { handle as mssHandle, select as mssSelect } from '@peerkit/multistream-select'
import { abortReason, anySignal, claimByteChannel, logger, prefixLogger } from '@peerkit/utils'
import { UpgradedConnection } from './connection.js'
import type { ConnectionSettings } from './connection.js'
import type { AbortOptions, ByteChannelMuxer, ByteChannelMuxerEvents, Connection, ConnectionEncrypter, ConnectionGater, Direction, Logger, MultiaddrConnection, PeerId, Registrar, SecuredConnection, SecureStream, StreamMuxerFactory } from '@peerkit/interfaces'

export interface UpgraderInit {
  /** Encrypters in order of preference (the dialer proposes them in this order). */
  connectionEncrypters: ConnectionEncrypter[]
  /** Stream muxers in order of preference. */
  streamMuxers: StreamMuxerFactory[]
  /** Protocol handlers for inbound streams on upgraded connections. */
  registrar?: Pick<Registrar, 'getProtocols' | 'getHandler' | 'findHandler'>
  /** Deny hooks consulted at each phase. */
  connectionGater?: ConnectionGater
  /** Bound on the whole upgrade (multistream, handshake, muxer selection), in ms. Default 10 000. */
  upgradeTimeout?: number
  /** Bound on negotiating an inbound stream's protocol, in ms. Default 10 000. */
  inboundStreamNegotiationTimeout?: number
  /** Bound on negotiating an outbound stream's protocol, in ms. Default 10 000. */
  outboundStreamNegotiationTimeout?: number
  /** Longest multistream-select message accepted, in bytes. Default: multistream-select's. */
  maxProtocolLength?: number
  /**
   * The remotes whose streams are selected optimistically, with an early half-close, for the
   * protocols they listed in identify (when the caller leaves `negotiateFully` unset): a test of
   * the `agentVersion` they announced. Such a stream's proposal, data and half-close can leave in
   * one write, saving a round trip and half the writes of a request-response stream. The remote's
   * listener must accept all three arriving together: peerkit's does, js-libp2p 3.x loses the data.
   * Default: peerkit nodes (`agentVersion` starting with `peerkit/`). `false`: every stream is
   * negotiated fully unless its caller asks otherwise.
   */
  optimisticAgents?: ((agentVersion: string) => boolean) | false
  /** Called when an upgraded connection has closed. */
  onConnectionClose?(connection: Connection): void
  log?: Logger
}

export interface UpgradeOptions extends AbortOptions {
  /** The peer the dialer expects; the handshake fails with `UnexpectedPeerError` otherwise. */
  remotePeer?: PeerId
}

let connectionCounter = 0

/** The default `optimisticAgents`: peerkit nodes, whose listeners accept proposal, data and half-close together. */
export function isPeerkitAgent (agentVersion: string): boolean {
  return agentVersion.startsWith('peerkit/')
}

/** All connections log under `peerkit:connection`, each line prefixed with `in:<n>` or `out:<n>`. */
const connectionsLog = logger('peerkit:connection')

/** `err` or the first error of its `cause` chain that is a `type`, if any (the chain is bounded). */
function findCause<T extends Error> (err: unknown, type: new (...args: never[]) => T): T | undefined {
  let e: unknown = err
  for (let depth = 0; depth < 8 && e instanceof Error; depth++) {
    if (e instanceof type) return e
    e = e.cause
  }
  return undefined
}

/**
 * Turns a raw `MultiaddrConnection` into a `Connection`: multistream-select picks an encrypter,
 * the encrypter authenticates the remote (and checks the expected PeerId), then the muxer comes from
 * early negotiation inside the handshake when both sides offered one, or from a second
 * multistream-select. On any failure the raw connection is aborted and the error (typed, with the
 * phase in its message) is thrown; nothing is left open.
 */
export class Upgrader {
  readonly #init: UpgraderInit
  readonly #log: Logger
  readonly #upgradeTimeout: number
  readonly #connectionSettings: ConnectionSettings
  /**
   * Raw connections of closed connections still closing (each bounded by its transport's close
   * timeout): their close, and how to cut it short.
   */
  readonly #releasing = new Map<Promise<void>, (err: Error) => void>()

  constructor (init: UpgraderInit) {
    if (init.connectionEncrypters.length === 0) throw new InvalidParametersError('At least one connection encrypter is required')
    if (init.streamMuxers.length === 0) throw new InvalidParametersError('At least one stream muxer is required')
    this.#init = init
    this.#log = init.log ?? logger('peerkit:upgrader')
    this.#upgradeTimeout = init.upgradeTimeout ?? 10_000
    this.#connectionSettings = {
      registrar: init.registrar,
      inboundStreamNegotiationTimeout: init.inboundStreamNegotiationTimeout ?? 10_000,
      outboundStreamNegotiationTimeout: init.outboundStreamNegotiationTimeout ?? 10_000,
      maxProtocolLength: init.maxProtocolLength,
      optimisticAgents: init.optimisticAgents === false ? undefined : (init.optimisticAgents ?? isPeerkitAgent),
      onClose: init.onConnectionClose,
      onReleasing: (released, abort) => {
        this.#releasing.set(released, abort)
        void released.finally(() => { this.#releasing.delete(released) })
      }
    }
  }

  /**
   * Resolves once every connection this upgrader made that has closed has also released its
   * transport. A closed connection's socket may still wait, bounded by the transport's close
   * timeout, for the remote to end its side (see `Connection.close()`); a swarm that stops waits
   * here so that nothing is left behind. Never rejects.
   *
   * When `options.signal` aborts first, the raw connections still waiting are aborted (their
   * sockets destroyed) and this resolves once they have closed: a caller with a deadline of its own
   * need not wait for the transport's.
   */
  async whenReleased ({ signal }: AbortOptions = {}): Promise<void> {
    const cutShort = (): void => {
      const reason = abortReason(signal as AbortSignal)
      for (const abort of this.#releasing.values()) abort(reason)
    }
    signal?.addEventListener('abort', cutShort, { once: true })
    try {
      while (this.#releasing.size > 0) {
        // Also when the signal was aborted already, or a close began releasing after it aborted.
        if (signal?.aborted === true) cutShort()
        await Promise.all(this.#releasing.keys())
      }
    } finally {
      signal?.removeEventListener('abort', cutShort)
    }
  }

  /** Upgrades a connection we dialled. */
  async upgradeOutbound (maConn: MultiaddrConnection, options: UpgradeOptions = {}): Promise<Connection> {
    return this.#upgrade(maConn, 'outbound', options)
  }

  /** Upgrades a connection a listener accepted. */
  async upgradeInbound (maConn: MultiaddrConnection, options: UpgradeOptions = {}): Promise<Connection> {
    return this.#upgrade(maConn, 'inbound', options)
  }

  async #gate (phase: keyof ConnectionGater, ...args: unknown[]): Promise<void> {
    const hook = this.#init.connectionGater?.[phase] as ((...a: unknown[]) => boolean | Promise<boolean>) | undefined
    if (hook != null && await hook.apply(this.#init.connectionGater, args)) throw new ConnectionDeniedError(phase)
  }

  async #upgrade (maConn: MultiaddrConnection, direction: Direction, options: UpgradeOptions): Promise<Connection> {
    const signal = anySignal([options.signal], this.#upgradeTimeout, 'connection upgrade')
    const log = maConn.log ?? this.#log
    try {
      if (direction === 'inbound') await this.#gate('denyInboundConnection', maConn)
      else if (options.remotePeer != null) await this.#gate('denyOutboundConnection', options.remotePeer, maConn)

      // 1. encryption
      const encrypters = this.#init.connectionEncrypters
      const encrypterProtocols = encrypters.map(e => e.protocol)
      const muxerProtocols = this.#init.streamMuxers.map(m => m.protocol)
      // With a single encrypter to offer, the proposal is optimistic: it goes out with the first
      // handshake message instead of waiting a round trip for the listener's answer (a listener
      // that refuses it answers `na`, and the handshake's first read fails with
      // UnsupportedProtocolError). With several, each is proposed in turn.
      const negotiated = direction === 'outbound'
        ? await mssSelect(maConn as SecureStream, encrypterProtocols, { signal, log, maxMessageLength: this.#init.maxProtocolLength, negotiateFully: encrypterProtocols.length > 1 })
        : await mssHandle(maConn as SecureStream, encrypterProtocols, { signal, log, maxMessageLength: this.#init.maxProtocolLength })
      const encrypter = encrypters.find(e => e.protocol === negotiated.protocol)
      if (encrypter == null) throw new UnsupportedProtocolError([negotiated.protocol])
      log('%s: encrypting with %s', direction, encrypter.protocol)
      let secured: SecuredConnection
      try {
        const secureOptions = { signal, remotePeer: options.remotePeer, streamMuxers: muxerProtocols }
        secured = direction === 'outbound'
          ? await encrypter.secureOutbound(negotiated.stream, secureOptions)
          : await encrypter.secureInbound(negotiated.stream, secureOptions)
      } catch (err) {
        // An optimistic proposal the listener refused surfaces inside the handshake (its first
        // read): report it as what it is.
        const refused = findCause(err, UnsupportedProtocolError)
        if (refused != null) throw refused
        if (err instanceof PeerkitError) throw err
        throw new HandshakeError(`${encrypter.protocol} handshake failed: ${(err as Error).message}`, encrypter.protocol, { cause: err })
      }
      const remotePeer = secured.remotePeer
      await this.#gate(direction === 'inbound' ? 'denyInboundEncryptedConnection' : 'denyOutboundEncryptedConnection', remotePeer, maConn)

      // 2. multiplexing: early negotiation result, else multistream-select
      let muxerFactory = secured.streamMuxer != null ? this.#init.streamMuxers.find(m => m.protocol === secured.streamMuxer) : undefined
      let conn = secured.conn
      if (muxerFactory == null) {
        const m = direction === 'outbound'
          ? await mssSelect(conn, muxerProtocols, { signal, log, maxMessageLength: this.#init.maxProtocolLength })
          : await mssHandle(conn, muxerProtocols, { signal, log, maxMessageLength: this.#init.maxProtocolLength })
        conn = m.stream
        muxerFactory = this.#init.streamMuxers.find(f => f.protocol === m.protocol)
        if (muxerFactory == null) throw new UnsupportedProtocolError([m.protocol])
      } else {
        log('%s: muxer %s agreed during the handshake', direction, muxerFactory.protocol)
      }
      await this.#gate(direction === 'inbound' ? 'denyInboundUpgradedConnection' : 'denyOutboundUpgradedConnection', remotePeer, maConn)

      // 3. the connection
      const connection = this.#connect(maConn, conn, muxerFactory, direction, remotePeer, encrypter.protocol)
      maConn.timeline.upgraded = Date.now()
      log('%s: upgraded connection to %s (%s, %s)', direction, remotePeer.toString(), encrypter.protocol, muxerFactory.protocol)
      return connection
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err))
      log('%s upgrade failed: %s', direction, error.message)
      maConn.abort(error)
      throw error
    } finally {
      signal.clear()
    }
  }

  /**
   * Creates the muxer and the connection over the secured duplex and starts the two pipes. A method
   * of its own so that the closures living as long as the connection (incoming streams, the pipes'
   * ends) keep only what they use, not everything the upgrade went through.
   */
  #connect (maConn: MultiaddrConnection, conn: SecureStream, muxerFactory: StreamMuxerFactory, direction: Direction, remotePeer: PeerId, encryption: string): UpgradedConnection {
    const connectionLog = prefixLogger(connectionsLog, `${direction === 'outbound' ? 'out' : 'in'}:${++connectionCounter}`)
    // Inbound streams can only arrive once the muxer is fed (below), after the connection exists.
    const ready: { connection?: UpgradedConnection } = {}
    const muxer = muxerFactory.createStreamMuxer({
      direction,
      log: connectionLog,
      onIncomingStream: (stream) => {
        if (ready.connection == null) {
          stream.abort(new StreamStateError('Stream arrived before the connection was ready'))
          return
        }
        void ready.connection.handleIncomingStream(stream)
      }
    })
    const connection = ready.connection = new UpgradedConnection({
      id: `${connectionCounter}`,
      maConn,
      remotePeer,
      direction,
      encryption,
      muxer,
      log: connectionLog,
      settings: this.#connectionSettings
    })
    // The push-based path when the muxer and every layer below support it (see `byteChannel`):
    // no promise parked per layer while the connection is idle, no promise per chunk.
    const attach = (muxer as Partial<ByteChannelMuxer>)[attachByteChannel]
    const channel = typeof attach === 'function' ? claimByteChannel(conn) : undefined
    const events = new ConnectionEvents(connection)
    if (channel != null && attach != null) {
      attach.call(muxer, channel, events)
    } else {
      muxer.sink(conn.source).then(() => { events.onInputEnd() }, (err: Error) => { events.onInputEnd(err) })
      conn.sink(muxer.source).then(() => { events.onOutputEnd() }, (err: Error) => { events.onOutputEnd(err) })
    }
    return connection
  }
}

/**
 * How the connection hears that its muxer stopped reading (the remote ended the connection, or it
 * failed) or finished writing: one small object per connection rather than closures and pending
 * promise reactions.
 */
class ConnectionEvents implements ByteChannelMuxerEvents {
  readonly #connection: UpgradedConnection

  constructor (connection: UpgradedConnection) {
    this.#connection = connection
  }

  onInputEnd (err?: Error): void {
    // The remote ended the connection: nothing more can arrive.
    if (err != null) this.#connection.abort(err)
    else if (this.#connection.status === 'open') void this.#connection.close()
  }

  onOutputEnd (err?: Error): void {
    this.#connection.outboundEnded()
    if (err != null) this.#connection.abort(err)
    else this.#connection.markClosed()
  }
}
