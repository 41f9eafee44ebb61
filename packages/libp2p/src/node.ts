import { InvalidParametersError, NotFoundError, NotStartedError, isStartable } from '@peerkit/interfaces'
import { peerIdFromPrivateKey } from '@peerkit/peer-id'
import { memoryPeerStore } from '@peerkit/peer-store'
import { TypedEventEmitter, defaultLogger, raceSignal } from '@peerkit/utils'
import type { AbortOptions, ComponentLogger, Components, Connection, DialOptions, DistributedRecordStore, Logger, NewStreamOptions, PeerDiscovery, PeerId, PeerInfo, PeerRouting, PeerStore, PrivateKey, Startable, Stream, StoredRecord, StreamHandler, StreamHandlerOptions, Swarm, SwarmEvents } from '@peerkit/interfaces'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface NodeEvents extends SwarmEvents {
  /** A discovery module found a peer (its addresses are now in the peer store). */
  'peer:discovery': PeerInfo
  start: undefined
  stop: undefined
}

export interface NodeInit {
  /** Our identity. */
  privateKey: PrivateKey
  /** Default: an in-memory peer store. */
  peerStore?: PeerStore
  /** Default: `peerkit:*` debug loggers. */
  logger?: ComponentLogger
}

/** Something to register: the module itself, or a factory that receives the node's components. */
export type Registration<T, C = Components> = T | ((components: C) => T)

/** The components available before a swarm is registered. */
export type BaseComponents = Omit<Components, 'swarm'>

export type NodeStatus = 'stopped' | 'starting' | 'started' | 'stopping'

/**
 * A libp2p node composed by registration: one swarm, any number of peer routings and discovery
 * modules, one distributed record store, and named services (identify, ping...).
 *
 * Every registered module that is `Startable` is started in registration order (swarm first) and
 * stopped in reverse order.
 */
export class Node<Services extends Record<string, unknown> = Record<string, unknown>> extends TypedEventEmitter<NodeEvents & Record<string, unknown>> {
  /** Our PeerId. */
  readonly id: PeerId
  readonly peerStore: PeerStore
  readonly services: Services = {} as Services
  readonly #privateKey: PrivateKey
  readonly #logger: ComponentLogger
  readonly #log: Logger
  #swarm?: Swarm
  readonly #peerRoutings: PeerRouting[] = []
  #recordStore?: DistributedRecordStore
  readonly #discoveries: PeerDiscovery[] = []
  readonly #modules: unknown[] = []
  #status: NodeStatus = 'stopped'

  constructor (init: NodeInit) {
    super()
    this.#privateKey = init.privateKey
    this.id = peerIdFromPrivateKey(init.privateKey)
    this.peerStore = init.peerStore ?? memoryPeerStore()
    this.#logger = init.logger ?? defaultLogger()
    this.#log = this.#logger.forComponent('node')
  }

  get status (): NodeStatus {
    return this.#status
  }

