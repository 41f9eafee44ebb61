// The js-libp2p benchmark worker: the same roles and commands as dist/src/workers/peerkit.js (see
// src/protocol.ts for the message protocol), implemented with js-libp2p 3.x and its default
// services (identify, ping), with connection and stream limits raised so that the benchmarks, not
// the defaults, decide how many connections and streams there are.
//
//   node workers/js.mjs --role server|client --security noise|plaintext --muxer yamux|mplex
import '../../../scripts/polyfills.cjs' // Promise.withResolvers for js-libp2p 3.x on Node 20
import { identify } from '@libp2p/identify'
import { mplex } from '@libp2p/mplex'
import { noise } from '@libp2p/noise'
import { ping } from '@libp2p/ping'
import { plaintext } from '@libp2p/plaintext'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { performance } from 'node:perf_hooks'
import { createLibp2p } from 'libp2p'
import { Uint8ArrayList } from 'uint8arraylist'
// The command loop and helpers peerkit's worker uses too, so both are driven and measured alike.
import { argValue, runLimited, serveCommands, usage } from '../dist/src/workers/serve.js'

const role = argValue('role', 'server')
const security = argValue('security', 'noise')
const muxer = argValue('muxer', 'yamux')

const PROTOCOLS = { sink: '/bench/sink/1.0.0', source: '/bench/source/1.0.0', echo: '/bench/echo/1.0.0' }
const CHUNK_SIZE = 64 * 1024
const HANDLER_OPTIONS = { maxInboundStreams: 4096, maxOutboundStreams: 4096 }
const PAYLOAD = new Uint8Array(CHUNK_SIZE).map((_, i) => (i * 31 + 7) & 0xff)
const ONE = new Uint8Array([42])

async function createNode (listen) {
  return createLibp2p({
    addresses: { listen },
    transports: [tcp()],
    connectionEncrypters: [security === 'plaintext' ? plaintext() : noise()],
    streamMuxers: [muxer === 'mplex'
      ? mplex({ disconnectThreshold: Infinity, maxInboundStreams: 4096, maxOutboundStreams: 4096 })
      : yamux({ maxInboundStreams: 4096, maxOutboundStreams: 4096 })],
    connectionManager: {
      inboundConnectionThreshold: Infinity,
      maxConnections: 10_000,
      maxIncomingPendingConnections: 1024,
      maxParallelDials: 1024,
      maxDialQueueLength: 10_000
    },
    services: { identify: identify(), ping: ping() }
  })
}

function encodeSize (n) {
  const buf = new Uint8Array(8)
  new DataView(buf.buffer).setBigUint64(0, BigInt(n))
  return buf
}

function decodeSize (buf) {
  if (buf.byteLength !== 8) throw new RangeError(`expected 8 bytes, got ${buf.byteLength}`)
  return Number(new DataView(buf.buffer, buf.byteOffset, 8).getBigUint64(0))
}

async function drain (stream) {
  await new Promise((resolve, reject) => {
    const onDrain = () => { stream.removeEventListener('close', onClose); resolve() }
    const onClose = () => { stream.removeEventListener('drain', onDrain); reject(new Error('stream closed while waiting for drain')) }
    stream.addEventListener('drain', onDrain, { once: true })
    stream.addEventListener('close', onClose, { once: true })
  })
}

async function sendAll (stream, size) {
  for (let left = size; left > 0; left -= CHUNK_SIZE) {
    if (!stream.send(left >= CHUNK_SIZE ? PAYLOAD : PAYLOAD.subarray(0, left))) await drain(stream)
  }
  await stream.close()
}

async function readAll (stream) {
  const list = new Uint8ArrayList()
  for await (const chunk of stream) list.append(chunk)
  return list.subarray()
}

async function countAll (stream) {
  let n = 0
  for await (const chunk of stream) n += chunk.byteLength
  return n
}

function guard (handler) {
  return async (stream) => {
    try {
      await handler(stream)
    } catch (err) {
      stream.abort(err)
    }
  }
}

