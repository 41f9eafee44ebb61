/**
 * @packageDocumentation
 *
 * Building blocks shared by peerkit packages.
 */
export * from './abort.js'
export * from './abstract-stream.js'
export * from './byte-channel.js'
export * from './byte-stream.js'
export * from './chunk-queue.js'
export * from './events.js'
export * from './free-buffer.js'
export * from './logger.js'
