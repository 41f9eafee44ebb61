import { PeerkitError } from '@peerkit/interfaces'

/**
 * The daemon answered a control request with an `ERROR` response. `requestType` names the request
 * (`IDENTIFY`, `CONNECT`, `DHT`...), `daemonMessage` is the daemon's `ErrorResponse.msg` verbatim.
 */
export class DaemonResponseError extends PeerkitError {
  static readonly code = 'ERR_DAEMON_RESPONSE'
  /** The request that failed, e.g. `STREAM_OPEN`. */
  readonly requestType: string
  /** The message the daemon sent. */
  readonly daemonMessage: string

  constructor (requestType: string, daemonMessage: string, options?: ErrorOptions) {
    super(`The daemon refused ${requestType}: ${daemonMessage}`, DaemonResponseError.code, options)
    this.name = 'DaemonResponseError'
    this.requestType = requestType
    this.daemonMessage = daemonMessage
  }
}

/**
 * A daemon option that is valid for p2pd but that peerkit does not implement (a DHT, pubsub, circuit
 * relay, a transport other than TCP...). The `peerkit daemon` command exits with code 78
 * (`EX_CONFIG`) when it meets one.
 */
export class UnsupportedConfigurationError extends PeerkitError {
  static readonly code = 'ERR_UNSUPPORTED_CONFIGURATION'
  /** The flag or option, e.g. `-dht`. */
  readonly option: string

  constructor (option: string, message: string, options?: ErrorOptions) {
    super(message, UnsupportedConfigurationError.code, options)
    this.name = 'UnsupportedConfigurationError'
    this.option = option
  }
}
