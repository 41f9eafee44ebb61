import type { AbortOptions, Awaitable } from './abort.js'
import type { Connection } from './connection.js'
import type { Stream } from './stream.js'

/** What a protocol handler receives for each inbound stream negotiated to its protocol. */
export interface IncomingStreamData {
  stream: Stream
  connection: Connection
}

/**
 * Handles one inbound stream. The handler owns the stream and must close or abort it; a handler
 * that throws or rejects has its stream aborted with that error.
 */
export type StreamHandler = (data: IncomingStreamData) => Awaitable<void>

export interface StreamHandlerOptions {
  /** Cap on concurrent inbound streams for this protocol per connection; extra ones are reset. Default 32. */
  maxInboundStreams?: number
  /** Cap on concurrent outbound streams for this protocol per connection; `newStream` throws past it. Default 64. */
  maxOutboundStreams?: number
  /** Replace an existing handler instead of throwing. */
  force?: boolean
}

export interface StreamHandlerRecord {
  handler: StreamHandler
  options: Required<Omit<StreamHandlerOptions, 'force'>>
}

/** The table of protocol handlers consulted by multistream-select on every inbound stream. */
export interface Registrar {
  /** The registered protocol ids. */
  getProtocols(): string[]
  /**
   * Registers `handler` for `protocol`. Throws `InvalidParametersError` if one is already registered
   * (unless `options.force`).
   */
  handle(protocol: string, handler: StreamHandler, options?: StreamHandlerOptions): Awaitable<void>
  /** Removes the handler; open streams are left to their handlers. */
  unhandle(protocol: string, options?: AbortOptions): Awaitable<void>
  /** The handler record; throws `UnsupportedProtocolError` when none is registered. */
  getHandler(protocol: string): StreamHandlerRecord
  /**
   * The handler record, or `undefined` when none is registered: for lookups where a missing
   * handler is normal (no error object, with its stack trace, is built). Optional; callers fall
   * back to `getHandler`.
   */
  findHandler?(protocol: string): StreamHandlerRecord | undefined
}
