/**
 * An in-memory pair of byte channels, for testing a muxer's `[attachByteChannel]` by hand: what one
 * end writes reaches the other end's receiver on a later turn of the event loop, as a socket's
 * data would.
 */
import type { ByteChannel, ByteChannelReceiver } from '@peerkit/interfaces'

/** One end of a {@link byteChannelPair}. */
export interface ByteChannelEnd {
  /** The channel to attach a muxer to. */
  readonly channel: ByteChannel
  /** The receiver attached to this end, once `attach` was called. */
  receiver(): ByteChannelReceiver | undefined
  /** A copy of each chunk written at this end, one entry per `write()` call. */
  readonly writes: Uint8Array[]
  /** True once `end()` was called at this end. */
  readonly ended: boolean
  /**
   * What `write()` returns (default `true`). Set it to `false` to play a transport whose buffer is
   * full: writes are still taken and delivered, but the writer is asked to wait; set it back and
   * call the writer's `receiver()?.onDrain()` to let it go on.
   */
  accepting: boolean
}

class End implements ByteChannelEnd {
  readonly writes: Uint8Array[] = []
  ended = false
  accepting = true
  peer!: End
  #receiver?: ByteChannelReceiver
  readonly channel: ByteChannel

  constructor () {
    this.channel = {
      attach: (receiver) => { this.#receiver = receiver },
      write: (data) => {
        const copy = data.subarray().slice()
        this.writes.push(copy)
        setImmediate(() => { this.peer.#receiver?.onData(copy) })
        return this.accepting
      },
      end: async () => {
        this.ended = true
        setImmediate(() => { this.peer.#receiver?.onEnd() })
      }
    }
  }

  receiver (): ByteChannelReceiver | undefined {
    return this.#receiver
  }
}

/**
 * Two connected in-memory byte channels. Writes are copied (so a writer may reuse its buffers),
 * recorded in `writes`, and delivered to the other end's receiver a turn later (`write` returns
 * the end's `accepting`, `true` unless a test sets it); `end()` delivers `onEnd` the same way. Feed an end's own receiver by hand
 * (`end.receiver()?.onData(...)`) to play the remote.
 */
export function byteChannelPair (): [ByteChannelEnd, ByteChannelEnd] {
  const a = new End()
  const b = new End()
  a.peer = b
  b.peer = a
  return [a, b]
}
