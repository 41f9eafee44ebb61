import type { AbortOptions } from './abort.js'
import type { TypedEventTarget } from './events.js'
import type { MultiaddrConnection } from './multiaddr-connection.js'
import type { Multiaddr } from '@multiformats/multiaddr'

/** Symbol present on transports, so the swarm can recognise them. */
export const transportSymbol = Symbol.for('@peerkit/transport')

export interface ListenerEvents {
  /** The listener is bound; `getAddrs()` now returns real addresses. */
  listening: undefined
  /** A new raw inbound connection was accepted (before any upgrade). */
  connection: MultiaddrConnection
  /** A non-fatal error (e.g. a socket error during accept). */
  error: Error
  /** The listener has stopped accepting. */
  close: undefined
}

/**
 * Accepts inbound connections on one address.
 *
 * Ownership: accepted connections belong to the `connection` event's handler (the swarm).
 */
export interface Listener extends TypedEventTarget<ListenerEvents & Record<string, unknown>> {
  /** Starts listening on `ma` (port 0 picks a free port). Throws `TransportDialError`-like errors if binding fails. */
  listen(ma: Multiaddr): Promise<void>
  /** The bound addresses; with an unspecified host (0.0.0.0, ::), one per local interface. */
  getAddrs(): Multiaddr[]
  /**
   * Stops accepting. Open connections accepted by this listener are left to their owners unless
   * `options.closeConnections` is true, in which case they are closed (aborted after the timeout).
   */
  close(options?: ListenerCloseOptions): Promise<void>
}

export interface ListenerCloseOptions extends AbortOptions {
  closeConnections?: boolean
}

export interface DialTransportOptions extends AbortOptions {
  /** Overrides the transport's dial timeout (ms). */
  timeout?: number
}

export interface CreateListenerOptions {
  /** Overrides the transport's inbound connection cap for this listener. */
  maxConnections?: number
}

/** Dials and listens on one family of addresses (TCP, WebSockets, ...), producing raw connections. */
export interface Transport {
  readonly [transportSymbol]: true
  /** A name for logs and errors, e.g. `@peerkit/transport-tcp`. */
  readonly tag: string
  /**
   * Dials `ma` and returns the raw connection. Throws `TransportDialError` naming the address when
   * the dial is refused or unreachable, `TimeoutError` after the timeout, `AbortError` on abort.
   */
  dial(ma: Multiaddr, options?: DialTransportOptions): Promise<MultiaddrConnection>
  /** Creates a listener (not yet listening). */
  createListener(options?: CreateListenerOptions): Listener
  /** The subset of `multiaddrs` this transport can listen on. */
  listenFilter(multiaddrs: Multiaddr[]): Multiaddr[]
  /** The subset of `multiaddrs` this transport can dial. */
  dialFilter(multiaddrs: Multiaddr[]): Multiaddr[]
}
