/**
 * The peerkit benchmark worker: a server (listens, serves the bench protocols) or a client (dials
 * and measures), driven over the IPC channel by the runner.
 *
 *   node dist/src/workers/peerkit.js --role server|client --security noise|plaintext --muxer yamux|mplex
 */
import { multiaddr } from '@multiformats/multiaddr'
import { createNode } from '@peerkit/libp2p'
import { freeChunk } from '@peerkit/utils'
import { Uint8ArrayList } from 'uint8arraylist'
import { CHUNK_SIZE, PROTOCOLS, decodeSize, encodeSize } from '../protocol.js'
import { argValue, cpuSince, num, runLimited, serveCommands, str, usage } from './serve.js'
import type { Command } from './serve.js'
import type { Connection, Stream } from '@peerkit/interfaces'
import type { DefaultServices, MuxerName, Node, SecurityName, CreateNodeConfig } from '@peerkit/libp2p'

const role = argValue('role', 'server')
const security = argValue('security', 'noise') as SecurityName
const muxer = argValue('muxer', 'yamux') as MuxerName
const identifyDelay = argValue('identify-delay', '')
const noiseCrypto = argValue('noise-crypto', '')
/** The muxers hand out chunks of their own and transfers free each chunk once counted (see `countAll`). */
const ownedChunks = argValue('owned-chunks', '') === 'true'

/** Limits raised so that the benchmarks, not the defaults, decide how many connections and streams there are. */
const HANDLER_OPTIONS = { maxInboundStreams: 4096, maxOutboundStreams: 4096 }
const NODE_CONFIG: CreateNodeConfig = {
  security: [security],
  muxers: [muxer],
  swarm: { maxConnections: 10_000, maxIncomingPendingConnections: 1024, maxPendingDials: 10_000, maxParallelDials: 1024 },
  ...(identifyDelay !== '' ? { identify: { connectionOpenDelay: Number(identifyDelay) } } : {}),
  ...(noiseCrypto !== '' ? { noise: { crypto: noiseCrypto as 'node' | 'libsodium' } } : {}),
  ...(ownedChunks ? { yamux: { ownedChunks }, mplex: { ownedChunks } } : {})
}
const PAYLOAD = new Uint8Array(CHUNK_SIZE).map((_, i) => (i * 31 + 7) & 0xff)
const ONE = new Uint8Array([42])

function * chunks (size: number): Generator<Uint8Array> {
  for (let left = size; left > 0; left -= CHUNK_SIZE) yield left >= CHUNK_SIZE ? PAYLOAD : PAYLOAD.subarray(0, left)
}

async function readAll (stream: Stream): Promise<Uint8Array> {
  const list = new Uint8ArrayList()
  for await (const chunk of stream.source) list.append(chunk)
  return list.subarray()
}

async function countAll (stream: Stream): Promise<number> {
  let n = 0
  for await (const chunk of stream.source) {
    n += chunk.byteLength
    // Counted, so done with: its memory goes back now rather than at the next collection.
    if (ownedChunks) freeChunk(chunk)
  }
  return n
}

function guard (handler: (stream: Stream) => Promise<void>): (data: { stream: Stream }) => Promise<void> {
  return async ({ stream }) => {
    try {
      await handler(stream)
    } catch (err) {
      stream.abort(err as Error)
    }
  }
}

async function server (): Promise<void> {
  const node = await createNode({ ...NODE_CONFIG, listen: ['/ip4/127.0.0.1/tcp/0'] })
  node.handle(PROTOCOLS.sink, guard(async (stream) => {
    const n = await countAll(stream)
    await stream.sink([encodeSize(n)])
  }), HANDLER_OPTIONS)
  node.handle(PROTOCOLS.source, guard(async (stream) => {
    const size = decodeSize(await readAll(stream))
    await stream.sink(chunks(size))
  }), HANDLER_OPTIONS)
  node.handle(PROTOCOLS.echo, guard(async (stream) => {
    await stream.sink(stream.source)
  }), HANDLER_OPTIONS)

  serveCommands({ addr: node.getMultiaddrs()[0].toString(), peerId: node.id.toString() }, {
    usage: async (args) => usage(node.getConnections().length, args.gc === true)
  }, async () => { await node.stop() })
}

