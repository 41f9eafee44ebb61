import assert from 'node:assert/strict'
import { createPeer, nextEvent, stopAll, until } from './fixtures.js'
import type { Connection, PeerId } from '@peerkit/interfaces'
import type { DefaultSwarm } from '../src/index.js'

interface Recorded { type: string, peer: string, connection?: string }

/** Records the swarm's connection events in order. */
function record (swarm: DefaultSwarm): Recorded[] {
  const events: Recorded[] = []
  for (const type of ['peer:connect', 'peer:disconnect'] as const) {
    swarm.addEventListener(type, (evt) => { events.push({ type, peer: (evt.detail as PeerId).toString() }) })
  }
  for (const type of ['connection:open', 'connection:close'] as const) {
    swarm.addEventListener(type, (evt) => {
      const conn = evt.detail as Connection
      events.push({ type, peer: conn.remotePeer.toString(), connection: conn.id })
    })
  }
  return events
}

describe('events', () => {
  afterEach(stopAll)

  it('peer:connect on the first connection, peer:disconnect after the last, connection:open/close for each', async () => {
    const a = await createPeer()
    const b = await createPeer()
    const aEvents = record(a.swarm)
    const bEvents = record(b.swarm)
    const B = b.peerId.toString()
    const A = a.peerId.toString()

    const first = await a.swarm.dial(b.addr)
    const second = await a.swarm.dial(b.addr, { force: true })
    assert.deepEqual(aEvents, [
      { type: 'connection:open', peer: B, connection: first.id },
      { type: 'peer:connect', peer: B },
      { type: 'connection:open', peer: B, connection: second.id }
    ])
    await until(() => bEvents.length === 3, 5000, 'B saw both connections')
    assert.deepEqual(bEvents.map(e => e.type), ['connection:open', 'peer:connect', 'connection:open'])
    assert.ok(bEvents.every(e => e.peer === A))

    await first.close()
    assert.deepEqual(aEvents.slice(3), [{ type: 'connection:close', peer: B, connection: first.id }], 'no peer:disconnect while a connection remains')
    await until(() => bEvents.length === 4, 5000, 'B saw the first close')
    assert.equal(bEvents[3].type, 'connection:close')

    const bDisconnected = nextEvent<PeerId>(b.swarm, 'peer:disconnect')
    await second.close()
    assert.deepEqual(aEvents.slice(4), [
      { type: 'connection:close', peer: B, connection: second.id },
      { type: 'peer:disconnect', peer: B }
    ])
    assert.ok((await bDisconnected).equals(a.peerId))
    assert.deepEqual(bEvents.slice(3).map(e => e.type), ['connection:close', 'connection:close', 'peer:disconnect'])
    assert.deepEqual(a.swarm.getConnections(), [])
    assert.deepEqual(b.swarm.getConnections(), [])
  })

  it('a new connection after a disconnect fires peer:connect again', async () => {
    const a = await createPeer()
    const b = await createPeer()
    const events = record(a.swarm)
    await (await a.swarm.dial(b.addr)).close()
    await a.swarm.dial(b.addr)
    assert.deepEqual(events.map(e => e.type), ['connection:open', 'peer:connect', 'connection:close', 'peer:disconnect', 'connection:open', 'peer:connect'])
  })

  it('hangUp closes every connection to the peer and fires the events', async () => {
    const a = await createPeer()
    const b = await createPeer()
    const c = await createPeer()
    await a.swarm.dial(b.addr)
    await a.swarm.dial(b.addr, { force: true })
    await a.swarm.dial(c.addr)
    const events = record(a.swarm)
    await a.swarm.hangUp(b.peerId)
    assert.deepEqual(events.map(e => e.type), ['connection:close', 'connection:close', 'peer:disconnect'])
    assert.equal(a.swarm.getConnections(b.peerId).length, 0)
    assert.equal(a.swarm.getConnections(c.peerId).length, 1, 'other peers are untouched')
    await until(() => b.swarm.getConnections().length === 0, 5000, 'B saw the connections close')
    await a.swarm.hangUp(c.addr)
    assert.equal(a.swarm.getConnections().length, 0, 'hangUp by multiaddr')
  })

  it('a connection closed by the remote is removed and reported', async () => {
    const a = await createPeer()
    const b = await createPeer()
    const conn = await a.swarm.dial(b.addr)
    const disconnected = nextEvent<PeerId>(a.swarm, 'peer:disconnect')
    const closed = nextEvent<Connection>(a.swarm, 'connection:close')
    await until(() => b.swarm.getConnections().length === 1, 5000, 'B has the connection')
    await b.swarm.getConnections()[0].close()
    assert.equal(await closed, conn)
    assert.ok((await disconnected).equals(b.peerId))
    assert.equal(conn.status, 'closed')
    assert.equal(a.swarm.getConnections().length, 0)
  })

  it('a connection aborted by the remote is removed and reported', async () => {
    const a = await createPeer()
    const b = await createPeer()
    const conn = await a.swarm.dial(b.addr)
    const disconnected = nextEvent<PeerId>(a.swarm, 'peer:disconnect')
    await until(() => b.swarm.getConnections().length === 1, 5000, 'B has the connection')
    b.swarm.getConnections()[0].abort(new Error('gone'))
    assert.ok((await disconnected).equals(b.peerId))
    assert.equal(conn.status, 'closed')
    assert.equal(a.swarm.getConnections().length, 0)
  })
})
