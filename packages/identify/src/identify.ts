import { createHash } from 'node:crypto'
import { createRequire } from 'node:module'
import { CODE_P2P, multiaddr } from '@multiformats/multiaddr'
import { equalBytes, publicKeyFromProtobuf, publicKeyToProtobuf } from '@peerkit/crypto'
import { AbortError, InvalidMessageError, InvalidParametersError, NotFoundError, NotStartedError, UnexpectedPeerError } from '@peerkit/interfaces'
import { peerIdFromPublicKey } from '@peerkit/peer-id'
import { PeerRecord, openSignedPeerRecord } from '@peerkit/peer-record'
import { ByteStream, TypedEventEmitter, anySignal, raceSignal, shutdownController } from '@peerkit/utils'
import {
  DEFAULT_MAX_INBOUND_STREAMS, DEFAULT_MAX_LISTEN_ADDRS, DEFAULT_MAX_MESSAGES, DEFAULT_MAX_MESSAGE_SIZE,
  DEFAULT_MAX_OUTBOUND_STREAMS, DEFAULT_MAX_PROTOCOLS, DEFAULT_MAX_PUSH_CONCURRENCY, DEFAULT_PROTOCOL_VERSION,
  DEFAULT_CONNECTION_OPEN_DELAY, DEFAULT_PUSH_DEBOUNCE, DEFAULT_TIMEOUT, DEFAULT_VERIFIED_RECORD_CACHE_SIZE, IDENTIFY_PROTOCOL, IDENTIFY_PUSH_PROTOCOL,
  MAX_PROTOCOL_ID_LENGTH
} from './constants.js'
import { encodeIdentify, readIdentify } from './message.js'
import type { IdentifyMessage } from './message.js'
import type {
  AbortOptions, Components, Connection, IncomingStreamData, Logger, PeerData, PeerId, PublicKey, Startable, Stream,
  TypedEventTarget
} from '@peerkit/interfaces'
import type { Multiaddr } from '@multiformats/multiaddr'

/** The version of this package, for the default agent version. */
export const VERSION: string = (createRequire(import.meta.url)('../../package.json') as { version: string }).version

/** Default `agentVersion` we announce. */
export const DEFAULT_AGENT_VERSION = `peerkit/${VERSION}`

/** Options of the identify service. Every bound has a safe default. */
export interface IdentifyInit {
  /** The `protocolVersion` we announce. Default `ipfs/0.1.0`. */
  protocolVersion?: string
  /** The `agentVersion` we announce. Default `peerkit/<version>`. */
  agentVersion?: string
  /** Bound on one identify exchange (request or push, either side), in ms. Default 5000. */
  timeout?: number
  /** Longest length-prefixed identify message accepted, in bytes. Default 8192. */
  maxMessageSize?: number
  /** Most length-prefixed messages one response or push may be split into. Default 10. */
  maxMessages?: number
  /**
   * Most listen addresses accepted from a peer (the signed peer record's addresses have the same
   * bound). A message with more is rejected with `LimitExceededError`. Default 128.
   */
  maxListenAddrs?: number
  /** Most protocols accepted from a peer; a message with more is rejected with `LimitExceededError`. Default 512. */
  maxProtocols?: number
  /** Per-connection cap on concurrent inbound streams of each identify protocol. Default 2. */
  maxInboundStreams?: number
  /** Per-connection cap on concurrent outbound streams of each identify protocol. Default 1. */
  maxOutboundStreams?: number
  /** Identify every new connection, inbound and outbound. Default true. */
  runOnConnectionOpen?: boolean
  /**
   * With `runOnConnectionOpen`, how long after a connection opens it is identified, in ms. The
   * application's first streams go ahead of identify, and a connection closed before then (a
   * quick request, a probe) is never identified. `0` identifies at once. `identify(connection)`
   * itself is never delayed. Default 50.
   */
  connectionOpenDelay?: number
  /** Push our new addresses/protocols to connected peers when they change. Default true. */
  runOnSelfUpdate?: boolean
  /** Changes within this many ms of the first one are sent in one push. Default 1000. */
  pushDebounce?: number
  /** Most peers pushed to at once. Default 32. */
  maxPushConcurrency?: number
  /**
   * Signed peer records whose signature verified are remembered (least recently used first out),
   * so the same record received again — a peer reconnecting, a push that changed nothing — is not
   * verified again. `0` verifies every time. Default 256.
   */
  verifiedRecordCacheSize?: number
}

