import assert from 'node:assert/strict'
import net from 'node:net'
import { Worker } from 'node:worker_threads'
import { multiaddr } from '@multiformats/multiaddr'
import { toMultiaddrConnection } from '../src/index.js'
import type { ToMultiaddrConnectionOptions } from '../src/index.js'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { MultiaddrConnection } from '@peerkit/interfaces'

/** Resolves after `ms` milliseconds. */
export async function delay (ms: number): Promise<void> {
  await new Promise<void>(resolve => setTimeout(resolve, ms))
}

/** Polls `condition` until it holds, failing after `ms`. */
export async function waitFor (condition: () => boolean, ms = 3_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${ms}ms`)
    await delay(5)
  }
}

/**
 * Handle and ref'd-timer counts by type (`process.getActiveResourcesInfo()`). Take baselines after
 * an `await` inside a test or hook, so the runner's own timeout timer is already counted.
 */
export function resources (): Map<string, number> {
  const counts = new Map<string, number>()
  for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1)
  return counts
}

/** Waits until no resource type outnumbers `baseline`, failing with the difference otherwise. */
export async function assertNoLeaks (baseline: Map<string, number>, ms = 2_000): Promise<void> {
  let growth: string[] = []
  const deadline = Date.now() + ms
  while (true) {
    growth = []
    for (const [type, n] of resources()) {
      const before = baseline.get(type) ?? 0
      if (n > before) growth.push(`${type}: ${before} -> ${n}`)
    }
    if (growth.length === 0 || Date.now() > deadline) break
    await delay(10)
  }
  assert.deepEqual(growth, [], `leaked: ${growth.join(', ')}`)
}

/** A connected pair of plain sockets (both half-open capable) over 127.0.0.1. */
export async function socketPair (): Promise<{ client: net.Socket, server: net.Socket }> {
  const listener = net.createServer({ allowHalfOpen: true })
  await new Promise<void>(resolve => listener.listen({ host: '127.0.0.1', port: 0 }, resolve))
  const { port } = listener.address() as net.AddressInfo
  const accepted = new Promise<net.Socket>(resolve => listener.once('connection', resolve))
  const client = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true })
  await new Promise<void>((resolve, reject) => {
    client.once('connect', resolve)
    client.once('error', reject)
  })
  const server = await accepted
  // Stops listening; the callback would wait for the accepted socket to close.
  listener.close()
  return { client, server }
}

/**
 * A loopback TCP server that never accepts: its listen backlog is 1 and its thread is blocked, so
 * once the kernel's accept queue holds its couple of connections, further SYNs are dropped and
 * connects hang. Nothing leaves the loopback interface.
 */
export class HangingServer {
  readonly addr: Multiaddr
  readonly #worker: Worker
  readonly #flag: Int32Array
  readonly #fillers: net.Socket[] = []
  readonly #port: number

  private constructor (worker: Worker, flag: Int32Array, port: number) {
    this.#worker = worker
    this.#flag = flag
    this.#port = port
    this.addr = multiaddr(`/ip4/127.0.0.1/tcp/${port}`)
  }

  static async start (): Promise<HangingServer> {
    const shared = new SharedArrayBuffer(4)
    const worker = new Worker(`
      const { parentPort, workerData } = require('node:worker_threads')
      const net = require('node:net')
      const flag = new Int32Array(workerData)
      const server = net.createServer()
      server.listen({ host: '127.0.0.1', port: 0, backlog: 1 }, () => {
        parentPort.postMessage(server.address().port)
        // Block this thread's event loop so nothing is ever accepted, until released.
        setTimeout(() => {
          Atomics.wait(flag, 0, 0)
          server.close()
          process.exit(0)
        }, 5)
      })
    `, { eval: true, workerData: shared })
    const port = await new Promise<number>((resolve, reject) => {
      worker.once('message', resolve)
      worker.once('error', reject)
    })
    await delay(30)
    return new HangingServer(worker, new Int32Array(shared), port)
  }

  /** Opens plain sockets until one stops completing its handshake (the accept queue is full). */
  async fill (): Promise<void> {
    const port = this.#port
    for (let i = 0; i < 16; i++) {
      const socket = net.connect({ host: '127.0.0.1', port })
      socket.on('error', () => {})
      this.#fillers.push(socket)
      const connected = await new Promise<boolean>(resolve => {
        const timer = setTimeout(() => { resolve(false) }, 150)
        socket.once('connect', () => {
          clearTimeout(timer)
          resolve(true)
        })
      })
      if (!connected) {
        // Full, or only slow on a busy machine? A dropped SYN is sent again only after a second,
        // so a socket still connecting a little later was refused by a full queue.
        await delay(300)
        if (socket.connecting) return
      }
    }
    throw new Error('the accept queue of the hanging server never filled')
  }

  async stop (): Promise<void> {
    for (const s of this.#fillers) s.destroy()
    Atomics.store(this.#flag, 0, 1)
    Atomics.notify(this.#flag, 0)
    await new Promise(resolve => this.#worker.once('exit', resolve))
  }
}

/**
 * For a `describe` block: installs hooks that check for leaked handles after the block and abort
 * what a test left open, and returns a function making our connection over the client end of a
 * socket pair (the server end stays a plain socket, the "peer").
 */
export function trackedPairs (): TrackedPairs {
  let baseline: Map<string, number>
  const peers: net.Socket[] = []
  const conns: MultiaddrConnection[] = []
  before(async () => {
    await delay(1)
    baseline = resources()
  })
  afterEach(() => {
    for (const c of conns.splice(0)) c.abort(new Error('test cleanup'))
    for (const p of peers.splice(0)) p.destroy()
  })
  after(async () => {
    await assertNoLeaks(baseline)
  })
  const pair = async (options: Partial<ToMultiaddrConnectionOptions> = {}): Promise<{ conn: MultiaddrConnection, client: net.Socket, peer: net.Socket }> => {
    const { client, server } = await socketPair()
    server.on('error', () => {})
    const conn = toMultiaddrConnection(client, { remoteAddr: multiaddr('/ip4/127.0.0.1/tcp/1'), direction: 'outbound', ...options })
    peers.push(server)
    conns.push(conn)
    return { conn, client, peer: server }
  }
  return Object.assign(pair, { conns, peers })
}

/** See {@link trackedPairs}: makes a tracked pair; `conns` and `peers` are cleaned up after each test. */
export type TrackedPairs = ((options?: Partial<ToMultiaddrConnectionOptions>) => Promise<{ conn: MultiaddrConnection, client: net.Socket, peer: net.Socket }>) & { conns: MultiaddrConnection[], peers: net.Socket[] }
