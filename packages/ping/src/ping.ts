import { AbortError, InvalidParametersError, NotStartedError, ProtocolError, UnexpectedEOFError } from '@peerkit/interfaces'
import { ByteStream, anySignal, raceSignal, shutdownController, throwIfAborted } from '@peerkit/utils'
import type { AbortOptions, Components, IncomingStreamData, Logger, Startable, Stream, Swarm } from '@peerkit/interfaces'

/** The ping protocol id. */
export const PING_PROTOCOL = '/ipfs/ping/1.0.0'
/** Size of a ping payload, in bytes. */
export const PING_LENGTH = 32
/** Default bound on one round trip (client) and on the wait for the next ping (server), in ms (go-libp2p and js-libp2p: 10 s). */
export const DEFAULT_TIMEOUT = 10_000
/** Default per-connection cap on concurrent inbound ping streams (the spec: at most two per peer). */
export const DEFAULT_MAX_INBOUND_STREAMS = 2
/** Default per-connection cap on concurrent outbound ping streams (the spec: one per peer). */
export const DEFAULT_MAX_OUTBOUND_STREAMS = 1
/** Most round trips one `pingMany` call may ask for. */
export const MAX_PING_COUNT = 1_000_000

/** Options of the ping service. */
export interface PingInit {
  /**
   * Client: bound on each round trip (a `TimeoutError` past it). Server: how long a ping stream may
   * stay idle waiting for the next payload before it is closed. Default 10 000 ms.
   */
  timeout?: number
  /** Per-connection cap on concurrent inbound ping streams; extra ones are reset. Default 2. */
  maxInboundStreams?: number
  /** Per-connection cap on concurrent outbound ping streams. Default 1. */
  maxOutboundStreams?: number
}

/** Options of one ping. */
export interface PingOptions extends AbortOptions {
  /** Bound on each round trip, in ms. Default: the service's `timeout`. */
  timeout?: number
}

/** Options of a series of pings. */
export interface PingManyOptions extends PingOptions {
  /** Delay between the end of one round trip and the next ping, in ms. Default 0. */
  interval?: number
}

/** What the ping service needs from the node. */
export type PingComponents = Pick<Components, 'swarm' | 'logger'>

/** Whom to ping: a peer (dialed if needed, an open connection reused) or an address. */
export type PingTarget = Parameters<Swarm['openStream']>[0]

/** The ping service. */
export interface Ping extends Startable {
  /**
   * Sends one 32-byte ping and waits for the echo; returns the round-trip time in milliseconds
   * (fractional, from `performance.now()`).
   *
   * @throws ProtocolError when the echo differs from what was sent
   * @throws TimeoutError when no echo arrives within `timeout`
   * @throws UnexpectedEOFError when the peer closes the stream without answering
   */
  ping(peer: PingTarget, options?: PingOptions): Promise<number>
  /**
   * Sends `count` pings one after the other over one stream, yielding each round-trip time as it is
   * measured. Breaking out of the loop ends the exchange.
   */
  pingMany(peer: PingTarget, count: number, options?: PingManyOptions): AsyncGenerator<number, void, undefined>
}

/** Implementation of {@link Ping}. */
export class DefaultPing implements Ping {
  readonly #components: PingComponents
  readonly #log: Logger
  readonly #timeout: number
  readonly #maxInboundStreams: number
  readonly #maxOutboundStreams: number
  /** Handlers still running, awaited by `stop()`. */
  readonly #handlers = new Set<Promise<void>>()
  #shutdown = shutdownController()
  #started = false

