/**
 * @packageDocumentation
 *
 * A TCP transport for peerkit: dials and listens on `/ip4/…/tcp/N`, `/ip6/…/tcp/N` and
 * `/dns(4|6)/…/tcp/N` multiaddrs and turns each socket into a raw `MultiaddrConnection` with real
 * backpressure, half-close, bounded close and inactivity timeouts.
 *
 * @example
 * ```ts
 * import { tcp } from '@peerkit/transport-tcp'
 * import { multiaddr } from '@multiformats/multiaddr'
 *
 * const transport = tcp({ dialTimeout: 10_000 })
 * const listener = transport.createListener()
 * listener.addEventListener('connection', evt => {
 *   const conn = evt.detail
 *   void conn.sink(conn.source) // echo
 * })
 * await listener.listen(multiaddr('/ip4/127.0.0.1/tcp/0'))
 * const conn = await transport.dial(listener.getAddrs()[0])
 * ```
 */
import { TCPTransport } from './tcp.js'
import type { TCPInit } from './tcp.js'
import type { Transport } from '@peerkit/interfaces'

export { TCPTransport } from './tcp.js'
export type { TCPInit } from './tcp.js'
export { TCPListener } from './listener.js'
export type { TCPListenerInit } from './listener.js'
export { adoptSharedRead, sharedReadOption, toMultiaddrConnection } from './socket-to-conn.js'
export type { TCPConnectionOptions, ToMultiaddrConnectionOptions } from './socket-to-conn.js'
export { parseTCPAddress, ipPortToMultiaddr } from './utils.js'
export type { TCPAddress } from './utils.js'
export {
  DEFAULT_BACKLOG,
  DEFAULT_CLOSE_TIMEOUT,
  DEFAULT_DIAL_TIMEOUT,
  DEFAULT_INACTIVITY_TIMEOUT,
  DEFAULT_KEEP_ALIVE_INITIAL_DELAY,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_READ_BUFFER_BYTES
} from './constants.js'

/**
 * Creates the TCP transport (tag `@peerkit/transport-tcp`).
 *
 * @throws {InvalidParametersError} if an option is out of range
 */
export function tcp (init?: TCPInit): Transport {
  return new TCPTransport(init)
}
