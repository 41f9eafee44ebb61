import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { multiaddr } from '@multiformats/multiaddr'
import { generateKeyPair } from '@peerkit/crypto'
import { Node } from '@peerkit/libp2p'
import { yamux } from '@peerkit/muxer-yamux'
import { peerIdFromString } from '@peerkit/peer-id'
import { swarm } from '@peerkit/swarm'
import { tcp } from '@peerkit/transport-tcp'
import { Uint8ArrayList } from 'uint8arraylist'
import { tls } from '../src/index.js'
import type { ConnectionEncrypter, KeyType, SecuredConnection, SecureStream, SecureConnectionOptions, Stream } from '@peerkit/interfaces'
import type { ChildProcess } from 'node:child_process'

const ECHO = '/echo/1.0.0'
const YAMUX = '/yamux/1.0.0'
const MIB = 1024 * 1024

type Reply = Record<string, unknown> & { ok: boolean, error?: string }

/** The js-libp2p peer (test/fixtures/js-tls-peer.mjs) in its own process, driven by JSON lines. */
class JsTlsPeer {
  readonly process: ChildProcess
  readonly ready: Promise<{ peerId: string, addrs: string[] }>
  readonly #waiters = new Map<number, (reply: Reply) => void>()
  #nextId = 0
  #stderr = ''

