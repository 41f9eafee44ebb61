/**
 * Data transfer: both directions, large and small writes, many concurrent streams; run over every
 * transport kind (in memory, fragmented, TCP) so framing bugs at chunk boundaries show up.
 */
import assert from 'node:assert/strict'
import { callbackProblems, createMuxerPair, openStream } from './harness.js'
import { chunked, collect, digest, echo, prng, randomBytes, until, within } from './utils.js'
import type { TransportKind } from './duplex.js'
import type { MuxerPair, MuxerSide } from './harness.js'
import type { TestSetup } from '../index.js'
import type { Stream, StreamMuxerFactory } from '@peerkit/interfaces'

/** Asserts two byte arrays are equal without dumping megabytes into the message. */
export function assertSameBytes (actual: Uint8Array, expected: Uint8Array, what: string): void {
  if (actual.byteLength !== expected.byteLength) {
    assert.fail(`${what}: received ${actual.byteLength} bytes, expected ${expected.byteLength}`)
  }
  if (digest(actual) !== digest(expected)) {
    let i = 0
    while (i < actual.byteLength && actual[i] === expected[i]) i++
    assert.fail(`${what}: bytes differ, first at offset ${i}`)
  }
}

/** Waits until both muxers list no open stream (streams closed on both sides must be released). */
export async function assertStreamsReleased (pair: MuxerPair, ms = 3000): Promise<void> {
  await until(() => pair.dialer.muxer.streams.length === 0 && pair.listener.muxer.streams.length === 0, ms,
    `streams closed on both sides are removed from muxer.streams (dialer lists ${pair.dialer.muxer.streams.length}, listener ${pair.listener.muxer.streams.length})`)
  assert.deepEqual([...callbackProblems(pair.dialer), ...callbackProblems(pair.listener)], [])
}

async function exchange (stream: Stream, data: Uint8Array, chunkSize: number): Promise<Uint8Array> {
  const [, reply] = await Promise.all([stream.sink(chunked(data, chunkSize)), collect(stream.source)])
  return reply
}

/** Registers the data-transfer tests for one transport kind. */
export function dataTests (setup: TestSetup<StreamMuxerFactory>, kind: TransportKind): void {
  const fragmenting = kind === 'fragmenting'

  describe(`data transfer over ${kind}`, () => {
    let pair: MuxerPair

    beforeEach(async () => {
      pair = await createMuxerPair(setup, kind)
    })

    afterEach(async () => {
      await pair?.teardown()
      await setup.teardown()
    })

    it('echoes data on a stream the dialer opens', async () => {
      pair.listener.onStream = (s) => { void echo(s) }
      const stream = await openStream(pair.dialer)
      const data = randomBytes(100_000, 1)
      const reply = await within(exchange(stream, data, 1000), 10_000, 'echo of 100 kB')
      assertSameBytes(reply, data, 'echo')
      assert.equal(pair.listener.incoming.length, 1, 'onIncomingStream called once on the listener')
      assert.equal(pair.dialer.incoming.length, 0, 'onIncomingStream not called for our own stream')
      assert.equal(stream.status, 'closed')
      await assertStreamsReleased(pair)
    })

    it('carries data both ways at once on a stream the listener opens', async () => {
      const fromDialer = randomBytes(300_000, 2)
      const fromListener = randomBytes(300_000, 3)
      let dialerGot: Promise<Uint8Array> | undefined
      pair.dialer.onStream = (s) => { dialerGot = exchange(s, fromDialer, 16_384) }
      const stream = await openStream(pair.listener)
      const listenerGot = await within(exchange(stream, fromListener, 16_384), 15_000, 'listener side of the exchange')
      assert.ok(dialerGot != null, 'the dialer was told about the stream')
      assertSameBytes(listenerGot, fromDialer, 'data sent by the dialer')
      assertSameBytes(await within(dialerGot, 5000, 'dialer side of the exchange'), fromListener, 'data sent by the listener')
      await assertStreamsReleased(pair)
    })

    it(`transfers ${fragmenting ? '512 KiB' : '8 MiB'} on one stream`, async () => {
      const size = fragmenting ? 512 * 1024 : 8 * 1024 * 1024
      const data = randomBytes(size, 4)
      let received: Promise<Uint8Array> | undefined
      pair.listener.onStream = (s) => {
        received = collect(s.source)
        void s.closeWrite().catch(() => {})
      }
      const stream = await openStream(pair.dialer)
      await within(stream.sink(chunked(data, 64 * 1024)), 30_000, 'writing the payload')
      // Without flow control the writer may finish before the listener has even seen the stream.
      await until(() => received != null, 10_000, 'the listener learning of the stream')
      assertSameBytes(await within(received ?? Promise.reject(new Error('no stream')), 30_000, 'reading the payload'), data, 'large transfer')
      await within(collect(stream.source), 5000, 'the remote closing its side')
      await assertStreamsReleased(pair)
    })

    it('delivers many small writes in order', async () => {
      const rand = prng(5)
      const writes = fragmenting ? 1000 : 5000
      const parts: Uint8Array[] = []
      for (let i = 0; i < writes; i++) parts.push(randomBytes(1 + Math.floor(rand() * 32), i))
      const expected = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0))
      let offset = 0
      for (const p of parts) {
        expected.set(p, offset)
        offset += p.byteLength
      }
      pair.listener.onStream = (s) => { void echo(s) }
      const stream = await openStream(pair.dialer)
      const source = (async function * () {
        for (const p of parts) {
          yield p
          // Let some of them go out one by one rather than all in one batch.
          if (p.byteLength % 7 === 0) await new Promise<void>(resolve => setImmediate(resolve))
        }
      })()
      const [, reply] = await within(Promise.all([stream.sink(source), collect(stream.source)]), 15_000, `echo of ${writes} small writes`)
      assertSameBytes(reply, expected, 'small writes')
      await assertStreamsReleased(pair)
    })

    it(`runs ${fragmenting ? 40 : 200} concurrent streams opened from both sides`, async () => {
      const perSide = fragmenting ? 20 : 100
      pair.dialer.onStream = (s) => { void echo(s) }
      pair.listener.onStream = (s) => { void echo(s) }
      const run = async (side: MuxerSide, seed: number): Promise<void> => {
        await Promise.all(Array.from({ length: perSide }, async (_, i) => {
          const stream = await openStream(side)
          const data = randomBytes(1 + ((i * 997) % 4096), seed + i)
          assertSameBytes(await exchange(stream, data, 512), data, `${side.name} stream ${i}`)
        }))
      }
      await within(Promise.all([run(pair.dialer, 1000), run(pair.listener, 2000)]), 30_000, `${perSide * 2} concurrent echoes`)
      assert.equal(pair.dialer.incoming.length, perSide)
      assert.equal(pair.listener.incoming.length, perSide)
      await assertStreamsReleased(pair)
      await until(() => pair.dialer.ended.length === perSide * 2 && pair.listener.ended.length === perSide * 2, 2000,
        `onStreamEnd called once per stream on both sides (dialer ${pair.dialer.ended.length}, listener ${pair.listener.ended.length}, expected ${perSide * 2})`)
    })
  })
}
