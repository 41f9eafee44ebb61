import type { AbortOptions } from './abort.js'
import type { PublicKey } from './keys.js'
import type { PeerId } from './peer-id.js'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface Address {
  multiaddr: Multiaddr
  /** True when the address came from a signed peer record (RFC 0003) that verified. */
  isCertified: boolean
  /** Expiry time (ms since epoch); expired addresses are not returned. */
  expires?: number
}

/** What the node knows about a peer. */
export interface Peer {
  id: PeerId
  addresses: Address[]
  /** Protocols the peer said (through identify) it supports. */
  protocols: string[]
  publicKey?: PublicKey
  /** Free-form metadata (e.g. `AgentVersion`, `ProtocolVersion`). */
  metadata: Map<string, Uint8Array>
  /** The signed peer record envelope most recently received, as bytes. */
  peerRecordEnvelope?: Uint8Array
}

/** Fields to merge into (or replace on) a stored peer. */
export interface PeerData {
  multiaddrs?: Multiaddr[]
  addresses?: Address[]
  protocols?: string[]
  publicKey?: PublicKey
  metadata?: Map<string, Uint8Array> | Record<string, Uint8Array>
  peerRecordEnvelope?: Uint8Array
  /** Time-to-live for the given addresses (ms). */
  ttl?: number
}

/** A bounded store of peers, their addresses, protocols, keys and metadata. */
export interface PeerStore {
  /** Throws `NotFoundError` when the peer is unknown. */
  get(peerId: PeerId, options?: AbortOptions): Promise<Peer>
  has(peerId: PeerId, options?: AbortOptions): Promise<boolean>
  /** All known peers (bounded by the store's capacity). */
  all(options?: AbortOptions): Promise<Peer[]>
  /** Adds to what is known (union of addresses and protocols, metadata merged). */
  merge(peerId: PeerId, data: PeerData, options?: AbortOptions): Promise<Peer>
  /** Replaces the fields given. */
  patch(peerId: PeerId, data: PeerData, options?: AbortOptions): Promise<Peer>
  delete(peerId: PeerId, options?: AbortOptions): Promise<void>
}
