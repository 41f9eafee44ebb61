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
   *
   * Left unset, the connection decides: full negotiation, except for a single protocol that the
   * remote listed in identify when the remote is known to accept data and the half-close arriving
   * with the proposal (see `RemoteIdentity`); such streams are selected optimistically and their
   * proposal, data and half-close can leave in one write.
   */
  negotiateFully?: boolean
}

/**
 * What the remote end of a connection announced about itself (from identify). A connection may
 * use it to open streams for protocols the remote supports with optimistic selection. A field
 * left out is unchanged (an identify push may carry only what changed).
 */
export interface RemoteIdentity {
  /** The protocols the remote listed (identify's `protocols`). */
  protocols?: readonly string[]
  /** The remote's `agentVersion`. */
  agentVersion?: string
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
  /**
   * Tells the connection what the remote announced; identify calls it after each identification
   * (and push). Optional: connections that do not implement it negotiate every stream fully.
   */
  setRemoteIdentity?(identity: RemoteIdentity): void
  /**
   * Graceful close: closes every stream gracefully (bounded by `signal`), then the connection.
   * Resolves once our side is done: the muxer's last frames and the end of our write side are
   * handed to the operating system. It does not wait for the remote to end its side as well; the
   * transport does that in the background, bounded by its close timeout, before it releases the
   * socket (a stopping swarm waits for those).
   */
  close(options?: AbortOptions): Promise<void>
  /** Immediate close: every stream is aborted with `err`. Never throws. */
  abort(err: Error): void
}
