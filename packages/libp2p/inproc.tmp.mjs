import { multiaddr } from '@multiformats/multiaddr'
import { createNode } from '@peerkit/libp2p'
const PROTO = '/bench/echo/1.0.0'
const cfg = { security: ['noise'], muxers: ['yamux'] }
const server = await createNode({ ...cfg, listen: ['/ip4/127.0.0.1/tcp/0'] })
server.handle(PROTO, async ({ stream }) => { await stream.sink(stream.source) }, { maxInboundStreams: 4096 })
const client = await createNode({ ...cfg, listen: [] })
const conn = await client.dial(server.getMultiaddrs()[0])
const ONE = new Uint8Array([42])
async function one () {
  const s = await conn.newStream(PROTO)
  let n = 0
  await Promise.all([s.sink([ONE]), (async () => { for await (const c of s.source) n += c.byteLength })()])
  if (n !== 1) throw new Error('bad')
}
for (let i = 0; i < 500; i++) await one()
await new Promise(r => setTimeout(r, 300))
const N = Number(process.env.N ?? 5000), R = Number(process.env.R ?? 5)
const res = []
for (let r = 0; r < R; r++) {
  const c0 = process.cpuUsage(); const t0 = performance.now()
  for (let i = 0; i < N; i++) await one()
  const c = process.cpuUsage(c0); const ms = performance.now() - t0
  res.push({ us: (c.user + c.system) / N, wall: ms * 1000 / N })
}
res.sort((a, b) => a.us - b.us)
console.log('cpu µs/stream (both sides)', res.map(r => r.us.toFixed(1)).join(' '), ' wall µs', res.map(r => r.wall.toFixed(1)).join(' '))
await client.stop(); await server.stop()
