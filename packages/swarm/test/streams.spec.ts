import assert from 'node:assert/strict'
import { LimitExceededError, StreamResetError, UnsupportedProtocolError } from '@peerkit/interfaces'
import { bytes, createPeer, echo, readAll, roundTrip, stopAll, until } from './fixtures.js'
import type { Connection, IncomingStreamData, PeerId, Stream } from '@peerkit/interfaces'

/** A handler that keeps every stream it gets open until `release()` is called. */
function holder (): { streams: Stream[], handler: (data: IncomingStreamData) => Promise<void>, release(): Promise<void> } {
  const streams: Stream[] = []
  const waiting: Array<() => void> = []
  return {
    streams,
    async handler ({ stream }) {
      streams.push(stream)
      await new Promise<void>(resolve => waiting.push(resolve))
      await stream.close()
    },
    async release () {
      for (const w of waiting.splice(0)) w()
      await until(() => streams.every(s => s.status !== 'open'), 5000, 'held streams closed')
    }
  }
}

/** Streams of `protocol` the connection to `peer` currently has, in `direction`. */
function streamsOf (conn: Connection | undefined, protocol: string, direction: 'inbound' | 'outbound'): number {
  return conn?.streams.filter(s => s.protocol === protocol && s.direction === direction).length ?? 0
}

function connTo (swarm: { getConnections(peer?: PeerId): Connection[] }, peer: PeerId): Connection | undefined {
  return swarm.getConnections(peer)[0]
}

describe('streams and handlers', () => {
  afterEach(stopAll)

  it('exchanges data both ways and hands the handler its connection', async () => {
    const a = await createPeer()
    const b = await createPeer()
    const seen: PeerId[] = []
    b.swarm.handle('/echo/1.0.0', async (data) => {
      seen.push(data.connection.remotePeer)
      await echo(data)
    })
    const payload = bytes(1024 * 1024 + 17)
    const stream = await a.swarm.openStream(b.addr, '/echo/1.0.0')
    assert.equal(stream.direction, 'outbound')
    assert.deepEqual(await roundTrip(stream, payload), payload)
    assert.equal(seen.length, 1)
    assert.ok(seen[0].equals(a.peerId))
    // Several streams at once on the same connection.
    const answers = await Promise.all(Array.from({ length: 20 }, async (_, i) => {
      const s = await a.swarm.openStream(b.peerId, '/echo/1.0.0')
      return roundTrip(s, bytes(1000 + i, i + 2))
    }))
    answers.forEach((answer, i) => { assert.deepEqual(answer, bytes(1000 + i, i + 2)) })
    assert.equal(a.swarm.getConnections().length, 1)
  })

  it('an unsupported protocol fails with UnsupportedProtocolError and the connection stays usable', async () => {
    const a = await createPeer()
    const b = await createPeer()
    b.swarm.handle('/echo/1.0.0', echo)
    const err = await a.swarm.openStream(b.addr, ['/x/1.0.0', '/y/1.0.0']).catch((e: Error) => e)
    assert.ok(err instanceof UnsupportedProtocolError, String(err))
    const stream = await a.swarm.openStream(b.peerId, '/echo/1.0.0')
    assert.deepEqual(await roundTrip(stream, bytes(10)), bytes(10))
  })

  it('resets inbound streams past the handler\'s maxInboundStreams', async () => {
    const a = await createPeer()
    const b = await createPeer()
    const held = holder()
    b.swarm.handle('/held/1.0.0', held.handler, { maxInboundStreams: 2 })
    const conn = await a.swarm.dial(b.addr)
    const s1 = await conn.newStream('/held/1.0.0')
    const s2 = await conn.newStream('/held/1.0.0')
    await until(() => held.streams.length === 2, 5000, 'both streams handled')
    // The listener agrees on the protocol, counts the stream, finds the limit reached and resets it.
    const err = await conn.newStream('/held/1.0.0').then(readAll).then(() => undefined, (e: Error) => e)
    assert.ok(err instanceof StreamResetError, `the third stream is reset, got ${String(err)}`)
    assert.equal(held.streams.length, 2, 'the handler never saw the third stream')
    assert.equal(streamsOf(connTo(b.swarm, a.peerId), '/held/1.0.0', 'inbound'), 2)
    // Once the held streams end, a new one is accepted.
    await held.release()
    await Promise.all([readAll(s1), readAll(s2), s1.closeWrite(), s2.closeWrite()])
    await until(() => streamsOf(connTo(b.swarm, a.peerId), '/held/1.0.0', 'inbound') === 0, 5000, 'listener streams gone')
    const s4 = await conn.newStream('/held/1.0.0')
    await until(() => held.streams.length === 3, 5000, 'the new stream is handled')
    await held.release()
    await s4.close()
  })

  it('refuses outbound streams past maxOutboundStreams with LimitExceededError', async () => {
    const a = await createPeer()
    const b = await createPeer()
    const held = holder()
    b.swarm.handle('/held/1.0.0', held.handler, { maxInboundStreams: 100 })
    const conn = await a.swarm.dial(b.addr)

    // Given per call.
    await conn.newStream('/held/1.0.0', { maxOutboundStreams: 2 })
    await conn.newStream('/held/1.0.0', { maxOutboundStreams: 2 })
    const err = await conn.newStream('/held/1.0.0', { maxOutboundStreams: 2 }).catch((e: Error) => e)
    assert.ok(err instanceof LimitExceededError, String(err))
    assert.equal(err.limit, 'maxOutboundStreams')
    assert.equal(err.max, 2)
    assert.match(err.message, /\/held\/1\.0\.0/)

    // From our own handler registration for the protocol.
    a.swarm.handle('/held/1.0.0', held.handler, { maxOutboundStreams: 3 })
    await conn.newStream('/held/1.0.0')
    const err2 = await a.swarm.openStream(b.peerId, '/held/1.0.0').catch((e: Error) => e)
    assert.ok(err2 instanceof LimitExceededError, String(err2))
    assert.equal(err2.max, 3)
    assert.equal(streamsOf(conn, '/held/1.0.0', 'outbound'), 3, 'the refused streams were not left open')
    await held.release()
  })

  it('aborts the stream of a handler that throws, and keeps serving', async () => {
    const a = await createPeer()
    const b = await createPeer()
    let calls = 0
    b.swarm.handle('/throws/1.0.0', async () => {
      calls++
      throw new Error('handler failure')
    })
    b.swarm.handle('/throws-sync/1.0.0', () => {
      calls++
      throw new Error('synchronous handler failure')
    })
    b.swarm.handle('/echo/1.0.0', echo)
    for (const protocol of ['/throws/1.0.0', '/throws-sync/1.0.0', '/throws/1.0.0']) {
      const stream = await a.swarm.openStream(b.addr, protocol)
      const err = await roundTrip(stream, bytes(10)).then(() => undefined, (e: Error) => e)
      assert.ok(err instanceof StreamResetError, `${protocol}: the stream is reset, got ${String(err)}`)
    }
    assert.equal(calls, 3)
    await until(() => (connTo(b.swarm, a.peerId)?.streams.length ?? 0) === 0, 5000, 'the aborted streams are gone')
    const stream = await a.swarm.openStream(b.peerId, '/echo/1.0.0')
    assert.deepEqual(await roundTrip(stream, bytes(100)), bytes(100))
    assert.equal(a.swarm.getConnections().length, 1, 'the connection survived')
  })
})
