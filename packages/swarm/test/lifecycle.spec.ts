import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { AbortError, DialError, NotStartedError } from '@peerkit/interfaces'
import { noise } from '@peerkit/connection-encrypter-noise'
import { generateKeyPair } from '@peerkit/crypto'
import { handle as mssHandle } from '@peerkit/multistream-select'
import { peerIdFromPrivateKey } from '@peerkit/peer-id'
import { tcp } from '@peerkit/transport-tcp'
import { ResourceTracker, activeResources, bytes, createPeer, echo, mssMessage, rawSocket, roundTrip, silentServer, socketClosed, stopAll, until } from './fixtures.js'
import type { Connection, MultiaddrConnection, PeerId, SecureStream, Stream } from '@peerkit/interfaces'

/** Lets async_hooks deliver pending destroy notifications. */
async function flushDestroyHooks (): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise(resolve => setImmediate(resolve))
}

describe('lifecycle', () => {
  afterEach(stopAll)

  it('stop() closes listeners, connections, pending dials and upgrades, and leaves no socket or timer behind', async () => {
    await flushDestroyHooks()
    const before = activeResources()
    const tracker = new ResourceTracker().start()
    const server = await silentServer()
    try {
      const a = await createPeer({ init: { closeTimeout: 500 } })
      const b = await createPeer()
      const ghost = await createPeer({ listen: false })
      b.swarm.handle('/echo/1.0.0', echo)
      // B's handler never ends its streams, so A cannot close them gracefully.
      const stuck: Stream[] = []
      b.swarm.handle('/stuck/1.0.0', ({ stream }) => { stuck.push(stream) })

      const closed: Connection[] = []
      const disconnected: PeerId[] = []
      a.swarm.addEventListener('connection:close', (evt) => { closed.push(evt.detail as Connection) })
      a.swarm.addEventListener('peer:disconnect', (evt) => { disconnected.push(evt.detail as PeerId) })

      // An open connection with a working stream, a stuck stream and a second connection.
      const conn = await a.swarm.dial(b.addr)
      const stream = await conn.newStream('/echo/1.0.0')
      await stream.sink([bytes(10)])
      await conn.newStream('/stuck/1.0.0')
      const conn2 = await a.swarm.dial(b.addr, { force: true })
      // An inbound connection to A from B.
      const back = await b.swarm.dial(a.addr, { force: true })
      // A dial in flight to a peer that never answers.
      const pendingDial = a.swarm.dial(multiaddr(`/ip4/127.0.0.1/tcp/${server.port}/p2p/${ghost.peerId.toString()}`)).then(() => undefined, (e: Error) => e)
      await until(() => server.sockets.size === 1, 5000, 'the pending dial reached the server')
      // An inbound upgrade in flight on A.
      const raw = await rawSocket(a.port)
      raw.on('error', () => {})
      const answered = new Promise<void>(resolve => { raw.once('data', () => { resolve() }) })
      raw.write(Buffer.concat([mssMessage('/multistream/1.0.0'), mssMessage('/noise')]))
      await answered
      const rawClosed = socketClosed(raw, 5000)

      const started = Date.now()
      await a.swarm.stop()
      assert.ok(Date.now() - started < 5000, 'stop() is bounded by closeTimeout even with stuck streams')
      assert.equal(a.swarm.isStarted, false)

      const dialErr = await pendingDial
      assert.ok(dialErr instanceof DialError, `the pending dial rejects, got ${String(dialErr)}`)
      assert.equal(dialErr.attempts.length, 1)
      assert.ok(dialErr.attempts[0].error instanceof AbortError, dialErr.message)
      await rawClosed
      await until(() => server.sockets.size === 0, 5000, 'the pending dial\'s socket is closed')

      for (const c of [conn, conn2]) assert.equal(c.status, 'closed')
      assert.deepEqual(a.swarm.getConnections(), [])
      assert.equal(closed.length, 3, 'connection:close for each connection')
      assert.ok(closed.includes(conn) && closed.includes(conn2))
      assert.equal(disconnected.length, 1)
      assert.ok(disconnected[0].equals(b.peerId))
      await until(() => back.status === 'closed' && b.swarm.getConnections().length === 0, 5000, 'B saw every connection close')

      // Nothing listens any more, and nothing can be dialled.
      await assert.rejects(rawSocket(a.port), (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED')
      await assert.rejects(a.swarm.dial(b.addr), NotStartedError)
      // stop() twice is harmless.
      await a.swarm.stop()

      await b.swarm.stop()
      await server.close()
      await flushDestroyHooks()
      const after = activeResources()
      for (const type of new Set([...before.keys(), ...after.keys()])) {
        assert.equal(after.get(type) ?? 0, before.get(type) ?? 0, `active ${type} handles before and after`)
      }
      assert.deepEqual(tracker.alive(), [], `no timer or TCP handle created during the test is still alive (unref'd ones included): ${tracker.describe()}`)
    } finally {
      tracker.stop()
      await server.close()
    }
  })

  it('a listen() still binding when stop() is called fails and leaves no server behind', async () => {
    await flushDestroyHooks()
    const servers = activeResources().get('TCPServerWrap') ?? 0
    const a = await createPeer({ listen: false })
    const listening = a.swarm.listen([multiaddr('/ip4/127.0.0.1/tcp/0'), multiaddr('/ip4/127.0.0.1/tcp/0')])
    await a.swarm.stop()
    await assert.rejects(listening, NotStartedError)
    assert.deepEqual(a.swarm.getMultiaddrs(), [])
    await flushDestroyHooks()
    assert.equal(activeResources().get('TCPServerWrap') ?? 0, servers, 'no server socket left open')
  })

  it('stop() is bounded by its closeTimeout when sockets would wait longer for remotes that never end their side', async () => {
    // A bare Noise + yamux listener that reads everything but never ends its side.
    const key = await generateKeyPair('Ed25519')
    const remoteId = peerIdFromPrivateKey(key)
    const listener = tcp().createListener({})
    const accepted: MultiaddrConnection[] = []
    listener.addEventListener('connection', (evt) => {
      const maConn = (evt as CustomEvent<MultiaddrConnection>).detail
      accepted.push(maConn)
      void (async () => {
        const { stream } = await mssHandle(maConn as unknown as SecureStream, ['/noise'])
        const secured = await noise()({ privateKey: key, peerId: remoteId }).secureInbound(stream, { streamMuxers: ['/yamux/1.0.0'] })
        void secured.conn.sink((async function * () {
          await new Promise(() => {})
          yield * []
        })()).catch(() => {})
        for await (const _ of secured.conn.source) { /* drain */ }
      })().catch(() => { maConn.abort(new Error('bare listener failed')) })
    })
    await listener.listen(multiaddr('/ip4/127.0.0.1/tcp/0'))
    const tracker = new ResourceTracker().start()
    try {
      const a = await createPeer({ listen: false, init: { closeTimeout: 300, transports: [tcp({ closeTimeout: 20_000 })] } })
      const target = listener.getAddrs()[0].encapsulate(`/p2p/${remoteId.toString()}`)
      const conns = [await a.swarm.dial(target), await a.swarm.dial(target, { force: true })]
      assert.notEqual(conns[0], conns[1])
      const started = Date.now()
      await a.swarm.stop()
      const took = Date.now() - started
      assert.ok(took < 3_000, `stop() took ${took} ms: it should end at its 300 ms close timeout, not the transport's 20 s`)
      for (const c of conns) assert.equal(c.status, 'closed')
      await flushDestroyHooks()
      // Our two sockets are gone; the remote's two (which it never closes) are all that is left.
      assert.equal(accepted.length, 2)
      assert.equal(tracker.alive().filter(t => t === 'TCPWRAP').length, 2, tracker.describe())
    } finally {
      tracker.stop()
      for (const m of accepted) m.abort(new Error('done'))
      await listener.close({ closeConnections: true })
    }
  })

  it('can be started again after stop()', async () => {
    const a = await createPeer()
    const b = await createPeer()
    b.swarm.handle('/echo/1.0.0', echo)
    await a.swarm.dial(b.addr)
    await b.swarm.stop()
    await until(() => a.swarm.getConnections().length === 0, 5000, 'A saw B go')
    b.swarm.start()
    await b.swarm.listen([multiaddr('/ip4/127.0.0.1/tcp/0')])
    const stream = await a.swarm.openStream(b.swarm.getMultiaddrs()[0], '/echo/1.0.0')
    assert.deepEqual(await roundTrip(stream, bytes(50)), bytes(50))
  })

  it('refuses to listen before start and rejects addresses no transport accepts', async () => {
    const a = await createPeer({ listen: false })
    await a.swarm.stop()
    await assert.rejects(a.swarm.listen([multiaddr('/ip4/127.0.0.1/tcp/0')]), NotStartedError)
    a.swarm.start()
    await assert.rejects(a.swarm.listen([multiaddr('/ip4/127.0.0.1/udp/0/quic-v1')]), /No transport can listen/)
    assert.deepEqual(a.swarm.getMultiaddrs(), [])
  })
})
