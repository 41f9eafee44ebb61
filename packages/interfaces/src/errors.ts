/**
 * Error classes shared by every peerkit package.
 *
 * Every error has a stable `name` (the class name) and `code` (an `ERR_*` string) that callers can
 * switch on, plus typed context fields naming what failed: the peer, the address, the protocol, the
 * limit that was hit. Messages are for humans and may change; `name`, `code` and the fields do not.
 */

/** Base class of every error peerkit throws on purpose. */
export class PeerkitError extends Error {
  /** Stable machine-readable code, e.g. `ERR_INVALID_KEY`. */
  readonly code: string

  constructor (message: string, code: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'PeerkitError'
    this.code = code
  }
}

/** An argument passed by the caller is not acceptable (wrong type, out of range, malformed). */
export class InvalidParametersError extends PeerkitError {
  static readonly code = 'ERR_INVALID_PARAMETERS'
  constructor (message = 'Invalid parameters', options?: ErrorOptions) {
    super(message, InvalidParametersError.code, options)
    this.name = 'InvalidParametersError'
  }
}

/** Key bytes could not be decoded, or do not form a valid key of their declared type. */
export class InvalidKeyError extends PeerkitError {
  static readonly code = 'ERR_INVALID_KEY'
  constructor (message = 'Invalid key', options?: ErrorOptions) {
    super(message, InvalidKeyError.code, options)
    this.name = 'InvalidKeyError'
  }
}

/** A key type (or curve, or RSA size) that peerkit does not support. */
export class UnsupportedKeyTypeError extends PeerkitError {
  static readonly code = 'ERR_UNSUPPORTED_KEY_TYPE'
  /** The type that was found, as it appeared on the wire or in the call. */
  readonly keyType: string

  constructor (keyType: string | number, message = `Unsupported key type ${String(keyType)}`, options?: ErrorOptions) {
    super(message, UnsupportedKeyTypeError.code, options)
    this.name = 'UnsupportedKeyTypeError'
    this.keyType = String(keyType)
  }
}

/** A PeerId string, multihash or CID is malformed (bad base, checksum, codec or hash function). */
export class InvalidPeerIdError extends PeerkitError {
  static readonly code = 'ERR_INVALID_PEER_ID'
  /** The input that failed to parse, when it was a string. */
  readonly input?: string

  constructor (message = 'Invalid PeerId', input?: string, options?: ErrorOptions) {
    super(message, InvalidPeerIdError.code, options)
    this.name = 'InvalidPeerIdError'
    this.input = input
  }
}

/** A signature did not verify. */
export class InvalidSignatureError extends PeerkitError {
  static readonly code = 'ERR_INVALID_SIGNATURE'
  constructor (message = 'Invalid signature', options?: ErrorOptions) {
    super(message, InvalidSignatureError.code, options)
    this.name = 'InvalidSignatureError'
  }
}

/** A message received from a peer (protobuf, frame, record) is malformed. */
export class InvalidMessageError extends PeerkitError {
  static readonly code = 'ERR_INVALID_MESSAGE'
  constructor (message = 'Invalid message', options?: ErrorOptions) {
    super(message, InvalidMessageError.code, options)
    this.name = 'InvalidMessageError'
  }
}

/** The remote ended the stream before a complete message arrived. */
export class UnexpectedEOFError extends PeerkitError {
  static readonly code = 'ERR_UNEXPECTED_EOF'
  constructor (message = 'Unexpected end of stream', options?: ErrorOptions) {
    super(message, UnexpectedEOFError.code, options)
    this.name = 'UnexpectedEOFError'
  }
}

/** A frame on the wire violates its protocol (unknown type, bad flags, reused id, window overrun...). */
export class ProtocolError extends PeerkitError {
  static readonly code = 'ERR_PROTOCOL'
  /** The protocol whose rules were broken, e.g. `/yamux/1.0.0`. */
  readonly protocol?: string

  constructor (message: string, protocol?: string, options?: ErrorOptions) {
    super(message, ProtocolError.code, options)
    this.name = 'ProtocolError'
    this.protocol = protocol
  }
}

/** A configured bound was hit: message size, buffer, queue, stream or connection count. */
export class LimitExceededError extends PeerkitError {
  static readonly code = 'ERR_LIMIT_EXCEEDED'
  /** Name of the option that sets the bound, e.g. `maxMessageSize`. */
  readonly limit: string
  /** The bound in force. */
  readonly max: number
  /** The value that would have exceeded it, when known. */
  readonly value?: number
  /** Where the bound applies, e.g. `stream`, `connection`, `peer:<id>`, `node`. */
  readonly scope?: string

  constructor (limit: string, max: number, value?: number, scope?: string, message?: string, options?: ErrorOptions) {
    super(message ?? `${limit} exceeded${scope != null ? ` for ${scope}` : ''}: ${value != null ? `${value} > ` : ''}${max}`, LimitExceededError.code, options)
    this.name = 'LimitExceededError'
    this.limit = limit
    this.max = max
    this.value = value
    this.scope = scope
  }
}

/** An operation did not complete before its deadline. */
export class TimeoutError extends PeerkitError {
  static readonly code = 'ERR_TIMEOUT'
  /** The deadline in milliseconds, when known. */
  readonly timeoutMs?: number

  constructor (message = 'Timed out', timeoutMs?: number, options?: ErrorOptions) {
    super(message, TimeoutError.code, options)
    this.name = 'TimeoutError'
    this.timeoutMs = timeoutMs
  }
}

/** An operation was cancelled through its `AbortSignal`. */
export class AbortError extends PeerkitError {
  static readonly code = 'ERR_ABORTED'
  constructor (message = 'The operation was aborted', options?: ErrorOptions) {
    super(message, AbortError.code, options)
    this.name = 'AbortError'
  }
}

