import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { AbortError, DialError, InvalidParametersError, LimitExceededError, NotStartedError, TimeoutError, TransportDialError } from '@peerkit/interfaces'
import { closedPort, createPeer, echo, nextEvent, roundTrip, silentServer, socketClosed, stopAll, until } from './fixtures.js'
import type { Connection } from '@peerkit/interfaces'

const text = new TextEncoder()

describe('dial', () => {
  afterEach(stopAll)

  it('dials a multiaddr with /p2p/ and both sides record the connection', async () => {
    const a = await createPeer()
    const b = await createPeer()
    const inbound = nextEvent<Connection>(b.swarm, 'connection:open')
    const conn = await a.swarm.dial(b.addr)
    assert.ok(conn.remotePeer.equals(b.peerId))
    assert.equal(conn.direction, 'outbound')
    assert.equal(conn.status, 'open')
    assert.equal(conn.encryption, '/noise')
    assert.equal(conn.multiplexer, '/yamux/1.0.0')
    assert.deepEqual(a.swarm.getConnections(b.peerId), [conn])
    const theirs = await inbound
    assert.ok(theirs.remotePeer.equals(a.peerId))
    assert.equal(theirs.direction, 'inbound')
    assert.deepEqual(b.swarm.getConnections(), [theirs])
    const known = await a.swarm.peerStore.get(b.peerId)
    assert.deepEqual(known.addresses.map(x => x.multiaddr.toString()), [b.addr.decapsulateCode(421).toString()], 'the dialled address is remembered')
  })

  it('dials a multiaddr without /p2p/ and learns the peer from the handshake', async () => {
    const a = await createPeer()
    const b = await createPeer()
    const conn = await a.swarm.dial(b.addr.decapsulateCode(421))
    assert.ok(conn.remotePeer.equals(b.peerId))
    assert.equal(a.swarm.getConnections(b.peerId).length, 1)
  })

  it('dials a PeerId using the addresses in the peer store', async () => {
    const a = await createPeer()
    const b = await createPeer()
    await a.swarm.peerStore.merge(b.peerId, { multiaddrs: [b.addr.decapsulateCode(421)] })
    const conn = await a.swarm.dial(b.peerId)
    assert.ok(conn.remotePeer.equals(b.peerId))
    assert.equal(conn.remoteAddr.toString(), b.addr.toString(), 'the stored address was made to name the peer')
  })

  it('asks resolvePeerAddresses when the peer store knows no address, and stores the answer', async () => {
    const b = await createPeer()
    const asked: string[] = []
    const a = await createPeer({
      init: {
        resolvePeerAddresses: async (peerId) => {
          asked.push(peerId.toString())
          return [b.addr.decapsulateCode(421)]
        }
      }
    })
    const conn = await a.swarm.dial(b.peerId)
    assert.ok(conn.remotePeer.equals(b.peerId))
    assert.deepEqual(asked, [b.peerId.toString()])
    assert.equal((await a.swarm.peerStore.get(b.peerId)).addresses.length, 1)
  })

  it('fails with DialError when no address is known', async () => {
    const a = await createPeer()
    const b = await createPeer({ listen: false })
    const err = await a.swarm.dial(b.peerId).catch((e: Error) => e)
    assert.ok(err instanceof DialError, String(err))
    assert.equal(err.peer, b.peerId.toString())
    assert.deepEqual(err.attempts, [])
    assert.match(err.message, /no address to dial/)
  })

  it('reuses an open connection in either direction', async () => {
    const a = await createPeer()
    const b = await createPeer()
    const inbound = nextEvent<Connection>(b.swarm, 'connection:open')
    const conn = await a.swarm.dial(b.addr)
    assert.equal(await a.swarm.dial(b.peerId), conn, 'A reuses its outbound connection')
    assert.equal(await a.swarm.dial(b.addr), conn, 'also when dialled by address')
    const theirs = await inbound
    // B knows no address of A: it can only succeed by reusing the inbound connection.
    assert.equal(await b.swarm.dial(a.peerId), theirs, 'B reuses the inbound connection')
    assert.equal(a.swarm.getConnections().length, 1)
    assert.equal(b.swarm.getConnections().length, 1)
  })

  it('concurrent dials to one peer share one dial and one connection', async () => {
    const a = await createPeer()
    const b = await createPeer()
    await a.swarm.peerStore.merge(b.peerId, { multiaddrs: [b.addr.decapsulateCode(421)] })
    let inboundOpened = 0
    b.swarm.addEventListener('connection:open', () => { inboundOpened++ })
    const conns = await Promise.all([
      a.swarm.dial(b.addr), a.swarm.dial(b.peerId), a.swarm.dial(b.addr), a.swarm.dial([b.addr]), a.swarm.dial(b.peerId)
    ])
    for (const c of conns) assert.equal(c, conns[0])
    assert.equal(a.swarm.getConnections().length, 1)
    await until(() => b.swarm.getConnections().length === 1, 5000, 'B sees the connection')
    assert.equal(inboundOpened, 1, 'exactly one connection was made')
  })

  it('force opens another connection', async () => {
    const a = await createPeer()
    const b = await createPeer()
    const first = await a.swarm.dial(b.addr)
    const second = await a.swarm.dial(b.addr, { force: true })
    assert.notEqual(second, first)
    assert.equal(a.swarm.getConnections(b.peerId).length, 2)
    await until(() => b.swarm.getConnections(a.peerId).length === 2, 5000, 'B sees both connections')
  })

  it('refuses to dial itself', async () => {
    const a = await createPeer()
    await assert.rejects(a.swarm.dial(a.peerId), InvalidParametersError)
    await assert.rejects(a.swarm.dial(a.addr), InvalidParametersError)
    let connected = 0
    a.swarm.addEventListener('peer:connect', () => { connected++ })
    // Without /p2p/ the peer is only known after the handshake: the connection is then dropped.
    const err = await a.swarm.dial(a.addr.decapsulateCode(421)).catch((e: Error) => e)
    assert.ok(err instanceof DialError, String(err))
    assert.ok(err.attempts[0].error instanceof InvalidParametersError, err.message)
    await until(() => a.swarm.getConnections().length === 0, 5000, 'no connection to self')
    assert.equal(connected, 0, 'no peer:connect for ourselves')
  })

  it('refuses malformed targets and dials before start', async () => {
    const a = await createPeer()
    const b = await createPeer()
    const c = await createPeer()
    await assert.rejects(a.swarm.dial([]), InvalidParametersError)
    await assert.rejects(a.swarm.dial([b.addr, c.addr]), InvalidParametersError, 'addresses of two different peers')
    await a.swarm.stop()
    await assert.rejects(a.swarm.dial(b.addr), NotStartedError)
  })

  it('a caller giving up does not cancel the dial for the others', async () => {
    const a = await createPeer()
    const b = await createPeer()
    const controller = new AbortController()
    const impatient = a.swarm.dial(b.addr, { signal: controller.signal })
    const patient = a.swarm.dial(b.addr)
    controller.abort()
    await assert.rejects(impatient, AbortError)
    const conn = await patient
    assert.equal(conn.status, 'open')
    assert.ok(conn.remotePeer.equals(b.peerId))
  })

  it('a caller arriving just after the only other caller gave up gets a dial of its own', async () => {
    const a = await createPeer()
    const b = await createPeer()
    const controller = new AbortController()
    const abandoned = a.swarm.dial(b.addr, { signal: controller.signal })
    controller.abort()
    await assert.rejects(abandoned, AbortError)
    // The abandoned dial is still winding down; a new caller must not inherit its cancellation.
    const conn = await a.swarm.dial(b.addr)
    assert.equal(conn.status, 'open')
    assert.ok(conn.remotePeer.equals(b.peerId))
  })

  it('the dial is cancelled when its only caller gives up', async () => {
    const server = await silentServer()
    try {
      const a = await createPeer({ init: { dialTimeout: 60_000, upgradeTimeout: 60_000 } })
      const b = await createPeer({ listen: false })
      const controller = new AbortController()
      const target = multiaddr(`/ip4/127.0.0.1/tcp/${server.port}/p2p/${b.peerId.toString()}`)
      const dialing = a.swarm.dial(target, { signal: controller.signal })
      await until(() => server.sockets.size === 1, 5000, 'the socket reaches the server')
      const [socket] = server.sockets
      const closed = socketClosed(socket, 5000)
      controller.abort()
      await assert.rejects(dialing, AbortError)
      await closed // the dialer dropped the socket long before any timeout
      // The dial is gone: a new one starts afresh (and is cancelled the same way).
      const again = new AbortController()
      const second = a.swarm.dial(target, { signal: again.signal })
      await until(() => server.sockets.size === 1, 5000, 'the second dial reaches the server')
      again.abort()
      await assert.rejects(second, AbortError)
    } finally {
      await server.close()
    }
  })

  it('DialError lists every address tried with its reason', async () => {
    const a = await createPeer()
    const b = await createPeer({ listen: false })
    const other = await createPeer({ listen: false })
    const refused = multiaddr(`/ip4/127.0.0.1/tcp/${await closedPort()}`)
    const elsewhere = multiaddr(`/ip4/127.0.0.1/tcp/4001/p2p/${other.peerId.toString()}`)
    const undialable = multiaddr('/ip4/127.0.0.1/udp/4001/quic-v1')
    await a.swarm.peerStore.merge(b.peerId, { multiaddrs: [refused, elsewhere, undialable] })
    const err = await a.swarm.dial(b.peerId).catch((e: Error) => e)
    assert.ok(err instanceof DialError, String(err))
    assert.equal(err.peer, b.peerId.toString())
    const byAddress = new Map(err.attempts.map(x => [x.address, x.error]))
    assert.equal(err.attempts.length, 3, err.message)
    const id = b.peerId.toString()
    assert.ok(byAddress.get(`${refused.toString()}/p2p/${id}`) instanceof TransportDialError, 'refused port')
    assert.match(byAddress.get(`${refused.toString()}/p2p/${id}`)!.message, /ECONNREFUSED/)
    assert.ok(byAddress.get(elsewhere.toString()) instanceof InvalidParametersError, 'address of another peer')
    assert.match(byAddress.get(elsewhere.toString())!.message, new RegExp(other.peerId.toString()))
    assert.ok(byAddress.get(`${undialable.toString()}/p2p/${id}`) instanceof TransportDialError, 'no transport for it')
    for (const attempt of err.attempts) assert.ok(err.message.includes(attempt.address), `the message names ${attempt.address}`)
  })

  it('tries at most maxAddressesPerDial addresses', async () => {
    const a = await createPeer({ init: { maxAddressesPerDial: 2 } })
    const b = await createPeer({ listen: false })
    const ports = [await closedPort(), await closedPort(), await closedPort()]
    await a.swarm.peerStore.merge(b.peerId, { multiaddrs: ports.map(p => multiaddr(`/ip4/127.0.0.1/tcp/${p}`)) })
    const err = await a.swarm.dial(b.peerId).catch((e: Error) => e)
    assert.ok(err instanceof DialError)
    assert.equal(err.attempts.length, 2)
  })

  it('the first address that connects wins and the others are abandoned', async () => {
    const server = await silentServer()
    try {
      const a = await createPeer({ init: { dialTimeout: 60_000, upgradeTimeout: 60_000 } })
      const b = await createPeer()
      // The silent address ranks first (given first, same rank): it is dialled, never answers, and
      // must be abandoned once the real address has connected.
      await a.swarm.peerStore.merge(b.peerId, { multiaddrs: [multiaddr(`/ip4/127.0.0.1/tcp/${server.port}`), b.addr.decapsulateCode(421)] })
      const conn = await a.swarm.dial(b.peerId)
      assert.equal(conn.remoteAddr.toString(), b.addr.toString())
      await until(() => server.sockets.size === 0, 5000, 'the losing socket is closed')
    } finally {
      await server.close()
    }
  })

  it('times out a dial to a peer that never answers the handshake', async () => {
    const server = await silentServer()
    try {
      const a = await createPeer({ init: { dialTimeout: 300 } })
      const b = await createPeer({ listen: false })
      const started = Date.now()
      const err = await a.swarm.dial(multiaddr(`/ip4/127.0.0.1/tcp/${server.port}/p2p/${b.peerId.toString()}`)).catch((e: Error) => e)
      assert.ok(err instanceof DialError, String(err))
      assert.equal(err.attempts.length, 1)
      assert.ok(err.attempts[0].error instanceof TimeoutError, `got ${err.attempts[0].error.name}: ${err.attempts[0].error.message}`)
      assert.ok(Date.now() - started < 5000, 'it did not wait for the upgrade timeout')
      await until(() => server.sockets.size === 0, 5000, 'the dialled socket is closed')
    } finally {
      await server.close()
    }
  })

  it('fails with LimitExceededError once maxConnections are open', async () => {
    const a = await createPeer({ init: { maxConnections: 1 } })
    const b = await createPeer()
    const c = await createPeer()
    await a.swarm.dial(b.addr)
    const err = await a.swarm.dial(c.addr).catch((e: Error) => e)
    assert.ok(err instanceof LimitExceededError, String(err))
    assert.equal(err.limit, 'maxConnections')
    assert.equal(err.max, 1)
    assert.equal(a.swarm.getConnections().length, 1)
    assert.equal(c.swarm.getConnections().length, 0, 'no connection was made to C')
  })

  it('fails with LimitExceededError when maxPendingDials dials are in flight', async () => {
    const server = await silentServer()
    try {
      const a = await createPeer({ init: { maxPendingDials: 1, dialTimeout: 60_000, upgradeTimeout: 60_000 } })
      const b = await createPeer()
      const ghost = await createPeer({ listen: false })
      const controller = new AbortController()
      const stuck = a.swarm.dial(multiaddr(`/ip4/127.0.0.1/tcp/${server.port}/p2p/${ghost.peerId.toString()}`), { signal: controller.signal })
      const err = await a.swarm.dial(b.addr).catch((e: Error) => e)
      assert.ok(err instanceof LimitExceededError, String(err))
      assert.equal(err.limit, 'maxPendingDials')
      controller.abort()
      await assert.rejects(stuck, AbortError)
      assert.ok((await a.swarm.dial(b.addr)).remotePeer.equals(b.peerId), 'dials again once the slot is free')
    } finally {
      await server.close()
    }
  })

  it('openStream dials and negotiates in one call', async () => {
    const a = await createPeer()
    const b = await createPeer()
    b.swarm.handle('/echo/1.0.0', echo)
    const stream = await a.swarm.openStream(b.addr, ['/nope/1.0.0', '/echo/1.0.0'])
    assert.equal(stream.protocol, '/echo/1.0.0')
    assert.deepEqual(await roundTrip(stream, text.encode('hello')), text.encode('hello'))
  })
})
