/**
 * @packageDocumentation
 *
 * Signed envelopes (libp2p RFC 0002) and peer records (RFC 0003).
 *
 * A peer record lists the addresses a peer can be reached at. The peer signs it, so that anyone
 * relaying it (a DHT, identify, a rendezvous point) cannot alter it: the addresses it carries are
 * "certified".
 *
 * @example
 *
 * ```ts
 * import { PeerRecord, openSignedPeerRecord } from '@peerkit/peer-record'
 *
 * const record = new PeerRecord({ peerId, multiaddrs: [multiaddr('/ip4/192.0.2.1/tcp/4001')] })
 * const bytes = record.seal(privateKey).marshal()
 *
 * // on the receiving side
 * const { record: received } = openSignedPeerRecord(bytes, { expectedPeer: peerId })
 * received.multiaddrs // certified addresses
 * ```
 */
export {
  RecordEnvelope,
  signedData,
  DEFAULT_MAX_ENVELOPE_SIZE,
  MAX_DOMAIN_LENGTH
} from './envelope.js'
export type { SealableRecord, RecordEnvelopeInit, EnvelopeDecodeOptions } from './envelope.js'
export {
  PeerRecord,
  openSignedPeerRecord,
  PEER_RECORD_DOMAIN,
  PEER_RECORD_CODEC,
  DEFAULT_MAX_PEER_RECORD_ADDRESSES
} from './peer-record.js'
export type { PeerRecordInit, PeerRecordDecodeOptions, OpenPeerRecordOptions, SignedPeerRecord } from './peer-record.js'
