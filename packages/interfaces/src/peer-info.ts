import type { PeerId } from './peer-id.js'
import type { Multiaddr } from '@multiformats/multiaddr'

/** A peer and the addresses it may be reached at. */
export interface PeerInfo {
  id: PeerId
  multiaddrs: Multiaddr[]
}
