/**
 * Backpressure: a reader that does not read must bound what a writer gets through, without
 * stalling the other streams of the connection.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { assertSameBytes } from './data-tests.js'
import { createMuxerPair, openStream } from './harness.js'
import { collect, echo, randomBytes, sleep, track, until, within } from './utils.js'
import type { MuxerPair } from './harness.js'
import type { TestSetup } from '../index.js'
import type { Stream, StreamMuxerFactory } from '@peerkit/interfaces'

const CHUNK_SIZE = 64 * 1024
const CHUNKS = 1024
/** 64 MiB offered by the writer. */
const OFFERED = CHUNK_SIZE * CHUNKS
/** What a muxer may let through to a reader that never reads (window or read buffer, plus queues). */
const MAX_THROUGH = 16 * 1024 * 1024

/** Registers the backpressure tests. */
export function flowControlTests (setup: TestSetup<StreamMuxerFactory>): void {
  describe('backpressure', () => {
    let pair: MuxerPair

    beforeEach(async () => {
      pair = await createMuxerPair(setup, 'memory')
    })

    afterEach(async () => {
      await pair?.teardown()
      await setup.teardown()
    })

    it('a reader that does not read holds the writer back, and other streams keep working', async () => {
      let held: Stream | undefined
      pair.listener.onStream = (s) => {
        if (held == null) {
          held = s
        } else {
          void echo(s)
        }
      }
      const chunk = randomBytes(CHUNK_SIZE, 21)
      let pulled = 0
      const stream = await openStream(pair.dialer)
      const writing = track(stream.sink((function * () {
        for (let i = 0; i < CHUNKS; i++) {
          pulled += chunk.byteLength
          yield chunk
        }
      })()))
      await until(() => held != null, 3000, 'the listener learning of the stream')
      await sleep(300)
      assert.ok(pulled < MAX_THROUGH, `the writer pushed ${pulled} bytes towards a reader that never read (bound ${MAX_THROUGH})`)
      assert.ok(!writing.done || writing.error != null, 'the writer completed 64 MiB although the reader never read')

      // The connection is not blocked by the held stream.
      const other = await openStream(pair.dialer)
      const data = randomBytes(50_000, 22)
      const [, reply] = await within(Promise.all([other.sink([data]), collect(other.source)]), 3000,
        'an echo on another stream while one stream is held back')
      assertSameBytes(reply, data, 'echo beside a held stream')

      if (writing.done) {
        // A muxer without flow control (mplex) resets a stream whose reader falls too far behind.
        assert.ok(writing.error != null)
        return
      }
      // Flow control: once the reader reads, everything arrives, intact and in order.
      const hash = createHash('sha256')
      let received = 0
      const reading = (async () => {
        assert.ok(held != null)
        for await (const c of held.source) {
          for (const buf of c) hash.update(buf)
          received += c.byteLength
        }
      })()
      await within(Promise.all([reading, writing.promise]), 30_000, 'the held transfer completing once the reader reads')
      assert.equal(received, OFFERED)
      const expected = createHash('sha256')
      for (let i = 0; i < CHUNKS; i++) expected.update(chunk)
      assert.equal(hash.digest('hex'), expected.digest('hex'), 'bytes received intact and in order')
    })

    it('a slow reader paces the writer', async () => {
      const chunk = randomBytes(CHUNK_SIZE, 23)
      let pulled = 0
      let received = 0
      let reading: Promise<void> | undefined
      pair.listener.onStream = (s) => {
        reading = (async () => {
          for await (const c of s.source) {
            received += c.byteLength
            await sleep(20)
          }
        })().catch(() => {})
      }
      const stream = await openStream(pair.dialer)
      const writing = track(stream.sink((function * () {
        for (let i = 0; i < 512; i++) {
          pulled += chunk.byteLength
          yield chunk
        }
      })()))
      await until(() => received > 0, 3000, 'the reader receiving data')
      await sleep(300)
      const ahead = pulled - received
      assert.ok(ahead < MAX_THROUGH, `the writer ran ${ahead} bytes ahead of a slow reader (bound ${MAX_THROUGH})`)
      assert.ok(!writing.done || writing.error != null, 'a 32 MiB write completed within 300 ms although the reader takes one batch per 20 ms')
      stream.abort(new Error('done'))
      await within(reading ?? Promise.resolve(), 3000, 'the reader ending after the reset')
    })
  })
}