  /** The swarm; throws if none was registered. */
  get swarm (): Swarm {
    if (this.#swarm == null) throw new NotStartedError('No swarm registered: call addSwarm() first')
    return this.#swarm
  }

  /** The components handed to factories. */
  get components (): Components {
    return { ...this.#baseComponents(), swarm: this.swarm }
  }

  #baseComponents (): BaseComponents {
    return { peerId: this.id, privateKey: this.#privateKey, peerStore: this.peerStore, logger: this.#logger, events: this }
  }

  #resolve<T, C>(registration: Registration<T, C>, components: C): T {
    return typeof registration === 'function' ? (registration as (c: C) => T)(components) : registration
  }

  #assertStopped (what: string): void {
    if (this.#status !== 'stopped') throw new InvalidParametersError(`Cannot ${what} while the node is ${this.#status}`)
  }

  /** Registers the swarm (exactly one). Its events are re-dispatched on the node. */
  addSwarm (registration: Registration<Swarm, BaseComponents>): this {
    this.#assertStopped('add a swarm')
    if (this.#swarm != null) throw new InvalidParametersError('A swarm is already registered')
    const swarm = this.#resolve(registration, this.#baseComponents())
    this.#swarm = swarm
    for (const type of ['peer:connect', 'peer:disconnect', 'connection:open', 'connection:close', 'self:update'] as const) {
      swarm.addEventListener(type, (evt) => {
        this.safeDispatchEvent(type, { detail: (evt as CustomEvent).detail })
      })
    }
    this.#modules.unshift(swarm)
    return this
  }

  /** Registers a peer routing; `findPeer` asks all of them. */
  addPeerRouting (registration: Registration<PeerRouting>): this {
    this.#assertStopped('add a peer routing')
    const routing = this.#resolve(registration, this.components)
    this.#peerRoutings.push(routing)
    this.#modules.push(routing)
    return this
  }

  /** Registers the distributed record store behind `records.put/get` (exactly one). */
  addDistributedRecordStore (registration: Registration<DistributedRecordStore>): this {
    this.#assertStopped('add a record store')
    if (this.#recordStore != null) throw new InvalidParametersError('A distributed record store is already registered')
    const store = this.#resolve(registration, this.components)
    this.#recordStore = store
    this.#modules.push(store)
    return this
  }

  /** Registers a discovery module; discovered peers go to the peer store and a `peer:discovery` event. */
  addDiscovery (registration: Registration<PeerDiscovery>): this {
    this.#assertStopped('add a discovery module')
    const discovery = this.#resolve(registration, this.components)
    discovery.addEventListener('peer', (evt) => {
      const info = evt.detail
      if (info.id.equals(this.id)) return
      void this.peerStore.merge(info.id, { multiaddrs: info.multiaddrs })
        .then(() => { this.safeDispatchEvent('peer:discovery', { detail: info }) })
        .catch(err => { this.#log('discovered peer not stored: %s', (err as Error).message) })
    })
    this.#discoveries.push(discovery)
    this.#modules.push(discovery)
    return this
  }

  /** Registers a named service, available as `node.services[name]`. */
  addService<Name extends string, T> (name: Name, registration: Registration<T>): Node<Services & Record<Name, T>> {
    this.#assertStopped('add a service')
    if (name in this.services) throw new InvalidParametersError(`A service named ${name} is already registered`)
    const service = this.#resolve(registration, this.components)
    ;(this.services as Record<string, unknown>)[name] = service
    this.#modules.push(service)
    return this as unknown as Node<Services & Record<Name, T>>
  }

  /** Starts every module (swarm first). On failure, what was started is stopped again. */
  async start (): Promise<void> {
    if (this.#status !== 'stopped') return
    if (this.#swarm == null) throw new NotStartedError('No swarm registered: call addSwarm() before start()')
    this.#status = 'starting'
    const startables = this.#modules.filter(isStartable) as Startable[]
    try {
      for (const m of startables) await m.beforeStart?.()
      for (const m of startables) await m.start()
      for (const m of startables) await m.afterStart?.()
    } catch (err) {
      this.#status = 'started'
      await this.stop().catch(() => {})
      throw err
    }
    this.#status = 'started'
    this.#log('started as %s', this.id.toString())
    this.safeDispatchEvent('start')
  }

  /** Stops every module in reverse order; leaves no socket, timer or pending promise behind. */
  async stop (): Promise<void> {
    if (this.#status !== 'started') return
    this.#status = 'stopping'
    const startables = (this.#modules.filter(isStartable) as Startable[]).reverse()
    const errors: unknown[] = []
    for (const phase of ['beforeStop', 'stop', 'afterStop'] as const) {
      for (const m of startables) {
        try {
          await m[phase]?.()
        } catch (err) {
          errors.push(err)
        }
      }
    }
    this.#status = 'stopped'
    this.safeDispatchEvent('stop')
    if (errors.length > 0) throw new AggregateError(errors, 'Some modules failed to stop')
  }

  #assertStarted (): void {
    if (this.#status !== 'started') throw new NotStartedError('The node is not started')
  }

  /** The addresses we listen on, each ending with `/p2p/<our id>`. */
  getMultiaddrs (): Multiaddr[] {
    return this.swarm.getMultiaddrs()
  }

  /** Starts listening on more addresses. */
  async listen (addrs: Multiaddr[], options?: AbortOptions): Promise<void> {
    this.#assertStarted()
    await this.swarm.listen(addrs, options)
  }

  /**
   * Connects to a peer (by PeerId, using the peer store and peer routing for addresses) or to an
   * address, reusing an open connection. Throws `DialError` listing every address tried.
   */
  async dial (peer: PeerId | Multiaddr | Multiaddr[], options?: DialOptions): Promise<Connection> {
    this.#assertStarted()
    return this.swarm.dial(peer, options)
  }

  /** Connects if needed and opens a stream for the first protocol the remote supports. */
  async openStream (peer: PeerId | Multiaddr | Multiaddr[], protocols: string | string[], options?: NewStreamOptions & DialOptions): Promise<Stream> {
    this.#assertStarted()
    return this.swarm.openStream(peer, protocols, options)
  }

  /** Registers a protocol handler. See `StreamHandlerOptions` for the per-connection stream limits. */
  handle (protocol: string, handler: StreamHandler, options?: StreamHandlerOptions): void {
    this.swarm.handle(protocol, handler, options)
  }

  unhandle (protocol: string): void {
    this.swarm.unhandle(protocol)
  }

  /** Open connections, to one peer or to all. */
  getConnections (peer?: PeerId): Connection[] {
    return this.swarm.getConnections(peer)
  }

  /** Closes every connection to a peer. */
  async hangUp (peer: PeerId | Multiaddr, options?: AbortOptions): Promise<void> {
    await this.swarm.hangUp(peer, options)
  }

  /**
   * Finds a peer's addresses: the peer store first, then every registered peer routing in parallel
   * (the first answer wins). Throws `NotFoundError` when nobody knows the peer.
   */
  async findPeer (peerId: PeerId, options: AbortOptions = {}): Promise<PeerInfo> {
    try {
      const known = await this.peerStore.get(peerId)
      if (known.addresses.length > 0) return { id: peerId, multiaddrs: known.addresses.map(a => a.multiaddr) }
    } catch {
      // not known locally
    }
    if (this.#peerRoutings.length === 0) throw new NotFoundError(`Peer ${peerId.toString()} is unknown and no peer routing is registered`)
    const controller = new AbortController()
    const abortOthers = (): void => { controller.abort() }
    options.signal?.addEventListener('abort', abortOthers, { once: true })
    try {
      const info = await raceSignal(Promise.any(this.#peerRoutings.map(async r => r.findPeer(peerId, { signal: controller.signal }))), options.signal)
      await this.peerStore.merge(peerId, { multiaddrs: info.multiaddrs })
      return info
    } catch (err) {
      if (err instanceof AggregateError) throw new NotFoundError(`No peer routing found ${peerId.toString()}`, { cause: err })
      throw err
    } finally {
      controller.abort()
      options.signal?.removeEventListener('abort', abortOthers)
    }
  }

  /** Records through the registered distributed record store. */
  readonly records = {
    put: async (key: Uint8Array, value: Uint8Array, options?: AbortOptions): Promise<void> => {
      await this.#requireRecordStore().put(key, value, options)
    },
    get: async (key: Uint8Array, options?: AbortOptions): Promise<StoredRecord> => {
      return this.#requireRecordStore().get(key, options)
    }
  }

  #requireRecordStore (): DistributedRecordStore {
    if (this.#recordStore == null) throw new NotFoundError('No distributed record store is registered')
    return this.#recordStore
  }
}
