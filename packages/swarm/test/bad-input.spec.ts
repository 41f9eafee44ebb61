import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { noise } from '@peerkit/connection-encrypter-noise'
import { generateKeyPair } from '@peerkit/crypto'
import { select as mssSelect } from '@peerkit/multistream-select'
import { DialError, PeerkitError, StreamResetError } from '@peerkit/interfaces'
import { yamux } from '@peerkit/muxer-yamux'
import { peerIdFromPrivateKey } from '@peerkit/peer-id'
import { tcp } from '@peerkit/transport-tcp'
import { Upgrader } from '@peerkit/upgrader'
import { ResourceTracker, bytes, captureLog, createPeer, echo, forceGc, mssMessage, rawSocket, readAll, roundTrip, socketClosed, stopAll, tick, until } from './fixtures.js'
import type { Connection, MultiaddrConnection, SecureStream, Stream } from '@peerkit/interfaces'

/** Names of the typed errors an upgrade may fail with on bad input. */
const TYPED_UPGRADE_ERRORS = ['InvalidMessageError', 'LimitExceededError', 'UnsupportedProtocolError', 'ProtocolError', 'HandshakeError', 'UnexpectedEOFError', 'TimeoutError']

/** Garbage a peer might send right after connecting, each failing a different check. */
const GARBAGE: Array<[string, Uint8Array]> = [
  ['random bytes', bytes(4096, 99)],
  ['an oversized multistream-select message', Uint8Array.from([0xff, 0xff, 0xff, 0x0f, ...bytes(64)])],
  ['a header that is not multistream-select', Buffer.concat([mssMessage('/not-multistream/1.0.0'), bytes(64)])],
  ['a valid header, then a message without its newline', Buffer.concat([mssMessage('/multistream/1.0.0'), Uint8Array.from([5, 0x61, 0x62, 0x63, 0x64, 0x65])])],
  ['a Noise first message too short for its key', Buffer.concat([mssMessage('/multistream/1.0.0'), mssMessage('/noise'), Uint8Array.from([0, 5]), bytes(5, 5)])],
  ['a Noise third message that does not decrypt', Buffer.concat([
    mssMessage('/multistream/1.0.0'), mssMessage('/noise'), Uint8Array.from([0, 32]), bytes(32, 5), Uint8Array.from([0, 200]), bytes(200, 6)
  ])]
]

/** The error name a node logged for the failed inbound upgrade from `port`. */
function loggedUpgradeFailure (lines: string[], port: number): string | undefined {
  const line = lines.find(l => l.includes(`inbound upgrade from /ip4/127.0.0.1/tcp/${port} failed`))
  return line?.match(/failed: (\w+):/)?.[1]
}

