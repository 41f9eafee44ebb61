import assert from 'node:assert/strict'
import { ConnectionDeniedError, DialError } from '@peerkit/interfaces'
import { bytes, createPeer, echo, roundTrip, stopAll, until } from './fixtures.js'
import type { ConnectionGater, PeerId } from '@peerkit/interfaces'
import type { TestPeer } from './fixtures.js'

type Hook = keyof Omit<ConnectionGater, 'filterMultiaddrForPeer'>

/** A gater whose `hook` denies while `deny.on` is true, recording each call's first argument. */
function gater (hook: Hook): { gater: ConnectionGater, calls: unknown[], deny: { on: boolean } } {
  const calls: unknown[] = []
  const deny = { on: true }
  return {
    calls,
    deny,
    gater: { [hook]: (first: unknown) => { calls.push(first); return deny.on } }
  }
}

/** The ConnectionDeniedError a failed dial carries, wherever it is (the cause, or an attempt). */
function deniedError (err: DialError): ConnectionDeniedError | undefined {
  if (err.cause instanceof ConnectionDeniedError) return err.cause
  return err.attempts.map(a => a.error).find((e): e is ConnectionDeniedError => e instanceof ConnectionDeniedError)
}

/** After a denial: a dial without the denial works, so the node kept serving. */
async function stillServes (a: TestPeer, b: TestPeer, deny: { on: boolean }): Promise<void> {
  deny.on = false
  b.swarm.handle('/echo/1.0.0', echo, { force: true })
  const stream = await a.swarm.openStream(b.addr, '/echo/1.0.0')
  assert.deepEqual(await roundTrip(stream, bytes(32)), bytes(32))
}

describe('connection gater', () => {
  afterEach(stopAll)

  describe('outbound hooks deny on the dialer with ConnectionDeniedError naming the phase', () => {
    for (const hook of ['denyDialPeer', 'denyDialMultiaddr', 'denyOutboundConnection', 'denyOutboundEncryptedConnection', 'denyOutboundUpgradedConnection'] as const) {
      it(hook, async () => {
        const g = gater(hook)
        const a = await createPeer({ init: { connectionGater: g.gater } })
        const b = await createPeer()
        let inbound = 0
        b.swarm.addEventListener('connection:open', () => { inbound++ })
        const err = await a.swarm.dial(b.addr).catch((e: Error) => e)
        assert.ok(err instanceof DialError, String(err))
        const denied = deniedError(err)
        assert.ok(denied != null, `a ConnectionDeniedError in ${err.message}`)
        assert.equal(denied.phase, hook)
        assert.match(denied.message, new RegExp(hook))
        assert.equal(g.calls.length, 1)
        if (hook === 'denyDialMultiaddr') {
          assert.equal(String(g.calls[0]), b.addr.toString())
        } else {
          // Every other hook is given the peer first.
          assert.ok((g.calls[0] as PeerId).equals(b.peerId))
        }
        assert.equal(a.swarm.getConnections().length, 0)
        await until(() => b.swarm.getConnections().length === 0, 5000, 'B has no connection left')
        if (hook === 'denyDialPeer' || hook === 'denyDialMultiaddr' || hook === 'denyOutboundConnection') {
          // Denied before a byte was sent. (After the handshake, B may briefly hold the connection.)
          assert.equal(inbound, 0, 'B never added the connection')
        }
        await stillServes(a, b, g.deny)
      })
    }
  })

  describe('inbound hooks deny on the listener and the dial fails', () => {
    for (const hook of ['denyInboundConnection', 'denyInboundEncryptedConnection', 'denyInboundUpgradedConnection'] as const) {
      it(hook, async () => {
        const g = gater(hook)
        const a = await createPeer()
        const b = await createPeer({ init: { connectionGater: g.gater } })
        let inbound = 0
        b.swarm.addEventListener('connection:open', () => { inbound++ })
        const outcome = await a.swarm.dial(b.addr).catch((e: Error) => e)
        if (outcome instanceof Error) {
          assert.ok(outcome instanceof DialError, String(outcome))
        } else {
          // Noise's dialer finishes its handshake one message before the listener does, so when
          // the listener denies after the handshake the dialer may already hold the connection:
          // it then closes as soon as the listener drops it.
          assert.notEqual(hook, 'denyInboundConnection')
          await until(() => outcome.status === 'closed', 5000, 'the denied connection closes on the dialer')
        }
        await until(() => a.swarm.getConnections().length === 0, 5000, 'A has no connection left')
        assert.equal(g.calls.length, 1)
        if (hook === 'denyInboundConnection') {
          assert.equal(typeof (g.calls[0] as { abort?: unknown }).abort, 'function', 'given the raw connection')
        } else {
          assert.ok((g.calls[0] as PeerId).equals(a.peerId), 'given the proven remote peer')
        }
        assert.equal(b.swarm.getConnections().length, 0)
        assert.equal(inbound, 0, 'B never added the connection')
        await stillServes(a, b, g.deny)
      })
    }
  })
})
