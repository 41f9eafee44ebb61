import { InvalidParametersError, UnsupportedProtocolError } from '@peerkit/interfaces'
import type { Registrar, StreamHandler, StreamHandlerOptions, StreamHandlerRecord } from '@peerkit/interfaces'

export const DEFAULT_HANDLER_MAX_INBOUND_STREAMS = 32
export const DEFAULT_HANDLER_MAX_OUTBOUND_STREAMS = 64
/** Longest protocol id accepted, matching multistream-select's message cap. */
export const MAX_PROTOCOL_ID_LENGTH = 1000

/** The protocol table: protocol id → handler and its per-connection stream limits. */
export class ProtocolRegistrar implements Registrar {
  readonly #handlers = new Map<string, StreamHandlerRecord>()
  readonly #onChange: () => void
  /** The sorted protocol list, kept until the table changes: every inbound stream asks for it. */
  #sorted: string[] | undefined

  constructor (onChange: () => void = () => {}) {
    this.#onChange = onChange
  }

  getProtocols (): string[] {
    this.#sorted ??= [...this.#handlers.keys()].sort()
    // A copy: the caller may change what it gets.
    return this.#sorted.slice()
  }

  handle (protocol: string, handler: StreamHandler, options: StreamHandlerOptions = {}): void {
    if (typeof protocol !== 'string' || protocol.length === 0 || protocol.length > MAX_PROTOCOL_ID_LENGTH || protocol.includes('\n')) {
      throw new InvalidParametersError(`Invalid protocol id ${JSON.stringify(protocol)}`)
    }
    if (typeof handler !== 'function') throw new InvalidParametersError('The handler must be a function')
    if (this.#handlers.has(protocol) && options.force !== true) {
      throw new InvalidParametersError(`A handler is already registered for ${protocol}`)
    }
    const maxInboundStreams = options.maxInboundStreams ?? DEFAULT_HANDLER_MAX_INBOUND_STREAMS
    const maxOutboundStreams = options.maxOutboundStreams ?? DEFAULT_HANDLER_MAX_OUTBOUND_STREAMS
    for (const [name, v] of [['maxInboundStreams', maxInboundStreams], ['maxOutboundStreams', maxOutboundStreams]] as const) {
      if (!Number.isInteger(v) || v < 0) throw new InvalidParametersError(`${name} must be a non-negative integer`)
    }
    this.#handlers.set(protocol, { handler, options: { maxInboundStreams, maxOutboundStreams } })
    this.#sorted = undefined
    this.#onChange()
  }

  unhandle (protocol: string): void {
    if (this.#handlers.delete(protocol)) {
      this.#sorted = undefined
      this.#onChange()
    }
  }

  findHandler (protocol: string): StreamHandlerRecord | undefined {
    return this.#handlers.get(protocol)
  }

  getHandler (protocol: string): StreamHandlerRecord {
    const record = this.#handlers.get(protocol)
    if (record == null) throw new UnsupportedProtocolError([protocol], `No handler for ${protocol}`)
    return record
  }
}
