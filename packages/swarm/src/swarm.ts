import { multiaddr as toMultiaddr } from '@multiformats/multiaddr'
import { AbortError, ConnectionDeniedError, DialError, InvalidParametersError, LimitExceededError, NotStartedError, TimeoutError, TransportDialError, isPeerId } from '@peerkit/interfaces'
import { peerIdFromString } from '@peerkit/peer-id'
import { memoryPeerStore } from '@peerkit/peer-store'
import { Upgrader } from '@peerkit/upgrader'
import { TypedEventEmitter, anySignal, closeAll, logger, raceSignal, shutdownController } from '@peerkit/utils'
import { peerIdStringOf, rankAddresses } from './addresses.js'
import { ProtocolRegistrar } from './registrar.js'
import { Semaphore } from './semaphore.js'
import type { AbortOptions, Address, Connection, ConnectionEncrypter, ConnectionGater, DialAttempt, DialOptions, Listener, Logger, MultiaddrConnection, NewStreamOptions, PeerId, PeerStore, Stream, StreamHandler, StreamHandlerOptions, StreamHandlerRecord, StreamMuxerFactory, Swarm, SwarmEvents, Transport } from '@peerkit/interfaces'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface SwarmInit {
  /** Our identity. */
  peerId: PeerId
  transports?: Transport[]
  /** Encrypters in order of preference, already bound to our identity. */
  connectionEncrypters: ConnectionEncrypter[]
  /** Stream muxers in order of preference. */
  streamMuxers: StreamMuxerFactory[]
  /** Where addresses of peers dialled by PeerId come from. Default: a new in-memory store. */
  peerStore?: PeerStore
  connectionGater?: ConnectionGater
  /** Asked for addresses when the peer store has none for a peer (e.g. peer routing). */
  resolvePeerAddresses?(peerId: PeerId, options: AbortOptions): Promise<Multiaddr[]>
  /** Addresses to announce instead of the listen addresses. */
  announceAddrs?: Multiaddr[]
  /** Most open connections; inbound ones past it are refused, outbound dials fail. Default 300. */
  maxConnections?: number
  /** Most open connections to one peer. Default 8. */
  maxConnectionsPerPeer?: number
  /** Most inbound connections being upgraded at once; more are dropped. Default 32. */
  maxIncomingPendingConnections?: number
  /** Most address dials in flight over all peers. Default 100. */
  maxParallelDials?: number
  /** Most addresses of one peer dialled at once. Default 4. */
  maxParallelDialsPerPeer?: number
  /** Most addresses of one peer tried per dial. Default 25. */
  maxAddressesPerDial?: number
  /** Most distinct dials (peers) pending at once. Default 500. */
  maxPendingDials?: number
  /** Deadline of a whole dial (all addresses, including upgrade), ms. Default 10 000. */
  dialTimeout?: number
  /** Bound on one connection upgrade, ms. Default 10 000. */
  upgradeTimeout?: number
  /** Bound on negotiating an inbound stream's protocol, ms. Default 10 000. */
  inboundStreamNegotiationTimeout?: number
  /** Bound on negotiating an outbound stream's protocol, ms. Default 10 000. */
  outboundStreamNegotiationTimeout?: number
  /** Bound on gracefully closing each connection at stop, ms (then aborted). Default 2 000. */
  closeTimeout?: number
  /** Most observed addresses remembered. Default 32. */
  maxObservedAddrs?: number
  /**
   * Remotes (by the `agentVersion` identify learned) whose streams, for protocols they listed, are
   * selected optimistically with an early half-close. Default: peerkit nodes. `false`: none. See
   * the upgrader's `optimisticAgents`.
   */
  optimisticAgents?: ((agentVersion: string) => boolean) | false
  log?: Logger
}

/** PeerIds parsed from dialled addresses that are kept (first in, first out). */
const PARSED_PEER_ID_CACHE_SIZE = 128