describe('bad input from peers', function () {
  this.timeout(60_000)
  afterEach(stopAll)

  it('a peer speaking garbage right after connecting fails the upgrade with a typed error and is closed; others are served meanwhile', async () => {
    const log = captureLog()
    // A long upgrade timeout, so a close can only come from the garbage being rejected.
    const b = await createPeer({ init: { log, upgradeTimeout: 30_000 } })
    const a = await createPeer()
    b.swarm.handle('/echo/1.0.0', echo)
    for (const [what, garbage] of GARBAGE) {
      const socket = await rawSocket(b.port)
      const port = socket.localPort!
      const started = Date.now()
      const closed = socketClosed(socket, 10_000)
      socket.write(garbage)
      // A normal peer connects and exchanges data while the garbage is being dealt with.
      const stream = await a.swarm.openStream(b.addr, '/echo/1.0.0')
      assert.deepEqual(await roundTrip(stream, bytes(1000)), bytes(1000), what)
      await closed
      assert.ok(Date.now() - started < 10_000, `${what}: closed promptly`)
      await until(() => loggedUpgradeFailure(log.lines, port) != null, 5000, `${what}: failure logged`)
      const name = loggedUpgradeFailure(log.lines, port)!
      assert.ok(TYPED_UPGRADE_ERRORS.includes(name) && name !== 'TimeoutError', `${what}: typed error, got ${name}`)
    }
    assert.equal(b.swarm.getConnections().length, 1, 'only the normal peer is connected')
  })

  it('the upgrader rejects garbage with a PeerkitError and aborts the raw connection', async () => {
    const privateKey = await generateKeyPair('Ed25519')
    const peerId = peerIdFromPrivateKey(privateKey)
    const upgrader = new Upgrader({ connectionEncrypters: [noise()({ privateKey, peerId })], streamMuxers: [yamux()], upgradeTimeout: 30_000 })
    const listener = tcp().createListener()
    const outcomes: Array<Promise<Error>> = []
    const accepted: MultiaddrConnection[] = []
    listener.addEventListener('connection', (evt) => {
      accepted.push(evt.detail)
      outcomes.push(upgrader.upgradeInbound(evt.detail).then(() => new Error('upgraded'), (err: Error) => err))
    })
    await listener.listen(multiaddr('/ip4/127.0.0.1/tcp/0'))
    try {
      const port = Number(listener.getAddrs()[0].getComponents().find(c => c.name === 'tcp')?.value)
      for (const [what, garbage] of GARBAGE) {
        const socket = await rawSocket(port)
        const closed = socketClosed(socket, 10_000)
        socket.write(garbage)
        await until(() => outcomes.length === accepted.length && accepted.length > 0, 5000, 'accepted')
        const err = await outcomes[outcomes.length - 1]
        assert.ok(err instanceof PeerkitError, `${what}: ${err.name}: ${err.message}`)
        assert.ok(TYPED_UPGRADE_ERRORS.includes(err.name), `${what}: ${err.name}`)
        await closed
        assert.notEqual(accepted[accepted.length - 1].timeline.close, undefined, `${what}: the raw connection is closed`)
      }
    } finally {
      await listener.close({ closeConnections: true })
    }
  })

  it('a peer that never finishes the upgrade is closed after upgradeTimeout, leaving nothing behind', async () => {
    const upgradeTimeout = 600
    const log = captureLog()
    const b = await createPeer({ init: { log, upgradeTimeout } })
    const a = await createPeer()
    b.swarm.handle('/echo/1.0.0', echo)
    const tracker = new ResourceTracker().start()
    try {
      const socket = await rawSocket(b.port)
      const port = socket.localPort!
      const started = Date.now()
      const closed = socketClosed(socket, upgradeTimeout + 10_000)
      // The multistream-select header, then nothing.
      socket.write(mssMessage('/multistream/1.0.0'))
      // Served meanwhile.
      const stream = await a.swarm.openStream(b.addr, '/echo/1.0.0')
      assert.deepEqual(await roundTrip(stream, bytes(100)), bytes(100))
      await a.swarm.hangUp(b.peerId)
      const received = await closed
      const elapsed = Date.now() - started
      assert.ok(elapsed >= upgradeTimeout * 0.5, `closed after the timeout (${elapsed}ms)`)
      assert.ok(elapsed < upgradeTimeout + 5000, `closed soon after the timeout (${elapsed}ms)`)
      assert.deepEqual(Uint8Array.from(received.subarray(0, 20)), mssMessage('/multistream/1.0.0'), 'the node answered the header')
      await until(() => loggedUpgradeFailure(log.lines, port) != null, 5000, 'failure logged')
      assert.equal(loggedUpgradeFailure(log.lines, port), 'TimeoutError')
      // Every socket and timer created meanwhile (the stalled upgrade's and the normal peer's) is gone.
      await until(() => b.swarm.getConnections().length === 0, 5000, 'B dropped the normal connection')
      await until(() => tracker.alive().length === 0, 5000, 'nothing left alive').catch((err: Error) => {
        throw new Error(`${err.message}: ${tracker.describe()}`)
      })
    } finally {
      tracker.stop()
    }
  })

  it('streams opened and never negotiated are reset after inboundStreamNegotiationTimeout', async () => {
    const b = await createPeer({ init: { inboundStreamNegotiationTimeout: 300 } })
    const a = await createPeer()
    let handled = 0
    b.swarm.handle('/echo/1.0.0', async (data) => { handled++; await echo(data) })
    // A hand-made dialer: Noise and yamux, then streams on which nothing is ever written.
    const privateKey = await generateKeyPair('Ed25519')
    const maConn = await tcp().dial(b.addr)
    const { stream: negotiated } = await mssSelect(maConn as SecureStream, '/noise')
    const secured = await noise()({ privateKey, peerId: peerIdFromPrivateKey(privateKey) }).secureOutbound(negotiated, { remotePeer: b.peerId, streamMuxers: ['/yamux/1.0.0'] })
    const muxer = yamux().createStreamMuxer({ direction: 'outbound' })
    void muxer.sink(secured.conn.source).catch(() => {})
    void secured.conn.sink(muxer.source).catch(() => {})
    try {
      await until(() => b.swarm.getConnections().length === 1, 5000, 'B has the connection')
      const silent = await Promise.all(Array.from({ length: 20 }, async () => muxer.newStream()))
      await until(() => silent.every(s => s.status === 'reset'), 10_000, 'silent streams reset by B')
      assert.equal(handled, 0)
      assert.equal(b.swarm.getConnections()[0].streams.length, 0, 'B holds none of them')
      // The connection still serves, and so does B.
      const { stream } = await mssSelect(await muxer.newStream(), '/echo/1.0.0')
      assert.deepEqual(await roundTrip(stream as Stream, bytes(10)), bytes(10), 'the connection still serves')
      const conn = await a.swarm.dial(b.addr)
      assert.deepEqual(await roundTrip(await conn.newStream('/echo/1.0.0'), bytes(10)), bytes(10), 'B still serves')
    } finally {
      muxer.abort(new Error('done'))
      maConn.abort(new Error('done'))
    }
  })

  it('a dial whose /p2p/ does not match the remote key fails with UnexpectedPeerError', async () => {
    const a = await createPeer()
    const b = await createPeer()
    const impostor = await createPeer({ listen: false })
    b.swarm.handle('/echo/1.0.0', echo)
    const wrong = multiaddr(`${b.addr.decapsulateCode(421).toString()}/p2p/${impostor.peerId.toString()}`)
    const err = await a.swarm.dial(wrong).catch((e: Error) => e)
    assert.ok(err instanceof DialError, String(err))
    assert.equal(err.peer, impostor.peerId.toString())
    assert.equal(err.attempts.length, 1)
    assert.equal(err.attempts[0].address, wrong.toString())
    assert.equal(err.attempts[0].error.name, 'UnexpectedPeerError')
    const unexpected = err.attempts[0].error as Error & { expected: string, actual: string }
    assert.equal(unexpected.expected, impostor.peerId.toString())
    assert.equal(unexpected.actual, b.peerId.toString())
    assert.equal(a.swarm.getConnections().length, 0)
    await until(() => b.swarm.getConnections().length === 0, 5000, 'B dropped the connection')
    // Both nodes keep serving.
    const stream = await a.swarm.openStream(b.addr, '/echo/1.0.0')
    assert.deepEqual(await roundTrip(stream, bytes(10)), bytes(10))
  })

  it('10,000 inbound streams at once against maxInboundStreams 100: at most 100 are served, the rest reset, memory bounded', async () => {
    const PROTOCOL = '/storm/1.0.0'
    const STREAMS = 10_000
    const LIMIT = 100
    const listener = await createPeer()
    // The dialer's muxer must let it open them all: yamux allows 1024 outbound streams by default.
    const dialer = await createPeer({ yamux: { maxOutboundStreams: STREAMS * 2 } })
    let handled = 0
    listener.swarm.handle(PROTOCOL, async ({ stream }) => {
      handled++
      await stream.sink(stream.source) // echo: holds the stream until the dialer ends it
    }, { maxInboundStreams: LIMIT })
    const conn = await dialer.swarm.dial(listener.addr)
    await until(() => listener.swarm.getConnections().length === 1, 5000, 'listener has the connection')
    const listenerConn = listener.swarm.getConnections()[0]
    const negotiated = (c: Connection): number => c.streams.filter(s => s.protocol === PROTOCOL && s.direction === 'inbound').length

    const gc = forceGc()
    const heapBefore = process.memoryUsage().heapUsed

    // Sample the listener's negotiated streams while the storm runs.
    let peak = 0
    let sampling = true
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, negotiated(listenerConn))
        await tick(1)
      }
    })()

    const started = Date.now()
    const results = await Promise.allSettled(Array.from({ length: STREAMS }, async () => {
      const stream = await conn.newStream(PROTOCOL, { maxOutboundStreams: STREAMS * 2 })
      return stream
    }))
    const opened = results.filter((r): r is PromiseFulfilledResult<Stream> => r.status === 'fulfilled').map(r => r.value)
    const refused = results.filter(r => r.status === 'rejected').length
    // Streams that were negotiated and then found over the limit are reset: wait for the resets.
    await until(() => opened.filter(s => s.status === 'open').length <= LIMIT, 15_000, 'extra streams reset')
    const stormMs = Date.now() - started
    sampling = false
    await sampler
    peak = Math.max(peak, negotiated(listenerConn))

    const live = opened.filter(s => s.status === 'open')
    const reset = opened.filter(s => s.status === 'reset')
    assert.equal(handled, LIMIT, 'the handler got exactly maxInboundStreams streams')
    assert.ok(peak <= LIMIT, `the listener never held more than ${LIMIT} negotiated streams (peak ${peak})`)
    assert.equal(live.length, LIMIT, 'the dialer has exactly the served streams left open')
    assert.equal(refused + reset.length, STREAMS - LIMIT, `every other stream failed (refused ${refused}, reset ${reset.length})`)
    if (reset.length > 0) {
      const err = await readAll(reset[0]).then(() => undefined, (e: Error) => e)
      assert.ok(err instanceof StreamResetError, `a reset stream reads as StreamResetError, got ${String(err)}`)
    }

    // Heap: measured after the dialer dropped its references to the failed streams, so that what
    // remains is the 100 served streams plus whatever either node failed to release. Measured on
    // this stack: an open stream costs about 15 KiB (both sides together), and merely keeping the
    // 9,900 reset streams reachable on one side adds about 45 MiB (some 4.5 KiB each), while the
    // honest growth is 2-3 MiB. With a real GC (see forceGc) the bound is 16 MiB, which a leak of
    // the refused streams, buffered or not, exceeds. Without one, garbage counts too (up to about
    // 60 MiB right after the storm), so only a coarse 64 MiB bound can be applied.
    opened.length = 0
    results.length = 0
    reset.length = 0
    const gcAfter = forceGc()
    const growth = process.memoryUsage().heapUsed - heapBefore
    const bound = gc && gcAfter ? 16 * 1024 * 1024 : 64 * 1024 * 1024
    assert.ok(growth < bound, `heap grew by ${(growth / 1048576).toFixed(1)} MiB (bound ${bound / 1048576} MiB)`)
    assert.ok(stormMs < 15_000, `storm handled in ${stormMs}ms`)

    // The node keeps serving: once the held streams end, a fresh stream works.
    await Promise.all(live.map(async s => s.close()))
    await until(() => negotiated(listenerConn) === 0, 10_000, 'the served streams ended')
    const fresh = await conn.newStream(PROTOCOL)
    assert.deepEqual(await roundTrip(fresh, bytes(1000)), bytes(1000))
    assert.equal(conn.status, 'open')
  })
})
