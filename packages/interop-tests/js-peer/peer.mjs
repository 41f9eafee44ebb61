// A js-libp2p peer in its own process, driven by JSON-line commands on stdin. Used by the interop
// tests as the reference implementation on the other side of a peerkit node.
//
//   node js-peer/peer.mjs --security noise|plaintext --muxer yamux|mplex [--listen MA]
//
// Prints {"ready":true,"peerId","addrs"} once started, then answers each command line
// {"id":N,"cmd":...} with {"id":N,"ok":true,...} or {"id":N,"ok":false,"error":...}.
import '../../../scripts/polyfills.cjs' // Promise.withResolvers for js-libp2p 3.x on Node 20
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { identify } from '@libp2p/identify'
import { mplex } from '@libp2p/mplex'
import { noise } from '@libp2p/noise'
import { ping } from '@libp2p/ping'
import { plaintext } from '@libp2p/plaintext'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { Uint8ArrayList } from 'uint8arraylist'

const { values } = parseArgs({
  options: {
    security: { type: 'string', default: 'noise' },
    muxer: { type: 'string', default: 'yamux' },
    listen: { type: 'string', multiple: true }
  }
})

const ECHO = '/echo/1.0.0'
const SINK = '/test/sink/1.0.0' // reads to EOF, answers the byte count as text, closes
const RESET = '/test/reset/1.0.0' // reads one chunk, then resets the stream

const node = await createLibp2p({
  addresses: { listen: values.listen ?? ['/ip4/127.0.0.1/tcp/0'] },
  transports: [tcp()],
  connectionEncrypters: [values.security === 'plaintext' ? plaintext() : noise()],
  streamMuxers: [values.muxer === 'mplex' ? mplex({ disconnectThreshold: Infinity, maxInboundStreams: 4096 }) : yamux({ maxInboundStreams: 4096 })],
  connectionManager: { inboundConnectionThreshold: Infinity, maxConnections: 1000 },
  services: { identify: identify(), ping: ping() }
})

const identified = new Map()
node.addEventListener('peer:identify', (evt) => {
  identified.set(evt.detail.peerId.toString(), evt.detail)
})

const handlerOptions = { maxInboundStreams: 4096, maxOutboundStreams: 4096 }

await node.handle(ECHO, async (stream) => {
  try {
    for await (const buf of stream) {
      if (!stream.send(buf)) await new Promise((resolve, reject) => {
        stream.addEventListener('drain', resolve, { once: true })
        stream.addEventListener('close', () => reject(new Error('closed while draining')), { once: true })
      })
    }
    await stream.close()
  } catch (err) {
    stream.abort(err)
  }
}, handlerOptions)

await node.handle(SINK, async (stream) => {
  let n = 0
  try {
    for await (const buf of stream) n += buf.byteLength
    stream.send(new TextEncoder().encode(String(n)))
    await stream.close()
  } catch (err) {
    stream.abort(err)
  }
}, handlerOptions)

await node.handle(RESET, async (stream) => {
  for await (const _ of stream) {
    stream.abort(new Error('reset on purpose'))
    return
  }
}, handlerOptions)

function pattern (size) {
  const buf = new Uint8Array(size)
  for (let i = 0; i < size; i++) buf[i] = (i * 31 + 7) & 0xff
  return buf
}

async function echoOver (stream, size) {
  const data = pattern(size)
  const received = new Uint8ArrayList()
  const reading = (async () => { for await (const chunk of stream) received.append(chunk) })()
  const chunk = 64 * 1024
  for (let off = 0; off < size; off += chunk) {
    if (!stream.send(data.subarray(off, Math.min(size, off + chunk)))) {
      await new Promise((resolve, reject) => {
        stream.addEventListener('drain', resolve, { once: true })
        stream.addEventListener('close', () => reject(new Error('closed while draining')), { once: true })
      })
    }
  }
  await stream.close()
  await reading
  const got = received.subarray()
  if (got.byteLength !== size) throw new Error(`echo returned ${got.byteLength} of ${size} bytes`)
  for (let i = 0; i < size; i++) if (got[i] !== data[i]) throw new Error(`echo corrupted at byte ${i}`)
}