async function echoOne (conn: Connection): Promise<void> {
  const stream = await conn.newStream(PROTOCOLS.echo, { maxOutboundStreams: HANDLER_OPTIONS.maxOutboundStreams })
  const [, got] = await Promise.all([stream.sink([ONE]), countAll(stream)])
  if (got !== 1) throw new Error(`echo returned ${got} bytes instead of 1`)
}

async function client (): Promise<void> {
  const node = await createNode({ ...NODE_CONFIG, listen: [] })
  const held: Array<Node<DefaultServices>> = []

  const commands: Record<string, Command> = {
    usage: async (args) => usage(node.getConnections().length, args.gc === true),

    connect: async (args) => {
      const conn = await node.dial(multiaddr(str(args, 'addr')))
      return { encryption: conn.encryption, multiplexer: conn.multiplexer }
    },

    push: async (args) => {
      const bytes = num(args, 'bytes')
      const conn = await node.dial(multiaddr(str(args, 'addr')))
      const cpu = process.cpuUsage()
      const t0 = performance.now()
      const stream = await conn.newStream(PROTOCOLS.sink)
      const [, reply] = await Promise.all([stream.sink(chunks(bytes)), readAll(stream)])
      const ms = performance.now() - t0
      const counted = decodeSize(reply)
      if (counted !== bytes) throw new Error(`server counted ${counted} of ${bytes} bytes`)
      return { ms, bytes, cpu: cpuSince(cpu) }
    },

    pull: async (args) => {
      const bytes = num(args, 'bytes')
      const conn = await node.dial(multiaddr(str(args, 'addr')))
      const cpu = process.cpuUsage()
      const t0 = performance.now()
      const stream = await conn.newStream(PROTOCOLS.source)
      const [, got] = await Promise.all([stream.sink([encodeSize(bytes)]), countAll(stream)])
      const ms = performance.now() - t0
      if (got !== bytes) throw new Error(`received ${got} of ${bytes} bytes`)
      return { ms, bytes, cpu: cpuSince(cpu) }
    },

    dials: async (args) => {
      const ma = multiaddr(str(args, 'addr'))
      const count = num(args, 'count')
      await node.hangUp(ma)
      const seen = new Set<string>()
      const cpu = process.cpuUsage()
      const t0 = performance.now()
      for (let i = 0; i < count; i++) {
        const conn = await node.dial(ma)
        if (seen.has(conn.id)) throw new Error('a closed connection was reused')
        seen.add(conn.id)
        await conn.close()
      }
      return { ms: performance.now() - t0, count, cpu: cpuSince(cpu) }
    },

    firstStream: async (args) => {
      const ma = multiaddr(str(args, 'addr'))
      const count = num(args, 'count')
      await node.hangUp(ma)
      const samples: number[] = []
      for (let i = 0; i < count; i++) {
        const t0 = performance.now()
        const conn = await node.dial(ma)
        await echoOne(conn)
        samples.push(performance.now() - t0)
        await conn.close()
      }
      return { samples }
    },

    streams: async (args) => {
      const count = num(args, 'count')
      const concurrency = num(args, 'concurrency')
      const conn = await node.dial(multiaddr(str(args, 'addr')))
      const cpu = process.cpuUsage()
      const t0 = performance.now()
      await runLimited(count, concurrency, async () => { await echoOne(conn) })
      return { ms: performance.now() - t0, count, cpu: cpuSince(cpu) }
    },

    hold: async (args) => {
      const ma = multiaddr(str(args, 'addr'))
      const count = num(args, 'count')
      const t0 = performance.now()
      await runLimited(count, num(args, 'concurrency'), async () => {
        const peer = await createNode({ ...NODE_CONFIG, listen: [] })
        held.push(peer)
        await peer.dial(ma)
      })
      return { connected: held.length, ms: performance.now() - t0 }
    },

    release: async () => {
      const nodes = held.splice(0, held.length)
      await Promise.all(nodes.map(async n => { await n.stop() }))
      return { released: nodes.length }
    }
  }

  serveCommands({ peerId: node.id.toString() }, commands, async () => {
    await commands.release({})
    await node.stop()
  })
}

if (role === 'server') await server()
else if (role === 'client') await client()
else throw new Error(`unknown role ${role}`)
