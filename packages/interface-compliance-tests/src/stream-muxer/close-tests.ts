/**
 * Muxer lifecycle: graceful close, bounded close, abort, the connection dying underneath, the
 * remote closing.
 */
import assert from 'node:assert/strict'
import { Uint8ArrayList } from 'uint8arraylist'
import { assertSameBytes } from './data-tests.js'
import { callbackProblems, createMuxerPair, openStream } from './harness.js'
import { echo, errorKind, openEnded, randomBytes, readAll, track, until, within } from './utils.js'
import type { TransportKind } from './duplex.js'
import type { MuxerPair, MuxerSide } from './harness.js'
import type { ReadResult, Settled } from './utils.js'
import type { TestSetup } from '../index.js'
import type { Stream, StreamMuxerFactory } from '@peerkit/interfaces'

/** A stream being read in the background, with progress visible. */
interface Reader {
  received: number
  result: Settled<ReadResult>
}

function startReading (stream: Stream): Reader {
  const reader: { received: number, result?: Settled<ReadResult> } = { received: 0 }
  reader.result = track((async () => {
    const all = new Uint8ArrayList()
    try {
      for await (const chunk of stream.source) {
        all.append(chunk)
        reader.received += chunk.byteLength
      }
      return { bytes: all.subarray() }
    } catch (err) {
      return { bytes: all.subarray(), error: err instanceof Error ? err : new Error(String(err)) }
    }
  })())
  return reader as Reader
}

async function assertMuxerEnded (side: MuxerSide, what: string): Promise<void> {
  await until(() => side.muxer.streams.length === 0, 3000, `${what}: ${side.name} muxer lists no stream (lists ${side.muxer.streams.length})`)
  await within(side.output.promise.catch(() => {}), 3000, `${what}: ${side.name} muxer source ending`)
  await assert.rejects(async () => { await side.muxer.newStream() }, `${what}: ${side.name} newStream must fail once the muxer has ended`)
  assert.deepEqual(callbackProblems(side), [])
}

