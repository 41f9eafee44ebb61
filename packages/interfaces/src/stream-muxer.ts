import type { AbortOptions } from './abort.js'
import type { Logger } from './logger.js'
import type { Direction, Duplex, Source, Stream } from './stream.js'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface StreamMuxerInit {
  /** Our role on the connection: `outbound` if we dialled it (yamux: odd stream ids). */
  direction: Direction
  /** Called for each stream the remote opens. The callee owns the stream. */
  onIncomingStream?(stream: Stream): void
  /** Called once for every stream (either direction) when it is fully closed, aborted or reset. */
  onStreamEnd?(stream: Stream): void
  /** Logger for the connection. */
  log?: Logger
}

/**
 * Multiplexes streams over one connection. Its `source` yields frames to send on the connection and
 * its `sink` consumes bytes received from it: `pipe(conn, muxer, conn)`.
 */
export interface StreamMuxer extends Duplex<AsyncGenerator<Uint8Array | Uint8ArrayList>, Source<Uint8Array | Uint8ArrayList>, Promise<void>> {
  /** The protocol id, e.g. `/yamux/1.0.0`. */
  readonly protocol: string
  /** Open streams, both directions. */
  readonly streams: Stream[]
  /**
   * Opens an outbound stream. Throws `LimitExceededError` when the stream limit is reached and
   * `ConnectionClosedError` once the muxer is closing. A muxer that may have to wait before it can
   * open one (yamux: too many streams not yet acknowledged) stops waiting when `options.signal`
   * aborts, rejecting with the abort reason; an already aborted signal fails the call at once,
   * and no stream is opened either way.
   */
  newStream(name?: string, options?: AbortOptions): Stream | Promise<Stream>
  /** Graceful close: waits for streams to close (bounded by `signal`), then ends the muxer (yamux: GoAway). */
  close(options?: AbortOptions): Promise<void>
  /** Immediate close: every stream is aborted with `err`. Never throws. */
  abort(err: Error): void
}

/** Creates a muxer per connection. */
export interface StreamMuxerFactory {
  /** The protocol id negotiated by multistream-select. */
  readonly protocol: string
  createStreamMuxer(init: StreamMuxerInit): StreamMuxer
}
