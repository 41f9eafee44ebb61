import { InvalidParametersError } from '@peerkit/interfaces'
import { INITIAL_STREAM_WINDOW, MAX_UINT32 } from './frame.js'

/** Options of the yamux muxer. Every bound has a safe default. */
export interface YamuxInit {
  /**
   * Most streams the remote may have open at once on a connection; further SYNs are answered with
   * RST. Default 1024.
   */
  maxInboundStreams?: number
  /** Most streams we may have open at once; `newStream` past it throws `LimitExceededError`. Default 1024. */
  maxOutboundStreams?: number
  /**
   * Most outbound streams that may wait for the remote's ACK; `newStream` waits (abortably) while
   * the backlog is full, as the libp2p spec recommends. Default 256.
   */
  maxAckBacklog?: number
  /**
   * Largest receive window a stream may grow to through auto-tuning, in bytes. Windows start at the
   * spec's 256 KiB and double while the application reads a half window faster than two round
   * trips. This is also the most a stream buffers unread. Default 16 MiB.
   */
  maxStreamWindowSize?: number
  /**
   * Bound on the sum of the receive windows of all streams of a connection: auto-tuning stops
   * growing windows once it is reached (each stream still gets the 256 KiB the spec guarantees).
   * Default 256 MiB.
   */
  maxConnectionReceiveWindow?: number
  /** Largest payload we put in one Data frame, so one stream cannot hog the connection. Default 64 KiB. */
  maxMessageSize?: number
  /**
   * Bytes of frames queued for the connection beyond which stream writers wait until the connection
   * has taken them. Default 4 MiB.
   */
  sendQueueSize?: number
  /** Send a ping every `keepAliveInterval` and close the connection when the remote goes silent. Default true. */
  enableKeepAlive?: boolean
  /** Milliseconds between keep-alive pings. Default 30 000. */
  keepAliveInterval?: number
  /**
   * Milliseconds to wait for a ping's answer. With keep-alive enabled, a ping unanswered in time
   * while nothing else arrived either aborts the connection. Default 10 000.
   */
  pingTimeout?: number
  /** How long a stream's `close()` waits for the remote to close its side before aborting. Default 10 000 ms. */
  streamCloseTimeout?: number
  /**
   * Hand out chunks of their own: each payload is copied out of the connection's buffers as it
   * arrives, into buffers that no other chunk or stream shares (pieces of at most 64 KiB), and the
   * connection's buffers are reused or freed at once. An application that is done with a chunk can
   * then free it with `freeChunk` from `@peerkit/utils`, and a small message kept for long no
   * longer keeps a whole read buffer alive. Over Noise this costs one more copy of every payload
   * (over plaintext it replaces the copy of each read); it pays when the application frees what it
   * reads. Default false: chunks are views of the connection's buffers.
   */
  ownedChunks?: boolean
}

/** The effective configuration, all defaults applied. */
export type YamuxConfig = Required<YamuxInit>

/** Default values of every option. */
export const defaultConfig: Readonly<YamuxConfig> = Object.freeze({
  maxInboundStreams: 1024,
  maxOutboundStreams: 1024,
  maxAckBacklog: 256,
  maxStreamWindowSize: 16 * 1024 * 1024,
  maxConnectionReceiveWindow: 256 * 1024 * 1024,
  maxMessageSize: 64 * 1024,
  sendQueueSize: 4 * 1024 * 1024,
  enableKeepAlive: true,
  keepAliveInterval: 30_000,
  pingTimeout: 10_000,
  streamCloseTimeout: 10_000,
  ownedChunks: false
})

function checkInteger (name: string, value: number, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidParametersError(`yamux option ${name} must be an integer in [${min}, ${max}], got ${String(value)}`)
  }
}

/** Applies defaults and validates; throws `InvalidParametersError` naming the bad option. */
/** Configurations made by resolveConfig: frozen, so muxers of one factory can share one. */
const resolved = new WeakSet<object>()

export function resolveConfig (init: YamuxInit = {}): YamuxConfig {
  if (resolved.has(init)) return init as YamuxConfig
  const config: YamuxConfig = { ...defaultConfig }
  for (const [key, value] of Object.entries(init) as Array<[keyof YamuxInit, unknown]>) {
    if (value !== undefined) (config as unknown as Record<string, unknown>)[key] = value
  }
  checkInteger('maxInboundStreams', config.maxInboundStreams, 0, 2 ** 31)
  checkInteger('maxOutboundStreams', config.maxOutboundStreams, 0, 2 ** 31)
  checkInteger('maxAckBacklog', config.maxAckBacklog, 1, 2 ** 31)
  checkInteger('maxStreamWindowSize', config.maxStreamWindowSize, INITIAL_STREAM_WINDOW, MAX_UINT32)
  checkInteger('maxConnectionReceiveWindow', config.maxConnectionReceiveWindow, INITIAL_STREAM_WINDOW, Number.MAX_SAFE_INTEGER)
  checkInteger('maxMessageSize', config.maxMessageSize, 1024, MAX_UINT32)
  checkInteger('sendQueueSize', config.sendQueueSize, 1024, Number.MAX_SAFE_INTEGER)
  checkInteger('keepAliveInterval', config.keepAliveInterval, 1, 2 ** 31 - 1)
  checkInteger('pingTimeout', config.pingTimeout, 1, 2 ** 31 - 1)
  checkInteger('streamCloseTimeout', config.streamCloseTimeout, 1, 2 ** 31 - 1)
  for (const key of ['enableKeepAlive', 'ownedChunks'] as const) {
    if (typeof config[key] !== 'boolean') {
      throw new InvalidParametersError(`yamux option ${key} must be a boolean`)
    }
  }
  Object.freeze(config)
  resolved.add(config)
  return config
}