/** The remote peer's identity is not the one the caller expected. */
export class UnexpectedPeerError extends PeerkitError {
  static readonly code = 'ERR_UNEXPECTED_PEER'
  /** The PeerId that was expected, as a string. */
  readonly expected: string
  /** The PeerId the remote proved it holds, as a string. */
  readonly actual: string

  constructor (expected: string, actual: string, options?: ErrorOptions) {
    super(`Expected peer ${expected} but the remote is ${actual}`, UnexpectedPeerError.code, options)
    this.name = 'UnexpectedPeerError'
    this.expected = expected
    this.actual = actual
  }
}

/** A security handshake failed: bad payload, bad signature, decryption failure, protocol violation. */
export class HandshakeError extends PeerkitError {
  static readonly code = 'ERR_HANDSHAKE'
  /** The encrypter's protocol id, e.g. `/noise`. */
  readonly protocol?: string

  constructor (message: string, protocol?: string, options?: ErrorOptions) {
    super(message, HandshakeError.code, options)
    this.name = 'HandshakeError'
    this.protocol = protocol
  }
}

/** Authenticated decryption of a frame failed; the connection cannot continue. */
export class DecryptionError extends PeerkitError {
  static readonly code = 'ERR_DECRYPTION'
  constructor (message = 'Failed to decrypt a frame', options?: ErrorOptions) {
    super(message, DecryptionError.code, options)
    this.name = 'DecryptionError'
  }
}

/** No protocol offered by one side was supported by the other. */
export class UnsupportedProtocolError extends PeerkitError {
  static readonly code = 'ERR_UNSUPPORTED_PROTOCOL'
  /** The protocols that were offered, in order. */
  readonly protocols: string[]

  constructor (protocols: string[], message = `None of the protocols is supported: ${protocols.join(', ')}`, options?: ErrorOptions) {
    super(message, UnsupportedProtocolError.code, options)
    this.name = 'UnsupportedProtocolError'
    this.protocols = protocols
  }
}

/** The stream or connection is not in a state that allows the operation (e.g. writing after closeWrite). */
export class StreamStateError extends PeerkitError {
  static readonly code = 'ERR_STREAM_STATE'
  constructor (message = 'The stream is not in a state that allows this operation', options?: ErrorOptions) {
    super(message, StreamStateError.code, options)
    this.name = 'StreamStateError'
  }
}

/** The remote reset the stream. */
export class StreamResetError extends PeerkitError {
  static readonly code = 'ERR_STREAM_RESET'
  constructor (message = 'The stream was reset by the remote', options?: ErrorOptions) {
    super(message, StreamResetError.code, options)
    this.name = 'StreamResetError'
  }
}

/** The connection closed (or was aborted) while the operation was in flight. */
export class ConnectionClosedError extends PeerkitError {
  static readonly code = 'ERR_CONNECTION_CLOSED'
  constructor (message = 'The connection is closed', options?: ErrorOptions) {
    super(message, ConnectionClosedError.code, options)
    this.name = 'ConnectionClosedError'
  }
}

/** A transport could not reach an address (refused, unreachable, DNS failure...). */
export class TransportDialError extends PeerkitError {
  static readonly code = 'ERR_TRANSPORT_DIAL'
  /** The address that was dialled, as a string. */
  readonly address: string

  constructor (address: string, message: string, options?: ErrorOptions) {
    super(message, TransportDialError.code, options)
    this.name = 'TransportDialError'
    this.address = address
  }
}

/** One address tried during a dial and why it failed. */
export interface DialAttempt {
  /** The multiaddr that was tried, as a string. */
  address: string
  /** Why it failed. */
  error: Error
}

/**
 * A dial failed on every address. `attempts` lists each address tried, in order, with its error;
 * `peer` names the target when it was known.
 */
export class DialError extends PeerkitError {
  static readonly code = 'ERR_DIAL_FAILED'
  readonly peer?: string
  readonly attempts: DialAttempt[]

  constructor (attempts: DialAttempt[], peer?: string, message?: string, options?: ErrorOptions) {
    const lines = attempts.map(a => `  ${a.address}: ${a.error.name}: ${a.error.message}`)
    super(message ?? `Dial${peer != null ? ` to ${peer}` : ''} failed${attempts.length > 0 ? `, tried ${attempts.length} address(es):\n${lines.join('\n')}` : ': no address to dial'}`, DialError.code, options)
    this.name = 'DialError'
    this.peer = peer
    this.attempts = attempts
  }
}

/** A connection gater refused a connection at one of its phases. */
export class ConnectionDeniedError extends PeerkitError {
  static readonly code = 'ERR_CONNECTION_DENIED'
  /** The gater hook that refused, e.g. `denyInboundEncryptedConnection`. */
  readonly phase: string

  constructor (phase: string, message = `Connection denied by the gater at ${phase}`, options?: ErrorOptions) {
    super(message, ConnectionDeniedError.code, options)
    this.name = 'ConnectionDeniedError'
    this.phase = phase
  }
}

/** A lookup found nothing (peer, record, provider). */
export class NotFoundError extends PeerkitError {
  static readonly code = 'ERR_NOT_FOUND'
  constructor (message = 'Not found', options?: ErrorOptions) {
    super(message, NotFoundError.code, options)
    this.name = 'NotFoundError'
  }
}

/** An operation needs the component to be started. */
export class NotStartedError extends PeerkitError {
  static readonly code = 'ERR_NOT_STARTED'
  constructor (message = 'Not started', options?: ErrorOptions) {
    super(message, NotStartedError.code, options)
    this.name = 'NotStartedError'
  }
}
