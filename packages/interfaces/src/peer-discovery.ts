import type { TypedEventTarget } from './events.js'
import type { PeerInfo } from './peer-info.js'

export const peerDiscoverySymbol = Symbol.for('@peerkit/peer-discovery')

export interface PeerDiscoveryEvents {
  /** A peer was discovered. */
  peer: PeerInfo
}

/** Emits `peer` events for peers it discovers (mDNS, bootstrap list, random walk...). */
export interface PeerDiscovery extends TypedEventTarget<PeerDiscoveryEvents & Record<string, unknown>> {
  readonly [peerDiscoverySymbol]: true
  /** A name for logs, e.g. `mdns`. */
  readonly tag: string
}

export interface PeerDiscoveryProvider {
  readonly [peerDiscoverySymbol]: PeerDiscovery
}
