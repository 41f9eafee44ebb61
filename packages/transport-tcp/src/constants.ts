/** Default dial timeout in milliseconds. */
export const DEFAULT_DIAL_TIMEOUT = 5_000

/** Default cap on simultaneously open inbound connections per listener. */
export const DEFAULT_MAX_CONNECTIONS = 1_024

/** Default length of the kernel's queue of pending (not yet accepted) inbound connections. */
export const DEFAULT_BACKLOG = 511

/** Default time in milliseconds without traffic in either direction before a connection is aborted. */
export const DEFAULT_INACTIVITY_TIMEOUT = 5 * 60_000

/** Default time in milliseconds a graceful `close()` may take before the socket is destroyed. */
export const DEFAULT_CLOSE_TIMEOUT = 1_000

/** Default delay in milliseconds before the first TCP keep-alive probe on an idle socket. */
export const DEFAULT_KEEP_ALIVE_INITIAL_DELAY = 60_000

/** Default number of received-but-unread bytes at which a connection stops reading from its socket. */
export const DEFAULT_MAX_READ_BUFFER_BYTES = 128 * 1024

/** Tag used in logs and errors. */
export const TAG = '@peerkit/transport-tcp'