/** What the identify service needs from the node. `events`, when given, also receives `peer:identify`. */
export type IdentifyComponents = Pick<Components, 'peerId' | 'privateKey' | 'swarm' | 'peerStore' | 'logger'> & Partial<Pick<Components, 'events'>>

/** The addresses of a signed peer record that verified. */
export interface VerifiedPeerRecord {
  /** The record's sequence number. */
  seq: bigint
  /** Its addresses, stored as certified. */
  addresses: Multiaddr[]
}

/** What was learned about a peer from one identify response or push. */
export interface IdentifyResult {
  /** The peer (the connection's authenticated remote). */
  peerId: PeerId
  /** The connection the message came over. */
  connection: Connection
  /** True when the message was pushed by the peer (`/ipfs/id/push/1.0.0`). */
  push: boolean
  protocolVersion?: string
  agentVersion?: string
  /** The peer's public key, when it sent one (it always matches `peerId`). */
  publicKey?: PublicKey
  /** The protocols it accepts streams for. */
  protocols: string[]
  /** The addresses it says it listens on (unparseable ones skipped). */
  listenAddrs: Multiaddr[]
  /** The address it sees us at. */
  observedAddr?: Multiaddr
  /** True when it sent a signed peer record that verified and was not older than the one stored. */
  signedPeerRecordVerified: boolean
  /** The verified record's content. */
  signedPeerRecord?: VerifiedPeerRecord
  /** Why a signed peer record it sent was ignored (typed: `InvalidSignatureError`, `UnexpectedPeerError`...). */
  signedPeerRecordError?: Error
}

/** Events of the identify service. */
export interface IdentifyEvents {
  /** A peer was identified (response or push) and the peer store updated. */
  'peer:identify': IdentifyResult
}

/** The identify service. */
export interface Identify extends Startable, TypedEventTarget<IdentifyEvents & Record<string, unknown>> {
  /**
   * Asks the peer at the other end of `connection` to identify itself, verifies and stores what it
   * says, and returns it. Concurrent calls for one connection share one exchange.
   */
  identify(connection: Connection, options?: AbortOptions): Promise<IdentifyResult>
  /** Pushes our current identify message to every connected peer that supports identify push. */
  push(): Promise<void>
}

const textEncoder = new TextEncoder()

/**
 * The given string values as UTF-8 metadata entries (absent ones left out), all of them views of
 * one allocation: the peer store keeps them for as long as it keeps the peer, and one small
 * buffer per peer costs less than one per value.
 */
function encodeMetadata (entries: Array<[string, string | undefined]>): Map<string, Uint8Array> {
  const present = entries.filter((e): e is [string, string] => e[1] != null)
  const sizes = present.map(([, value]) => Buffer.byteLength(value, 'utf8'))
  const bytes = new Uint8Array(sizes.reduce((sum, n) => sum + n, 0))
  const metadata = new Map<string, Uint8Array>()
  let offset = 0
  present.forEach(([key, value], i) => {
    const view = bytes.subarray(offset, offset + sizes[i])
    textEncoder.encodeInto(value, view)
    metadata.set(key, view)
    offset += sizes[i]
  })
  return metadata
}

/** Implementation of {@link Identify}. */
export class DefaultIdentify extends TypedEventEmitter<IdentifyEvents & Record<string, unknown>> implements Identify {
  readonly #components: IdentifyComponents
  readonly #log: Logger
  readonly #protocolVersion: string
  readonly #agentVersion: string
  readonly #timeout: number
  readonly #maxMessageSize: number
  readonly #maxMessages: number
  readonly #maxListenAddrs: number
  readonly #maxProtocols: number
  readonly #maxInboundStreams: number
  readonly #maxOutboundStreams: number
  readonly #runOnConnectionOpen: boolean
  readonly #connectionOpenDelay: number
  /** Connections waiting for their delayed identify (removed when it starts or they close). */
  readonly #openTimers = new Map<Connection, ReturnType<typeof setTimeout>>()
  readonly #runOnSelfUpdate: boolean
  readonly #pushDebounce: number
  readonly #maxPushConcurrency: number
  readonly #inflight = new Map<Connection, Promise<IdentifyResult>>()
  /** Inbound handlers still running, awaited by `stop()`. */
  readonly #handlers = new Set<Promise<void>>()
  #shutdown = shutdownController()
  #started = false
  #pushTimer?: ReturnType<typeof setTimeout>
  #pushing?: Promise<void>
  #pushAgain = false
  #ownRecord?: { key: string, seq: bigint, bytes: Uint8Array }
  readonly #verifiedRecordCacheSize: number
  /** Verified signed peer records: `<peer id> <envelope bytes as latin1>` → what they say. */
  readonly #verifiedRecords = new Map<string, { seq: bigint, multiaddrs: readonly Multiaddr[] }>()

