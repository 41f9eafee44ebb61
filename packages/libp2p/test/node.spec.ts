import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { multiaddr } from '@multiformats/multiaddr'
import { generateKeyPair } from '@peerkit/crypto'
import { InvalidParametersError, NotFoundError, NotStartedError } from '@peerkit/interfaces'
import { peerIdFromPrivateKey } from '@peerkit/peer-id'
import { TypedEventEmitter, freeChunk } from '@peerkit/utils'
import { Uint8ArrayList } from 'uint8arraylist'
import { Node, createNode } from '../src/index.js'
import type { DistributedRecordStore, PeerDiscovery, PeerDiscoveryEvents, PeerId, PeerInfo, PeerRouting, StoredRecord } from '@peerkit/interfaces'

const run = promisify(execFile)

async function echoOnce (node: Awaited<ReturnType<typeof createNode>>, target: Parameters<Node['openStream']>[0], text: string): Promise<string> {
  const stream = await node.openStream(target, '/echo/1.0.0')
  const out = new Uint8ArrayList()
  await Promise.all([
    stream.sink([new TextEncoder().encode(text)]),
    (async () => { for await (const c of stream.source) out.append(c) })()
  ])
  return new TextDecoder().decode(out.subarray())
}

describe('@peerkit/libp2p', function () {
  this.timeout(30_000)

  it('createNode builds a working node: listen, dial, handle, openStream, identify, ping, stop', async () => {
    const a = await createNode()
    const b = await createNode({ listen: [] })
    try {
      assert.equal(a.status, 'started')
      assert.equal(a.getMultiaddrs().length, 1)
      assert.ok(a.getMultiaddrs()[0].toString().endsWith(`/p2p/${a.id.toString()}`))
      a.handle('/echo/1.0.0', async ({ stream }) => { await stream.sink(stream.source) })
      assert.equal(await echoOnce(b, a.getMultiaddrs()[0], 'hello'), 'hello')
      // the connection is reused, also for dials by PeerId
      assert.equal(await echoOnce(b, a.id, 'again'), 'again')
      assert.equal(b.getConnections(a.id).length, 1)
      const rtt = await b.services.ping.ping(a.id)
      assert.ok(rtt > 0)
      const result = await b.services.identify.identify(b.getConnections(a.id)[0])
      assert.ok(result.protocols.includes('/echo/1.0.0'))
      assert.equal(result.signedPeerRecordVerified, true)
    } finally {
      await b.stop()
      await a.stop()
    }
    assert.equal(a.status, 'stopped')
    await assert.rejects(a.dial(multiaddr('/ip4/127.0.0.1/tcp/1')), NotStartedError)
  })

  it('createNode passes Noise options on: a node on libsodium talks to one on node\'s crypto', async () => {
    await assert.rejects(createNode({ noise: { crypto: 'openssl' as never } }), { name: 'InvalidParametersError' })
    const a = await createNode({ noise: { crypto: 'libsodium' } })
    const b = await createNode({ listen: [], noise: { crypto: 'node' } })
    try {
      a.handle('/echo/1.0.0', async ({ stream }) => { await stream.sink(stream.source) })
      assert.equal(await echoOnce(b, a.getMultiaddrs()[0], 'across backends'), 'across backends')
      assert.equal(b.getConnections(a.id)[0].encryption, '/noise')
    } finally {
      await b.stop()
      await a.stop()
    }
  })

  it('with ownedChunks, a reader may free each chunk once done with it, over real TCP: Noise or plaintext, yamux or mplex', async () => {
    const size = 12 * 1024 * 1024
    const data = randomBytes(size)
    const digest = createHash('sha256').update(data).digest('hex')
    function * slices (): Generator<Uint8Array> {
      for (let at = 0; at < size; at += 100_000) yield data.subarray(at, at + 100_000)
    }
    for (const [security, muxer] of [['noise', 'yamux'], ['noise', 'mplex'], ['plaintext', 'yamux'], ['plaintext', 'mplex']] as const) {
      const config = { security: [security], muxers: [muxer], yamux: { ownedChunks: true }, mplex: { ownedChunks: true } }
      const a = await createNode(config)
      const b = await createNode({ ...config, listen: [] })
      try {
        a.handle('/sink/1.0.0', async ({ stream }) => {
          const hash = createHash('sha256')
          let received = 0
          let freed = 0
          for await (const chunk of stream.source) {
            for (const piece of chunk) hash.update(piece)
            received += chunk.byteLength
            freed += freeChunk(chunk)
          }
          await stream.sink([new TextEncoder().encode(JSON.stringify({ received, freed, digest: hash.digest('hex') }))])
        })
        // Nothing is freed unless the reader asks: an echo of a stream's own chunks works as before.
        a.handle('/echo/1.0.0', async ({ stream }) => { await stream.sink(stream.source) })
        assert.equal(await echoOnce(b, a.getMultiaddrs()[0], 'owned'), 'owned')
        const stream = await b.openStream(a.id, '/sink/1.0.0')
        const reply = new Uint8ArrayList()
        await Promise.all([
          stream.sink(slices()),
          (async () => { for await (const c of stream.source) reply.append(c) })()
        ])
        const result = JSON.parse(new TextDecoder().decode(reply.subarray())) as { received: number, freed: number, digest: string }
        const combo = `${security}+${muxer}`
        assert.equal(result.received, size, combo)
        assert.equal(result.digest, digest, `${combo}: the bytes arrived intact`)
        assert.ok(result.freed >= size * 0.9, `${combo}: only ${result.freed} of ${size} bytes were in buffers of their own`)
        assert.ok(b.getConnections(a.id)[0].encryption?.startsWith(`/${security}`), combo)
      } finally {
        await b.stop()
        await a.stop()
      }
    }
  })

  it('re-dispatches swarm events on the node', async () => {
    const a = await createNode()
    const b = await createNode({ listen: [] })
    const seen: string[] = []
    b.addEventListener('peer:connect', (evt) => { seen.push(`connect:${evt.detail.toString()}`) })
    b.addEventListener('peer:disconnect', (evt) => { seen.push(`disconnect:${evt.detail.toString()}`) })
    try {
      await b.dial(a.getMultiaddrs()[0])
      await b.hangUp(a.id)
      for (let i = 0; i < 100 && seen.length < 2; i++) await new Promise(resolve => setTimeout(resolve, 10))
      assert.deepEqual(seen, [`connect:${a.id.toString()}`, `disconnect:${a.id.toString()}`])
    } finally {
      await b.stop()
      await a.stop()
    }
  })

  it('findPeer asks the peer store first, then every peer routing', async () => {
    const node = await createNode({ listen: [] })
    const key = await generateKeyPair('Ed25519')
    const wanted = peerIdFromPrivateKey(key)
    try {
      await assert.rejects(node.findPeer(wanted), NotFoundError)
    } finally {
      await node.stop()
    }
    const asked: string[] = []
    const routing = (name: string, answer?: PeerInfo): PeerRouting => ({
      async findPeer (id: PeerId): Promise<PeerInfo> {
        asked.push(name)
        if (answer == null) throw new NotFoundError(`${name} does not know ${id.toString()}`)
        await new Promise(resolve => setTimeout(resolve, 5))
        return answer
      },
      async * getClosestPeers () {}
    })
    const custom = await createNode({ listen: [], start: false })
    custom.addPeerRouting(routing('empty')).addPeerRouting(routing('knows', { id: wanted, multiaddrs: [multiaddr('/ip4/10.1.2.3/tcp/4001')] }))
    await custom.start()
    try {
      const info = await custom.findPeer(wanted)
      assert.equal(info.multiaddrs[0].toString(), '/ip4/10.1.2.3/tcp/4001')
      assert.deepEqual(asked.sort(), ['empty', 'knows'])
      // now served from the peer store
      asked.length = 0
      await custom.findPeer(wanted)
      assert.deepEqual(asked, [])
    } finally {
      await custom.stop()
    }
  })

  it('records.put/get go through the registered record store, and fail clearly without one', async () => {
    const node = await createNode({ listen: [], start: false })
    await assert.rejects(node.records.get(Uint8Array.of(1)), NotFoundError)
    const map = new Map<string, StoredRecord>()
    const store: DistributedRecordStore = {
      async put (key, value) { map.set(Buffer.from(key).toString('hex'), { key, value, timeReceived: Date.now() }) },
      async get (key) {
        const r = map.get(Buffer.from(key).toString('hex'))
        if (r == null) throw new NotFoundError()
        return r
      }
    }
    node.addDistributedRecordStore(store)
    assert.throws(() => node.addDistributedRecordStore(store), InvalidParametersError)
    await node.start()
    try {
      await node.records.put(Uint8Array.of(1), Uint8Array.of(2, 3))
      assert.deepEqual((await node.records.get(Uint8Array.of(1))).value, Uint8Array.of(2, 3))
    } finally {
      await node.stop()
    }
  })

  it('discovered peers land in the peer store and a peer:discovery event', async () => {
    const node = await createNode({ listen: [], start: false })
    const discovery = Object.assign(new TypedEventEmitter<PeerDiscoveryEvents & Record<string, unknown>>(), { tag: 'test' }) as unknown as PeerDiscovery
    node.addDiscovery(discovery)
    await node.start()
    try {
      const found = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
      const event = new Promise<PeerInfo>(resolve => { node.addEventListener('peer:discovery', (evt) => { resolve(evt.detail) }, { once: true }) })
      discovery.safeDispatchEvent('peer', { detail: { id: found, multiaddrs: [multiaddr('/ip4/127.0.0.1/tcp/9')] } })
      assert.ok((await event).id.equals(found))
      assert.equal((await node.peerStore.get(found)).addresses[0].multiaddr.toString(), '/ip4/127.0.0.1/tcp/9')
    } finally {
      await node.stop()
    }
  })

  it('a Node without a swarm cannot start, and registration is refused while running', async () => {
    const node = new Node({ privateKey: await generateKeyPair('Ed25519') })
    await assert.rejects(node.start(), NotStartedError)
    const started = await createNode({ listen: [] })
    try {
      assert.throws(() => started.addService('x', {}), InvalidParametersError)
    } finally {
      await started.stop()
    }
  })

  it('runs the README example as written', async () => {
    const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8')
    const match = /```js\n([\s\S]*?)```/.exec(readme)
    assert.ok(match != null, 'README has a js example')
    const pkgDir = fileURLToPath(new URL('../../', import.meta.url))
    const dir = mkdtempSync(join(pkgDir, '.example-'))
    try {
      const file = join(dir, 'example.mjs')
      writeFileSync(file, match[1])
      const { stdout } = await run(process.execPath, [file], { timeout: 20_000, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } })
      const lines = stdout.trim().split('\n')
      assert.match(lines[0], /^12D3KooW/)
      assert.match(lines[1], /\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/12D3KooW/)
      assert.equal(lines[2], 'hello')
      assert.match(lines[3], /^\d+(\.\d+)? ms$/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
