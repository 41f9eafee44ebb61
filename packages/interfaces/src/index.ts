/**
 * @packageDocumentation
 *
 * The contracts of the peerkit stack. Types only, plus error classes and capability symbols: every
 * other package depends on this one and never on a sibling's internals.
 */
export * from './abort.js'
export * from './byte-channel.js'
export * from './components.js'
export * from './connection-encrypter.js'
export * from './connection-gater.js'
export * from './connection.js'
export * from './content-routing.js'
export * from './errors.js'
export * from './events.js'
export * from './keys.js'
export * from './logger.js'
export * from './multiaddr-connection.js'
export * from './peer-discovery.js'
export * from './peer-id.js'
export * from './peer-info.js'
export * from './peer-routing.js'
export * from './peer-store.js'
export * from './record-store.js'
export * from './registrar.js'
export * from './startable.js'
export * from './stream-muxer.js'
export * from './stream.js'
export * from './swarm.js'
export * from './transport.js'
