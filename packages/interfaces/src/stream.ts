import type { AbortOptions } from './abort.js'
import type { Logger } from './logger.js'
import type { Uint8ArrayList } from 'uint8arraylist'

/** An async or sync iterable of `T`: what a sink consumes. */
export type Source<T> = AsyncIterable<T> | Iterable<T>

/** A function consuming a source; resolves when it has consumed all of it (or failed). */
export type Sink<TSource, RSink = Promise<void>> = (source: TSource) => RSink

/**
 * A duplex async iterable: `source` yields what the remote sent, `sink` sends what it is given.
 * Composes with `it-pipe`: `pipe(source, stream, sink)`.
 */
export interface Duplex<TSource = AsyncGenerator<Uint8ArrayList>, TSink = Source<Uint8Array | Uint8ArrayList>, RSink = Promise<void>> {
  source: TSource
  sink: Sink<TSink, RSink>
}

/** Who opened a stream or connection, from our point of view. */
export type Direction = 'inbound' | 'outbound'

/**
 * - `open`: at least one direction is still open
 * - `closing`: a graceful close is in progress
 * - `closed`: both directions closed gracefully
 * - `aborted`: closed by a local `abort(err)`
 * - `reset`: closed by the remote resetting it (or the underlying connection dying)
 */
export type StreamStatus = 'open' | 'closing' | 'closed' | 'aborted' | 'reset'

/** State of one direction of a stream. */
export type ReadStatus = 'ready' | 'reading' | 'closing' | 'closed'
export type WriteStatus = 'ready' | 'writing' | 'closing' | 'closed'

/** Millisecond timestamps (`Date.now()`) of a stream's life events. */
export interface StreamTimeline {
  open: number
  /** When the stream finished opening (protocol negotiated / SYN acknowledged). */
  upgraded?: number
  closeRead?: number
  closeWrite?: number
  /** When the stream was fully closed, by either side, gracefully or not. */
  close?: number
  abort?: number
  reset?: number
}

/**
 * A muxed stream: a duplex async iterable of `Uint8ArrayList` chunks with explicit half-close.
 *
 * Backpressure: `source` is pulled by the reader; while it is not read, data accumulates only up to
 * the muxer's receive window (yamux) or read buffer (mplex), after which the remote is held back
 * (yamux) or the stream is reset (mplex). `sink` pulls from its source only as fast as the remote
 * grants credit.
 *
 * Ownership: the stream belongs to whoever opened or accepted it; that party must close or abort
 * it. Closing the connection aborts every stream on it.
 */
export interface Stream extends Duplex<AsyncGenerator<Uint8ArrayList>, Source<Uint8Array | Uint8ArrayList>, Promise<void>> {
  /** Identifier unique within the connection (the muxer's stream id, as a string). */
  readonly id: string
  readonly direction: Direction
  /** The protocol negotiated on this stream, once negotiated. */
  protocol?: string
  readonly status: StreamStatus
  readonly readStatus: ReadStatus
  readonly writeStatus: WriteStatus
  readonly timeline: StreamTimeline
  /** Free-form data attached by the application; never sent. */
  readonly metadata: Record<string, unknown>
  readonly log: Logger
  /**
   * Closes our write side (half-close): everything already passed to `sink` is flushed, then the
   * remote is told no more data follows. Reading continues. Resolves once the close is sent.
   * Rejects with `AbortError` if `options.signal` aborts first; the stream is then aborted.
   */
  closeWrite(options?: AbortOptions): Promise<void>
  /**
   * Closes our read side: buffered data is discarded and further data from the remote is ignored.
   * The remote is not told (muxers have no frame for it) except that flow-control credit stops.
   */
  closeRead(options?: AbortOptions): Promise<void>
  /**
   * Graceful close of both sides: `closeWrite()`, then waits until the remote closes its write side
   * (or `options.signal` aborts, which aborts the stream).
   */
  close(options?: AbortOptions): Promise<void>
  /**
   * Immediate close: pending reads and writes reject with `err`, the remote receives a reset.
   * Never throws.
   */
  abort(err: Error): void
}

/** A stream handed to a protocol handler, or returned by `newStream`, before protocol negotiation. */
export type RawStream = Stream
