import type { AbortOptions } from './abort.js'
import type { PeerId } from './peer-id.js'
import type { PeerInfo } from './peer-info.js'

/** Symbol exposing a module's peer routing, so the facade can find it among registered modules. */
export const peerRoutingSymbol = Symbol.for('@peerkit/peer-routing')

/** Finds peers' addresses (Kademlia, mDNS, delegated routing...). */
export interface PeerRouting {
  /**
   * Finds the addresses of `peerId`. Throws `NotFoundError` when the peer cannot be found,
   * `AbortError` when aborted.
   */
  findPeer(peerId: PeerId, options?: AbortOptions): Promise<PeerInfo>
  /** Yields peers close to `key` in the routing's metric (XOR distance for Kademlia), closest first as found. */
  getClosestPeers(key: Uint8Array, options?: AbortOptions): AsyncIterable<PeerInfo>
}

/** A module that provides peer routing. */
export interface PeerRoutingProvider {
  readonly [peerRoutingSymbol]: PeerRouting
}
