import assert from 'node:assert/strict'
import { DialError, HandshakeError, UnsupportedProtocolError } from '@peerkit/interfaces'
import { bytes, createPeer, echo, mssMessage, roundTrip, stopAll, until } from './fixtures.js'
import type { EncrypterName, MuxerName } from './fixtures.js'
import type { ConnectionEncrypter, SecuredConnection, SecureStream, Source } from '@peerkit/interfaces'
import type { Uint8ArrayList } from 'uint8arraylist'

const MUXER_IDS: Record<MuxerName, string> = { yamux: '/yamux/1.0.0', mplex: '/mplex/6.7.0' }
const ENCRYPTER_IDS: Record<EncrypterName, string> = { noise: '/noise', plaintext: '/plaintext/2.0.0' }
const MSS_HEADER = mssMessage('/multistream/1.0.0')

/** What one handshake produced, seen from inside the encrypted pipe. */
interface Handshake {
  direction: 'inbound' | 'outbound'
  /** The muxer agreed during the handshake, if any. */
  streamMuxer?: string
  /** The first bytes written on the secured connection after the handshake. */
  firstWrite?: Uint8Array
}

/**
 * Wraps an encrypter so that each handshake's result is recorded, and the first bytes the upgrader
 * then writes through the secured connection are kept: they tell whether the upgrader ran a
 * multistream-select round for the muxer (they start with its header) or went straight to muxing.
 */
function observe (handshakes: Handshake[]): (e: ConnectionEncrypter) => ConnectionEncrypter {
  const tap = (secured: SecuredConnection, direction: Handshake['direction']): SecuredConnection => {
    const record: Handshake = { direction, streamMuxer: secured.streamMuxer }
    handshakes.push(record)
    const inner = secured.conn
    const conn: SecureStream = {
      source: inner.source,
      sink: async (source: Source<Uint8Array | Uint8ArrayList>) => inner.sink((async function * () {
        for await (const chunk of source) {
          record.firstWrite ??= Uint8Array.from(chunk instanceof Uint8Array ? chunk : chunk.subarray())
          yield chunk
        }
      })())
    }
    return { ...secured, conn }
  }
  return (e) => ({
    protocol: e.protocol,
    secureOutbound: async (conn, options) => tap(await e.secureOutbound(conn, options), 'outbound'),
    secureInbound: async (conn, options) => tap(await e.secureInbound(conn, options), 'inbound')
  })
}

function startsWith (data: Uint8Array | undefined, prefix: Uint8Array): boolean {
  return data != null && data.byteLength >= prefix.byteLength && prefix.every((b, i) => data[i] === b)
}

