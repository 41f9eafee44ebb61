import type { AbortOptions, Logger } from '@peerkit/interfaces'
import type { ByteDuplex } from '@peerkit/utils'

/** Options shared by `select`, `handle` and `ls`. */
export interface MultistreamSelectOptions extends AbortOptions {
  /**
   * Aborting cancels the negotiation: the call rejects with `AbortError` (or the signal's reason
   * when it is an Error). It does not reach reads done after `select` resolved optimistically.
   */
  signal?: AbortSignal
  /** Logger for this negotiation. Default: `peerkit:multistream-select`. */
  log?: Logger
  /**
   * Largest incoming message accepted, in bytes, newline included (the value of the length
   * prefix); larger ones fail with `LimitExceededError` before their body is read. Protocol ids we
   * send must fit it too. Default 1024 (as go-multistream and js-libp2p); at least 19.
   */
  maxMessageLength?: number
}

/** Options of `select`. */
export interface SelectOptions extends MultistreamSelectOptions {
  /**
   * When `false` and a single protocol is proposed, select optimistically: resolve at once, send
   * the header and proposal together with the application's first write, and check the
   * listener's answer on the first read of the returned stream's source. Default `true`: wait for
   * the listener's answer before resolving.
   */
  negotiateFully?: boolean
  /**
   * With optimistic selection, pass the end of our data (the half-close) on at once instead of
   * after the listener's answer, so that proposal, data and half-close can leave in one write.
   * Only for listeners known to accept all three arriving together: peerkit's and go-libp2p's
   * do, js-libp2p 3.x loses the data and the half-close. Default `false`.
   */
  earlyClose?: boolean
}

/** Options of `handle`. */
export interface HandleOptions extends MultistreamSelectOptions {
  /**
   * Most messages (proposals and `ls` requests) answered on one stream without agreeing on a
   * protocol; after answering that many the listener fails with `LimitExceededError`. Default 32.
   */
  maxAttempts?: number
}

/** Options of `ls`. */
export interface LsOptions extends MultistreamSelectOptions {
  /** Largest `ls` answer accepted, in bytes (its length prefix). Default 65536. */
  maxListLength?: number
}

/** What `select` and `handle` resolve with. */
export interface ProtocolStream<S extends ByteDuplex> {
  /** The stream passed in, its `source` and `sink` replaced so that they carry protocol data only. */
  stream: S
  /** The protocol agreed on. */
  protocol: string
}

/** What `ls` resolves with. */
export interface ProtocolList<S extends ByteDuplex> {
  /** The stream passed in; the listener still waits for a proposal on it, so close it. */
  stream: S
  /** The protocols the listener says it supports, in its order. */
  protocols: string[]
}
