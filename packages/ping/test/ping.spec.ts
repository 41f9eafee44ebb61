/**
 * The ping service between two real swarms over TCP (Noise + yamux): round trips, many pings on one
 * stream, lying and silent peers, and the server's bounds.
 */
import assert from 'node:assert/strict'
import {
  AbortError, InvalidParametersError, NotStartedError, ProtocolError, TimeoutError, UnexpectedEOFError, UnsupportedProtocolError
} from '@peerkit/interfaces'
import { ByteStream, defaultLogger } from '@peerkit/utils'
import { DEFAULT_MAX_INBOUND_STREAMS, DEFAULT_TIMEOUT, PING_LENGTH, PING_PROTOCOL, ping } from '../src/index.js'
import { createPeer, delay, waitFor } from './utils.js'
import type { TestPeer } from './utils.js'
import type { Connection, IncomingStreamData, Stream } from '@peerkit/interfaces'

/** Counts the streams opened on `connection`. */
function countNewStreams (connection: Connection): { count: number } {
  const counter = { count: 0 }
  const original = connection.newStream.bind(connection)
  connection.newStream = async (...args) => {
    counter.count++
    return original(...args)
  }
  return counter
}

describe('ping', () => {
  const peers: TestPeer[] = []
  async function peer (...args: Parameters<typeof createPeer>): Promise<TestPeer> {
    const p = await createPeer(...args)
    peers.push(p)
    return p
  }

  afterEach(async () => {
    await Promise.all(peers.splice(0).map(async p => p.stop()))
  })

  describe('round trips', () => {
    it('measures a round trip to a peer given by address, then by PeerId', async () => {
      const a = await peer()
      const b = await peer()
      const rtt = await a.ping!.ping(b.swarm.getMultiaddrs()[0])
      assert.ok(rtt > 0 && rtt < 5000, `rtt ${rtt}`)
      const again = await a.ping!.ping(b.peerId)
      assert.ok(again > 0)
      assert.equal(a.swarm.getConnections(b.peerId).length, 1, 'the connection is reused')
    })

    it('pings many times over one stream, one value per round trip, then closes the stream gracefully', async () => {
      const a = await peer()
      const b = await peer()
      const connection = await a.swarm.dial(b.swarm.getMultiaddrs()[0])
      const opened = countNewStreams(connection)
      const rtts: number[] = []
      for await (const rtt of a.ping!.pingMany(b.peerId, 5)) {
        rtts.push(rtt)
      }
      assert.equal(rtts.length, 5)
      assert.ok(rtts.every(r => r > 0))
      assert.equal(opened.count, 1)
      // Both ends of the stream are gone once the exchange is over.
      await waitFor(() => connection.streams.length === 0 && b.swarm.getConnections(a.peerId)[0]?.streams.length === 0)
    })

    it('waits `interval` ms between pings', async () => {
      const a = await peer()
      const b = await peer()
      await a.swarm.dial(b.swarm.getMultiaddrs()[0])
      const start = Date.now()
      let n = 0
      for await (const _ of a.ping!.pingMany(b.peerId, 3, { interval: 50 })) n++
      assert.equal(n, 3)
      assert.ok(Date.now() - start >= 95, `took ${Date.now() - start} ms`)
    })

    it('a caller that stops iterating early ends the stream, and the next ping works', async () => {
      const a = await peer()
      const b = await peer()
      const connection = await a.swarm.dial(b.swarm.getMultiaddrs()[0])
      for await (const _ of a.ping!.pingMany(b.peerId, 100)) break
      await waitFor(() => connection.streams.length === 0)
      assert.ok(await a.ping!.ping(b.peerId) > 0)
    })

    it('pings back and forth on the same connection', async () => {
      const a = await peer()
      const b = await peer()
      await a.swarm.dial(b.swarm.getMultiaddrs()[0])
      await waitFor(() => b.swarm.getConnections(a.peerId).length === 1)
      const [x, y] = await Promise.all([a.ping!.ping(b.peerId), b.ping!.ping(a.peerId)])
      assert.ok(x > 0 && y > 0)
    })
  })

  describe('errors', () => {
    it('a peer echoing other bytes gives a ProtocolError', async () => {
      const a = await peer()
      const liar = await peer(false)
      liar.swarm.handle(PING_PROTOCOL, async ({ stream }: IncomingStreamData) => {
        const bytes = new ByteStream(stream)
        const payload = (await bytes.read(PING_LENGTH)).subarray()
        payload[0] ^= 0xff
        await bytes.write(payload)
        await stream.close()
      })
      const connection = await a.swarm.dial(liar.swarm.getMultiaddrs()[0])
      await assert.rejects(a.ping!.ping(liar.peerId), (err: Error) => err instanceof ProtocolError && err.protocol === PING_PROTOCOL)
      assert.equal(connection.status, 'open', 'the connection survives')
      await waitFor(() => connection.streams.length === 0)
    })

    it('a silent peer gives a TimeoutError after `timeout`, and the connection keeps working', async () => {
      const a = await peer({ timeout: 150 })
      const silent = await peer(false)
      const held: Stream[] = []
      silent.swarm.handle(PING_PROTOCOL, ({ stream }: IncomingStreamData) => { held.push(stream) })
      const connection = await a.swarm.dial(silent.swarm.getMultiaddrs()[0])
      const start = Date.now()
      await assert.rejects(a.ping!.ping(silent.peerId), (err: Error) => err instanceof TimeoutError && err.timeoutMs === 150)
      const elapsed = Date.now() - start
      assert.ok(elapsed >= 140 && elapsed < DEFAULT_TIMEOUT / 2, `timed out after ${elapsed} ms`)
      assert.equal(connection.status, 'open')
      await waitFor(() => held.length === 1 && held[0].status !== 'open')
      // Replace the silent handler with an honest echo: the same connection carries a ping again.
      silent.swarm.handle(PING_PROTOCOL, async ({ stream }) => { await stream.sink(stream.source) }, { force: true })
      assert.ok(await a.ping!.ping(silent.peerId) > 0)
    })

    it('a per-call timeout overrides the service timeout', async () => {
      const a = await peer()
      const silent = await peer(false)
      silent.swarm.handle(PING_PROTOCOL, () => {})
      await a.swarm.dial(silent.swarm.getMultiaddrs()[0])
      await assert.rejects(a.ping!.ping(silent.peerId, { timeout: 50 }), (err: Error) => err instanceof TimeoutError && err.timeoutMs === 50)
    })

    it('a peer closing without answering gives an UnexpectedEOFError', async () => {
      const a = await peer()
      const rude = await peer(false)
      rude.swarm.handle(PING_PROTOCOL, async ({ stream }) => { await stream.close() })
      await a.swarm.dial(rude.swarm.getMultiaddrs()[0])
      await assert.rejects(a.ping!.ping(rude.peerId), UnexpectedEOFError)
    })

    it('a peer that does not speak ping gives an UnsupportedProtocolError', async () => {
      const a = await peer()
      const other = await peer(false)
      await assert.rejects(a.ping!.ping(other.swarm.getMultiaddrs()[0]), UnsupportedProtocolError)
    })

    it('aborting the signal stops a series of pings', async () => {
      const a = await peer()
      const b = await peer()
      await a.swarm.dial(b.swarm.getMultiaddrs()[0])
      const controller = new AbortController()
      let n = 0
      await assert.rejects((async () => {
        for await (const _ of a.ping!.pingMany(b.peerId, 1000, { signal: controller.signal, interval: 20 })) {
          if (++n === 2) controller.abort()
        }
      })(), AbortError)
      assert.equal(n, 2)
    })

    it('refuses bad counts and calls before start', async () => {
      const a = await peer()
      for (const count of [0, -1, 1.5, Number.NaN, 1_000_001]) {
        await assert.rejects(a.ping!.pingMany(a.peerId, count).next(), InvalidParametersError, `count ${count}`)
      }
      await assert.rejects(a.ping!.pingMany(a.peerId, 1, { interval: -1 }).next(), InvalidParametersError)
      await assert.rejects(a.ping!.ping(a.peerId, { timeout: 0 }), InvalidParametersError)
      assert.throws(() => ping({ timeout: -1 })({ swarm: a.swarm, logger: defaultLogger() }), InvalidParametersError)
      assert.throws(() => ping({ maxInboundStreams: 1.5 })({ swarm: a.swarm, logger: defaultLogger() }), InvalidParametersError)
      await a.ping!.stop()
      await assert.rejects(a.ping!.ping(a.peerId), NotStartedError)
    })
  })

  describe('server', () => {
    it('echoes payloads split across writes, and ends when the client closes its side', async () => {
      const a = await peer(false)
      const b = await peer()
      const stream = await a.swarm.openStream(b.swarm.getMultiaddrs()[0], PING_PROTOCOL)
      const payload = crypto.getRandomValues(new Uint8Array(PING_LENGTH * 2))
      const bytes = new ByteStream(stream)
      await bytes.write(payload.subarray(0, 5))
      await delay(10)
      await bytes.write(payload.subarray(5, 40))
      await bytes.write(payload.subarray(40))
      assert.deepEqual((await bytes.read(PING_LENGTH * 2)).subarray(), payload)
      await stream.close()
      assert.equal(stream.status, 'closed')
    })

    it('closes a stream that stays idle for `timeout`', async () => {
      const a = await peer(false)
      const b = await peer({ timeout: 100 })
      const stream = await a.swarm.openStream(b.swarm.getMultiaddrs()[0], PING_PROTOCOL)
      const bytes = new ByteStream(stream)
      // The server's idle time starts once it has echoed the ping, so between our write and the
      // close there are at least `timeout` ms; after our read of the echo there may be almost none
      // (on a loaded machine the echo can be read late). The upper bound only has to tell the
      // configured timeout from the default one.
      const start = Date.now()
      await bytes.write(new Uint8Array(PING_LENGTH))
      assert.equal((await bytes.read(PING_LENGTH)).byteLength, PING_LENGTH)
      await assert.rejects(bytes.read(1))
      const elapsed = Date.now() - start
      assert.ok(elapsed >= 95 && elapsed < DEFAULT_TIMEOUT / 2, `closed after ${elapsed} ms`)
    })

    it('resets a stream whose last payload is truncated, and keeps serving the connection', async () => {
      const a = await peer()
      const b = await peer()
      const stream = await a.swarm.openStream(b.swarm.getMultiaddrs()[0], PING_PROTOCOL)
      const bytes = new ByteStream(stream)
      await bytes.write(new Uint8Array(PING_LENGTH / 2))
      await stream.closeWrite()
      await assert.rejects(bytes.read(1))
      assert.ok(await a.ping!.ping(b.peerId) > 0)
    })

    it(`accepts at most maxInboundStreams (${DEFAULT_MAX_INBOUND_STREAMS}) ping streams per connection`, async () => {
      const a = await peer(false)
      const b = await peer()
      const connection = await a.swarm.dial(b.swarm.getMultiaddrs()[0])
      const streams = await Promise.all([1, 2, 3].map(async () => connection.newStream(PING_PROTOCOL, { maxOutboundStreams: 10 })))
      const results = await Promise.allSettled(streams.map(async stream => {
        const bytes = new ByteStream(stream)
        await bytes.write(new Uint8Array(PING_LENGTH).fill(1))
        return (await bytes.read(PING_LENGTH)).byteLength
      }))
      assert.equal(results.filter(r => r.status === 'fulfilled').length, DEFAULT_MAX_INBOUND_STREAMS)
      assert.equal(results.filter(r => r.status === 'rejected').length, 1)
      for (const s of streams) s.abort(new AbortError('test over'))
    })

    it('stop() ends idle inbound streams at once', async () => {
      const a = await peer(false)
      const b = await peer()
      const stream = await a.swarm.openStream(b.swarm.getMultiaddrs()[0], PING_PROTOCOL)
      const bytes = new ByteStream(stream)
      await bytes.write(new Uint8Array(PING_LENGTH))
      await bytes.read(PING_LENGTH)
      const start = Date.now()
      await b.ping!.stop()
      assert.ok(Date.now() - start < DEFAULT_TIMEOUT / 2)
      await assert.rejects(bytes.read(1))
      assert.deepEqual(b.swarm.getProtocols().includes(PING_PROTOCOL), false)
    })
  })
})
