/**
 * Resource release: callbacks once per stream, stream accounting, no timer left behind.
 */
import assert from 'node:assert/strict'
import { assertStreamsReleased } from './data-tests.js'
import { callbackProblems, createMuxerPair, openStream } from './harness.js'
import { activeResources, collect, echo, randomBytes, readAll, sleep, until, within } from './utils.js'
import type { MuxerPair } from './harness.js'
import type { TestSetup } from '../index.js'
import type { Stream, StreamMuxerFactory } from '@peerkit/interfaces'

/** Registers the resource tests. */
export function resourceTests (setup: TestSetup<StreamMuxerFactory>): void {
  describe('resources', () => {
    let pair: MuxerPair | undefined

    afterEach(async () => {
      await pair?.teardown()
      pair = undefined
      await setup.teardown()
    })

    it('onIncomingStream and onStreamEnd are called once per stream, however it ends', async () => {
      pair = await createMuxerPair(setup, 'memory')
      const p = pair
      // Streams 0-9 close gracefully, 10-19 are aborted by the dialer, 20-29 by the listener.
      const byIndex = new Map<Stream, number>()
      p.listener.onStream = (s) => {
        void (async () => {
          const [first] = await collect(s.source).then(bytes => [bytes[0]], () => [-1])
          if (first >= 20) {
            s.abort(new Error('listener gives up'))
          } else {
            await s.sink([Uint8Array.of(first)]).catch(() => {})
          }
        })()
      }
      const local: Stream[] = []
      await within(Promise.all(Array.from({ length: 30 }, async (_, i) => {
        const stream = await openStream(p.dialer)
        byIndex.set(stream, i)
        local.push(stream)
        if (i >= 10 && i < 20) {
          await stream.sink([Uint8Array.of(i)]).catch(() => {})
          stream.abort(new Error('dialer gives up'))
          return
        }
        await stream.sink([Uint8Array.of(i)])
        await readAll(stream.source)
      })), 10_000, '30 streams ending in three different ways')
      await until(() => p.dialer.ended.length >= 30 && p.listener.ended.length >= 30, 3000,
        `every stream ended on both sides (dialer ${p.dialer.ended.length}/30, listener ${p.listener.ended.length}/30)`)
      await sleep(50)
      assert.equal(p.dialer.ended.length, 30, 'dialer: onStreamEnd calls')
      assert.equal(p.listener.ended.length, 30, 'listener: onStreamEnd calls')
      assert.equal(p.listener.incoming.length, 30, 'listener: onIncomingStream calls')
      assert.equal(p.dialer.incoming.length, 0, 'dialer: onIncomingStream calls')
      assert.deepEqual(new Set(p.dialer.ended), new Set(local), 'dialer: onStreamEnd got exactly our streams')
      assert.deepEqual(new Set(p.listener.ended), new Set(p.listener.incoming), 'listener: onStreamEnd got exactly the incoming streams')
      await assertStreamsReleased(p)
    })

    it('releases streams: far more streams than any stream limit can be opened one batch after another', async () => {
      pair = await createMuxerPair(setup, 'memory')
      const p = pair
      p.listener.onStream = (s) => { void echo(s) }
      const total = 2100
      const batch = 50
      for (let done = 0; done < total; done += batch) {
        await within(Promise.all(Array.from({ length: batch }, async (_, i) => {
          const stream = await openStream(p.dialer)
          const [, reply] = await Promise.all([stream.sink([Uint8Array.of(i, 1, 2)]), collect(stream.source)])
          assert.equal(reply.byteLength, 3)
        })), 10_000, `streams ${done}..${done + batch}`)
      }
      await assertStreamsReleased(p)
      await until(() => p.dialer.ended.length === total && p.listener.ended.length === total, 2000,
        `onStreamEnd called for all ${total} streams (dialer ${p.dialer.ended.length}, listener ${p.listener.ended.length})`)
    })

    it('leaves no timer behind once both muxers are closed', async () => {
      await sleep(10)
      const before = activeResources('Timeout')
      pair = await createMuxerPair(setup, 'memory')
      const p = pair
      p.listener.onStream = (s) => { void echo(s) }
      p.dialer.onStream = (s) => { void echo(s) }
      await within(Promise.all(Array.from({ length: 20 }, async (_, i) => {
        const stream = await openStream(p.dialer)
        if (i % 4 === 0) {
          stream.abort(new Error('early abort'))
          return
        }
        const data = randomBytes(70_000, i)
        await Promise.all([stream.sink([data]), collect(stream.source)])
      })), 10_000, 'a workload of 20 streams')
      // A couple of streams left open for close() to deal with.
      const open = [await openStream(p.dialer), await openStream(p.listener)]
      for (const s of open) void s.sink([Uint8Array.of(1)]).catch(() => {})
      await within(Promise.all([p.dialer.muxer.close(), p.listener.muxer.close()]), 15_000, 'closing both muxers')
      await within(Promise.all([p.dialer.output.promise, p.listener.output.promise].map(async s => { await s.catch(() => {}) })), 3000, 'both muxer sources ending')
      assert.equal(p.dialer.muxer.streams.length, 0)
      assert.equal(p.listener.muxer.streams.length, 0)
      assert.deepEqual([...callbackProblems(p.dialer), ...callbackProblems(p.listener)], [])
      let now = activeResources('Timeout')
      const deadline = Date.now() + 1000
      while (now > before && Date.now() < deadline) {
        await new Promise<void>(resolve => setImmediate(resolve))
        now = activeResources('Timeout')
      }
      assert.ok(now <= before, `${now - before} timer(s) still active after both muxers closed`)
    })
  })
}
