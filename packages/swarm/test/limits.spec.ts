import assert from 'node:assert/strict'
import { DialError, LimitExceededError } from '@peerkit/interfaces'
import { bytes, createPeer, echo, mssMessage, nextEvent, rawSocket, roundTrip, socketClosed, stopAll, until } from './fixtures.js'
import type { Connection } from '@peerkit/interfaces'
import type { Socket } from 'node:net'

/**
 * Starts an upgrade that never finishes: sends multistream-select's header and a `/noise`
 * proposal, waits until the node answers (so it is surely upgrading this socket), then stays silent.
 */
async function stalledUpgrade (port: number): Promise<Socket> {
  const socket = await rawSocket(port)
  socket.on('error', () => {})
  const answered = new Promise<void>(resolve => { socket.once('data', () => { resolve() }) })
  socket.write(Buffer.concat([mssMessage('/multistream/1.0.0'), mssMessage('/noise')]))
  await answered
  return socket
}

/** Connects to `port` and resolves once the node has dropped the socket (reset or closed). */
async function dropped (port: number, ms: number): Promise<void> {
  const socket = await rawSocket(port).catch((err: NodeJS.ErrnoException) => {
    // Reset before the connect completed on our side.
    assert.equal(err.code, 'ECONNRESET')
    return undefined
  })
  if (socket != null) await socketClosed(socket, ms)
}

describe('connection limits', () => {
  afterEach(stopAll)

  it('refuses inbound connections past maxConnections and keeps the open ones', async () => {
    const b = await createPeer({ init: { maxConnections: 1 } })
    const a = await createPeer()
    const c = await createPeer()
    b.swarm.handle('/echo/1.0.0', echo)
    await a.swarm.dial(b.addr)
    await until(() => b.swarm.getConnections().length === 1, 5000, 'B has the first connection')
    const err = await c.swarm.dial(b.addr).catch((e: Error) => e)
    assert.ok(err instanceof DialError, String(err))
    assert.equal(b.swarm.getConnections().length, 1)
    assert.equal(c.swarm.getConnections().length, 0)
    const stream = await a.swarm.openStream(b.peerId, '/echo/1.0.0')
    assert.deepEqual(await roundTrip(stream, bytes(64)), bytes(64), 'the first connection still works')
  })

  it('closes inbound connections past maxConnectionsPerPeer, and refuses such dials up front', async () => {
    const b = await createPeer({ init: { maxConnectionsPerPeer: 1 } })
    const a = await createPeer()
    const first = await a.swarm.dial(b.addr)
    await until(() => b.swarm.getConnections(a.peerId).length === 1, 5000, 'B has the first connection')
    let opened = 0
    b.swarm.addEventListener('connection:open', () => { opened++ })
    // A allows two connections; B closes the second once it is upgraded. Depending on timing A sees
    // the dial fail or the new connection close right away.
    const second = await a.swarm.dial(b.addr, { force: true }).catch((e: Error) => e)
    if (!(second instanceof Error)) {
      assert.notEqual(second, first)
      await until(() => second.status === 'closed', 5000, 'the second connection is closed by B')
    }
    await until(() => a.swarm.getConnections(b.peerId).length === 1, 5000, 'A is back to one connection')
    assert.equal(opened, 0, 'B never added a second connection')
    assert.deepEqual(b.swarm.getConnections(a.peerId).length, 1)
    assert.equal(first.status, 'open')

    // The dialer's own limit is checked before dialling.
    const err = await b.swarm.dial(a.addr, { force: true }).catch((e: Error) => e)
    assert.ok(err instanceof LimitExceededError, String(err))
    assert.equal(err.limit, 'maxConnectionsPerPeer')
    assert.equal(err.max, 1)
  })

  it('drops inbound connections past maxIncomingPendingConnections until the pending ones time out', async () => {
    const upgradeTimeout = 1500
    const b = await createPeer({ init: { maxIncomingPendingConnections: 2, upgradeTimeout } })
    const a = await createPeer()
    b.swarm.handle('/echo/1.0.0', echo)
    const pending = [await stalledUpgrade(b.port), await stalledUpgrade(b.port)]
    const pendingClosed = pending.map(async s => socketClosed(s, upgradeTimeout + 10_000))
    const startedAt = Date.now()

    // While both upgrades are pending, further sockets are dropped at once...
    await dropped(b.port, upgradeTimeout)
    // ...and so is a real peer's dial.
    const err = await a.swarm.dial(b.addr).catch((e: Error) => e)
    assert.ok(err instanceof DialError, String(err))
    assert.ok(Date.now() - startedAt < upgradeTimeout, 'refused before the pending upgrades timed out')
    assert.ok(pending.every(s => !s.destroyed && s.readyState === 'open'), 'the pending upgrades are untouched')

    // Once the pending upgrades time out, their sockets are closed and the node serves again.
    await Promise.all(pendingClosed)
    assert.ok(Date.now() - startedAt >= upgradeTimeout - 500, 'closed by the upgrade timeout')
    const opened = nextEvent<Connection>(b.swarm, 'connection:open')
    const stream = await a.swarm.openStream(b.addr, '/echo/1.0.0')
    assert.deepEqual(await roundTrip(stream, bytes(64)), bytes(64))
    assert.ok((await opened).remotePeer.equals(a.peerId))
  })
})
