/**
 * @packageDocumentation
 *
 * The yamux stream multiplexer (`/yamux/1.0.0`): per-stream flow control with receive-window
 * auto-tuning, keep-alive pings, stream limits and GoAway.
 *
 * @example
 * ```ts
 * import { yamux } from '@peerkit/muxer-yamux'
 * import { pipe } from 'it-pipe'
 *
 * const muxer = yamux().createStreamMuxer({
 *   direction: 'outbound',
 *   onIncomingStream: (stream) => { void stream.sink(stream.source) } // echo
 * })
 * void pipe(connection, muxer, connection)
 * const stream = await muxer.newStream()
 * ```
 */
import { resolveConfig } from './config.js'
import { YAMUX_PROTOCOL_ID } from './frame.js'
import { YamuxMuxer } from './muxer.js'
import type { YamuxInit } from './config.js'
import type { StreamMuxerFactory, StreamMuxerInit } from '@peerkit/interfaces'

export { YamuxMuxer } from './muxer.js'
export type { NewStreamOptions } from './muxer.js'
export { YamuxStream } from './stream.js'
export { defaultConfig } from './config.js'
export type { YamuxInit, YamuxConfig } from './config.js'
export { YAMUX_PROTOCOL_ID, FrameType, Flag, GoAwayCode, HEADER_LENGTH, INITIAL_STREAM_WINDOW, encodeHeader, decodeHeader } from './frame.js'
export type { FrameHeader } from './frame.js'

/** A `StreamMuxerFactory` whose muxers are `YamuxMuxer`s. */
export interface YamuxFactory extends StreamMuxerFactory {
  createStreamMuxer(init: StreamMuxerInit): YamuxMuxer
}

/**
 * Returns a factory of yamux muxers sharing `init`. Options are validated here and an invalid one
 * throws `InvalidParametersError` naming it.
 */
export function yamux (init: YamuxInit = {}): YamuxFactory {
  // Validated and resolved once: the factory's muxers share the (frozen) configuration.
  const config = resolveConfig({ ...init })
  return {
    protocol: YAMUX_PROTOCOL_ID,
    createStreamMuxer: (muxerInit: StreamMuxerInit) => new YamuxMuxer(muxerInit, config)
  }
}
