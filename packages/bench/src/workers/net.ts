/**
 * The ceiling worker: raw `node:net` loopback throughput (server and client roles, same `push`
 * contract as the libp2p workers), `node:crypto` ChaCha20-Poly1305 throughput (`crypto`), and the
 * two together (`sealedPush`): Noise transport messages over a plain socket, with no libp2p at all.
 *
 *   node dist/src/workers/net.js --role server|client
 */
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createConnection, createServer } from 'node:net'
import { MessageChannel } from 'node:worker_threads'
import { CHUNK_SIZE, SEALED_CEILING_KEY, decodeSize, encodeSize } from '../protocol.js'
import type { SealedTransferResult } from '../protocol.js'
import { argValue, cpuSince, num, serveCommands, str, usage } from './serve.js'
import type { AddressInfo, Socket } from 'node:net'
import type { CipherChaCha20Poly1305, DecipherChaCha20Poly1305, KeyObject } from 'node:crypto'
import type { MessagePort } from 'node:worker_threads'

const role = argValue('role', 'server')
const PAYLOAD = new Uint8Array(CHUNK_SIZE).map((_, i) => (i * 31 + 7) & 0xff)
/**
 * Noise: at most 65535 bytes after the 2-byte length, of which 16 are the tag. Written out rather
 * than imported from the Noise package, so that this process loads no libp2p module: a larger
 * heap changes how often V8 collects, and the ceiling would no longer be a bare loop.
 */
const MAX_SEALED_PLAINTEXT = 65535 - 16
const TAG_BYTES = 16
/**
 * Keys are handed to the cipher API as a `KeyObject` made once, as peerkit's Noise does: Node.js
 * 24.18–24.21 capture a stack trace for every raw key a cipher is created with (17–20 µs per
 * cipher, one cipher per message), which would make the ceilings measure that charge, not the
 * machine. On other releases the two forms cost the same.
 */
const KEY = createSecretKey(Buffer.from(SEALED_CEILING_KEY))

/**
 * Sets `nonce` (12 bytes, Noise's layout: 4 zero bytes, then the message counter little-endian;
 * the counters here stay below 2^32) to `counter` and returns a ChaCha20-Poly1305 cipher for the
 * one message it numbers: Noise uses a cipher object per message, and so does every loop here.
 */
function sealer (key: KeyObject, nonce: Buffer, counter: number): CipherChaCha20Poly1305 {
  nonce.writeUInt32LE(counter, 4)
  return createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_BYTES })
}

/**
 * Frees a buffer this process allocated and no longer uses, now rather than at the next garbage
 * collection, by detaching its `ArrayBuffer` (`transfer(0)`, or on Node.js 20 a message to a
 * closed port): what peerkit's Noise does with each ciphertext once the socket has written it
 * (`freeBuffer` of `@peerkit/utils`, not imported here for the reason above). Without it, the
 * loops below would leave V8 the same garbage that made peerkit's senders run full collections,
 * and would no longer bound what a Noise sender can do. Only for buffers that span their whole
 * `ArrayBuffer`, as node's cipher outputs do.
 */
function free (buf: Buffer): void {
  const ab = buf.buffer as ArrayBuffer & { transfer?: (length: number) => ArrayBuffer }
  if (buf.byteOffset !== 0 || ab.byteLength !== buf.byteLength) return
  if (ab.transfer != null) {
    ab.transfer(0)
  } else {
    closedPort ??= closedMessagePort()
    closedPort.postMessage(ab, [ab])
  }
}
let closedPort: MessagePort | undefined
function closedMessagePort (): MessagePort {
  const { port1, port2 } = new MessageChannel()
  port1.close()
  port2.close()
  return port1
}

/** The decrypting counterpart of {@link sealer}. */
function opener (key: KeyObject, nonce: Buffer, counter: number): DecipherChaCha20Poly1305 {
  nonce.writeUInt32LE(counter, 4)
  return createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_BYTES })
}

/**
 * The receiving end of the sealed-loopback ceiling: what any Noise implementation must do at the
 * least, and nothing more. Each transport message (`length || ciphertext || tag`) is decrypted as
 * its pieces arrive, in place, and its tag verified; the plaintext is counted and freed, and so is
 * each read (a buffer of node's own, up to 64 KiB) once consumed (see {@link free}): the receiver
 * leaves the collector nothing per message, as a peerkit receiver whose reader frees its chunks
 * (`ownedChunks`) does not either.
 */
