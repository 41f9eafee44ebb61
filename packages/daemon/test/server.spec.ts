import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { access, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { generateKeyPair } from '@peerkit/crypto'
import { InvalidParametersError } from '@peerkit/interfaces'
import { peerIdFromPrivateKey } from '@peerkit/peer-id'
import { DaemonClient, DaemonResponseError, DaemonServer, ECHO_PROTOCOL } from '../src/index.js'
import { Request, Response, PeerstoreRequest } from '../src/pb/control.js'
import { collect, eventually, startDaemon } from './fixtures.js'
import type { DaemonStream } from '../src/index.js'
import type { TestDaemon } from './fixtures.js'
import type { PeerId } from '@peerkit/interfaces'

const PROTOCOL = '/test/daemon/1.0.0'

describe('DaemonServer driven by DaemonClient', function () {
  this.timeout(20_000)
  let a: TestDaemon
  let b: TestDaemon

  before(async () => {
    a = await startDaemon()
    b = await startDaemon({ echo: true })
  })

  after(async () => {
    await a?.stop()
    await b?.stop()
  })

  it('IDENTIFY answers the PeerId and the listen addresses without /p2p', async () => {
    const id = await b.client.identify()
    assert.ok(id.peerId.equals(b.node.id))
    assert.deepEqual(id.addrs.map(String), b.node.getMultiaddrs().map(m => m.decapsulateCode(421).toString()))
    assert.ok(id.addrs.every(m => !m.toString().includes('/p2p/')))
  })

  it('CONNECT dials the peer; LIST_PEERS lists it on both sides', async () => {
    const id = await b.client.identify()
    assert.deepEqual(await a.client.listPeers(), [])
    await a.client.connect(id.peerId, id.addrs)
    const peersA = await a.client.listPeers()
    assert.equal(peersA.length, 1)
    assert.ok(peersA[0].id.equals(b.node.id))
    assert.equal(peersA[0].addrs.length, 1)
    await eventually(async () => (await b.client.listPeers()).some(p => p.id.equals(a.node.id)), 5000, 'b to list a')
  })

  it('CONNECT refuses an address naming another peer, and an unreachable one', async () => {
    const id = await b.client.identify()
    const wrong = id.addrs[0].encapsulate(`/p2p/${a.node.id.toString()}`)
    await assert.rejects(a.client.connect(id.peerId, [wrong]), (err: Error) => err instanceof DaemonResponseError && /names peer/.test(err.message) && err.requestType === 'CONNECT')
    const other = (await startDaemon())
    try {
      const otherId = other.node.id
      await assert.rejects(a.client.connect(otherId, [id.addrs[0].decapsulate('/tcp').encapsulate('/tcp/1')], { timeout: 5 }),
        (err: Error) => err instanceof DaemonResponseError && /ECONNREFUSED/.test(err.daemonMessage))
    } finally {
      await other.stop()
    }
  })

  it('STREAM_OPEN turns the control connection into the stream, with half-close both ways', async () => {
    const stream = await a.client.openStream(b.node.id, ECHO_PROTOCOL)
    assert.equal(stream.info.protocol, ECHO_PROTOCOL)
    assert.ok(stream.info.peer.equals(b.node.id))
    assert.match(stream.info.addr.toString(), /^\/ip4\/127\.0\.0\.1\/tcp\/\d+$/, 'the address as p2pd gives it, without /p2p')
    const [, reply] = await Promise.all([
      stream.sink([new TextEncoder().encode('hello '), new TextEncoder().encode('daemon')]),
      collect(stream.source)
    ])
    assert.equal(new TextDecoder().decode(reply), 'hello daemon')
  })

  it('STREAM_OPEN negotiates the first protocol the peer supports', async () => {
    const stream = await a.client.openStream(b.node.id, ['/not/supported/1.0.0', ECHO_PROTOCOL])
    assert.equal(stream.info.protocol, ECHO_PROTOCOL)
    await stream.close()
  })

  it('pipes 8 MiB each way intact, with backpressure', async () => {
    const payload = randomBytes(8 * 1024 * 1024)
    const stream = await a.client.openStream(b.node.id, ECHO_PROTOCOL)
    const chunks = function * (): Generator<Uint8Array> {
      for (let i = 0; i < payload.byteLength; i += 100_000) yield payload.subarray(i, i + 100_000)
    }
    const [, reply] = await Promise.all([stream.sink(chunks()), collect(stream.source)])
    assert.equal(reply.byteLength, payload.byteLength)
    assert.equal(createHash('sha256').update(reply).digest('hex'), createHash('sha256').update(payload).digest('hex'))
  })

  it('STREAM_OPEN for a protocol the peer lacks answers ERROR, and the daemon keeps serving', async () => {
    await assert.rejects(a.client.openStream(b.node.id, '/not/supported/1.0.0'),
      (err: Error) => err instanceof DaemonResponseError && err.requestType === 'STREAM_OPEN' && /not supported|None of the protocols/i.test(err.daemonMessage))
    assert.equal((await a.client.listPeers()).length, 1)
  })

  it('STREAM_HANDLER hands inbound streams to the client, with the StreamInfo', async () => {
    const seen: DaemonStream[] = []
    await b.client.registerStreamHandler(PROTOCOL, async (stream) => {
      seen.push(stream)
      const data = await collect(stream.source)
      await stream.sink([new TextEncoder().encode(`got ${data.byteLength} bytes`)])
    })
    const stream = await a.client.openStream(b.node.id, PROTOCOL)
    const [, reply] = await Promise.all([stream.sink([new Uint8Array(1000)]), collect(stream.source)])
    assert.equal(new TextDecoder().decode(reply), 'got 1000 bytes')
    assert.equal(seen.length, 1)
    assert.ok(seen[0].info.peer.equals(a.node.id))
    assert.equal(seen[0].info.protocol, PROTOCOL)
  })

  it('STREAM_HANDLER again replaces the handler address', async () => {
    const other = new DaemonClient(b.server.getMultiaddr())
    try {
      await other.registerStreamHandler(PROTOCOL, async (stream) => { await stream.sink([new TextEncoder().encode('second')]) })
      const stream = await a.client.openStream(b.node.id, PROTOCOL)
      const [, reply] = await Promise.all([stream.sink([]), collect(stream.source)])
      assert.equal(new TextDecoder().decode(reply), 'second')
    } finally {
      await other.close()
    }
  })

  it('a handler address that no longer answers resets the inbound stream; the daemon keeps serving', async () => {
    // `other` above is closed: its listener is gone, but it still owns PROTOCOL on b.
    const stream = await a.client.openStream(b.node.id, PROTOCOL)
    await assert.rejects(async () => {
      await Promise.all([stream.sink([new Uint8Array(10)]), (async () => {
        const data = await collect(stream.source)
        if (data.byteLength === 0) throw new Error('stream ended without data')
      })()])
    })
    assert.ok((await b.client.identify()).peerId.equals(b.node.id))
    assert.equal((await a.client.listPeers()).length, 1)
  })

  it('STREAM_HANDLER refuses protocols the node serves itself, but may take over the echo protocol', async () => {
    await assert.rejects(b.client.registerStreamHandler('/ipfs/id/1.0.0', () => {}), /served by the node itself/)
    await assert.rejects(b.client.registerStreamHandler('/ipfs/ping/1.0.0', () => {}), /served by the node itself/)
    await b.client.registerStreamHandler(ECHO_PROTOCOL, async (stream) => { await stream.sink([new TextEncoder().encode('not an echo')]) })
    const stream = await a.client.openStream(b.node.id, ECHO_PROTOCOL)
    const [, reply] = await Promise.all([stream.sink([new TextEncoder().encode('x')]), collect(stream.source)])
    assert.equal(new TextDecoder().decode(reply), 'not an echo')
  })

  it('PEERSTORE GET_PROTOCOLS and GET_PEER_INFO read the peer store', async () => {
    await eventually(async () => {
      const r = await a.client.request({ type: Request.Type.PEERSTORE, peerStore: { type: PeerstoreRequest.Type.GET_PROTOCOLS, id: b.node.id.toMultihash().bytes, protos: [] } })
      return r.type === Response.Type.OK && (r.peerStore?.protos ?? []).includes('/ipfs/ping/1.0.0')
    }, 5000, 'identify to fill the peer store')
    const info = await a.client.request({ type: Request.Type.PEERSTORE, peerStore: { type: PeerstoreRequest.Type.GET_PEER_INFO, id: b.node.id.toMultihash().bytes, protos: [] } })
    assert.equal(info.type, Response.Type.OK)
    assert.ok((info.peerStore?.peer?.addrs.length ?? 0) > 0)
    const unknown = await a.client.request({ type: Request.Type.PEERSTORE, peerStore: { type: PeerstoreRequest.Type.GET_PROTOCOLS, id: (await unknownPeerId()).toMultihash().bytes, protos: [] } })
    assert.equal(unknown.type, Response.Type.ERROR)
  })

  it('DHT, PUBSUB and CONNMANAGER answer ERROR saying they are not supported', async () => {
    const dht = await a.client.request({ type: Request.Type.DHT, dht: { type: 'FIND_PEER' as never, peer: b.node.id.toMultihash().bytes } })
    assert.equal(dht.type, Response.Type.ERROR)
    assert.match(dht.error?.msg ?? '', /DHT request FIND_PEER refused: this daemon has no DHT/)
    const ps = await a.client.request({ type: Request.Type.PUBSUB, pubsub: { type: 'GET_TOPICS' as never } })
    assert.match(ps.error?.msg ?? '', /PUBSUB request GET_TOPICS refused: this daemon has no pubsub/)
    const cm = await a.client.request({ type: Request.Type.CONNMANAGER, connManager: { type: 'TRIM' as never } })
    assert.match(cm.error?.msg ?? '', /CONNMANAGER request TRIM refused/)
  })

  it('DISCONNECT closes every connection to the peer', async () => {
    await a.client.disconnect(b.node.id)
    assert.deepEqual(await a.client.listPeers(), [])
    await eventually(async () => (await b.client.listPeers()).length === 0, 5000, 'b to see the disconnect')
  })
})

/** A PeerId nobody here knows. */
async function unknownPeerId (): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

describe('DaemonServer options and lifecycle', function () {
  this.timeout(20_000)

  it('refuses bad options and control addresses at construction', async () => {
    const d = await startDaemon()
    try {
      assert.throws(() => new DaemonServer(d.node, { listen: '/dns4/localhost/tcp/1' }), InvalidParametersError)
      assert.throws(() => new DaemonServer(d.node, { listen: '/ip4/127.0.0.1/udp/1' }), InvalidParametersError)
      assert.throws(() => new DaemonServer(d.node, { listen: '/ip4/127.0.0.1/tcp/0', maxMessageSize: 0 }), /maxMessageSize/)
      assert.throws(() => new DaemonServer(d.node, { listen: '/ip4/127.0.0.1/tcp/0', idleTimeout: -1 }), /idleTimeout/)
    } finally {
      await d.stop()
    }
  })

  it('stop() ends open streams and control connections, and unhandles its protocols', async () => {
    const a = await startDaemon()
    const b = await startDaemon({ echo: true })
    try {
      await a.client.connect(b.node.id, (await b.client.identify()).addrs)
      await b.client.registerStreamHandler(PROTOCOL, () => {})
      assert.ok(b.node.swarm.getProtocols().includes(PROTOCOL))
      const stream = await a.client.openStream(b.node.id, ECHO_PROTOCOL)
      assert.equal(a.server.controlConnections, 1)
      const reading = collect(stream.source).then(() => 'ended', () => 'failed')
      await a.server.stop()
      assert.match(await reading, /ended|failed/)
      assert.equal(a.server.isStarted, false)
      await b.server.stop()
      assert.ok(!b.node.swarm.getProtocols().includes(PROTOCOL))
      assert.ok(!b.node.swarm.getProtocols().includes(ECHO_PROTOCOL))
      // The node itself keeps running.
      assert.equal(b.node.status, 'started')
    } finally {
      await a.stop()
      await b.stop()
    }
  })

  it('bounds protocols handed to clients (maxStreamHandlers) and connections to handlers (maxHandlerConnections)', async () => {
    const a = await startDaemon()
    const b = await startDaemon({ maxStreamHandlers: 2, maxHandlerConnections: 1 })
    try {
      await assert.rejects(b.client.registerStreamHandler(['/p/1', '/p/2', '/p/3'], () => {}), /maxStreamHandlers exceeded for daemon: 3 > 2/)
      let release!: () => void
      const held = new Promise<void>(resolve => { release = resolve })
      await b.client.registerStreamHandler(['/p/1', '/p/2'], async (stream) => {
        await held
        await stream.sink([new TextEncoder().encode('late')])
      })
      await a.client.connect(b.node.id, (await b.client.identify()).addrs)
      const first = await a.client.openStream(b.node.id, '/p/1')
      await eventually(() => b.node.getConnections(a.node.id)[0]?.streams.some(s => s.protocol === '/p/1') ?? false, 5000, 'the first handler stream')
      const second = await a.client.openStream(b.node.id, '/p/2')
      // The second inbound stream is reset at once: its reader sees the end or an error.
      assert.deepEqual(await collect(second.source).then(d => d.byteLength, () => 0), 0)
      release()
      const [, reply] = await Promise.all([first.sink([]), collect(first.source)])
      assert.equal(new TextDecoder().decode(reply), 'late')
    } finally {
      await a.stop()
      await b.stop()
    }
  })

  it('CONNECT gives up at the timeout the request asks for', async () => {
    const d = await startDaemon()
    // A listener that accepts and never answers: the upgrade would wait for the swarm's own 10 s.
    const { createServer } = await import('node:net')
    const silent = createServer((socket) => { socket.on('error', () => {}) })
    await new Promise<void>(resolve => { silent.listen(0, '127.0.0.1', resolve) })
    const port = (silent.address() as { port: number }).port
    try {
      const started = Date.now()
      await assert.rejects(d.client.connect(await unknownPeerId(), [multiaddr(`/ip4/127.0.0.1/tcp/${port}`)], { timeout: 1 }),
        (err: Error) => err instanceof DaemonResponseError && /timed out|aborted/i.test(err.daemonMessage))
      assert.ok(Date.now() - started < 5000)
    } finally {
      silent.close()
      await d.stop()
    }
  })

  it('a client can take its handler streams on a unix socket', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'peerkit-daemon-handler-'))
    const a = await startDaemon()
    const b = await startDaemon()
    const client = new DaemonClient(b.server.getMultiaddr(), { handlerAddr: `/unix${join(dir, 'h.sock')}` })
    try {
      await client.registerStreamHandler(PROTOCOL, async (stream) => { await stream.sink(stream.source) })
      await a.client.connect(b.node.id, (await b.client.identify()).addrs)
      const stream = await a.client.openStream(b.node.id, PROTOCOL)
      const [, reply] = await Promise.all([stream.sink([new TextEncoder().encode('over unix')]), collect(stream.source)])
      assert.equal(new TextDecoder().decode(reply), 'over unix')
      await client.close()
      await assert.rejects(access(join(dir, 'h.sock')), /ENOENT/)
    } finally {
      await client.close()
      await a.stop()
      await b.stop()
      await rm(dir, { recursive: true, force: true })
    }
  })
})
