import { createHook } from 'node:async_hooks'
import net from 'node:net'
import { format } from 'node:util'
import v8 from 'node:v8'
import vm from 'node:vm'
import { multiaddr } from '@multiformats/multiaddr'
import { noise } from '@peerkit/connection-encrypter-noise'
import { plaintext } from '@peerkit/connection-encrypter-plaintext'
import { generateKeyPair } from '@peerkit/crypto'
import { mplex } from '@peerkit/muxer-mplex'
import { yamux } from '@peerkit/muxer-yamux'
import { peerIdFromPrivateKey } from '@peerkit/peer-id'
import { tcp } from '@peerkit/transport-tcp'
import { Uint8ArrayList } from 'uint8arraylist'
import { swarm } from '../src/index.js'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { YamuxInit } from '@peerkit/muxer-yamux'
import type { ConnectionEncrypter, Logger, PeerId, PrivateKey, Stream } from '@peerkit/interfaces'
import type { DefaultSwarm, SwarmInit } from '../src/index.js'

export type EncrypterName = 'noise' | 'plaintext'
export type MuxerName = 'yamux' | 'mplex'

export interface PeerOptions {
  /** Encrypters, in order of preference. Default `['noise']`. */
  encrypters?: EncrypterName[]
  /** Muxers, in order of preference. Default `['yamux']`. */
  muxers?: MuxerName[]
  /** Options of every yamux muxer of this peer. */
  yamux?: YamuxInit
  /** Wraps each encrypter (e.g. to observe handshakes). */
  wrapEncrypter?(encrypter: ConnectionEncrypter): ConnectionEncrypter
  /** Listen on 127.0.0.1 (default true). */
  listen?: boolean
  /** Extra swarm options. */
  init?: Partial<SwarmInit>
  privateKey?: PrivateKey
}

export interface TestPeer {
  privateKey: PrivateKey
  peerId: PeerId
  swarm: DefaultSwarm
  /**
   * The first address from `getMultiaddrs()` (with `/p2p/<id>`); a placeholder
   * `/ip4/127.0.0.1/tcp/1/p2p/<id>` when not listening.
   */
  addr: Multiaddr
  /** The TCP port of `addr` (0 when not listening). */
  port: number
}

const running = new Set<DefaultSwarm>()

/** A started swarm on 127.0.0.1 (TCP), Noise and yamux unless told otherwise. Stopped by `stopAll`. */
export async function createPeer (options: PeerOptions = {}): Promise<TestPeer> {
  const privateKey = options.privateKey ?? await generateKeyPair('Ed25519')
  const peerId = peerIdFromPrivateKey(privateKey)
  const wrapEnc = options.wrapEncrypter ?? ((e: ConnectionEncrypter) => e)
  const encrypters = (options.encrypters ?? ['noise']).map(name => wrapEnc(name === 'noise'
    ? noise()({ privateKey, peerId })
    : plaintext()({ privateKey, peerId })))
  const muxers = (options.muxers ?? ['yamux']).map(name => name === 'yamux' ? yamux(options.yamux) : mplex())
  const s = swarm({
    peerId,
    transports: [tcp()],
    connectionEncrypters: encrypters,
    streamMuxers: muxers,
    ...options.init
  })
  s.start()
  running.add(s)
  let addr = multiaddr(`/ip4/127.0.0.1/tcp/1/p2p/${peerId.toString()}`)
  let port = 0
  if (options.listen !== false) {
    await s.listen([multiaddr('/ip4/127.0.0.1/tcp/0')])
    addr = s.getMultiaddrs()[0]
    port = Number(addr.getComponents().find(c => c.name === 'tcp')?.value)
  }
  return { privateKey, peerId, swarm: s, addr, port }
}

/** Stops every swarm created by `createPeer` (for `afterEach`). */
export async function stopAll (): Promise<void> {
  const all = [...running]
  running.clear()
  await Promise.all(all.map(async s => s.stop()))
}

/** Echoes everything back, then closes. */
export async function echo ({ stream }: { stream: Stream }): Promise<void> {
  await stream.sink(stream.source)
}

/** Reads a stream to its end and concatenates what came. */
export async function readAll (stream: Stream): Promise<Uint8Array> {
  const list = new Uint8ArrayList()
  for await (const chunk of stream.source) list.append(chunk)
  return new Uint8Array(list.subarray())
}

/** Writes `data` on `stream`, closes our write side and reads the whole answer. */
export async function roundTrip (stream: Stream, data: Uint8Array): Promise<Uint8Array> {
  const [, answer] = await Promise.all([stream.sink([data]), readAll(stream)])
  return answer
}

/** `n` pseudo-random bytes (deterministic). */
export function bytes (n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n)
  let x = seed
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff
    out[i] = x >>> 16
  }
  return out
}

/** Resolves with the next `name` event of `target` (rejects after `ms`). */
export async function nextEvent<T = unknown> (target: EventTarget, name: string, ms = 10_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      target.removeEventListener(name, onEvent)
      reject(new Error(`no ${name} event within ${ms}ms`))
    }, ms)
    const onEvent = (evt: Event): void => {
      clearTimeout(timer)
      target.removeEventListener(name, onEvent)
      resolve((evt as CustomEvent<T>).detail)
    }
    target.addEventListener(name, onEvent)
  })
}

