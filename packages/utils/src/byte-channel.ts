import { byteChannel } from '@peerkit/interfaces'
import type { ByteChannel, ByteChannelOffer, ByteChannelReceiver } from '@peerkit/interfaces'
import type { Uint8ArrayList } from 'uint8arraylist'

interface DuplexLike { source: unknown, sink: unknown }

/**
 * The duplex's channel offer, if it stands for the duplex's current `source` and `sink` (an offer
 * left behind by a layer that has since replaced them is ignored).
 */
export function currentByteChannelOffer (duplex: DuplexLike): ByteChannelOffer | undefined {
  const offer = (duplex as { [byteChannel]?: ByteChannelOffer })[byteChannel]
  if (offer == null || offer.source !== duplex.source || offer.sink !== duplex.sink) return undefined
  return offer
}

/**
 * Offers a channel for the duplex's current `source` and `sink` (replacing any earlier offer).
 * `claim` is called at most once successfully; it returns `undefined` when the channel cannot be
 * taken now.
 */
export function offerByteChannel (duplex: DuplexLike, claim: () => ByteChannel | undefined): void {
  const offer: ByteChannelOffer = { source: duplex.source, sink: duplex.sink, claim }
  ;(duplex as { [byteChannel]?: ByteChannelOffer })[byteChannel] = offer
}

/**
 * Takes the duplex's byte channel, if it offers a valid one and it can be taken now. On success
 * the duplex's `source` and `sink` must not be used any more.
 */
export function claimByteChannel (duplex: DuplexLike): ByteChannel | undefined {
  return currentByteChannelOffer(duplex)?.claim()
}

/**
 * `channel` with `prefix` delivered before anything it receives (bytes a handshake read past its
 * last message).
 */
export function prefixByteChannel (channel: ByteChannel, prefix: Uint8Array | Uint8ArrayList | undefined): ByteChannel {
  if (prefix == null || prefix.byteLength === 0) return channel
  let pending: Uint8Array | Uint8ArrayList | undefined = prefix
  return {
    attach (receiver: ByteChannelReceiver): void {
      const first = pending
      pending = undefined
      if (first != null) receiver.onData(first)
      channel.attach(receiver)
    },
    write: (data) => channel.write(data),
    end: async () => channel.end()
  }
}
