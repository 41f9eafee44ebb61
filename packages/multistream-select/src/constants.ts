/** The protocol id of multistream-select 1.0, exchanged by both sides as their first message. */
export const PROTOCOL_ID = '/multistream/1.0.0'

/** The answer a listener gives to a proposal it does not support ("not available"). */
export const NOT_AVAILABLE = 'na'

/** The request for the listener's list of supported protocols. */
export const LIST = 'ls'

/**
 * Default bound on one incoming message, in bytes, counting the trailing newline (the value of the
 * length prefix). 1024 is the bound go-multistream and js-libp2p enforce, so a protocol id longer
 * than 1023 bytes would be refused by them as well.
 */
export const DEFAULT_MAX_MESSAGE_LENGTH = 1024

/** Default bound on the number of messages a listener answers on one stream without agreeing. */
export const DEFAULT_MAX_ATTEMPTS = 32

/** Default bound on the size of an `ls` response accepted by `ls()`, in bytes. */
export const DEFAULT_MAX_LIST_LENGTH = 64 * 1024

/** The header is 19 bytes on the wire (after its length prefix): no bound may be smaller. */
export const MIN_MAX_MESSAGE_LENGTH = PROTOCOL_ID.length + 1
