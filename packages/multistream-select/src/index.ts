/**
 * @packageDocumentation
 *
 * multistream-select 1.0: the protocol negotiation libp2p runs on raw connections (to pick the
 * security protocol and the stream muxer) and on every new muxed stream (to pick the application
 * protocol). `select` is the dialer's side, `handle` the listener's, `ls` asks a listener for its
 * protocols. All three work on any byte duplex (`{ source, sink }`) and hand it back with its
 * `source` and `sink` replaced so that they carry protocol data only.
 */
export { select, ls } from './select.js'
export { handle } from './handle.js'
export { PROTOCOL_ID, DEFAULT_MAX_MESSAGE_LENGTH, DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_LIST_LENGTH } from './constants.js'
export type { MultistreamSelectOptions, SelectOptions, HandleOptions, LsOptions, ProtocolStream, ProtocolList } from './options.js'
