import { HandshakeError } from '@peerkit/interfaces'
import { NOISE_PROTOCOL_ID } from './constants.js'

/**
 * The outcome of early stream-muxer negotiation: `muxer` when both sides offered muxers and agreed
 * on one, `error` when both offered but none is in common (the handshake must fail), neither when
 * at least one side offered nothing (the muxer is then negotiated after the handshake as usual).
 */
export interface MuxerNegotiation {
  muxer?: string
  error?: HandshakeError
}

/**
 * Early stream-muxer negotiation (libp2p `connections/inlined-muxer-negotiation.md`): the result is
 * the first muxer of the initiator's list that the responder also lists. When either list is empty
 * (that side did not offer any) nothing is decided here. When both offered and none is in common,
 * the specification requires the handshake to fail.
 */
export function negotiateMuxer (initiatorMuxers: readonly string[] | undefined, responderMuxers: readonly string[] | undefined): MuxerNegotiation {
  if (initiatorMuxers == null || initiatorMuxers.length === 0 || responderMuxers == null || responderMuxers.length === 0) {
    return {}
  }
  const muxer = initiatorMuxers.find(m => responderMuxers.includes(m))
  if (muxer != null) return { muxer }
  return {
    error: new HandshakeError(
      `Early muxer negotiation failed: the initiator offered [${initiatorMuxers.join(', ')}] and the responder [${responderMuxers.join(', ')}], nothing in common`,
      NOISE_PROTOCOL_ID
    )
  }
}
