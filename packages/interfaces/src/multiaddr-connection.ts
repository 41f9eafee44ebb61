import type { AbortOptions } from './abort.js'
import type { Logger } from './logger.js'
import type { Duplex, Source, Direction } from './stream.js'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Uint8ArrayList } from 'uint8arraylist'

/** Millisecond timestamps of a raw connection's life. */
export interface MultiaddrConnectionTimeline {
  open: number
  upgraded?: number
  close?: number
}

/** Options of `MultiaddrConnection.close()`. */
export interface MultiaddrConnectionCloseOptions extends AbortOptions {
  /**
   * `true` (the default): resolve once the connection is closed, the remote's end of it included
   * (TCP: the remote's FIN received and the socket released). `false`: resolve once our side is
   * done, everything written handed to the operating system and our write side ended (TCP: every
   * byte in the kernel and our FIN requested; the system call that queues it may follow on the
   * event loop's next turn), while the transport keeps waiting, bounded by its close timeout, for the
   * remote to end its side before it releases the socket. Data still arriving meanwhile is
   * discarded, not refused, so a remote finishing its writes sees a clean end rather than a reset.
   */
  waitForRemote?: boolean
}

/**
 * A raw, unencrypted, unmultiplexed byte pipe produced by a transport (one per TCP socket).
 * `source` yields received chunks; `sink` writes chunks, applying the socket's backpressure.
 *
 * Ownership: the transport creates it, the upgrader takes it over; whoever holds it must `close()`
 * or `abort()` it.
 */
export interface MultiaddrConnection extends Duplex<AsyncGenerator<Uint8Array | Uint8ArrayList>, Source<Uint8Array | Uint8ArrayList>, Promise<void>> {
  readonly remoteAddr: Multiaddr
  /** Our side's address, when the transport knows it. */
  readonly localAddr?: Multiaddr
  readonly direction: Direction
  readonly timeline: MultiaddrConnectionTimeline
  readonly log: Logger
  /**
   * Graceful close: flushes pending writes, ends the write side, and waits for the socket to close,
   * bounded by the transport's close timeout after which the socket is destroyed. Never rejects
   * because the remote misbehaved.
   *
   * With `waitForRemote: false` the promise resolves as soon as our side is done (see
   * `MultiaddrConnectionCloseOptions`); the close goes on, and a later `close()` without the option
   * waits for the rest. A transport that does not distinguish the two waits for the whole close.
   */
  close(options?: MultiaddrConnectionCloseOptions): Promise<void>
  /** Destroys the socket at once; pending reads and writes fail with `err`. Never throws. */
  abort(err: Error): void
}
