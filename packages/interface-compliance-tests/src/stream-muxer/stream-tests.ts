/**
 * Stream lifecycle: opening, half-close, closeRead, resets in both directions, failing sources.
 */
import assert from 'node:assert/strict'
import { assertSameBytes, assertStreamsReleased } from './data-tests.js'
import { callbackProblems, createMuxerPair, openStream } from './harness.js'
import { collect, echo, errorKind, isResetError, openEnded, randomBytes, readAll, sleep, track, until, within } from './utils.js'
import type { MuxerPair } from './harness.js'
import type { TestSetup } from '../index.js'
import type { Stream, StreamMuxerFactory } from '@peerkit/interfaces'

/** Resolves with the next stream the side's muxer hands to `onIncomingStream`. */
function nextIncoming (pairSide: MuxerPair['listener']): Promise<Stream> {
  return new Promise(resolve => {
    pairSide.onStream = (s) => { resolve(s) }
  })
}

/** Registers the stream lifecycle tests. */
export function streamTests (setup: TestSetup<StreamMuxerFactory>): void {
  describe('streams', () => {
    let pair: MuxerPair
    const releases: Array<() => void> = []

    beforeEach(async () => {
      pair = await createMuxerPair(setup, 'memory')
    })

    afterEach(async () => {
      for (const release of releases.splice(0)) release()
      await pair?.teardown()
      await setup.teardown()
    })

    it('exposes its protocol id', () => {
      assert.equal(typeof pair.factory.protocol, 'string')
      assert.ok(pair.factory.protocol.startsWith('/'), `protocol id ${pair.factory.protocol} starts with /`)
      assert.equal(pair.dialer.muxer.protocol, pair.factory.protocol)
      assert.equal(pair.listener.muxer.protocol, pair.factory.protocol)
    })

    it('newStream with an already aborted signal fails with its reason and opens nothing', async () => {
      pair.listener.onStream = () => {}
      const reason = new Error('caller gave up')
      await assert.rejects(async () => { await pair.dialer.muxer.newStream(undefined, { signal: AbortSignal.abort(reason) }) }, (err: Error) => err === reason)
      assert.equal(pair.dialer.muxer.streams.length, 0, 'no stream was opened')
      // The muxer still opens streams.
      const stream = await within(openStream(pair.dialer), 3000, 'opening a stream afterwards')
      assert.equal(stream.status, 'open')
      await until(() => pair.listener.incoming.length === 1, 3000, 'the remote sees only the later stream')
    })

    it('gives streams unique ids and the right directions', async () => {
      pair.dialer.onStream = () => {}
      pair.listener.onStream = () => {}
      const local = await within(Promise.all([
        ...Array.from({ length: 10 }, async () => openStream(pair.dialer)),
        ...Array.from({ length: 10 }, async () => openStream(pair.listener))
      ]), 5000, 'opening 20 streams')
      await until(() => pair.dialer.incoming.length === 10 && pair.listener.incoming.length === 10, 3000,
        `onIncomingStream called for every remote stream (dialer ${pair.dialer.incoming.length}/10, listener ${pair.listener.incoming.length}/10)`)
      for (const side of [pair.dialer, pair.listener]) {
        const ids = side.muxer.streams.map(s => s.id)
        assert.equal(ids.length, 20, `${side.name} lists its 10 outbound and 10 inbound streams`)
        assert.equal(new Set(ids).size, 20, `${side.name} stream ids are unique: ${ids.join(',')}`)
        assert.equal(side.muxer.streams.filter(s => s.direction === 'outbound').length, 10)
        assert.equal(side.muxer.streams.filter(s => s.direction === 'inbound').length, 10)
      }
      for (const s of local.slice(0, 10)) assert.equal(s.direction, 'outbound')
      for (const s of local) assert.equal(s.status, 'open')
      assert.deepEqual([...callbackProblems(pair.dialer), ...callbackProblems(pair.listener)], [])
    })

    it('delivers data written right after opening to a handler that reads later', async () => {
      const incoming = nextIncoming(pair.listener)
      const stream = await openStream(pair.dialer)
      const data = randomBytes(10_000, 11)
      const writing = track(stream.sink([data]))
      const remote = await within(incoming, 3000, 'the listener learning of the stream')
      await sleep(50)
      assertSameBytes(await within(collect(remote.source), 3000, 'reading'), data, 'early data')
      await within(writing.promise, 3000, 'the write completing')
    })

    it('half-close: the remote keeps writing after our closeWrite', async () => {
      const incoming = nextIncoming(pair.listener)
      const stream = await openStream(pair.dialer)
      const request = randomBytes(5000, 12)
      await within(stream.sink([request]), 3000, 'writing the request')
      assert.equal(stream.writeStatus, 'closed', 'writeStatus after the sink ended')
      assert.equal(stream.status, 'open', 'a half-closed stream is still open')
      const remote = await within(incoming, 3000, 'the listener learning of the stream')
      assertSameBytes(await within(collect(remote.source), 3000, 'the remote reading to the end'), request, 'request')
      assert.equal(remote.readStatus, 'closed')
      assert.equal(remote.status, 'open', 'the remote can still write')
      const response = randomBytes(7000, 13)
      await within(remote.sink([response]), 3000, 'writing the response after the remote closed its side')
      assertSameBytes(await within(collect(stream.source), 3000, 'reading the response'), response, 'response')
      await until(() => stream.status === 'closed' && remote.status === 'closed', 2000,
        `both ends closed (local ${stream.status}, remote ${remote.status})`)
      await assertStreamsReleased(pair)
      await until(() => pair.dialer.ended.length === 1 && pair.listener.ended.length === 1, 2000, 'onStreamEnd called once on each side')
    })

    it('closeWrite without writing ends the remote source, and writing afterwards fails', async () => {
      const incoming = nextIncoming(pair.listener)
      const stream = await openStream(pair.dialer)
      await within(stream.closeWrite(), 3000, 'closeWrite')
      await assert.rejects(stream.sink([Uint8Array.of(1)]), 'sink after closeWrite must reject')
      const remote = await within(incoming, 3000, 'the listener learning of the stream')
      const got = await within(collect(remote.source), 3000, 'the remote source ending')
      assert.equal(got.byteLength, 0)
      await within(remote.sink([Uint8Array.of(9, 8, 7)]), 3000, 'the remote writing back')
      assertSameBytes(await within(collect(stream.source), 3000, 'reading'), Uint8Array.of(9, 8, 7), 'reply')
      await assertStreamsReleased(pair)
    })

    it('a local abort resets the stream on the remote', async () => {
      const incoming = nextIncoming(pair.listener)
      const stream = await openStream(pair.dialer)
      // The write side stays open: the remote's read is pending when the reset arrives.
      const source = openEnded(Uint8Array.of(1, 2, 3))
      releases.push(source.release)
      const writing = track(stream.sink(source.source))
      const remote = await within(incoming, 3000, 'the listener learning of the stream')
      const remoteRead = track(readAll(remote.source))
      await sleep(20)
      const reading = track(readAll(stream.source))
      stream.abort(new Error('local failure'))
      const local = await within(reading.promise, 2000, 'the local read ending after abort')
      assert.ok(local.error != null && local.error.message.includes('local failure'), `a pending local read rejects with the abort error, got ${String(local.error)}`)
      assert.equal(stream.status, 'aborted')
      await within(writing.promise.catch(() => {}), 2000, 'the local sink settling after abort')
      assert.ok(writing.error != null, 'a sink still writing rejects when the stream is aborted')
      const result = await within(remoteRead.promise, 3000, 'the remote read ending after the reset')
      assert.ok(result.error != null, 'the remote read must fail, not end cleanly')
      assert.ok(isResetError(result.error), `the remote read fails with StreamResetError, got ${errorKind(result.error)}`)
      assert.equal(remote.status, 'reset')
      await assertStreamsReleased(pair)
      await until(() => pair.dialer.ended.length === 1 && pair.listener.ended.length === 1, 2000, 'onStreamEnd called once on each side')
    })

    it('a reset reaches a writer the reader holds back', async () => {
      const incoming = nextIncoming(pair.listener)
      const stream = await openStream(pair.dialer)
      const chunk = randomBytes(64 * 1024, 14)
      const writing = track(stream.sink((function * () {
        for (let i = 0; i < 1024; i++) yield chunk
      })()))
      const remote = await within(incoming, 3000, 'the listener learning of the stream')
      await sleep(100)
      remote.abort(new Error('reader gives up'))
      await within(writing.promise.catch(() => {}), 3000, 'the held writer failing after the remote reset')
      assert.ok(writing.error != null, 'the writer must fail after a reset, not complete')
      assert.ok(isResetError(writing.error), `the writer fails with StreamResetError, got ${errorKind(writing.error)}`)
      await assertStreamsReleased(pair)
    })

    it('a failing sink source aborts the stream and resets the remote', async () => {
      const incoming = nextIncoming(pair.listener)
      const stream = await openStream(pair.dialer)
      const sinking = track(stream.sink((async function * () {
        yield Uint8Array.of(1, 2, 3)
        await sleep(10)
        throw new Error('producer broke')
      })()))
      const remote = await within(incoming, 3000, 'the listener learning of the stream')
      const result = await within(readAll(remote.source), 3000, 'the remote read ending')
      await within(sinking.promise.catch(() => {}), 3000, 'the sink settling')
      assert.ok(sinking.error?.message.includes('producer broke'), `sink rejects with the source's error, got ${String(sinking.error)}`)
      assert.equal(stream.status, 'aborted')
      assert.ok(result.error != null && isResetError(result.error), `the remote read fails with StreamResetError, got ${errorKind(result.error)}`)
      await assertStreamsReleased(pair)
    })

    it('closeRead ends the local source and leaves the connection usable', async () => {
      const incoming = nextIncoming(pair.listener)
      const stream = await openStream(pair.dialer)
      await within(stream.sink([Uint8Array.of(0)]), 3000, 'opening write')
      const remote = await within(incoming, 3000, 'the listener learning of the stream')
      const remoteWriting = track(remote.sink((async function * () {
        for (let i = 0; i < 10; i++) {
          yield randomBytes(1024, i)
          await sleep(2)
        }
      })()))
      await stream.closeRead()
      assert.equal(stream.readStatus, 'closed')
      const next = await within(stream.source.next(), 1000, 'reading after closeRead')
      assert.equal(next.done, true, 'the source ends after closeRead')
      await remoteWriting.promise.catch(() => {})
      pair.listener.onStream = (s) => { void echo(s) }
      const other = await openStream(pair.dialer)
      const data = randomBytes(20_000, 15)
      const [, reply] = await within(Promise.all([other.sink([data]), collect(other.source)]), 5000, 'echo on another stream')
      assertSameBytes(reply, data, 'echo after closeRead on another stream')
    })
  })
}