async function server () {
  const node = await createNode(['/ip4/127.0.0.1/tcp/0'])
  await node.handle(PROTOCOLS.sink, guard(async (stream) => {
    const n = await countAll(stream)
    stream.send(encodeSize(n))
    await stream.close()
  }), HANDLER_OPTIONS)
  await node.handle(PROTOCOLS.source, guard(async (stream) => {
    const size = decodeSize(await readAll(stream))
    await sendAll(stream, size)
  }), HANDLER_OPTIONS)
  await node.handle(PROTOCOLS.echo, guard(async (stream) => {
    for await (const chunk of stream) {
      if (!stream.send(chunk)) await drain(stream)
    }
    await stream.close()
  }), HANDLER_OPTIONS)

  serveCommands({ addr: node.getMultiaddrs()[0].toString(), peerId: node.peerId.toString() }, {
    usage: async ({ gc }) => usage(node.getConnections().length, gc === true)
  }, async () => { await node.stop() })
}

async function echoOne (conn) {
  const stream = await conn.newStream(PROTOCOLS.echo, { maxOutboundStreams: HANDLER_OPTIONS.maxOutboundStreams })
  const reading = countAll(stream)
  stream.send(ONE)
  await stream.close()
  const got = await reading
  if (got !== 1) throw new Error(`echo returned ${got} bytes instead of 1`)
}

async function client () {
  const node = await createNode([])
  const held = []

  const commands = {
    usage: async ({ gc }) => usage(node.getConnections().length, gc === true),

    connect: async ({ addr }) => {
      const conn = await node.dial(multiaddr(addr))
      return { encryption: conn.encryption, multiplexer: conn.multiplexer }
    },

    push: async ({ addr, bytes }) => {
      const conn = await node.dial(multiaddr(addr))
      const cpu = process.cpuUsage()
      const t0 = performance.now()
      const stream = await conn.newStream(PROTOCOLS.sink)
      const [, reply] = await Promise.all([sendAll(stream, bytes), readAll(stream)])
      const ms = performance.now() - t0
      const counted = decodeSize(reply)
      if (counted !== bytes) throw new Error(`server counted ${counted} of ${bytes} bytes`)
      return { ms, bytes, cpu: process.cpuUsage(cpu) }
    },

    pull: async ({ addr, bytes }) => {
      const conn = await node.dial(multiaddr(addr))
      const cpu = process.cpuUsage()
      const t0 = performance.now()
      const stream = await conn.newStream(PROTOCOLS.source)
      const reading = countAll(stream)
      stream.send(encodeSize(bytes))
      await stream.close()
      const got = await reading
      const ms = performance.now() - t0
      if (got !== bytes) throw new Error(`received ${got} of ${bytes} bytes`)
      return { ms, bytes, cpu: process.cpuUsage(cpu) }
    },

    dials: async ({ addr, count }) => {
      const ma = multiaddr(addr)
      await node.hangUp(ma)
      const seen = new Set()
      const cpu = process.cpuUsage()
      const t0 = performance.now()
      for (let i = 0; i < count; i++) {
        const conn = await node.dial(ma)
        if (seen.has(conn.id)) throw new Error('a closed connection was reused')
        seen.add(conn.id)
        await conn.close()
      }
      return { ms: performance.now() - t0, count, cpu: process.cpuUsage(cpu) }
    },

    firstStream: async ({ addr, count }) => {
      const ma = multiaddr(addr)
      await node.hangUp(ma)
      const samples = []
      for (let i = 0; i < count; i++) {
        const t0 = performance.now()
        const conn = await node.dial(ma)
        await echoOne(conn)
        samples.push(performance.now() - t0)
        await conn.close()
      }
      return { samples }
    },

    streams: async ({ addr, count, concurrency }) => {
      const conn = await node.dial(multiaddr(addr))
      const cpu = process.cpuUsage()
      const t0 = performance.now()
      await runLimited(count, concurrency, async () => { await echoOne(conn) })
      return { ms: performance.now() - t0, count, cpu: process.cpuUsage(cpu) }
    },

    hold: async ({ addr, count, concurrency }) => {
      const ma = multiaddr(addr)
      const t0 = performance.now()
      await runLimited(count, concurrency, async () => {
        const peer = await createNode([])
        held.push(peer)
        await peer.dial(ma)
      })
      return { connected: held.length, ms: performance.now() - t0 }
    },

    release: async () => {
      const nodes = held.splice(0, held.length)
      await Promise.all(nodes.map(n => n.stop()))
      return { released: nodes.length }
    }
  }

  serveCommands({ peerId: node.peerId.toString() }, commands, async () => {
    await commands.release()
    await node.stop()
  })
}

if (role === 'server') await server()
else if (role === 'client') await client()
else throw new Error(`unknown role ${role}`)
