import type { SocketChannel } from './channel.js'
import type { Logger, Stream } from '@peerkit/interfaces'

/**
 * Pipes a libp2p stream and a control socket into each other until both directions are done.
 *
 * - The client ending its write side half-closes the stream (`closeWrite`), and the remote closing
 *   its side ends our write side of the socket: half-closes travel both ways.
 * - The stream being reset resets the socket (TCP RST where possible), and the socket failing
 *   aborts the stream, so neither side is left waiting.
 *
 * Backpressure holds both ways: the stream's sink pulls from the socket only when the muxer has
 * sent the previous chunk, and the socket is written only as fast as it drains. Resolves when both
 * directions finished, cleanly or not; never rejects.
 */
export async function bridge (channel: SocketChannel, stream: Stream, log: Logger): Promise<void> {
  const toStream = stream.sink(channel.source())
  const toSocket = channel.sink(stream.source)
  const [inbound, outbound] = await Promise.allSettled([toStream, toSocket])
  const failure = inbound.status === 'rejected' ? inbound.reason : outbound.status === 'rejected' ? outbound.reason : undefined
  if (failure != null) {
    const err = failure instanceof Error ? failure : new Error(String(failure))
    log('stream %s on %s ended with an error: %s', stream.id, stream.protocol, err.message)
    stream.abort(err)
    channel.abort(err)
    return
  }
  log.trace('stream %s on %s ended cleanly', stream.id, stream.protocol)
  // Both sides ended their writes and ours is flushed: release the socket.
  channel.socket.destroy()
}
