/**
 * The ceiling worker: raw `node:net` loopback throughput (server and client roles, same `push`
 * contract as the libp2p workers) and `node:crypto` ChaCha20-Poly1305 throughput (`crypto`).
 *
 *   node dist/src/workers/net.js --role server|client
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createConnection, createServer } from 'node:net'
import { CHUNK_SIZE, decodeSize, encodeSize } from '../protocol.js'
import { argValue, cpuSince, num, serveCommands, str, usage } from './serve.js'
import type { AddressInfo, Socket } from 'node:net'

const role = argValue('role', 'server')
const PAYLOAD = new Uint8Array(CHUNK_SIZE).map((_, i) => (i * 31 + 7) & 0xff)

async function server (): Promise<void> {
  const sockets = new Set<Socket>()
  const srv = createServer((socket) => {
    sockets.add(socket)
    let n = 0
    socket.on('data', (chunk: Buffer) => { n += chunk.byteLength })
    socket.on('end', () => { socket.end(encodeSize(n)) })
    socket.on('error', () => { socket.destroy() })
    socket.on('close', () => { sockets.delete(socket) })
  })
  srv.listen(0, '127.0.0.1')
  await once(srv, 'listening')
  const { port } = srv.address() as AddressInfo
  serveCommands({ addr: `/ip4/127.0.0.1/tcp/${port}` }, {
    usage: async (args) => usage(sockets.size, args.gc === true)
  }, async () => {
    for (const s of sockets) s.destroy()
    await new Promise<void>(resolve => { srv.close(() => { resolve() }) })
  })
}

function parseAddr (addr: string): { host: string, port: number } {
  const m = /^\/ip4\/([^/]+)\/tcp\/(\d+)$/.exec(addr)
  if (m == null) throw new TypeError(`not a /ip4/<host>/tcp/<port> address: ${addr}`)
  return { host: m[1], port: Number(m[2]) }
}

async function push (addr: string, bytes: number): Promise<{ ms: number, bytes: number, cpu: NodeJS.CpuUsage }> {
  const { host, port } = parseAddr(addr)
  const socket = createConnection({ host, port, noDelay: true })
  await once(socket, 'connect')
  const cpu = process.cpuUsage()
  const t0 = performance.now()
  const reply: Buffer[] = []
  const ended = new Promise<void>((resolve, reject) => {
    socket.on('data', (chunk: Buffer) => { reply.push(chunk) })
    socket.once('end', resolve)
    socket.once('error', reject)
  })
  for (let left = bytes; left > 0; left -= CHUNK_SIZE) {
    if (!socket.write(left >= CHUNK_SIZE ? PAYLOAD : PAYLOAD.subarray(0, left))) await once(socket, 'drain')
  }
  socket.end()
  await ended
  const ms = performance.now() - t0
  socket.destroy()
  const counted = decodeSize(Buffer.concat(reply))
  if (counted !== bytes) throw new Error(`server counted ${counted} of ${bytes} bytes`)
  return { ms, bytes, cpu: cpuSince(cpu) }
}

/** ChaCha20-Poly1305 over `bytes` in 64 KiB chunks, one cipher object and nonce per chunk as Noise does. */
function chacha (bytes: number): { encryptMiBps: number, decryptMiBps: number } {
  const key = randomBytes(32)
  const nonce = Buffer.alloc(12)
  const chunks = Math.max(1, Math.ceil(bytes / CHUNK_SIZE))
  let t0 = performance.now()
  let sealed = Buffer.alloc(0)
  let tag = Buffer.alloc(0)
  for (let i = 0; i < chunks; i++) {
    nonce.writeUInt32LE(i, 4)
    const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 })
    sealed = c.update(PAYLOAD)
    c.final()
    tag = c.getAuthTag()
  }
  const encMs = performance.now() - t0
  t0 = performance.now()
  for (let i = 0; i < chunks; i++) {
    const d = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 })
    d.setAuthTag(tag)
    d.update(sealed)
    d.final()
  }
  const decMs = performance.now() - t0
  const mib = chunks * CHUNK_SIZE / (1024 * 1024)
  return { encryptMiBps: mib / (encMs / 1000), decryptMiBps: mib / (decMs / 1000) }
}

if (role === 'server') {
  await server()
} else if (role === 'client') {
  serveCommands({}, {
    usage: async (args) => usage(0, args.gc === true),
    push: async (args) => push(str(args, 'addr'), num(args, 'bytes')),
    crypto: async (args) => chacha(num(args, 'bytes'))
  }, async () => {})
} else {
  throw new Error(`unknown role ${role}`)
}
