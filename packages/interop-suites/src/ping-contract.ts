import { createClient } from 'redis'

/**
 * The libp2p test-plans transport-interop contract (transport-interop/README.md): each
 * implementation is one program configured by environment variables; the listener publishes its
 * address with RPUSH on the redis key `listenerAddr`, the dialer takes it with BLPOP, connects,
 * pings, and prints one JSON line on stdout.
 */
export interface PingTestConfig {
  /** `tcp`, `quic-v1`, `webtransport`, `ws`... */
  transport: string
  /** Absent for transports with their own security and muxing (QUIC, WebTransport). */
  security?: string
  /** Absent for transports with their own muxing. */
  muxer?: string
  /** `is_dialer=true`. */
  isDialer: boolean
  /** Where the listener binds. Default `0.0.0.0`. */
  ip: string
  /** `host:port` of redis. Default `redis:6379`. */
  redisAddr: string
  /** Deadline of the whole test, in seconds. Default 180. */
  timeoutSeconds: number
}

/** The redis key the listener's address is published under. */
export const LISTENER_ADDR_KEY = 'listenerAddr'

/** A malformed or missing environment variable. */
export class PingConfigError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'PingConfigError'
  }
}

/** Reads the contract's environment variables (`test_timeout_secs`, js-libp2p's spelling, is accepted too). */
export function readPingConfig (env: NodeJS.ProcessEnv = process.env): PingTestConfig {
  const transport = env.transport
  if (transport == null || transport === '') throw new PingConfigError('transport is required')
  const security = env.security === '' ? undefined : env.security
  const muxer = env.muxer === '' ? undefined : env.muxer
  if (!['quic', 'quic-v1', 'webtransport'].includes(transport) && (security == null || muxer == null)) {
    throw new PingConfigError(`security and muxer are required with transport ${transport}`)
  }
  const dialer = env.is_dialer
  if (dialer !== 'true' && dialer !== 'false') throw new PingConfigError(`is_dialer must be true or false, got ${String(dialer)}`)
  const rawTimeout = env.test_timeout_seconds ?? env.test_timeout_secs ?? '180'
  const timeoutSeconds = Number(rawTimeout)
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) throw new PingConfigError(`invalid test timeout ${rawTimeout}`)
  return {
    transport,
    security,
    muxer,
    isDialer: dialer === 'true',
    ip: env.ip == null || env.ip === '' ? '0.0.0.0' : env.ip,
    redisAddr: env.redis_addr == null || env.redis_addr === '' ? 'redis:6379' : env.redis_addr,
    timeoutSeconds
  }
}

/** The dialer's result line, with the field names (and spelling) the test-plans runner parses. */
export interface PingResult {
  /** From just before the dial to the end of the first ping, in ms. */
  handshakePlusOneRTTMillis: number
  /** The ping's round trip, in ms (the runner's spelling, three l's). */
  pingRTTMilllis: number
}

/** The JSON line the dialer prints. */
export function formatResult (handshakePlusOneRTTMillis: number, pingRTTMillis: number): string {
  const result: PingResult = { handshakePlusOneRTTMillis, pingRTTMilllis: pingRTTMillis }
  return JSON.stringify(result)
}

/** A redis connection for the contract's two commands. */
export interface PingRedis {
  /** RPUSH the listener's address. */
  publish(addr: string): Promise<void>
  /** BLPOP the listener's address, waiting at most `timeoutSeconds`. */
  take(timeoutSeconds: number): Promise<string>
  close(): Promise<void>
}

/** Connects to redis at `host:port`, retrying for a few seconds while it starts. */
export async function connectRedis (addr: string): Promise<PingRedis> {
  const client = createClient({
    url: `redis://${addr}`,
    socket: {
      connectTimeout: 5000,
      reconnectStrategy: (retries: number) => retries > 50 ? new Error(`redis at ${addr} is unreachable`) : 100
    }
  })
  client.on('error', (err: Error) => { process.stderr.write(`redis: ${err.message}\n`) })
  await client.connect()
  return {
    publish: async (listenerAddr) => { await client.rPush(LISTENER_ADDR_KEY, listenerAddr) },
    take: async (timeoutSeconds) => {
      const reply = await client.blPop(LISTENER_ADDR_KEY, timeoutSeconds)
      if (reply == null) throw new Error(`no listener address in redis after ${timeoutSeconds} s`)
      return reply.element
    },
    close: async () => { client.destroy() }
  }
}

/**
 * Runs the listener's side: publish `addr`, then wait for SIGTERM/SIGINT (the runner kills the
 * listener once the dialer is done) or the test timeout. Resolves with the exit code: 0 when
 * stopped by a signal, 1 when the timeout was hit.
 */
export async function listenUntilStopped (redis: PingRedis, addr: string, timeoutSeconds: number): Promise<number> {
  let onStop!: () => void
  let timer: ReturnType<typeof setTimeout> | undefined
  // Listen for the signal before publishing: the dialer may finish (and the runner stop us) at once.
  const stopped = new Promise<number>(resolve => {
    onStop = () => { resolve(0) }
    process.once('SIGTERM', onStop)
    process.once('SIGINT', onStop)
  })
  try {
    await redis.publish(addr)
    await redis.close()
    const timedOut = new Promise<number>(resolve => {
      timer = setTimeout(() => {
        process.stderr.write(`listener: no stop signal within ${timeoutSeconds} s\n`)
        resolve(1)
      }, timeoutSeconds * 1000)
    })
    return await Promise.race([stopped, timedOut])
  } finally {
    clearTimeout(timer)
    process.off('SIGTERM', onStop)
    process.off('SIGINT', onStop)
  }
}
