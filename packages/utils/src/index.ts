/**
 * @packageDocumentation
 *
 * Building blocks shared by peerkit packages.
 */
export * from './abort.js'
export * from './events.js'
export * from './logger.js'