interface PendingDial {
  promise: Promise<Connection>
  controller: AbortController
  waiters: number
}

/**
 * Owns transports, listeners, the upgrader, the connection table and the protocol table. See the
 * package README for the dial algorithm and the limits.
 */
export class DefaultSwarm extends TypedEventEmitter<SwarmEvents & Record<string, unknown>> implements Swarm {
  readonly peerId: PeerId
  readonly peerStore: PeerStore
  readonly #init: SwarmInit
  readonly #log: Logger
  readonly #transports: Transport[] = []
  readonly #listeners: Listener[] = []
  readonly #connections = new Map<string, Connection[]>()
  readonly #pendingDials = new Map<string, PendingDial>()
  readonly #pendingInbound = new Set<MultiaddrConnection>()
  readonly #registrar: ProtocolRegistrar
  readonly #upgrader: Upgrader
  readonly #dialSlots: Semaphore
  readonly #observed = new Map<string, { multiaddr: Multiaddr, reporters: Set<string> }>()
  #shutdown = shutdownController()
  readonly #parsedPeerIds = new Map<string, PeerId>()
  #started = false

  constructor (init: SwarmInit) {
    super()
    this.#init = init
    this.peerId = init.peerId
    this.#log = init.log ?? logger('peerkit:swarm')
    this.peerStore = init.peerStore ?? memoryPeerStore({
      isProtected: (peer) => this.#connections.has(peer.toString()),
      filterAddress: () => true
    })
    this.#registrar = new ProtocolRegistrar(() => { this.#emitSelfUpdate() })
    this.#upgrader = new Upgrader({
      connectionEncrypters: init.connectionEncrypters,
      streamMuxers: init.streamMuxers,
      registrar: this.#registrar,
      connectionGater: init.connectionGater,
      upgradeTimeout: init.upgradeTimeout,
      inboundStreamNegotiationTimeout: init.inboundStreamNegotiationTimeout,
      outboundStreamNegotiationTimeout: init.outboundStreamNegotiationTimeout,
      optimisticAgents: init.optimisticAgents,
      onConnectionClose: (conn) => { this.#removeConnection(conn) },
      log: this.#log
    })
    this.#dialSlots = new Semaphore(init.maxParallelDials ?? 100)
    for (const t of init.transports ?? []) this.addTransport(t)
  }

  // ---- lifecycle ----

  /** True between `start()` and `stop()`. */
  get isStarted (): boolean {
    return this.#started
  }

  start (): void {
    if (this.#started) return
    this.#shutdown = shutdownController()
    this.#started = true
  }

  async stop (): Promise<void> {
    if (!this.#started) return
    this.#started = false
    this.#log('stopping')
    this.#shutdown.abort(new AbortError('The swarm is stopping'))
    const listeners = this.#listeners.splice(0)
    await Promise.all(listeners.map(async l => l.close().catch(err => { this.#log.error('closing listener failed', err) })))
    for (const maConn of this.#pendingInbound) maConn.abort(new AbortError('The swarm is stopping'))
    this.#pendingInbound.clear()
    const closeTimeout = this.#init.closeTimeout ?? 2_000
    const deadline = Date.now() + closeTimeout
    const all = [...this.#connections.values()].flat()
    await Promise.all(all.map(async conn => {
      const signal = anySignal([], closeTimeout, 'connection close')
      try {
        await conn.close({ signal })
      } catch (err) {
        conn.abort(err as Error)
      } finally {
        signal.clear()
        if (conn.status !== 'closed') conn.abort(new AbortError('The swarm is stopping'))
      }
    }))
    // Pending dials reject through the shutdown signal; wait for them to settle.
    await Promise.all([...this.#pendingDials.values()].map(async d => d.promise.catch(() => {})))
    // Closed connections whose sockets still wait for the remote's end: bounded by the transport's
    // close timeout, and by ours (what is left at our deadline is aborted).
    const released = anySignal([], Math.max(1, deadline - Date.now()), 'releasing closed connections')
    try {
      await this.#upgrader.whenReleased({ signal: released })
    } finally {
      released.clear()
    }
    this.#connections.clear()
    this.#observed.clear()
    this.#log('stopped')
  }

  // ---- registrar ----

  getProtocols (): string[] {
    return this.#registrar.getProtocols()
  }

  handle (protocol: string, handler: StreamHandler, options?: StreamHandlerOptions): void {
    this.#registrar.handle(protocol, handler, options)
  }

  unhandle (protocol: string): void {
    this.#registrar.unhandle(protocol)
  }

  getHandler (protocol: string): StreamHandlerRecord {
    return this.#registrar.getHandler(protocol)
  }

  // ---- transports and listening ----

  addTransport (transport: Transport): void {
    if (this.#transports.includes(transport)) return
    this.#transports.push(transport)
  }

  async listen (addrs: Multiaddr[], options: AbortOptions = {}): Promise<void> {
    this.#assertStarted()
    const shutdown = this.#shutdown.signal
    for (const addr of addrs) {
      const transport = this.#transports.find(t => t.listenFilter([addr]).length > 0)
      if (transport == null) throw new InvalidParametersError(`No transport can listen on ${addr.toString()}`)
      if (shutdown.aborted) throw new NotStartedError('The swarm stopped while it was starting to listen')
      const listener = transport.createListener()
      listener.addEventListener('connection', (evt) => { this.#onInbound(evt.detail) })
      listener.addEventListener('error', (evt) => { this.#log.error('listener error', evt.detail) })
      // Registered before it is bound, so that a stop() meanwhile closes it.
      this.#listeners.push(listener)
      try {
        await raceSignal(listener.listen(addr), options.signal)
        if (shutdown.aborted) throw new NotStartedError('The swarm stopped while it was starting to listen')
      } catch (err) {
        const idx = this.#listeners.indexOf(listener)
        if (idx >= 0) this.#listeners.splice(idx, 1)
        await listener.close().catch(() => {})
        if (shutdown.aborted && !(err instanceof NotStartedError)) throw new NotStartedError('The swarm stopped while it was starting to listen', { cause: err })
        throw err
      }
      this.#log('listening on %s', listener.getAddrs().map(a => a.toString()).join(', '))
    }
    this.#emitSelfUpdate()
  }

  getMultiaddrs (): Multiaddr[] {
    const base = this.#init.announceAddrs ?? this.#listeners.flatMap(l => l.getAddrs())
    const id = this.peerId.toString()
    return base.map(ma => peerIdStringOf(ma) === id ? ma : ma.encapsulate(`/p2p/${id}`))
  }

  #emitSelfUpdate (): void {
    this.safeDispatchEvent('self:update', { detail: { protocols: this.getProtocols(), addresses: this.getMultiaddrs() } })
  }

  #onInbound (maConn: MultiaddrConnection): void {
    if (!this.#started) {
      maConn.abort(new NotStartedError('The swarm is not started'))
      return
    }
    const maxPending = this.#init.maxIncomingPendingConnections ?? 32
    if (this.#pendingInbound.size >= maxPending) {
      this.#log('refusing inbound connection from %s: %d upgrades pending', maConn.remoteAddr.toString(), maxPending)
      maConn.abort(new LimitExceededError('maxIncomingPendingConnections', maxPending, undefined, 'node'))
      return
    }
    const max = this.#init.maxConnections ?? 300
    if (this.#connectionCount() >= max) {
      this.#log('refusing inbound connection from %s: %d connections open', maConn.remoteAddr.toString(), max)
      maConn.abort(new LimitExceededError('maxConnections', max, undefined, 'node'))
      return
    }
    this.#pendingInbound.add(maConn)
    this.#upgrader.upgradeInbound(maConn, { signal: this.#shutdown.signal })
      .then(conn => { this.#addConnection(conn) })
      .catch((err: Error) => { this.#log('inbound upgrade from %s failed: %s: %s', maConn.remoteAddr.toString(), err.name, err.message) })
      .finally(() => { this.#pendingInbound.delete(maConn) })
  }

  // ---- connections ----

  #connectionCount (): number {
    let n = 0
    for (const list of this.#connections.values()) n += list.length
    return n
  }

  /** Adds an upgraded connection to the table, or closes it when a limit forbids it. */
  #addConnection (conn: Connection): void {
    if (!this.#started) {
      conn.abort(new NotStartedError('The swarm is not started'))
      throw new NotStartedError('The swarm stopped during the dial')
    }
    if (conn.remotePeer.equals(this.peerId)) {
      conn.abort(new InvalidParametersError('Connection to self'))
      throw new InvalidParametersError('Connection to self')
    }
    const key = conn.remotePeer.toString()
    const list = this.#connections.get(key) ?? []
    const perPeer = this.#init.maxConnectionsPerPeer ?? 8
    const max = this.#init.maxConnections ?? 300
    let error: Error | undefined
    if (list.length >= perPeer) error = new LimitExceededError('maxConnectionsPerPeer', perPeer, list.length + 1, `peer ${key}`)
    else if (this.#connectionCount() >= max) error = new LimitExceededError('maxConnections', max, undefined, 'node')
    if (error != null) {
      this.#log('closing new connection to %s: %s', key, error.message)
      void conn.close().catch(() => {})
      throw error
    }
    list.push(conn)
    this.#connections.set(key, list)
    void this.peerStore.merge(conn.remotePeer, {
      publicKey: conn.remotePeer.publicKey,
      ...(conn.direction === 'outbound' ? { multiaddrs: [conn.remoteAddr.decapsulateCode(421)] } : {})
    }).catch(err => { this.#log('peer store update failed: %s', (err as Error).message) })
    this.safeDispatchEvent('connection:open', { detail: conn })
    if (list.length === 1) this.safeDispatchEvent('peer:connect', { detail: conn.remotePeer })
  }

  #removeConnection (conn: Connection): void {
    const key = conn.remotePeer.toString()
    const list = this.#connections.get(key)
    if (list == null) return
    const idx = list.indexOf(conn)
    if (idx < 0) return
    list.splice(idx, 1)
    if (list.length === 0) this.#connections.delete(key)
    this.safeDispatchEvent('connection:close', { detail: conn })
    if (list.length === 0) this.safeDispatchEvent('peer:disconnect', { detail: conn.remotePeer })
  }

  getConnections (peer?: PeerId): Connection[] {
    if (peer != null) return [...(this.#connections.get(peer.toString()) ?? [])]
    return [...this.#connections.values()].flat()
  }

  async hangUp (peer: PeerId | Multiaddr, options: AbortOptions = {}): Promise<void> {
    const conns = isPeerId(peer)
      ? this.getConnections(peer)
      : this.getConnections().filter(c => c.remoteAddr.equals(peer) || (peerIdStringOf(peer) != null && c.remotePeer.toString() === peerIdStringOf(peer)))
    const results = await closeAll(conns, options.signal)
    results.forEach((result, i) => {
      if (result.status === 'rejected') conns[i].abort(result.reason instanceof Error ? result.reason : new Error(String(result.reason)))
    })
  }

  // ---- dialing ----

  async openStream (peer: PeerId | Multiaddr | Multiaddr[], protocols: string | string[], options: NewStreamOptions & DialOptions = {}): Promise<Stream> {
    const conn = await this.dial(peer, options)
    return conn.newStream(protocols, options)
  }

  async dial (target: PeerId | Multiaddr | Multiaddr[], options: DialOptions = {}): Promise<Connection> {
    this.#assertStarted()
    const { peerId, addrs } = this.#parseTarget(target)
    if (peerId?.equals(this.peerId) === true) throw new InvalidParametersError('Cannot dial self')
    if (peerId != null && options.force !== true) {
      const existing = this.getConnections(peerId).find(c => c.status === 'open')
      if (existing != null) return existing
    }
    const key = peerId?.toString() ?? addrs.map(a => a.toString()).sort().join(' ')
    let pending = this.#pendingDials.get(key)
    if (pending == null) {
      const limit = this.#dialLimit(peerId)
      if (limit != null) {
        this.#log('refusing dial to %s: %s', key, limit.message)
        throw limit
      }
      const controller = new AbortController()
      const entry: PendingDial = { controller, waiters: 0, promise: Promise.resolve() as unknown as Promise<Connection> }
      entry.promise = this.#dial(peerId, addrs, controller).finally(() => {
        if (this.#pendingDials.get(key) === entry) this.#pendingDials.delete(key)
      })
      entry.promise.catch(() => {})
      this.#pendingDials.set(key, entry)
      pending = entry
    }
    // Callers share the dial; it is cancelled only when every caller gave up.
    const shared = pending
    shared.waiters++
    try {
      return await raceSignal(shared.promise, options.signal)
    } finally {
      shared.waiters--
      if (shared.waiters === 0 && options.signal?.aborted === true) {
        shared.controller.abort(options.signal.reason)
        // Forget it now: a caller arriving while it winds down must start a dial of its own.
        if (this.#pendingDials.get(key) === shared) this.#pendingDials.delete(key)
      }
    }
  }

  /** The limit a new dial would exceed, if any; checked before dialling rather than after connecting. */
  #dialLimit (peerId: PeerId | undefined): LimitExceededError | undefined {
    const maxPending = this.#init.maxPendingDials ?? 500
    if (this.#pendingDials.size >= maxPending) return new LimitExceededError('maxPendingDials', maxPending, undefined, 'node')
    const max = this.#init.maxConnections ?? 300
    if (this.#connectionCount() >= max) return new LimitExceededError('maxConnections', max, undefined, 'node')
    const perPeer = this.#init.maxConnectionsPerPeer ?? 8
    const open = peerId != null ? this.getConnections(peerId).length : 0
    if (open >= perPeer) return new LimitExceededError('maxConnectionsPerPeer', perPeer, open + 1, `peer ${peerId?.toString() ?? ''}`)
    return undefined
  }

  #parseTarget (target: PeerId | Multiaddr | Multiaddr[]): { peerId?: PeerId, addrs: Multiaddr[] } {
    if (isPeerId(target)) return { peerId: target, addrs: [] }
    const addrs = Array.isArray(target) ? target : [target]
    if (addrs.length === 0) throw new InvalidParametersError('No address to dial')
    const ids = new Set(addrs.map(a => peerIdStringOf(a)).filter((id): id is string => id != null))
    if (ids.size > 1) throw new InvalidParametersError('The addresses name different peers')
    const [id] = [...ids]
    return { peerId: id != null ? this.#peerIdOf(id) : undefined, addrs }
  }

  /** Parses PeerId text, remembering the last few: a node dials the same peers again and again. */
  #peerIdOf (id: string): PeerId {
    let peerId = this.#parsedPeerIds.get(id)
    if (peerId == null) {
      peerId = peerIdFromString(id)
      if (this.#parsedPeerIds.size >= PARSED_PEER_ID_CACHE_SIZE) {
        const oldest = this.#parsedPeerIds.keys().next().value
        if (oldest != null) this.#parsedPeerIds.delete(oldest)
      }
      this.#parsedPeerIds.set(id, peerId)
    }
    return peerId
  }

  /**
   * One dial, bounded by `controller`: aborted when every caller gave up, when the swarm stops, or
   * after `dialTimeout` (one signal for all three rather than a combination of several).
   */
  async #dial (peerId: PeerId | undefined, addrs: Multiaddr[], controller: AbortController): Promise<Connection> {
    const signal = controller.signal
    const shutdown = this.#shutdown.signal
    const onShutdown = (): void => { controller.abort(shutdown.reason) }
    if (shutdown.aborted) onShutdown()
    else shutdown.addEventListener('abort', onShutdown, { once: true })
    const dialTimeout = this.#init.dialTimeout ?? 10_000
    const timer = dialTimeout > 0 && dialTimeout < Infinity
      ? setTimeout(() => { controller.abort(new TimeoutError(`dial timed out after ${dialTimeout}ms`, dialTimeout)) }, dialTimeout)
      : undefined
    timer?.unref?.()
    const attempts: DialAttempt[] = []
    const peerName = peerId?.toString()
    try {
      if (peerId != null && await this.#init.connectionGater?.denyDialPeer?.(peerId) === true) {
        throw new ConnectionDeniedError('denyDialPeer')
      }
      let candidates: Address[] = addrs.map(multiaddr => ({ multiaddr, isCertified: false }))
      if (candidates.length === 0 && peerId != null) {
        candidates = await this.#knownAddresses(peerId, signal)
      }
      // Make every address name the peer, and drop those naming another one.
      const id = peerId?.toString()
      const usable: Address[] = []
      for (const a of rankAddresses(candidates)) {
        const named = peerIdStringOf(a.multiaddr)
        if (id != null && named != null && named !== id) {
          attempts.push({ address: a.multiaddr.toString(), error: new InvalidParametersError(`Address names peer ${named}, not ${id}`) })
          continue
        }
        const multiaddr = id != null && named == null ? a.multiaddr.encapsulate(`/p2p/${id}`) : a.multiaddr
        if (this.#transports.every(t => t.dialFilter([multiaddr]).length === 0)) {
          attempts.push({ address: multiaddr.toString(), error: new TransportDialError(multiaddr.toString(), 'No transport can dial this address') })
          continue
        }
        if (await this.#init.connectionGater?.denyDialMultiaddr?.(multiaddr) === true) {
          attempts.push({ address: multiaddr.toString(), error: new ConnectionDeniedError('denyDialMultiaddr') })
          continue
        }
        usable.push({ ...a, multiaddr })
      }
      const limited = usable.slice(0, this.#init.maxAddressesPerDial ?? 25)
      if (limited.length === 0) throw new DialError(attempts, peerName)
      return await this.#dialAddresses(peerId, limited.map(a => a.multiaddr), attempts, signal)
    } catch (err) {
      // A limit hit when the connection was added (another dial took the last slot meanwhile).
      if (err instanceof DialError || err instanceof LimitExceededError) throw err
      if (signal.aborted && attempts.length === 0) throw signal.reason instanceof Error ? signal.reason : new AbortError()
      throw new DialError(attempts, peerName, `Dial${peerName != null ? ` to ${peerName}` : ''} failed: ${(err as Error).message}`, { cause: err })
    } finally {
      if (timer != null) clearTimeout(timer)
      shutdown.removeEventListener('abort', onShutdown)
    }
  }

  async #knownAddresses (peerId: PeerId, signal: AbortSignal): Promise<Address[]> {
    let known: Address[] = []
    try {
      known = (await this.peerStore.get(peerId)).addresses
    } catch {
      // not in the store
    }
    if (known.length === 0 && this.#init.resolvePeerAddresses != null) {
      const found = await this.#init.resolvePeerAddresses(peerId, { signal })
      known = found.map(multiaddr => ({ multiaddr, isCertified: false }))
      if (found.length > 0) await this.peerStore.merge(peerId, { multiaddrs: found })
    }
    return known
  }

  /**
   * Dials addresses in rank order, a few at a time; the first upgraded connection wins. With a
   * single worker (one address, or `maxParallelDialsPerPeer: 1`) there is no race to arbitrate, so
   * no signal of its own to cancel the losers.
   */
  async #dialAddresses (peerId: PeerId | undefined, addrs: Multiaddr[], attempts: DialAttempt[], signal: AbortSignal): Promise<Connection> {
    const workers = Math.min(Math.max(1, this.#init.maxParallelDialsPerPeer ?? 4), addrs.length)
    const winner = workers > 1 ? new AbortController() : undefined
    const combined = winner != null ? anySignal([signal, winner.signal]) : undefined
    const dialSignal = combined ?? signal
    let next = 0
    let inFlight = 0
    let result: Connection | undefined
    const worker = async (): Promise<void> => {
      while (result == null && next < addrs.length && !dialSignal.aborted) {
        const addr = addrs[next++]
        inFlight++
        try {
          const conn = await this.#dialAddress(addr, peerId, dialSignal)
          if (result != null) {
            // Another address won meanwhile: keep one connection only.
            void conn.close().catch(() => {})
            return
          }
          result = conn
          // Cancel the other attempts, if any are still running (an error costs a stack trace).
          if (inFlight > 1) winner?.abort(new AbortError('Another address connected first'))
        } catch (err) {
          if (result == null) attempts.push({ address: addr.toString(), error: err as Error })
        } finally {
          inFlight--
        }
      }
    }
    try {
      await Promise.all(Array.from({ length: workers }, worker))
    } finally {
      combined?.clear()
    }
    if (result != null) {
      this.#addConnection(result)
      return result
    }
    // Addresses never tried because the deadline or a cancel came first.
    for (const addr of addrs.slice(next)) {
      attempts.push({ address: addr.toString(), error: signal.reason instanceof Error ? signal.reason : new AbortError() })
    }
    throw new DialError(attempts, peerId?.toString())
  }

  async #dialAddress (addr: Multiaddr, peerId: PeerId | undefined, signal: AbortSignal): Promise<Connection> {
    const transport = this.#transports.find(t => t.dialFilter([addr]).length > 0)
    if (transport == null) throw new TransportDialError(addr.toString(), 'No transport can dial this address')
    const release = await this.#dialSlots.acquire(signal)
    try {
      this.#log('dialing %s', addr.toString())
      const maConn = await transport.dial(addr, { signal })
      const conn = await this.#upgrader.upgradeOutbound(maConn, { remotePeer: peerId, signal })
      if (conn.remotePeer.equals(this.peerId)) {
        // An address without /p2p/ that leads back to us.
        const err = new InvalidParametersError(`${addr.toString()} leads to this node itself`)
        conn.abort(err)
        throw err
      }
      return conn
    } finally {
      release()
    }
  }

  // ---- observed addresses ----

  addObservedAddr (addr: Multiaddr, reporter?: PeerId): void {
    const key = addr.toString()
    let entry = this.#observed.get(key)
    if (entry == null) {
      const max = this.#init.maxObservedAddrs ?? 32
      if (this.#observed.size >= max) {
        // Forget the least reported address.
        let worst: string | undefined
        let fewest = Infinity
        for (const [k, v] of this.#observed) {
          if (v.reporters.size < fewest) { fewest = v.reporters.size; worst = k }
        }
        if (worst != null) this.#observed.delete(worst)
      }
      entry = { multiaddr: toMultiaddr(key), reporters: new Set() }
      this.#observed.set(key, entry)
    }
    if (reporter != null && entry.reporters.size < 64) entry.reporters.add(reporter.toString())
  }

  getObservedAddrs (): Array<{ multiaddr: Multiaddr, reporters: number }> {
    return [...this.#observed.values()]
      .map(e => ({ multiaddr: e.multiaddr, reporters: e.reporters.size }))
      .sort((a, b) => b.reporters - a.reporters)
  }

  #assertStarted (): void {
    if (!this.#started) throw new NotStartedError('The swarm is not started')
  }
}

/** Creates a swarm. Call `start()` before listening or dialing. */
export function swarm (init: SwarmInit): DefaultSwarm {
  return new DefaultSwarm(init)
}
