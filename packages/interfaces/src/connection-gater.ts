import type { Awaitable } from './abort.js'
import type { MultiaddrConnection } from './multiaddr-connection.js'
import type { PeerId } from './peer-id.js'
import type { Multiaddr } from '@multiformats/multiaddr'

/**
 * One hook per phase of a connection's life; each returns true to deny. Omitted hooks allow.
 * A denial aborts the connection with `ConnectionDeniedError` naming the phase.
 */
export interface ConnectionGater {
  /** Before dialling a peer at all. */
  denyDialPeer?(peerId: PeerId): Awaitable<boolean>
  /** Before dialling one address. */
  denyDialMultiaddr?(multiaddr: Multiaddr): Awaitable<boolean>
  /** A socket was accepted, before any upgrade. */
  denyInboundConnection?(maConn: MultiaddrConnection): Awaitable<boolean>
  /** Our outbound socket connected, before any upgrade. */
  denyOutboundConnection?(peerId: PeerId, maConn: MultiaddrConnection): Awaitable<boolean>
  /** The remote's identity is proven (inbound). */
  denyInboundEncryptedConnection?(peerId: PeerId, maConn: MultiaddrConnection): Awaitable<boolean>
  /** The remote's identity is proven (outbound). */
  denyOutboundEncryptedConnection?(peerId: PeerId, maConn: MultiaddrConnection): Awaitable<boolean>
  /** The connection is multiplexed (inbound), before it is added to the table. */
  denyInboundUpgradedConnection?(peerId: PeerId, maConn: MultiaddrConnection): Awaitable<boolean>
  /** The connection is multiplexed (outbound), before it is added to the table. */
  denyOutboundUpgradedConnection?(peerId: PeerId, maConn: MultiaddrConnection): Awaitable<boolean>
  /** Filters addresses learnt about a peer before they are stored. */
  filterMultiaddrForPeer?(peer: PeerId, multiaddr: Multiaddr): Awaitable<boolean>
}
