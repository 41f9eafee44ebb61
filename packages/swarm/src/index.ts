/**
 * @packageDocumentation
 *
 * The swarm: transports, connection upgrade, dialing, the connection table, protocol handlers and
 * limits.
 */
export { DefaultSwarm, swarm } from './swarm.js'
export type { SwarmInit } from './swarm.js'
export { ProtocolRegistrar, DEFAULT_HANDLER_MAX_INBOUND_STREAMS, DEFAULT_HANDLER_MAX_OUTBOUND_STREAMS } from './registrar.js'
export { rankAddresses, peerIdStringOf } from './addresses.js'
export { Semaphore } from './semaphore.js'