/** Resolves after `ms` (only to pace sampling loops, never to wait for an outcome). */
export async function tick (ms = 0): Promise<void> {
  await new Promise(resolve => {
    untracked++
    try {
      setTimeout(resolve, ms)
    } finally {
      untracked--
    }
  })
}

/**
 * Polls `check` every few milliseconds until it is true; throws naming `what` after `ms`. Used
 * where the condition has no event to wait for (e.g. the remote noticing a closed socket).
 */
export async function until (check: () => boolean | Promise<boolean>, ms = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms
  while (!await check()) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${ms}ms`)
    await tick(5)
  }
}

/** A raw TCP socket to `port` on 127.0.0.1, connected. */
export async function rawSocket (port: number): Promise<net.Socket> {
  const socket = net.connect({ host: '127.0.0.1', port })
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => { resolve() })
    socket.once('error', reject)
  })
  return socket
}

/** Resolves when `socket` has closed (either side), with the bytes it received. */
export async function socketClosed (socket: net.Socket, ms = 10_000): Promise<Uint8Array> {
  const received = new Uint8ArrayList()
  socket.on('data', (d: Buffer) => { received.append(d) })
  socket.on('error', () => {})
  if (socket.destroyed) return received.subarray()
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`socket not closed within ${ms}ms`)) }, ms)
    socket.once('close', () => { clearTimeout(timer); resolve() })
  })
  return received.subarray()
}

/**
 * A TCP server on 127.0.0.1 that accepts connections and never writes a byte (a peer that never
 * answers the handshake). `close()` destroys every socket it accepted.
 */
export async function silentServer (): Promise<{ port: number, sockets: Set<net.Socket>, close(): Promise<void> }> {
  const sockets = new Set<net.Socket>()
  const server = net.createServer(socket => {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => { sockets.delete(socket) })
    socket.resume()
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  return {
    port,
    sockets,
    async close () {
      for (const s of sockets) s.destroy()
      await new Promise<void>(resolve => server.close(() => { resolve() }))
    }
  }
}

/** A TCP port on 127.0.0.1 with nothing listening (bound then released). */
export async function closedPort (): Promise<number> {
  const server = net.createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  await new Promise<void>(resolve => server.close(() => { resolve() }))
  return port
}

/** `text` as a multistream-select message: length prefix (one byte: under 127 bytes only), text, newline. */
export function mssMessage (text: string): Uint8Array {
  const body = new TextEncoder().encode(`${text}\n`)
  if (body.byteLength > 127) throw new RangeError('mssMessage: text too long for a one-byte length prefix')
  const out = new Uint8Array(body.byteLength + 1)
  out[0] = body.byteLength
  out.set(body, 1)
  return out
}

/** Counts of `process.getActiveResourcesInfo()` by type. */
export function activeResources (): Map<string, number> {
  const counts = new Map<string, number>()
  for (const r of process.getActiveResourcesInfo()) counts.set(r, (counts.get(r) ?? 0) + 1)
  return counts
}

let untracked = 0

/**
 * Records timers and TCP handles created while it is enabled and still alive (not cleared, fired,
 * closed), unref'd ones included (`getActiveResourcesInfo` does not show unref'd timers). Timers of
 * the test helpers' own polling (`tick`, `until`) are not recorded.
 */
export class ResourceTracker {
  readonly #alive = new Map<number, { type: string, stack: string }>()
  readonly #hook = createHook({
    init: (id, type) => {
      if (untracked > 0) return
      if (type === 'Timeout' || type === 'TCPWRAP' || type === 'TCPSERVERWRAP' || type === 'TCPCONNECTWRAP') {
        this.#alive.set(id, { type, stack: new Error('created here').stack ?? '' })
      }
    },
    destroy: (id) => { this.#alive.delete(id) }
  })

  start (): this {
    this.#hook.enable()
    return this
  }

  stop (): void {
    this.#hook.disable()
  }

  /** Types of the tracked resources still alive. */
  alive (): string[] {
    return [...this.#alive.values()].map(r => r.type)
  }

  /** The live resources with where they were created, for failure messages. */
  describe (): string {
    return [...this.#alive.values()].map(r => `${r.type}\n${r.stack}`).join('\n')
  }
}

/** A logger that keeps every line (formatted) in `lines`, for asserting on what a component reported. */
export function captureLog (): Logger & { lines: string[] } {
  const lines: string[] = []
  const log = (formatter: unknown, ...args: unknown[]): void => { lines.push(format(formatter, ...args)) }
  return Object.assign(log, {
    lines,
    error: (formatter: unknown, ...args: unknown[]): void => { lines.push(`error: ${format(formatter, ...args)}`) },
    trace: () => {},
    enabled: true
  })
}

let gcFunction: (() => void) | null | undefined

/**
 * Runs a full garbage collection and returns true, or returns false when the runtime does not let
 * us (then heap figures include garbage). Uses `global.gc` when node runs with `--expose-gc`, else
 * turns the flag on at run time and takes `gc` from a fresh context.
 */
export function forceGc (): boolean {
  if (gcFunction === undefined) {
    const exposed = (globalThis as { gc?: () => void }).gc
    if (typeof exposed === 'function') {
      gcFunction = exposed
    } else {
      try {
        v8.setFlagsFromString('--expose-gc')
        const fn: unknown = vm.runInNewContext('gc')
        gcFunction = typeof fn === 'function' ? fn as () => void : null
      } catch {
        gcFunction = null
      }
    }
  }
  if (gcFunction == null) return false
  gcFunction()
  gcFunction()
  return true
}
