/**
 * @packageDocumentation
 *
 * The mplex stream multiplexer (`/mplex/6.7.0`), kept for interoperability with peers that do not
 * speak yamux. mplex has no flow control: every buffer that a peer could fill is bounded here, and a
 * stream whose reader falls too far behind is reset rather than allowed to grow.
 *
 * @example
 * ```ts
 * import { mplex } from '@peerkit/muxer-mplex'
 * import { pipe } from 'it-pipe'
 *
 * const muxer = mplex().createStreamMuxer({
 *   direction: 'outbound',
 *   onIncomingStream: stream => { void pipe(stream, stream) } // echo
 * })
 * void pipe(connection, muxer, connection)
 * const stream = muxer.newStream()
 * ```
 */

import { InvalidParametersError } from '@peerkit/interfaces'
import { PROTOCOL } from './frame.js'
import { MplexMuxer } from './muxer.js'
import { FRAME_CHARGE } from './stream.js'
import type { MplexLimits } from './muxer.js'
import type { StreamMuxerFactory, StreamMuxerInit } from '@peerkit/interfaces'

export { MplexMuxer } from './muxer.js'
export { MplexStream } from './stream.js'
export { Flag, PROTOCOL } from './frame.js'
export type { FlagValue, StreamId } from './frame.js'

/** Options of the mplex muxer. Every bound has a safe default that interoperates with js-libp2p. */
export interface MplexInit {
  /**
   * Largest frame payload. Outgoing writes are split into frames of at most this size; an incoming
   * frame announcing more fails the connection with `LimitExceededError` (`limit: 'maxMessageSize'`).
   * The spec and js-libp2p/go-mplex use 1 MiB; a larger value makes those peers drop the connection.
   *
   * @default 1_048_576
   */
  maxMessageSize?: number
  /**
   * Most input bytes held for one frame still arriving (header, length and body). The header is
   * checked against it before any body byte is kept; a frame that would exceed it fails the
   * connection with `LimitExceededError` (`limit: 'maxUnprocessedBytes'`). Nothing else is ever
   * held unparsed: frames are decoded as bytes arrive. With the defaults `maxMessageSize` is the
   * tighter bound; set this below `maxMessageSize + 18` to accept smaller frames than we send.
   *
   * @default 4_194_304
   */
  maxUnprocessedBytes?: number
  /**
   * Streams the remote may have open at once. A NewStream beyond it is answered with a reset.
   *
   * @default 1024
   */
  maxInboundStreams?: number
  /**
   * Streams we may have open at once; `newStream()` beyond it throws `LimitExceededError`.
   *
   * @default 1024
   */
  maxOutboundStreams?: number
  /**
   * Unread received data one stream may hold (payload bytes plus 128 bytes per frame). mplex has no
   * flow control, so a stream whose reader falls further behind is reset: a Reset frame is sent and
   * the local stream fails with `LimitExceededError` (`limit: 'maxStreamBufferSize'`). Other streams
   * are not affected.
   *
   * @default 4_194_304
   */
  maxStreamBufferSize?: number
  /**
   * Unread received data all streams of the connection may hold together, measured like
   * `maxStreamBufferSize`. When it would be exceeded, the stream holding the most unread data is
   * reset with `LimitExceededError` (`limit: 'maxConnectionBufferSize'`).
   *
   * @default 67_108_864
   */
  maxConnectionBufferSize?: number
  /**
   * Inbound streams we may refuse (over `maxInboundStreams`, while closing, or with no
   * `onIncomingStream`) within one second before the connection is considered abusive and fails with
   * `LimitExceededError` (`limit: 'disconnectThreshold'`).
   *
   * @default 5
   */
  disconnectThreshold?: number
  /**
   * Bytes queued for the connection above which stream writes wait until it has taken them.
   *
   * @default 4_194_304
   */
  outboundHighWaterMark?: number
  /**
   * How long a stream's `close()` waits for the remote to close its side before the stream is
   * aborted; this also bounds the muxer's `close()`.
   *
   * @default 10_000
   */
  closeTimeout?: number
  /**
   * Hand out chunks of their own: each frame body is copied out of the connection's buffers as it
   * arrives, into buffers that no other chunk or stream shares (pieces of at most 64 KiB), and the
   * connection's buffers are reused or freed at once. An application that is done with a chunk can
   * then free it with `freeChunk` from `@peerkit/utils`, and a small message kept for long no
   * longer keeps a whole read buffer alive. Over Noise this costs one more copy of every body
   * (over plaintext it replaces the copy of each read); it pays when the application frees what it
   * reads.
   *
   * @default false
   */
  ownedChunks?: boolean
}

const DEFAULTS: Omit<MplexLimits, 'ownedChunks'> = {
  maxMessageSize: 1 << 20,
  maxUnprocessedBytes: 4 << 20,
  maxInboundStreams: 1024,
  maxOutboundStreams: 1024,
  maxStreamBufferSize: 4 << 20,
  maxConnectionBufferSize: 64 << 20,
  disconnectThreshold: 5,
  outboundHighWaterMark: 4 << 20,
  closeTimeout: 10_000
}

function resolveLimits (init: MplexInit): MplexLimits {
  if (init.ownedChunks != null && typeof init.ownedChunks !== 'boolean') {
    throw new InvalidParametersError(`mplex option ownedChunks must be a boolean, got ${String(init.ownedChunks)}`)
  }
  const limits: MplexLimits = { ...DEFAULTS, ownedChunks: init.ownedChunks ?? false }
  for (const key of Object.keys(DEFAULTS) as Array<keyof typeof DEFAULTS>) {
    const value = init[key]
    if (value == null) continue
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < (key === 'disconnectThreshold' ? 0 : 1)) {
      throw new InvalidParametersError(`mplex option ${key} must be a ${key === 'disconnectThreshold' ? 'non-negative' : 'positive'} integer, got ${String(value)}`)
    }
    limits[key] = value
  }
  if (limits.maxStreamBufferSize < limits.maxMessageSize + FRAME_CHARGE) {
    throw new InvalidParametersError(`mplex option maxStreamBufferSize (${limits.maxStreamBufferSize}) must be at least maxMessageSize + ${FRAME_CHARGE} (${limits.maxMessageSize + FRAME_CHARGE}) so that a full frame can be buffered`)
  }
  if (limits.maxConnectionBufferSize < limits.maxStreamBufferSize) {
    throw new InvalidParametersError(`mplex option maxConnectionBufferSize (${limits.maxConnectionBufferSize}) must be at least maxStreamBufferSize (${limits.maxStreamBufferSize})`)
  }
  return limits
}

/** The mplex muxer factory: a `StreamMuxerFactory` whose muxers are `MplexMuxer`s. */
export interface MplexFactory extends StreamMuxerFactory {
  createStreamMuxer(init: StreamMuxerInit): MplexMuxer
}

/**
 * Returns the mplex muxer factory. Throws `InvalidParametersError` for an option that is not a
 * positive integer or is inconsistent with another (see `MplexInit`).
 */
export function mplex (init: MplexInit = {}): MplexFactory {
  const limits = resolveLimits(init)
  return {
    protocol: PROTOCOL,
    createStreamMuxer (muxerInit: StreamMuxerInit): MplexMuxer {
      return new MplexMuxer(muxerInit, limits)
    }
  }
}