/** Registers the muxer close/abort tests over one transport kind. */
export function closeTests (setup: TestSetup<StreamMuxerFactory>, kind: TransportKind = 'memory'): void {
  describe(`closing the muxer over ${kind}`, () => {
    let pair: MuxerPair
    const releases: Array<() => void> = []

    beforeEach(async () => {
      pair = await createMuxerPair(setup, kind)
    })

    afterEach(async () => {
      for (const release of releases.splice(0)) release()
      await pair?.teardown()
      await setup.teardown()
    })

    it('close() closes open streams gracefully, then ends the muxer', async () => {
      pair.listener.onStream = (s) => { void echo(s) }
      const streams: Stream[] = []
      const readers: Reader[] = []
      const payloads: Uint8Array[] = []
      for (let i = 0; i < 5; i++) {
        const stream = await openStream(pair.dialer)
        const data = randomBytes(10_000, 100 + i)
        const source = openEnded(data)
        releases.push(source.release)
        void stream.sink(source.source).catch(() => {})
        streams.push(stream)
        payloads.push(data)
        readers.push(startReading(stream))
      }
      await until(() => readers.every(r => r.received === 10_000), 5000, 'all echoes received before closing')
      assert.ok(streams.every(s => s.status === 'open'), 'streams are open before close()')
      await within(pair.dialer.muxer.close(), 5000, 'close()')
      for (let i = 0; i < 5; i++) {
        const result = await within(readers[i].result.promise, 3000, `stream ${i} read ending`)
        assert.equal(result.error, undefined, `stream ${i} ended cleanly, not with ${errorKind(result.error)}`)
        assertSameBytes(result.bytes, payloads[i], `stream ${i} echo`)
        assert.equal(streams[i].status, 'closed', `stream ${i} status after a graceful close`)
      }
      await assertMuxerEnded(pair.dialer, 'after close()')
      await until(() => pair.dialer.ended.length === 5, 2000, `onStreamEnd called once per stream (got ${pair.dialer.ended.length})`)
      await until(() => pair.listener.muxer.streams.length === 0, 3000, 'the listener releasing the streams')
      assert.equal(pair.listener.incoming.length, 5)
    })

    it('close() with a signal is bounded when the remote never closes its side', async () => {
      pair.listener.onStream = (s) => { void readAll(s.source) }
      const streams: Stream[] = []
      for (let i = 0; i < 3; i++) {
        const stream = await openStream(pair.dialer)
        void stream.sink([randomBytes(1000, i)]).catch(() => {})
        streams.push(stream)
      }
      await until(() => pair.listener.incoming.length === 3, 3000, 'the listener learning of the streams')
      const started = Date.now()
      const closing = track(pair.dialer.muxer.close({ signal: AbortSignal.timeout(200) }))
      await within(closing.promise.catch(() => {}), 3000, 'close() bounded by a 200 ms signal')
      assert.ok(Date.now() - started >= 100, 'close() waited for the streams before giving up')
      assert.ok(streams.every(s => s.status !== 'open' && s.status !== 'closing'), `streams ended: ${streams.map(s => s.status).join(',')}`)
      await assertMuxerEnded(pair.dialer, 'after a bounded close()')
    })

    it('abort(err) fails every stream with err and resets the remote', async () => {
      pair.listener.onStream = () => {}
      const streams: Stream[] = []
      const readers: Reader[] = []
      for (let i = 0; i < 3; i++) {
        const stream = await openStream(pair.dialer)
        const source = openEnded(Uint8Array.of(i))
        releases.push(source.release)
        void stream.sink(source.source).catch(() => {})
        streams.push(stream)
        readers.push(startReading(stream))
      }
      await until(() => pair.listener.incoming.length === 3, 3000, 'the listener learning of the streams')
      const remoteReaders = pair.listener.incoming.map(startReading)
      const error = new Error('muxer aborted by the test')
      pair.dialer.muxer.abort(error)
      for (const [i, reader] of readers.entries()) {
        const result = await within(reader.result.promise, 2000, `stream ${i} read ending after abort`)
        assert.ok(result.error === error || result.error?.message.includes('muxer aborted by the test') === true,
          `stream ${i}: a pending read rejects with the abort error, got ${String(result.error)}`)
        assert.equal(streams[i].status, 'aborted')
      }
      for (const [i, reader] of remoteReaders.entries()) {
        const result = await within(reader.result.promise, 3000, `remote stream ${i} ending after the abort`)
        assert.ok(result.error != null, `remote stream ${i} must fail, not end cleanly`)
      }
      await assertMuxerEnded(pair.dialer, 'after abort()')
      await until(() => pair.dialer.ended.length === 3, 2000, 'onStreamEnd called for every aborted stream')
      await until(() => pair.listener.muxer.streams.length === 0, 3000, 'the listener releasing the streams')
    })

    it('the connection closing underneath ends every stream on both sides', async () => {
      pair.listener.onStream = (s) => { void readAll(s.source) }
      const readers: Reader[] = []
      for (let i = 0; i < 3; i++) {
        const stream = await openStream(pair.dialer)
        await stream.sink([Uint8Array.of(i)]).catch(() => {})
        readers.push(startReading(stream))
      }
      await until(() => pair.listener.incoming.length === 3, 3000, 'the listener learning of the streams')
      pair.dialer.connection.close()
      for (const [i, reader] of readers.entries()) {
        const result = await within(reader.result.promise, 3000, `stream ${i} ending after the connection closed`)
        assert.ok(result.error instanceof Error, `stream ${i}: a pending read fails when the connection dies, got ${String(result.error)}`)
      }
      for (const side of [pair.dialer, pair.listener]) {
        await within(side.sink.promise.catch(() => {}), 3000, `${side.name} muxer sink settling`)
        await assertMuxerEnded(side, 'after the connection closed')
        assert.ok(side.ended.length === 3, `${side.name}: onStreamEnd called for every stream (got ${side.ended.length})`)
      }
    })

    it('the remote closing its muxer ends ours', async () => {
      pair.listener.onStream = (s) => { void echo(s) }
      const readers: Reader[] = []
      for (let i = 0; i < 3; i++) {
        const stream = await openStream(pair.dialer)
        const source = openEnded(randomBytes(100, i))
        releases.push(source.release)
        void stream.sink(source.source).catch(() => {})
        const reader = startReading(stream)
        // A well-behaved application: when the remote is done, so are we.
        void reader.result.promise.then(async () => { await stream.closeWrite() }).catch(() => {})
        readers.push(reader)
      }
      await until(() => readers.every(r => r.received === 100), 3000, 'echoes received')
      await within(pair.listener.muxer.close(), 5000, 'the listener closing')
      for (const [i, reader] of readers.entries()) {
        const result = await within(reader.result.promise, 3000, `stream ${i} ending`)
        assert.equal(result.error, undefined, `stream ${i} ended cleanly`)
      }
      await within(pair.dialer.sink.promise.catch(() => {}), 3000, 'the dialer muxer sink settling once the remote ended')
      await assertMuxerEnded(pair.dialer, 'after the remote closed')
      await assertMuxerEnded(pair.listener, 'after close()')
    })
  })
}
