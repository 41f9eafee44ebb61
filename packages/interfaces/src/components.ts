import type { TypedEventTarget } from './events.js'
import type { PrivateKey } from './keys.js'
import type { ComponentLogger } from './logger.js'
import type { PeerId } from './peer-id.js'
import type { PeerStore } from './peer-store.js'
import type { Swarm } from './swarm.js'

/**
 * What a node hands to the modules registered with it. A module's factory declares the fields it
 * needs, e.g. `(components: Pick<Components, 'swarm' | 'peerStore'>) => Identify`.
 */
export interface Components {
  peerId: PeerId
  privateKey: PrivateKey
  swarm: Swarm
  peerStore: PeerStore
  logger: ComponentLogger
  /** Node-wide events (the node re-dispatches swarm events here). */
  events: TypedEventTarget<Record<string, unknown>>
}

/** A factory for a module that needs parts of the node. */
export type ComponentFactory<T, C extends Partial<Components> = Components> = (components: C) => T
