/**
 * @packageDocumentation
 *
 * The peerkit facade. `createNode()` builds a working libp2p node with defaults; `new Node()` with
 * `addSwarm`, `addPeerRouting`, `addDistributedRecordStore`, `addDiscovery` and `addService`
 * composes a custom one.
 */
export { Node } from './node.js'
export type { NodeEvents, NodeInit, NodeStatus, Registration, BaseComponents } from './node.js'
export { createNode } from './create.js'
export type { CreateNodeConfig, DefaultServices, SecurityName, MuxerName } from './create.js'