  constructor () {
    // Compiled to dist/test: the script stays in the source tree.
    const script = fileURLToPath(new URL('../../test/fixtures/js-tls-peer.mjs', import.meta.url))
    this.process = spawn(process.execPath, [script], { stdio: ['pipe', 'pipe', 'pipe'] })
    this.process.stderr?.on('data', (d: Buffer) => { this.#stderr = (this.#stderr + d.toString()).slice(-4000) })
    let resolveReady!: (info: { peerId: string, addrs: string[] }) => void
    let rejectReady!: (err: Error) => void
    this.ready = new Promise((resolve, reject) => { resolveReady = resolve; rejectReady = reject })
    this.ready.catch(() => {})
    createInterface({ input: this.process.stdout! }).on('line', (line) => {
      let msg: Reply & { id?: number, ready?: boolean, peerId?: string, addrs?: string[] }
      try {
        msg = JSON.parse(line)
      } catch {
        return
      }
      if (msg.ready === true) {
        resolveReady({ peerId: String(msg.peerId), addrs: msg.addrs ?? [] })
      } else if (msg.id != null) {
        const waiter = this.#waiters.get(msg.id)
        this.#waiters.delete(msg.id)
        waiter?.(msg)
      }
    })
    this.process.once('exit', (code) => {
      rejectReady(new Error(`the js peer exited with ${String(code)}: ${this.#stderr}`))
      for (const waiter of this.#waiters.values()) waiter({ ok: false, error: `the js peer exited with ${String(code)}` })
      this.#waiters.clear()
    })
  }

  async cmd (cmd: string, args: Record<string, unknown> = {}, timeoutMs = 20_000): Promise<Reply> {
    const id = ++this.#nextId
    let timer: ReturnType<typeof setTimeout> | undefined
    const reply = new Promise<Reply>((resolve, reject) => {
      timer = setTimeout(() => {
        this.#waiters.delete(id)
        reject(new Error(`the js peer did not answer ${cmd} in time; stderr: ${this.#stderr}`))
      }, timeoutMs)
      this.#waiters.set(id, resolve)
    })
    this.process.stdin!.write(JSON.stringify({ id, cmd, ...args }) + '\n')
    try {
      const r = await reply
      if (!r.ok) throw new Error(`js peer: ${cmd} failed: ${r.error}`)
      return r
    } finally {
      clearTimeout(timer)
    }
  }

  async stop (): Promise<void> {
    if (this.process.exitCode != null || this.process.signalCode != null) return
    const exited = once(this.process, 'exit')
    this.process.stdin!.end()
    const timer = setTimeout(() => { this.process.kill('SIGKILL') }, 5000)
    await exited
    clearTimeout(timer)
  }
}

/** What our encrypter reported for each handshake. */
interface Handshake { direction: 'inbound' | 'outbound', remotePeer: string, streamMuxer?: string }

/** Wraps an encrypter to record the outcome of each handshake (the connection hides it). */
function recording (encrypter: ConnectionEncrypter, log: Handshake[]): ConnectionEncrypter {
  const record = (direction: Handshake['direction']) => (result: SecuredConnection): SecuredConnection => {
    log.push({ direction, remotePeer: result.remotePeer.toString(), streamMuxer: result.streamMuxer })
    return result
  }
  return {
    protocol: encrypter.protocol,
    secureOutbound: async (conn: SecureStream, options?: SecureConnectionOptions) => encrypter.secureOutbound(conn, options).then(record('outbound')),
    secureInbound: async (conn: SecureStream, options?: SecureConnectionOptions) => encrypter.secureInbound(conn, options).then(record('inbound'))
  }
}

function pattern (size: number, seed: number): Uint8Array {
  const buf = new Uint8Array(size)
  for (let i = 0; i < size; i++) buf[i] = (i * 31 + seed) & 0xff
  return buf
}

/** Sends `data` in 64 KiB chunks, half-closes, and returns everything read back. */
async function echo (stream: Stream, data: Uint8Array): Promise<Uint8Array> {
  const received = new Uint8ArrayList()
  await Promise.all([
    stream.sink((function * () {
      for (let off = 0; off < data.byteLength; off += 65536) yield data.subarray(off, Math.min(data.byteLength, off + 65536))
    })()),
    (async () => { for await (const chunk of stream.source) received.append(chunk) })()
  ])
  return received.subarray()
}

describe('interop with js-libp2p (@libp2p/tls + @libp2p/yamux in another process)', function () {
  this.timeout(60_000)
  let js: JsTlsPeer
  let jsInfo: { peerId: string, addrs: string[] }

  before(async () => {
    js = new JsTlsPeer()
    jsInfo = await js.ready
  })

  after(async () => {
    await js?.stop()
  })

  // js-libp2p cannot read ECDSA identity keys encoded as the specification says (see the README).
  for (const type of ['Ed25519', 'secp256k1', 'RSA'] as KeyType[]) {
    describe(`peerkit identity: ${type}`, () => {
      let node: Node
      const handshakes: Handshake[] = []

      before(async () => {
        const privateKey = await generateKeyPair(type)
        node = new Node({ privateKey })
        const encrypter = recording(tls()({ privateKey, peerId: node.id }), handshakes)
        node.addSwarm(c => swarm({
          peerId: c.peerId,
          peerStore: c.peerStore,
          transports: [tcp()],
          connectionEncrypters: [encrypter],
          streamMuxers: [yamux()]
        }))
        node.handle(ECHO, async ({ stream }) => { await stream.sink(stream.source) })
        await node.start()
        await node.listen([multiaddr('/ip4/127.0.0.1/tcp/0')])
      })

      after(async () => {
        await node?.stop()
      })

      it('peerkit dials js-libp2p: /tls/1.0.0 with yamux agreed in the handshake, 4 MiB echoed', async () => {
        const conn = await node.dial(multiaddr(jsInfo.addrs[0]))
        assert.equal(conn.remotePeer.toString(), jsInfo.peerId)
        assert.equal(conn.encryption, '/tls/1.0.0')
        assert.equal(conn.multiplexer, YAMUX)
        const outbound = handshakes.filter(h => h.direction === 'outbound')
        assert.deepEqual(outbound.at(-1), { direction: 'outbound', remotePeer: jsInfo.peerId, streamMuxer: YAMUX })

        const data = pattern(4 * MIB, 3)
        const stream = await node.openStream(peerIdFromString(jsInfo.peerId), ECHO)
        const back = await echo(stream, data)
        assert.equal(back.byteLength, data.byteLength)
        assert.ok(Buffer.from(back).equals(Buffer.from(data)), 'the echo differs')
      })

      it('several streams at once over the same TLS connection', async () => {
        const peer = peerIdFromString(jsInfo.peerId)
        const results = await Promise.all(Array.from({ length: 8 }, async (_, i) => {
          const data = pattern(256 * 1024 + i, i)
          const back = await echo(await node.openStream(peer, ECHO), data)
          return Buffer.from(back).equals(Buffer.from(data))
        }))
        assert.deepEqual(results, Array(8).fill(true))
        assert.equal(node.getConnections(peer).length, 1)
      })

      it('js-libp2p dials peerkit: it verifies our certificate and echoes 4 MiB through us', async () => {
        // Start from no connection, so the js peer has to dial.
        await node.hangUp(peerIdFromString(jsInfo.peerId))
        await js.cmd('hangup', { peerId: node.id.toString() })
        const ours = node.getMultiaddrs()[0].toString()
        const reply = await js.cmd('echo', { addr: ours, size: 4 * MIB })
        assert.equal(reply.bytes, 4 * MIB)
        assert.equal(reply.encryption, '/tls/1.0.0')
        assert.equal(reply.muxer, YAMUX)
        assert.equal(reply.remotePeer, node.id.toString())
        const inbound = handshakes.filter(h => h.direction === 'inbound')
        assert.deepEqual(inbound.at(-1), { direction: 'inbound', remotePeer: jsInfo.peerId, streamMuxer: YAMUX })
      })
    })
  }
})