describe('connection upgrade', () => {
  afterEach(stopAll)

  describe('early muxer negotiation', () => {
    it('with Noise the muxer agreed in the handshake is used, without a multistream-select round', async () => {
      const handshakes: Handshake[] = []
      // Different preference orders: the initiator's preference wins.
      const a = await createPeer({ muxers: ['mplex', 'yamux'], wrapEncrypter: observe(handshakes) })
      const b = await createPeer({ muxers: ['yamux', 'mplex'], wrapEncrypter: observe(handshakes) })
      b.swarm.handle('/echo/1.0.0', echo)
      const stream = await a.swarm.openStream(b.addr, '/echo/1.0.0')
      assert.deepEqual(await roundTrip(stream, bytes(100)), bytes(100))
      await until(() => handshakes.length === 2 && handshakes.every(h => h.firstWrite != null), 5000, 'both sides wrote')
      for (const h of handshakes) {
        assert.equal(h.streamMuxer, '/mplex/6.7.0', `${h.direction}: agreed in the handshake`)
        assert.ok(!startsWith(h.firstWrite, MSS_HEADER), `${h.direction}: the first bytes after the handshake are muxer frames, not multistream-select`)
      }
      assert.equal(a.swarm.getConnections()[0].multiplexer, '/mplex/6.7.0')
      assert.equal(b.swarm.getConnections()[0].multiplexer, '/mplex/6.7.0')
    })

    it('with plaintext (no early negotiation) the muxer is negotiated by multistream-select', async () => {
      const handshakes: Handshake[] = []
      const a = await createPeer({ encrypters: ['plaintext'], muxers: ['mplex', 'yamux'], wrapEncrypter: observe(handshakes) })
      const b = await createPeer({ encrypters: ['plaintext'], muxers: ['yamux', 'mplex'], wrapEncrypter: observe(handshakes) })
      b.swarm.handle('/echo/1.0.0', echo)
      const stream = await a.swarm.openStream(b.addr, '/echo/1.0.0')
      assert.deepEqual(await roundTrip(stream, bytes(100)), bytes(100))
      await until(() => handshakes.length === 2 && handshakes.every(h => h.firstWrite != null), 5000, 'both sides wrote')
      for (const h of handshakes) {
        assert.equal(h.streamMuxer, undefined)
        assert.ok(startsWith(h.firstWrite, MSS_HEADER), `${h.direction}: multistream-select runs after the handshake`)
      }
      assert.equal(a.swarm.getConnections()[0].multiplexer, '/mplex/6.7.0', 'the dialer\'s preference wins')
      assert.equal(b.swarm.getConnections()[0].multiplexer, '/mplex/6.7.0')
    })

    it('with Noise and no muxer in common the handshake fails', async () => {
      const a = await createPeer({ muxers: ['mplex'] })
      const b = await createPeer({ muxers: ['yamux'] })
      const err = await a.swarm.dial(b.addr).catch((e: Error) => e)
      assert.ok(err instanceof DialError, String(err))
      assert.ok(err.attempts[0].error instanceof HandshakeError, `${err.attempts[0].error.name}: ${err.attempts[0].error.message}`)
      await until(() => b.swarm.getConnections().length === 0, 5000, 'B holds nothing')
    })

    it('with plaintext and no muxer in common the dial fails with UnsupportedProtocolError', async () => {
      const a = await createPeer({ encrypters: ['plaintext'], muxers: ['mplex'] })
      const b = await createPeer({ encrypters: ['plaintext'], muxers: ['yamux'] })
      const err = await a.swarm.dial(b.addr).catch((e: Error) => e)
      assert.ok(err instanceof DialError, String(err))
      assert.ok(err.attempts[0].error instanceof UnsupportedProtocolError, `${err.attempts[0].error.name}: ${err.attempts[0].error.message}`)
    })
  })

  it('picks the first encrypter of the dialer that the listener supports', async () => {
    const a = await createPeer({ encrypters: ['plaintext', 'noise'] })
    const b = await createPeer({ encrypters: ['noise'] })
    const conn = await a.swarm.dial(b.addr)
    assert.equal(conn.encryption, '/noise')
    const c = await createPeer({ encrypters: ['noise', 'plaintext'] })
    assert.equal((await c.swarm.dial(b.addr)).encryption, '/noise')
    const d = await createPeer({ encrypters: ['plaintext'] })
    const err = await d.swarm.dial(b.addr).catch((e: Error) => e)
    assert.ok(err instanceof DialError, String(err))
    assert.ok(err.attempts[0].error instanceof UnsupportedProtocolError, 'no encrypter in common')
  })

  describe('every encrypter and muxer pair exchanges data over TCP', () => {
    for (const encrypter of ['noise', 'plaintext'] as const) {
      for (const muxer of ['yamux', 'mplex'] as const) {
        it(`${encrypter} + ${muxer}`, async () => {
          const a = await createPeer({ encrypters: [encrypter], muxers: [muxer] })
          const b = await createPeer({ encrypters: [encrypter], muxers: [muxer] })
          b.swarm.handle('/echo/1.0.0', echo)
          const payload = bytes(300 * 1024, 7)
          const answers = await Promise.all(Array.from({ length: 4 }, async () => {
            const stream = await a.swarm.openStream(b.addr, '/echo/1.0.0')
            return roundTrip(stream, payload)
          }))
          for (const answer of answers) assert.deepEqual(answer, payload)
          const mine = a.swarm.getConnections()
          const theirs = b.swarm.getConnections()
          assert.equal(mine.length, 1)
          assert.equal(theirs.length, 1)
          for (const conn of [...mine, ...theirs]) {
            assert.equal(conn.encryption, ENCRYPTER_IDS[encrypter])
            assert.equal(conn.multiplexer, MUXER_IDS[muxer])
          }
        })
      }
    }
  })
})
