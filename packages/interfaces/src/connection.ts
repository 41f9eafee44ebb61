import type { AbortOptions } from './abort.js'
import type { Logger } from './logger.js'
import type { PeerId } from './peer-id.js'
import type { Direction, Stream } from './stream.js'
import type { Multiaddr } from '@multiformats/multiaddr'

/** `open` → `closing` → `closed`. */
export type ConnectionStatus = 'open' | 'closing' | 'closed'

export interface ConnectionTimeline {
  open: number
  upgraded?: number
  close?: number
}

/** Options for opening a stream on a connection. */
export interface NewStreamOptions extends AbortOptions {
  /**
   * Cap on concurrently open outbound streams for the protocol on this connection; opening one more
   * throws `LimitExceededError`. Defaults to the handler's `maxOutboundStreams`.
   */
  maxOutboundStreams?: number
  /**
   * Wait for the remote to confirm the protocol before resolving (default true). With `false` and
   * exactly one protocol, the multistream-select proposal is sent together with the first data and
   * the answer is checked on the first read (saves a round trip); a refusal then surfaces as an
   * `UnsupportedProtocolError` from the stream's source. The stream's half-close is sent only
   * once the answer is in.
   */
  negotiateFully?: boolean
}

/**
 * An upgraded connection to a peer: authenticated (`remotePeer` is proven), encrypted and
 * multiplexed.
 *
 * Ownership: the swarm owns connections; users may close them, which aborts their streams.
 */
export interface Connection {
  /** Unique id within this node. */
  readonly id: string
  readonly remoteAddr: Multiaddr
  readonly remotePeer: PeerId
  readonly direction: Direction
  /** The encrypter protocol in use, e.g. `/noise`. */
  readonly encryption: string
  /** The stream muxer protocol in use, e.g. `/yamux/1.0.0`. */
  readonly multiplexer: string
  readonly status: ConnectionStatus
  readonly timeline: ConnectionTimeline
  /** The streams currently open on this connection. */
  readonly streams: Stream[]
  /** Free-form tags (e.g. `keep-alive`); never sent. */
  readonly tags: string[]
  readonly log: Logger
  /**
   * Opens a stream and negotiates the first protocol of `protocols` the remote supports
   * (multistream-select). Throws `UnsupportedProtocolError` when it supports none,
   * `LimitExceededError` when a stream limit is hit, `ConnectionClosedError` if the connection
   * is closing.
   */
  newStream(protocols: string | string[], options?: NewStreamOptions): Promise<Stream>
  /** Graceful close: closes every stream gracefully (bounded by `signal`), then the connection. */
  close(options?: AbortOptions): Promise<void>
  /** Immediate close: every stream is aborted with `err`. Never throws. */
  abort(err: Error): void
}
