import type { AbortOptions } from './abort.js'
import type { Connection, NewStreamOptions } from './connection.js'
import type { TypedEventTarget } from './events.js'
import type { PeerId } from './peer-id.js'
import type { Registrar } from './registrar.js'
import type { Startable } from './startable.js'
import type { Stream } from './stream.js'
import type { Transport } from './transport.js'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface SwarmEvents {
  /** The first connection to a peer opened. */
  'peer:connect': PeerId
  /** The last connection to a peer closed. */
  'peer:disconnect': PeerId
  'connection:open': Connection
  'connection:close': Connection
  /** Our own protocols or listen addresses changed (identify pushes on this). */
  'self:update': SelfUpdate
}

/** What changed about this node. */
export interface SelfUpdate {
  protocols: string[]
  addresses: Multiaddr[]
}

export interface DialOptions extends AbortOptions {
  /** Dial even when a connection to the peer exists. */
  force?: boolean
}

/**
 * Owns transports, connections and the protocol table. Every other subsystem opens streams through
 * the swarm and only through it.
 */
export interface Swarm extends Registrar, Startable, TypedEventTarget<SwarmEvents & Record<string, unknown>> {
  /** Registers a transport. */
  addTransport(transport: Transport): void
  /** Starts listeners for the given addresses (each must be accepted by some transport). */
  listen(addrs: Multiaddr[], options?: AbortOptions): Promise<void>
  /** The addresses we listen on, each ending with `/p2p/<our id>`. */
  getMultiaddrs(): Multiaddr[]
  /**
   * Returns an open connection to the peer, reusing one in either direction, or dials: one dial per
   * peer at a time (concurrent callers share it). Throws `DialError` listing every address tried.
   */
  dial(peer: PeerId | Multiaddr | Multiaddr[], options?: DialOptions): Promise<Connection>
  /** Gets a connection (see `dial`) and opens a stream for the first supported protocol. */
  openStream(peer: PeerId | Multiaddr | Multiaddr[], protocols: string | string[], options?: NewStreamOptions & DialOptions): Promise<Stream>
  /** Open connections, to one peer or to all. */
  getConnections(peer?: PeerId): Connection[]
  /** Closes every connection to the peer. */
  hangUp(peer: PeerId | Multiaddr, options?: AbortOptions): Promise<void>
  /**
   * Records an address a remote peer observed us at (identify's `observedAddr`). Observed addresses
   * are kept (bounded) for NAT detection but not announced until confirmed.
   */
  addObservedAddr(addr: Multiaddr, reporter?: PeerId): void
  /** Observed addresses with the number of distinct peers that reported each, most reported first. */
  getObservedAddrs(): Array<{ multiaddr: Multiaddr, reporters: number }>
  /** Stops every listener, aborts pending dials and closes every connection. */
  stop(): Promise<void>
}
