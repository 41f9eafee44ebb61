/**
 * Byte channels through multistream-select: negotiation replaces a stream's `source` and `sink`,
 * so a channel the raw stream offered is passed on only through a negotiation that accounts for
 * what it holds (bytes read past the answer, a proposal or answer not sent yet).
 */
import { claimByteChannel, currentByteChannelOffer, offerByteChannel } from '@peerkit/utils'
import { unusedSink } from './messages.js'
import type { NegotiationWriter } from './writer.js'
import type { ByteDuplex } from '@peerkit/utils'

/**
 * The duplex negotiation reads through (`ByteStream` over the stream's source, no sink), carrying
 * the stream's channel offer if it has one, so that the reader's `unwrap()` passes it on with the
 * bytes it read too far.
 */
export function readerDuplex (stream: ByteDuplex): ByteDuplex {
  const shadow: ByteDuplex = { source: stream.source, sink: unusedSink }
  const offer = currentByteChannelOffer(stream)
  if (offer != null) offerByteChannel(shadow, () => offer.claim())
  return shadow
}

/**
 * After a successful negotiation (`stream.source`/`sink` already replaced): offers the channel
 * under the reader, provided the writer has nothing held back or on its way (and, for an
 * optimistic selection, `ready()`: the listener's answer has been read).
 */
export function offerNegotiatedChannel (stream: ByteDuplex, reader: ByteDuplex, writer: NegotiationWriter, ready?: () => boolean): void {
  if (currentByteChannelOffer(reader) == null) return
  offerByteChannel(stream, () => writer.idle && (ready?.() ?? true) ? claimByteChannel(reader) : undefined)
}
