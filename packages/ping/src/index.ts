/**
 * @packageDocumentation
 *
 * The libp2p ping protocol (`/ipfs/ping/1.0.0`): the dialer sends 32 random bytes, the listener
 * echoes them, the dialer measures the round trip. Several pings may share one stream.
 *
 * @example
 *
 * ```ts
 * import { ping } from '@peerkit/ping'
 *
 * const service = ping()({ swarm, logger })
 * await service.start()
 * const rtt = await service.ping(peerId) // ms
 * for await (const ms of service.pingMany(peerId, 5)) console.log(ms)
 * ```
 */
import { DefaultPing } from './ping.js'
import type { Ping, PingComponents, PingInit } from './ping.js'

export {
  DefaultPing,
  PING_PROTOCOL,
  PING_LENGTH,
  DEFAULT_TIMEOUT,
  DEFAULT_MAX_INBOUND_STREAMS,
  DEFAULT_MAX_OUTBOUND_STREAMS,
  MAX_PING_COUNT
} from './ping.js'
export type { Ping, PingComponents, PingInit, PingOptions, PingManyOptions, PingTarget } from './ping.js'

/** Creates the ping service factory: pass it the node's components, then `start()` it. */
export function ping (init: PingInit = {}): (components: PingComponents) => Ping {
  return (components) => new DefaultPing(components, init)
}
