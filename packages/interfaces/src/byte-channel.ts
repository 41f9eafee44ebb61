import type { Uint8ArrayList } from 'uint8arraylist'

/**
 * The property under which a byte duplex (a raw connection, an encrypted connection) offers its
 * bytes as a {@link ByteChannel}: the push-based fast path between the layers of one connection.
 *
 * A duplex moves bytes by iteration: each layer pulls from the one below and parks a promise
 * while the connection is idle. A channel moves them by calls instead: the transport hands each
 * chunk it receives straight to the layer above (decryption included, synchronously), and a
 * write goes straight down to the socket. An idle connection then holds no pending promise at all,
 * and a chunk costs no promise on its way.
 *
 * The offer is optional and tied to the duplex's current `source` and `sink`: a layer that
 * replaces either (multistream-select, a handshake returning the rest of the stream) must offer a
 * channel of its own that accounts for what it holds, or none. A stale offer (its `source`/`sink`
 * are no longer the duplex's) is ignored. Use `claimByteChannel` from `@peerkit/utils`.
 */
export const byteChannel = Symbol.for('@peerkit/byte-channel')

/** What a duplex stores under {@link byteChannel}. */
export interface ByteChannelOffer {
  /** The `source` the offer stands for. */
  readonly source: unknown
  /** The `sink` the offer stands for. */
  readonly sink: unknown
  /**
   * Takes the channel; `undefined` when it cannot be taken now (e.g. a read or a write is in
   * progress through the duplex). After a successful claim the duplex's `source` and `sink` must
   * not be used again.
   */
  claim(): ByteChannel | undefined
}

/** Receives what arrives on a {@link ByteChannel}. Callbacks must not throw. */
export interface ByteChannelReceiver {
  /**
   * True when the receiver takes transient data: `onData` may then be given views of a buffer
   * that the channel reuses, or frees, once `onData` returns, and the receiver copies whatever it
   * keeps. Otherwise (the default) it gets chunks it may keep. Read each time data is delivered.
   */
  readonly transientData?: boolean
  /** Bytes received, in order (never empty). */
  onData(data: Uint8Array | Uint8ArrayList): void
  /** The remote ended its side: nothing more will arrive. Called at most once, never after `onError`. */
  onEnd(): void
  /** The connection failed: nothing more will arrive. Called at most once, never after `onEnd`. */
  onError(err: Error): void
  /** A write returned `false` earlier and the channel can take more now. */
  onDrain(): void
}

/** Push-based access to a connection's bytes (see {@link byteChannel}). */
export interface ByteChannel {
  /**
   * Starts delivering to `receiver`, first whatever was received and not yet read (synchronously,
   * from within this call), then each chunk as it arrives. Call once.
   */
  attach(receiver: ByteChannelReceiver): void
  /**
   * Writes bytes in order. Returns `false` when the channel's buffer is over its high-water mark:
   * the writer should wait for `onDrain` (the bytes were taken regardless). Writes after the
   * connection failed are dropped (the receiver hears of the failure).
   *
   * `release`, when given, says the writer owns the bytes of `data` and wants them back: the
   * channel calls it once it no longer reads them (they were copied to the operating system, or
   * the write failed after it took them), possibly before `write` returns, and the writer may then
   * reuse or free them (e.g. a Noise layer frees each ciphertext as soon as the socket has written
   * it, instead of leaving it to the garbage collector). A channel may also never call it: one
   * that cannot tell when that is, that passes the bytes on to something that keeps them, or that
   * drops the write (the bytes are then simply left to the garbage collector). None calls it more
   * than once.
   */
  write(data: Uint8Array | Uint8ArrayList, release?: () => void): boolean
  /**
   * Ends our side once everything written has been handed to the network. Resolves then, or when
   * the connection was closed locally meanwhile; rejects if it fails first.
   */
  end(): Promise<void>
}

/**
 * A stream muxer that can run over a {@link ByteChannel} instead of `pipe(conn, muxer, conn)`
 * offers this method under the symbol.
 */
export const attachByteChannel = Symbol.for('@peerkit/attach-byte-channel')

/**
 * What the owner of a muxer running on a byte channel hears: the two outcomes the pipes' promises
 * would have carried, as calls (an object with methods, so a connection costs no closures or
 * pending promises for them). Each is called once.
 */
export interface ByteChannelMuxerEvents {
  /**
   * The muxer stopped reading: the input ended or the muxer ended (`err` undefined), or it failed
   * (`err`: what `muxer.sink(conn.source)` would have rejected with).
   */
  onInputEnd(err?: Error): void
  /**
   * The muxer's last frames were written and our side ended (`err` undefined), or that failed
   * (`err`: what `conn.sink(muxer.source)` would have rejected with).
   */
  onOutputEnd(err?: Error): void
}

/** A muxer offering {@link attachByteChannel}. */
export interface ByteChannelMuxer {
  /** Runs the muxer on `channel` (instead of `sink` and `source`), reporting to `events`. Once. */
  [attachByteChannel](channel: ByteChannel, events: ByteChannelMuxerEvents): void
}