class SealedReceiver {
  plaintextBytes = 0
  readonly #header = Buffer.alloc(2)
  readonly #tag = Buffer.alloc(TAG_BYTES)
  readonly #nonce = Buffer.alloc(12)
  #counter = 0
  #have = 0
  // 0: reading the length, 1: the ciphertext, 2: the tag
  #state = 0
  #left = 0
  #decipher?: DecipherChaCha20Poly1305

  /** Consumes one chunk from the socket; throws when a message is malformed or fails to verify. */
  push (chunk: Buffer): void {
    let at = 0
    while (at < chunk.byteLength) {
      if (this.#state === 0) {
        const n = Math.min(2 - this.#have, chunk.byteLength - at)
        chunk.copy(this.#header, this.#have, at, at + n)
        this.#have += n
        at += n
        if (this.#have < 2) return
        const length = this.#header.readUInt16BE(0)
        if (length < TAG_BYTES) throw new Error(`a sealed message of ${length} bytes is shorter than its tag`)
        this.#left = length - TAG_BYTES
        this.#decipher = opener(KEY, this.#nonce, this.#counter++)
        this.#have = 0
        this.#state = this.#left > 0 ? 1 : 2
      } else if (this.#state === 1) {
        const n = Math.min(this.#left, chunk.byteLength - at)
        const plaintext = this.#decipher?.update(chunk.subarray(at, at + n))
        if (plaintext != null) {
          this.plaintextBytes += plaintext.byteLength
          free(plaintext)
        }
        this.#left -= n
        at += n
        if (this.#left === 0) this.#state = 2
      } else {
        const n = Math.min(TAG_BYTES - this.#have, chunk.byteLength - at)
        chunk.copy(this.#tag, this.#have, at, at + n)
        this.#have += n
        at += n
        if (this.#have < TAG_BYTES) return
        this.#decipher?.setAuthTag(this.#tag)
        this.#decipher?.final()
        this.#decipher = undefined
        this.#have = 0
        this.#state = 0
      }
    }
  }

  /** True between messages: an end of stream here is clean. */
  get idle (): boolean {
    return this.#state === 0 && this.#have === 0
  }
}

async function server (): Promise<void> {
  const sockets = new Set<Socket>()
  /** Keeps `socket` in `sockets` until it closes (so that stopping can destroy it); an error closes it. */
  const track = (socket: Socket): void => {
    sockets.add(socket)
    socket.on('error', () => { socket.destroy() })
    socket.on('close', () => { sockets.delete(socket) })
  }
  const srv = createServer((socket) => {
    track(socket)
    let n = 0
    socket.on('data', (chunk: Buffer) => { n += chunk.byteLength })
    socket.on('end', () => { socket.end(encodeSize(n)) })
  })
  const sealed = createServer((socket) => {
    track(socket)
    const receiver = new SealedReceiver()
    socket.on('data', (chunk: Buffer) => {
      try {
        receiver.push(chunk)
        free(chunk)
      } catch (err) {
        socket.destroy(err as Error)
      }
    })
    socket.on('end', () => {
      if (receiver.idle) socket.end(encodeSize(receiver.plaintextBytes))
      else socket.destroy()
    })
  })
  srv.listen(0, '127.0.0.1')
  sealed.listen(0, '127.0.0.1')
  await Promise.all([once(srv, 'listening'), once(sealed, 'listening')])
  const { port } = srv.address() as AddressInfo
  const sealedPort = (sealed.address() as AddressInfo).port
  serveCommands({ addr: `/ip4/127.0.0.1/tcp/${port}`, sealedAddr: `/ip4/127.0.0.1/tcp/${sealedPort}` }, {
    usage: async (args) => usage(sockets.size, args.gc === true)
  }, async () => {
    for (const s of sockets) s.destroy()
    await Promise.all([srv, sealed].map(async s => { await new Promise<void>(resolve => { s.close(() => { resolve() }) }) }))
  })
}

function parseAddr (addr: string): { host: string, port: number } {
  const m = /^\/ip4\/([^/]+)\/tcp\/(\d+)$/.exec(addr)
  if (m == null) throw new TypeError(`not a /ip4/<host>/tcp/<port> address: ${addr}`)
  return { host: m[1], port: Number(m[2]) }
}

/**
 * Connects to `addr`, lets `send` write the stream, ends it and waits for the server's 8-byte
 * count: the time and this process's CPU from the first byte written to the count received.
 */
async function timedSend (addr: string, send: (socket: Socket) => Promise<void>): Promise<{ ms: number, counted: number, cpu: NodeJS.CpuUsage }> {
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
    socket.once('close', () => { reject(new Error('the server closed the connection without a count')) })
  })
  ended.catch(() => {})
  await send(socket)
  socket.end()
  await ended
  const ms = performance.now() - t0
  const used = cpuSince(cpu)
  socket.destroy()
  return { ms, counted: decodeSize(Buffer.concat(reply)), cpu: used }
}

async function push (addr: string, bytes: number): Promise<{ ms: number, bytes: number, cpu: NodeJS.CpuUsage }> {
  const { ms, counted, cpu } = await timedSend(addr, async (socket) => {
    for (let left = bytes; left > 0; left -= CHUNK_SIZE) {
      if (!socket.write(left >= CHUNK_SIZE ? PAYLOAD : PAYLOAD.subarray(0, left))) await once(socket, 'drain')
    }
  })
  if (counted !== bytes) throw new Error(`server counted ${counted} of ${bytes} bytes`)
  return { ms, bytes, cpu }
}

/**
 * Pushes `bytes` of plaintext as Noise transport messages of the largest size (65519 bytes of
 * plaintext), each sealed with a cipher object of its own and handed to the socket as
 * `length`, ciphertext and tag in one writev, each ciphertext freed once the socket has written it
 * (see {@link free}): the least work a Noise sender does.
 */
async function sealedPush (addr: string, bytes: number): Promise<SealedTransferResult> {
  const nonce = Buffer.alloc(12)
  const { ms, counted, cpu } = await timedSend(addr, async (socket) => {
    let counter = 0
    for (let left = bytes; left > 0; left -= MAX_SEALED_PLAINTEXT) {
      const n = Math.min(left, MAX_SEALED_PLAINTEXT)
      const cipher = sealer(KEY, nonce, counter++)
      const ciphertext = cipher.update(PAYLOAD.subarray(0, n))
      cipher.final()
      const header = Buffer.allocUnsafe(2)
      header.writeUInt16BE(n + TAG_BYTES, 0)
      socket.cork()
      socket.write(header)
      socket.write(ciphertext, () => { free(ciphertext) })
      const ok = socket.write(cipher.getAuthTag())
      socket.uncork()
      if (!ok) await once(socket, 'drain')
    }
  })
  if (counted !== bytes) throw new Error(`server decrypted ${counted} of ${bytes} bytes`)
  return { ms, bytes, plaintextBytes: counted, cpu }
}

/**
 * ChaCha20-Poly1305 over `bytes` in 64 KiB chunks, one cipher object and nonce per chunk as Noise
 * does; each output is freed as soon as the loop is done with it (see {@link free}).
 */
function chacha (bytes: number): { encryptMiBps: number, decryptMiBps: number } {
  const key = createSecretKey(randomBytes(32))
  const nonce = Buffer.alloc(12)
  const chunks = Math.max(1, Math.ceil(bytes / CHUNK_SIZE))
  let t0 = performance.now()
  let sealed = Buffer.alloc(0)
  let tag = Buffer.alloc(0)
  for (let i = 0; i < chunks; i++) {
    const c = sealer(key, nonce, i)
    if (i > 0) free(sealed)
    sealed = c.update(PAYLOAD)
    c.final()
    tag = c.getAuthTag()
  }
  const encMs = performance.now() - t0
  t0 = performance.now()
  for (let i = 0; i < chunks; i++) {
    // Every round opens the last sealed chunk, so its counter.
    const d = opener(key, nonce, chunks - 1)
    d.setAuthTag(tag)
    free(d.update(sealed))
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
    sealedPush: async (args) => sealedPush(str(args, 'addr'), num(args, 'bytes')),
    crypto: async (args) => chacha(num(args, 'bytes'))
  }, async () => {})
} else {
  throw new Error(`unknown role ${role}`)
}
