/** The identify protocol id. */
export const IDENTIFY_PROTOCOL = '/ipfs/id/1.0.0'
/** The identify push protocol id. */
export const IDENTIFY_PUSH_PROTOCOL = '/ipfs/id/push/1.0.0'
/** Default `protocolVersion` we announce (what js-libp2p and go-libp2p announce too). */
export const DEFAULT_PROTOCOL_VERSION = 'ipfs/0.1.0'
/** Default bound on identify (and push) exchanges, in ms; go-libp2p and js-libp2p use 5 s. */
export const DEFAULT_TIMEOUT = 5_000
/** Default bound on one length-prefixed identify message, in bytes (go-libp2p and js-libp2p: 8 KiB). */
export const DEFAULT_MAX_MESSAGE_SIZE = 8 * 1024
/** Default bound on the number of messages one identify response may be split into (go-libp2p: 10). */
export const DEFAULT_MAX_MESSAGES = 10
/** Default bound on the listen addresses (and signed record addresses) accepted from a peer. */
export const DEFAULT_MAX_LISTEN_ADDRS = 128
/** Default bound on the protocols accepted from a peer. */
export const DEFAULT_MAX_PROTOCOLS = 512
/** Protocol ids longer than this are dropped from received messages (multistream-select's own bound). */
export const MAX_PROTOCOL_ID_LENGTH = 1024
/** Default per-connection cap on concurrent inbound identify streams, per protocol. */
export const DEFAULT_MAX_INBOUND_STREAMS = 2
/** Default per-connection cap on concurrent outbound identify streams, per protocol. */
export const DEFAULT_MAX_OUTBOUND_STREAMS = 1
/** Default delay between a change of our addresses or protocols and the push, in ms (js-libp2p: 1 s). */
export const DEFAULT_PUSH_DEBOUNCE = 1_000
/** Default number of peers pushed to at once (go-libp2p and js-libp2p: 32). */
export const DEFAULT_MAX_PUSH_CONCURRENCY = 32
/**
 * Messages larger than this are sent in two parts, the signed peer record on its own, as
 * go-libp2p does: peers that read a single message of up to 2 KiB still get everything else.
 */
export const LEGACY_MESSAGE_SIZE = 2 * 1024
/** Default number of verified signed peer records remembered, so a peer that reconnects is not re-verified. */
export const DEFAULT_VERIFIED_RECORD_CACHE_SIZE = 256
/**
 * Default delay between a connection opening and its automatic identify, in ms: the connection's
 * first exchanges go first, and connections closed sooner are never identified.
 */
export const DEFAULT_CONNECTION_OPEN_DELAY = 50