  constructor (components: IdentifyComponents, init: IdentifyInit = {}) {
    super()
    this.#components = components
    this.#log = components.logger.forComponent('identify')
    this.#protocolVersion = init.protocolVersion ?? DEFAULT_PROTOCOL_VERSION
    this.#agentVersion = init.agentVersion ?? DEFAULT_AGENT_VERSION
    this.#timeout = init.timeout ?? DEFAULT_TIMEOUT
    this.#maxMessageSize = init.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE
    this.#maxMessages = init.maxMessages ?? DEFAULT_MAX_MESSAGES
    this.#maxListenAddrs = init.maxListenAddrs ?? DEFAULT_MAX_LISTEN_ADDRS
    this.#maxProtocols = init.maxProtocols ?? DEFAULT_MAX_PROTOCOLS
    this.#maxInboundStreams = init.maxInboundStreams ?? DEFAULT_MAX_INBOUND_STREAMS
    this.#maxOutboundStreams = init.maxOutboundStreams ?? DEFAULT_MAX_OUTBOUND_STREAMS
    this.#runOnConnectionOpen = init.runOnConnectionOpen ?? true
    this.#connectionOpenDelay = init.connectionOpenDelay ?? DEFAULT_CONNECTION_OPEN_DELAY
    this.#runOnSelfUpdate = init.runOnSelfUpdate ?? true
    this.#pushDebounce = init.pushDebounce ?? DEFAULT_PUSH_DEBOUNCE
    this.#maxPushConcurrency = init.maxPushConcurrency ?? DEFAULT_MAX_PUSH_CONCURRENCY
    this.#verifiedRecordCacheSize = init.verifiedRecordCacheSize ?? DEFAULT_VERIFIED_RECORD_CACHE_SIZE
    const bounds: Array<[string, number, number]> = [
      ['timeout', this.#timeout, 1], ['maxMessageSize', this.#maxMessageSize, 1], ['maxMessages', this.#maxMessages, 1],
      ['maxListenAddrs', this.#maxListenAddrs, 0], ['maxProtocols', this.#maxProtocols, 0],
      ['maxInboundStreams', this.#maxInboundStreams, 0], ['maxOutboundStreams', this.#maxOutboundStreams, 0],
      ['pushDebounce', this.#pushDebounce, 0], ['maxPushConcurrency', this.#maxPushConcurrency, 1],
      ['verifiedRecordCacheSize', this.#verifiedRecordCacheSize, 0],
      ['connectionOpenDelay', this.#connectionOpenDelay, 0]
    ]
    for (const [name, value, min] of bounds) {
      if (!Number.isInteger(value) || value < min) throw new InvalidParametersError(`${name} must be an integer of at least ${min}, got ${value}`)
    }
  }

  /** The protocol ids this service handles. */
  readonly protocols = [IDENTIFY_PROTOCOL, IDENTIFY_PUSH_PROTOCOL] as const

  /** True between `start()` and `stop()`. */
  get isStarted (): boolean {
    return this.#started
  }

  // ---- lifecycle ----

  readonly #onConnectionOpen = (evt: CustomEvent<Connection>): void => {
    const connection = evt.detail
    if (this.#connectionOpenDelay === 0) {
      this.#identifyOpened(connection)
      return
    }
    const timer = setTimeout(() => {
      this.#openTimers.delete(connection)
      if (this.#started && connection.status === 'open') this.#identifyOpened(connection)
    }, this.#connectionOpenDelay)
    timer.unref?.()
    this.#openTimers.set(connection, timer)
  }

  readonly #onConnectionClose = (evt: CustomEvent<Connection>): void => {
    const timer = this.#openTimers.get(evt.detail)
    if (timer == null) return
    clearTimeout(timer)
    this.#openTimers.delete(evt.detail)
  }

  #identifyOpened (connection: Connection): void {
    this.identify(connection).catch(err => {
      this.#log('identify of %s on connection %s failed: %s', connection.remotePeer.toString(), connection.id, (err as Error).message)
    })
  }

  readonly #onSelfUpdate = (): void => {
    this.#schedulePush()
  }

  async start (): Promise<void> {
    if (this.#started) return
    this.#shutdown = shutdownController()
    const { swarm } = this.#components
    const limits = { maxInboundStreams: this.#maxInboundStreams, maxOutboundStreams: this.#maxOutboundStreams }
    await swarm.handle(IDENTIFY_PROTOCOL, async (data) => this.#track(this.#handleIdentify(data)), limits)
    try {
      await swarm.handle(IDENTIFY_PUSH_PROTOCOL, async (data) => this.#track(this.#handlePush(data)), limits)
    } catch (err) {
      await swarm.unhandle(IDENTIFY_PROTOCOL)
      throw err
    }
    if (this.#runOnConnectionOpen) {
      swarm.addEventListener('connection:open', this.#onConnectionOpen)
      swarm.addEventListener('connection:close', this.#onConnectionClose)
    }
    if (this.#runOnSelfUpdate) swarm.addEventListener('self:update', this.#onSelfUpdate)
    this.#started = true
  }

  async stop (): Promise<void> {
    if (!this.#started) return
    this.#started = false
    const { swarm } = this.#components
    swarm.removeEventListener('connection:open', this.#onConnectionOpen)
    swarm.removeEventListener('connection:close', this.#onConnectionClose)
    swarm.removeEventListener('self:update', this.#onSelfUpdate)
    for (const timer of this.#openTimers.values()) clearTimeout(timer)
    this.#openTimers.clear()
    clearTimeout(this.#pushTimer)
    this.#pushTimer = undefined
    this.#pushAgain = false
    this.#shutdown.abort(new AbortError('The identify service is stopping'))
    await swarm.unhandle(IDENTIFY_PROTOCOL)
    await swarm.unhandle(IDENTIFY_PUSH_PROTOCOL)
    await Promise.all([
      this.#pushing?.catch(() => {}),
      ...[...this.#inflight.values()].map(async p => p.catch(() => {})),
      ...this.#handlers
    ])
  }

  /** Keeps `task` in the set `stop()` waits for, until it settles. */
  async #track (task: Promise<void>): Promise<void> {
    this.#handlers.add(task)
    try {
      await task
    } finally {
      this.#handlers.delete(task)
    }
  }

  // ---- identify (requester side) ----

  async identify (connection: Connection, options: AbortOptions = {}): Promise<IdentifyResult> {
    if (!this.#started) throw new NotStartedError('The identify service is not started')
    let pending = this.#inflight.get(connection)
    if (pending == null) {
      const run = this.#identify(connection)
      pending = run.finally(() => { this.#inflight.delete(connection) })
      pending.catch(() => {})
      this.#inflight.set(connection, pending)
    }
    return raceSignal(pending, options.signal)
  }

  async #identify (connection: Connection): Promise<IdentifyResult> {
    const signal = anySignal([this.#shutdown.signal], this.#timeout, 'identify')
    let stream: Stream | undefined
    try {
      stream = await connection.newStream(IDENTIFY_PROTOCOL, { signal })
      const message = await readIdentify(new ByteStream(stream), this.#readOptions(signal))
      // Everything was read; a failure to close gracefully does not spoil it.
      await stream.close({ signal }).catch(err => { stream?.abort(err as Error) })
      return await this.#consume(connection, message, false)
    } catch (err) {
      stream?.abort(err as Error)
      throw err
    } finally {
      signal.clear()
    }
  }

  #readOptions (signal: AbortSignal): Parameters<typeof readIdentify>[1] {
    return {
      signal,
      maxMessageSize: this.#maxMessageSize,
      maxMessages: this.#maxMessages,
      maxListenAddrs: this.#maxListenAddrs,
      maxProtocols: this.#maxProtocols
    }
  }

  /** Verifies a received message, stores what it says and dispatches `peer:identify`. */
  async #consume (connection: Connection, message: IdentifyMessage, push: boolean): Promise<IdentifyResult> {
    const remote = connection.remotePeer
    const log = this.#log

    let publicKey: PublicKey | undefined
    const known = remote.publicKey
    if (known != null && message.publicKey != null && equalBytes(publicKeyToProtobuf(known), message.publicKey)) {
      // The key the connection was authenticated with (usual): keep that object, no second copy.
      publicKey = known
    } else if (message.publicKey != null && message.publicKey.byteLength > 0) {
      try {
        publicKey = publicKeyFromProtobuf(message.publicKey)
      } catch (err) {
        throw new InvalidMessageError(`The public key sent by ${remote.toString()} is invalid: ${(err as Error).message}`, { cause: err })
      }
      const keyId = peerIdFromPublicKey(publicKey)
      if (!keyId.equals(remote)) throw new UnexpectedPeerError(remote.toString(), keyId.toString())
    }

    const listenAddrs = uniqueAddrs(message.listenAddrs.map(bytes => parseAddr(bytes, remote)))
    const protocols = [...new Set(message.protocols.filter(p => p.length > 0 && p.length <= MAX_PROTOCOL_ID_LENGTH))]
    const observedAddr = message.observedAddr != null ? parseAddr(message.observedAddr) : undefined

    let signedPeerRecord: VerifiedPeerRecord | undefined
    let signedPeerRecordError: Error | undefined
    let envelopeBytes: Uint8Array | undefined
    if (message.signedPeerRecord != null && message.signedPeerRecord.byteLength > 0) {
      try {
        const record = this.#openRecord(remote, message.signedPeerRecord, this.#maxListenAddrs, this.#maxMessageSize)
        await this.#checkNotStale(remote, record)
        signedPeerRecord = { seq: record.seq, addresses: uniqueAddrs(record.multiaddrs.map(a => stripOwnId(a, remote))) }
        // A copy, so that the stored record does not keep the whole received chunk alive.
        envelopeBytes = Uint8Array.from(message.signedPeerRecord)
      } catch (err) {
        signedPeerRecordError = err as Error
        log('ignoring the signed peer record of %s: %s: %s', remote.toString(), (err as Error).name, (err as Error).message)
      }
    }

    const data: PeerData = {}
    if (signedPeerRecord != null) {
      data.addresses = signedPeerRecord.addresses.map(multiaddr => ({ multiaddr, isCertified: true }))
      data.peerRecordEnvelope = envelopeBytes
    } else if (listenAddrs.length > 0) {
      data.addresses = listenAddrs.map(multiaddr => ({ multiaddr, isCertified: false }))
    }
    if (publicKey != null) data.publicKey = publicKey
    const metadata = encodeMetadata([['AgentVersion', message.agentVersion], ['ProtocolVersion', message.protocolVersion]])
    if (metadata.size > 0) data.metadata = metadata

    const { peerStore, swarm } = this.#components
    // Protocols are replaced (the peer lists all it supports); the rest is added to what is known.
    if (protocols.length > 0) await peerStore.patch(remote, { protocols })
    await peerStore.merge(remote, data)
    if (observedAddr != null) swarm.addObservedAddr(observedAddr, remote)
    // Lets the connection pick optimistic selection for the protocols a known remote supports.
    // (A push without protocols leaves them as they were, as it does in the peer store.)
    connection.setRemoteIdentity?.({ protocols: protocols.length > 0 ? protocols : undefined, agentVersion: message.agentVersion })

    const result: IdentifyResult = {
      peerId: remote,
      connection,
      push,
      protocolVersion: message.protocolVersion,
      agentVersion: message.agentVersion,
      publicKey,
      protocols,
      listenAddrs,
      observedAddr,
      signedPeerRecordVerified: signedPeerRecord != null,
      signedPeerRecord,
      signedPeerRecordError
    }
    log('identified %s%s: %d protocols, %d addresses%s', remote.toString(), push ? ' (push)' : '', protocols.length, listenAddrs.length, signedPeerRecord != null ? ', signed record verified' : '')
    this.safeDispatchEvent('peer:identify', { detail: result })
    this.#components.events?.safeDispatchEvent('peer:identify', { detail: result })
    return result
  }

  /**
   * Verifies a signed peer record of `peer` (throws as `openSignedPeerRecord` does), or returns
   * what it says straight from the cache when these exact bytes verified before. Only records
   * within the given bounds are cached, and a cached one is returned only for bounds at least as
   * large, so a cache hit never accepts what verification under the same bounds would refuse.
   */
  #openRecord (peer: PeerId, bytes: Uint8Array, maxAddresses: number, maxEnvelopeSize: number): { seq: bigint, multiaddrs: readonly Multiaddr[] } {
    const cacheable = this.#verifiedRecordCacheSize > 0 && bytes.byteLength <= this.#maxMessageSize
    // The peer and the SHA-256 of the envelope: a few dozen bytes per remembered record instead of the record itself.
    const key = cacheable ? `${peer.toString()} ${createHash('sha256').update(bytes).digest('binary')}` : ''
    if (cacheable) {
      const hit = this.#verifiedRecords.get(key)
      if (hit != null && hit.multiaddrs.length <= maxAddresses && bytes.byteLength <= maxEnvelopeSize) {
        // Refresh its place in the LRU order.
        this.#verifiedRecords.delete(key)
        this.#verifiedRecords.set(key, hit)
        return hit
      }
    }
    const { record } = openSignedPeerRecord(bytes, { expectedPeer: peer, maxAddresses, maxEnvelopeSize })
    const result = { seq: record.seq, multiaddrs: record.multiaddrs }
    if (cacheable && result.multiaddrs.length <= this.#maxListenAddrs) {
      this.#verifiedRecords.set(key, result)
      if (this.#verifiedRecords.size > this.#verifiedRecordCacheSize) {
        const oldest = this.#verifiedRecords.keys().next().value
        if (oldest != null) this.#verifiedRecords.delete(oldest)
      }
    }
    return result
  }

  /** Refuses a record older than the one already stored for the peer (RFC 0003: seq must grow). */
  async #checkNotStale (peer: PeerId, record: { seq: bigint }): Promise<void> {
    let stored: Uint8Array | undefined
    try {
      stored = (await this.#components.peerStore.get(peer)).peerRecordEnvelope
    } catch (err) {
      if (err instanceof NotFoundError) return
      throw err
    }
    if (stored == null) return
    let storedSeq: bigint
    try {
      storedSeq = this.#openRecord(peer, stored, Infinity, Infinity).seq
    } catch {
      return
    }
    if (storedSeq > record.seq) {
      throw new InvalidMessageError(`The signed peer record of ${peer.toString()} has seq ${record.seq}, older than the stored ${storedSeq}`)
    }
  }

  // ---- identify (responder side) ----

  async #handleIdentify ({ stream, connection }: IncomingStreamData): Promise<void> {
    const signal = anySignal([this.#shutdown.signal], this.#timeout, 'identify response')
    try {
      const bytes = new ByteStream(stream)
      for (const part of encodeIdentify(this.#ownMessage(connection))) {
        await bytes.writeLP(part, { signal })
      }
      await stream.close({ signal })
    } catch (err) {
      this.#log('answering identify from %s failed: %s', connection.remotePeer.toString(), (err as Error).message)
      stream.abort(err as Error)
    } finally {
      signal.clear()
    }
  }

  /** Our identify message, as seen from `connection`. */
  #ownMessage (connection: Connection): IdentifyMessage {
    const { swarm, privateKey } = this.#components
    const addrs = swarm.getMultiaddrs().map(a => a.decapsulateCode(CODE_P2P))
    // Encoded from a copy: a multiaddr keeps each component's bytes on the component objects once
    // asked for its bytes, and the connection's address shares those objects, so encoding it
    // directly would hold two more byte arrays for the connection's lifetime.
    const observed = multiaddr(connection.remoteAddr).decapsulateCode(CODE_P2P)
    return {
      protocolVersion: this.#protocolVersion,
      agentVersion: this.#agentVersion,
      publicKey: publicKeyToProtobuf(privateKey.publicKey) as Uint8Array<ArrayBuffer>,
      listenAddrs: addrs.map(a => a.bytes),
      observedAddr: observed.bytes.byteLength > 0 ? observed.bytes : undefined,
      protocols: swarm.getProtocols(),
      signedPeerRecord: this.#signedRecord(addrs) as Uint8Array<ArrayBuffer> | undefined
    }
  }

  /**
   * Our signed peer record for `addrs`, sealed once per set of addresses: the sequence number grows
   * only when the addresses change (the current time in ms, or one more than the last seq when the
   * clock has not moved past it).
   */
  #signedRecord (addrs: Multiaddr[]): Uint8Array | undefined {
    if (addrs.length === 0) return undefined
    const key = addrs.map(a => a.toString()).sort().join(' ')
    if (this.#ownRecord?.key === key) return this.#ownRecord.bytes
    const now = BigInt(Date.now())
    const last = this.#ownRecord?.seq
    const seq = last != null && last >= now ? last + 1n : now
    const record = new PeerRecord({ peerId: this.#components.peerId, multiaddrs: addrs, seq })
    const bytes = record.seal(this.#components.privateKey).marshal()
    this.#ownRecord = { key, seq, bytes }
    return bytes
  }

  // ---- push ----

  async #handlePush ({ stream, connection }: IncomingStreamData): Promise<void> {
    const signal = anySignal([this.#shutdown.signal], this.#timeout, 'identify push')
    try {
      const message = await readIdentify(new ByteStream(stream), this.#readOptions(signal))
      await stream.close({ signal }).catch(err => { stream.abort(err as Error) })
      await this.#consume(connection, message, true)
    } catch (err) {
      this.#log('identify push from %s failed: %s', connection.remotePeer.toString(), (err as Error).message)
      stream.abort(err as Error)
    } finally {
      signal.clear()
    }
  }

  #schedulePush (): void {
    if (!this.#started || this.#pushTimer != null) return
    this.#pushTimer = setTimeout(() => {
      this.#pushTimer = undefined
      this.push().catch(err => { this.#log.error('identify push failed: %s', (err as Error).message) })
    }, this.#pushDebounce)
  }

  async push (): Promise<void> {
    if (!this.#started) return
    if (this.#pushing != null) {
      // A round is running: run one more when it ends, so the latest state is sent.
      this.#pushAgain = true
      return this.#pushing
    }
    const run = (async () => {
      try {
        do {
          this.#pushAgain = false
          await this.#pushRound()
        } while (this.#pushAgain && this.#started)
      } finally {
        this.#pushing = undefined
      }
    })()
    this.#pushing = run
    return run
  }

  async #pushRound (): Promise<void> {
    const { swarm, peerStore } = this.#components
    // One open connection per peer is enough: the peer store is per peer.
    const targets = new Map<string, Connection>()
    for (const conn of swarm.getConnections()) {
      if (conn.status === 'open' && !targets.has(conn.remotePeer.toString())) targets.set(conn.remotePeer.toString(), conn)
    }
    const queue: Connection[] = []
    for (const conn of targets.values()) {
      try {
        const peer = await peerStore.get(conn.remotePeer)
        if (peer.protocols.includes(IDENTIFY_PUSH_PROTOCOL)) queue.push(conn)
      } catch {
        // not identified yet: it will get our current state from identify itself
      }
    }
    const worker = async (): Promise<void> => {
      for (let conn = queue.shift(); conn != null && this.#started; conn = queue.shift()) {
        await this.#pushTo(conn)
      }
    }
    await Promise.all(Array.from({ length: Math.min(this.#maxPushConcurrency, queue.length) }, worker))
  }

  async #pushTo (connection: Connection): Promise<void> {
    const signal = anySignal([this.#shutdown.signal], this.#timeout, 'identify push')
    let stream: Stream | undefined
    try {
      stream = await connection.newStream(IDENTIFY_PUSH_PROTOCOL, { signal })
      const bytes = new ByteStream(stream)
      for (const part of encodeIdentify(this.#ownMessage(connection))) {
        await bytes.writeLP(part, { signal })
      }
      await stream.close({ signal })
    } catch (err) {
      this.#log('pushing to %s failed: %s', connection.remotePeer.toString(), (err as Error).message)
      stream?.abort(err as Error)
    } finally {
      signal.clear()
    }
  }
}

/** Parses a binary multiaddr; `undefined` when it is empty or invalid. Strips a trailing `/p2p/<peer>`. */
function parseAddr (bytes: Uint8Array, peer?: PeerId): Multiaddr | undefined {
  if (bytes.byteLength === 0) return undefined
  try {
    const ma = multiaddr(bytes)
    return peer != null ? stripOwnId(ma, peer) : ma
  } catch {
    return undefined
  }
}

/** Removes a trailing `/p2p/<peer>` (but not the `/p2p/<relay>` inside a circuit address). */
function stripOwnId (ma: Multiaddr, peer: PeerId): Multiaddr {
  const components = ma.getComponents()
  const last = components[components.length - 1]
  if (last?.code === CODE_P2P && last.value === peer.toString()) {
    return multiaddr(components.slice(0, -1))
  }
  return ma
}

function uniqueAddrs (addrs: Array<Multiaddr | undefined>): Multiaddr[] {
  const seen = new Set<string>()
  const out: Multiaddr[] = []
  for (const a of addrs) {
    if (a == null || a.bytes.byteLength === 0) continue
    const key = a.toString()
    if (seen.has(key)) continue
    seen.add(key)
    out.push(a)
  }
  return out
}