  constructor (components: PingComponents, init: PingInit = {}) {
    this.#components = components
    this.#log = components.logger.forComponent('ping')
    this.#timeout = init.timeout ?? DEFAULT_TIMEOUT
    this.#maxInboundStreams = init.maxInboundStreams ?? DEFAULT_MAX_INBOUND_STREAMS
    this.#maxOutboundStreams = init.maxOutboundStreams ?? DEFAULT_MAX_OUTBOUND_STREAMS
    checkTimeout(this.#timeout)
    for (const [name, value] of [['maxInboundStreams', this.#maxInboundStreams], ['maxOutboundStreams', this.#maxOutboundStreams]] as const) {
      if (!Number.isInteger(value) || value < 0) throw new InvalidParametersError(`${name} must be a non-negative integer, got ${value}`)
    }
  }

  /** The protocol id this service handles. */
  readonly protocol = PING_PROTOCOL

  /** True between `start()` and `stop()`. */
  get isStarted (): boolean {
    return this.#started
  }

  async start (): Promise<void> {
    if (this.#started) return
    this.#shutdown = shutdownController()
    await this.#components.swarm.handle(PING_PROTOCOL, async (data) => this.#track(this.#handle(data)), {
      maxInboundStreams: this.#maxInboundStreams,
      maxOutboundStreams: this.#maxOutboundStreams
    })
    this.#started = true
  }

  async stop (): Promise<void> {
    if (!this.#started) return
    this.#started = false
    this.#shutdown.abort(new AbortError('The ping service is stopping'))
    await this.#components.swarm.unhandle(PING_PROTOCOL)
    await Promise.all(this.#handlers)
  }

  async #track (task: Promise<void>): Promise<void> {
    this.#handlers.add(task)
    try {
      await task
    } finally {
      this.#handlers.delete(task)
    }
  }

  /** Echoes each 32-byte payload until the remote closes its side or stays idle for `timeout`. */
  async #handle ({ stream, connection }: IncomingStreamData): Promise<void> {
    const bytes = new ByteStream(stream)
    let rounds = 0
    try {
      while (true) {
        const signal = anySignal([this.#shutdown.signal], this.#timeout, 'ping wait')
        try {
          let payload
          try {
            payload = await bytes.read(PING_LENGTH, { signal })
          } catch (err) {
            // The remote closed its side between two pings: the exchange is over.
            if (err instanceof UnexpectedEOFError && bytes.buffered === 0) break
            throw err
          }
          await bytes.write(payload, { signal })
          rounds++
        } finally {
          signal.clear()
        }
      }
      await stream.closeWrite()
      this.#log.trace('answered %d pings from %s', rounds, connection.remotePeer.toString())
    } catch (err) {
      this.#log('ping stream from %s ended after %d pings: %s', connection.remotePeer.toString(), rounds, (err as Error).message)
      stream.abort(err as Error)
    }
  }

  async ping (peer: PingTarget, options: PingOptions = {}): Promise<number> {
    for await (const rtt of this.pingMany(peer, 1, options)) {
      return rtt
    }
    // pingMany yields exactly once or throws.
    throw new ProtocolError('No round trip was measured', PING_PROTOCOL)
  }

  async * pingMany (peer: PingTarget, count: number, options: PingManyOptions = {}): AsyncGenerator<number, void, undefined> {
    if (!this.#started) throw new NotStartedError('The ping service is not started')
    if (!Number.isInteger(count) || count < 1 || count > MAX_PING_COUNT) {
      throw new InvalidParametersError(`The ping count must be an integer from 1 to ${MAX_PING_COUNT}, got ${count}`)
    }
    const timeout = checkTimeout(options.timeout ?? this.#timeout)
    const interval = options.interval ?? 0
    if (!Number.isFinite(interval) || interval < 0) throw new InvalidParametersError(`interval must be a non-negative number, got ${interval}`)
    const shutdown = this.#shutdown.signal

    const openSignal = anySignal([options.signal, shutdown], timeout, 'ping')
    let stream: Stream
    try {
      stream = await this.#components.swarm.openStream(peer, PING_PROTOCOL, { signal: openSignal })
    } finally {
      openSignal.clear()
    }

    const bytes = new ByteStream(stream)
    // Set once the last round trip is measured: the exchange then ends gracefully, even when the
    // caller stops iterating at the last value (as `ping()` does).
    let complete = false
    try {
      for (let i = 0; i < count; i++) {
        if (i > 0 && interval > 0) await sleep(interval, [options.signal, shutdown])
        const sent = crypto.getRandomValues(new Uint8Array(PING_LENGTH))
        const signal = anySignal([options.signal, shutdown], timeout, 'ping')
        let rtt: number
        try {
          const start = performance.now()
          await bytes.write(sent, { signal })
          const echo = await bytes.read(PING_LENGTH, { signal })
          rtt = performance.now() - start
          if (!sameBytes(sent, echo.subarray())) {
            throw new ProtocolError(`The ping echo from ${targetName(peer)} differs from the payload sent`, PING_PROTOCOL)
          }
        } finally {
          signal.clear()
        }
        if (i === count - 1) complete = true
        yield rtt
      }
    } finally {
      if (complete) {
        // Tell the remote we are done and wait for it to close its side, within the timeout.
        const signal = anySignal([shutdown], timeout, 'ping close')
        try {
          await stream.close({ signal })
        } catch (err) {
          stream.abort(err as Error)
        } finally {
          signal.clear()
        }
      } else {
        // An error, or the caller stopped early: end the stream at once.
        stream.abort(new AbortError('The ping exchange ended early'))
      }
    }
  }
}

function checkTimeout (timeout: number): number {
  if (typeof timeout !== 'number' || !(timeout > 0) || !Number.isFinite(timeout)) {
    throw new InvalidParametersError(`timeout must be a positive number of milliseconds, got ${timeout}`)
  }
  return timeout
}

function targetName (peer: PingTarget): string {
  return Array.isArray(peer) ? peer.map(String).join(', ') : peer.toString()
}

function sameBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false
  for (let i = 0; i < a.byteLength; i++) {
    if (a[i] !== b[i]) return false
  }
  return true
}

async function sleep (ms: number, signals: Array<AbortSignal | undefined>): Promise<void> {
  const signal = anySignal(signals)
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    throwIfAborted(signal)
    await raceSignal(new Promise<void>(resolve => { timer = setTimeout(resolve, ms) }), signal)
  } finally {
    clearTimeout(timer)
    signal.clear()
  }
}