const commands = {
  async dial ({ addr }) {
    const conn = await node.dial(multiaddr(addr))
    return { peerId: conn.remotePeer.toString(), muxer: conn.multiplexer, encryption: conn.encryption }
  },
  async identify ({ peerId }) {
    for (let i = 0; i < 100 && !identified.has(peerId); i++) await new Promise(resolve => setTimeout(resolve, 50))
    const result = identified.get(peerId)
    if (result == null) throw new Error(`peer ${peerId} was not identified`)
    const peer = await node.peerStore.get(result.peerId)
    return {
      agentVersion: result.agentVersion,
      protocolVersion: result.protocolVersion,
      protocols: result.protocols,
      listenAddrs: result.listenAddrs.map(String),
      observedAddr: result.observedAddr?.toString(),
      signedPeerRecord: result.signedPeerRecord != null ? { addresses: result.signedPeerRecord.addresses.map(String), seq: String(result.signedPeerRecord.seq) } : null,
      certifiedAddresses: peer.addresses.filter(a => a.isCertified).map(a => a.multiaddr.toString())
    }
  },
  async ping ({ addr }) {
    return { rtt: await node.services.ping.ping(multiaddr(addr)) }
  },
  async echo ({ addr, size, protocol }) {
    const stream = await node.dialProtocol(multiaddr(addr), protocol ?? ECHO)
    await echoOver(stream, size)
    return { bytes: size }
  },
  async streams ({ addr, count, size }) {
    const conn = await node.dial(multiaddr(addr))
    await Promise.all(Array.from({ length: count }, async () => {
      const stream = await conn.newStream(ECHO, { maxOutboundStreams: 4096 })
      await echoOver(stream, size)
    }))
    return { streams: count }
  },
  async halfclose ({ addr, size }) {
    // Send, close our write side, then read the remote's answer: the byte count.
    const stream = await node.dialProtocol(multiaddr(addr), SINK)
    stream.send(pattern(size))
    await stream.close()
    const reply = new Uint8ArrayList()
    for await (const chunk of stream) reply.append(chunk)
    return { counted: Number(new TextDecoder().decode(reply.subarray())) }
  },
  async reset ({ addr }) {
    // Expect the remote to reset the stream after our first chunk.
    const stream = await node.dialProtocol(multiaddr(addr), RESET)
    stream.send(pattern(16))
    try {
      for await (const _ of stream) { /* drain */ }
    } catch (err) {
      return { error: err.name ?? 'Error', message: err.message }
    }
    if (stream.status === 'reset' || stream.status === 'aborted') return { error: 'StreamReset', status: stream.status }
    throw new Error(`the stream ended without a reset (status ${stream.status})`)
  },
  async hangup ({ peerId }) {
    for (const conn of node.getConnections()) if (conn.remotePeer.toString() === peerId) await conn.close()
    return {}
  },
  async connections () {
    return { connections: node.getConnections().map(c => ({ peerId: c.remotePeer.toString(), muxer: c.multiplexer, encryption: c.encryption, streams: c.streams.length })) }
  },
  async stop () {
    await node.stop()
    setTimeout(() => process.exit(0), 50)
    return {}
  }
}

process.stdout.write(JSON.stringify({ ready: true, peerId: node.peerId.toString(), addrs: node.getMultiaddrs().map(String) }) + '\n')

const rl = createInterface({ input: process.stdin })
rl.on('line', (line) => {
  let msg
  try {
    msg = JSON.parse(line)
  } catch {
    return
  }
  const fn = commands[msg.cmd]
  Promise.resolve()
    .then(() => {
      if (fn == null) throw new Error(`unknown command ${msg.cmd}`)
      return fn(msg)
    })
    .then(result => { process.stdout.write(JSON.stringify({ id: msg.id, ok: true, ...result }) + '\n') })
    .catch(err => { process.stdout.write(JSON.stringify({ id: msg.id, ok: false, error: `${err.name}: ${err.message}` }) + '\n') })
})
rl.on('close', () => { node.stop().finally(() => process.exit(0)) })
for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => { node.stop().finally(() => process.exit(0)) })
