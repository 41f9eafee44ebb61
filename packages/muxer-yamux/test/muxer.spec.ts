import assert from 'node:assert/strict'
import { AbortError, ConnectionClosedError, LimitExceededError, ProtocolError, StreamResetError, TimeoutError, UnexpectedEOFError } from '@peerkit/interfaces'
import { Flag, FrameType, GoAwayCode, INITIAL_STREAM_WINDOW, encodeHeader } from '../src/frame.js'
import { RawPeer, activeTimers, collect, frame, sleep, track, until } from './fixtures.js'
import type { YamuxStream } from '../src/stream.js'

const { Data, WindowUpdate, Ping, GoAway } = FrameType
const { SYN, ACK, FIN, RST } = Flag

/** Expects the muxer to have failed with `errorClass`, told the remote (GoAway `code`) and released everything. */
async function assertFailed (peer: RawPeer, errorClass: new (...args: never[]) => Error, code?: number, pattern?: RegExp): Promise<Error> {
  await until(() => peer.sink.done, 2000, 'sink settling')
  assert.ok(peer.sink.error instanceof errorClass, `sink rejects with ${errorClass.name}, got ${String(peer.sink.error)}`)
  if (pattern != null) assert.match(peer.sink.error.message, pattern)
  await until(() => peer.output.done, 2000, 'muxer source ending')
  const goAways = peer.frames.filter(f => f.type === GoAway)
  if (code == null) {
    assert.equal(goAways.length, 0, 'no GoAway')
  } else {
    assert.deepEqual(goAways.map(f => f.length), [code], 'one GoAway with the expected code')
    assert.equal(peer.frames[peer.frames.length - 1].type, GoAway, 'GoAway is the last frame')
  }
  assert.equal(peer.muxer.status, 'closed')
  assert.equal(peer.muxer.streams.length, 0)
  await assert.rejects(peer.muxer.newStream(), ConnectionClosedError)
  return peer.sink.error
}

describe('yamux muxer (hand-built frames)', () => {
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown): void => { unhandled.push(reason) }
  let peers: RawPeer[] = []
  let timersBefore = 0

  const peer = (...args: ConstructorParameters<typeof RawPeer>): RawPeer => {
    const p = new RawPeer(...args)
    peers.push(p)
    return p
  }

  before(() => { process.on('unhandledRejection', onUnhandled) })
  after(() => {
    process.off('unhandledRejection', onUnhandled)
    assert.deepEqual(unhandled, [], 'no unhandled rejection')
  })

  // Counted after an await, as in afterEach, so mocha's own hook timer is on both sides.
  beforeEach(async () => {
    await Promise.resolve()
    timersBefore = activeTimers()
  })

  afterEach(async () => {
    for (const p of peers) {
      p.muxer.abort(new Error('test done'))
      p.end()
      await p.sink.promise
      await p.output.promise
    }
    peers = []
    await sleep(1)
    assert.ok(activeTimers() <= timersBefore, `${activeTimers() - timersBefore} timer(s) leaked`)
    assert.deepEqual(unhandled, [], 'no unhandled rejection')
  })

  describe('opening streams', () => {
    it('a dialer opens odd stream ids with a WindowUpdate SYN, a listener even ones', async () => {
      const client = peer('outbound')
      const server = peer('inbound')
      const a = await client.muxer.newStream()
      const b = await client.muxer.newStream()
      const c = await server.muxer.newStream()
      assert.deepEqual([a.id, b.id, c.id], ['1', '3', '2'])
      assert.equal(a.direction, 'outbound')
      const syn = await client.nextFrame(f => f.type !== Ping)
      assert.deepEqual({ ...syn, payload: undefined }, { version: 0, type: WindowUpdate, flags: SYN, streamId: 1, length: 0, payload: undefined })
      assert.equal((await client.nextFrame(f => f.type !== Ping)).streamId, 3)
      assert.equal((await server.nextFrame(f => f.type !== Ping)).streamId, 2)
      assert.equal(a.acknowledged, false)
      client.send(frame(WindowUpdate, ACK, 1))
      await until(() => a.acknowledged, 1000, 'ACK processed')
    })

    it('acknowledges an inbound SYN and delivers its data, FIN ending the source', async () => {
      const client = peer('outbound')
      client.send(frame(WindowUpdate, SYN, 2), frame(Data, 0, 2, Uint8Array.of(1, 2)), frame(Data, FIN, 2, Uint8Array.of(3)))
      await until(() => client.incoming.length === 1, 1000, 'incoming stream')
      const stream = client.incoming[0]
      assert.equal(stream.id, '2')
      assert.equal(stream.direction, 'inbound')
      const ack = await client.nextFrame(f => f.type === WindowUpdate)
      assert.deepEqual([ack.flags, ack.streamId, ack.length], [ACK, 2, 0])
      assert.deepEqual(await collect(stream.source), Uint8Array.of(1, 2, 3))
      await stream.sink([Uint8Array.of(9)])
      const data = await client.nextFrame(f => f.type === Data)
      assert.deepEqual([data.streamId, data.flags, [...data.payload]], [2, 0, [9]])
      const fin = await client.nextFrame(f => f.streamId === 2)
      assert.deepEqual([fin.type, fin.flags], [WindowUpdate, FIN])
      await until(() => client.muxer.streams.length === 0, 1000, 'stream released')
      assert.deepEqual(client.ended, [stream])
    })

    it('accepts a SYN piggybacked on a Data frame, and extra window granted with the SYN', async () => {
      const client = peer('outbound')
      client.send(frame(Data, SYN, 4, Uint8Array.of(7, 7)), frame(WindowUpdate, SYN, 6, 1000))
      await until(() => client.incoming.length === 2, 1000, 'incoming streams')
      const [s4, s6] = client.incoming
      assert.equal(s4.sendWindow, INITIAL_STREAM_WINDOW)
      assert.equal(s6.sendWindow, INITIAL_STREAM_WINDOW + 1000)
      assert.equal(s4.receiveCredit, INITIAL_STREAM_WINDOW - 2)
      client.send(frame(Data, FIN, 4))
      assert.deepEqual(await collect(s4.source), Uint8Array.of(7, 7))
    })

    it('refuses inbound streams past maxInboundStreams with RST, and accepts again once one closed', async () => {
      const client = peer('outbound', { maxInboundStreams: 2 })
      client.send(frame(WindowUpdate, SYN, 2), frame(WindowUpdate, SYN, 4), frame(WindowUpdate, SYN, 6), frame(Data, 0, 6, Uint8Array.of(1)))
      const rst = await client.nextFrame(f => (f.flags & RST) !== 0)
      assert.deepEqual([rst.type, rst.streamId, rst.length], [WindowUpdate, 6, 0])
      assert.equal(client.incoming.length, 2)
      const first = client.incoming[0]
      first.abort(new Error('done with it'))
      await until(() => client.muxer.streams.length === 1, 1000, 'stream released')
      client.send(frame(WindowUpdate, SYN, 8))
      await until(() => client.incoming.length === 3, 1000, 'a new inbound stream accepted')
      assert.equal(client.incoming[2].id, '8')
    })

    it('refuses newStream past maxOutboundStreams with LimitExceededError', async () => {
      const client = peer('outbound', { maxOutboundStreams: 2 })
      await client.muxer.newStream()
      const second = await client.muxer.newStream()
      await assert.rejects(client.muxer.newStream(), (err: unknown) => err instanceof LimitExceededError && err.limit === 'maxOutboundStreams' && err.max === 2)
      second.abort(new Error('free a slot'))
      await until(() => client.muxer.streams.length === 1)
      await client.muxer.newStream()
    })

    it('waits while maxAckBacklog streams are unacknowledged; the wait is abortable', async () => {
      const client = peer('outbound', { maxAckBacklog: 2 })
      await client.muxer.newStream()
      await client.muxer.newStream()
      const third = track(client.muxer.newStream())
      await sleep(20)
      assert.equal(third.done, false, 'the third newStream waits for an ACK')
      const controller = new AbortController()
      const fourth = track(client.muxer.newStream(undefined, { signal: controller.signal }))
      controller.abort()
      await fourth.promise
      assert.ok(fourth.error instanceof AbortError)
      client.send(frame(WindowUpdate, ACK, 1))
      await third.promise
      assert.equal(third.error, undefined)
      assert.equal(client.muxer.streams.length, 3)
    })
  })

  describe('flow control', () => {
    it('splits writes at maxMessageSize and the window, then waits for credit', async () => {
      const client = peer('outbound', { maxMessageSize: 64 * 1024 })
      const stream = await client.muxer.newStream()
      const total = INITIAL_STREAM_WINDOW + 100_000
      const writing = track(stream.sink([new Uint8Array(total).fill(1)]))
      await until(() => client.frames.filter(f => f.type === Data).reduce((n, f) => n + f.length, 0) === INITIAL_STREAM_WINDOW, 2000, 'a window of data sent')
      await sleep(20)
      const data = client.frames.filter(f => f.type === Data)
      assert.equal(data.reduce((n, f) => n + f.length, 0), INITIAL_STREAM_WINDOW, 'no byte beyond the window')
      assert.ok(data.every(f => f.length <= 64 * 1024), 'no frame larger than maxMessageSize')
      assert.equal(stream.sendWindow, 0)
      assert.equal(writing.done, false, 'the writer is held')
      client.send(frame(WindowUpdate, 0, 1, 60_000))
      await until(() => stream.sendWindow === 0 && client.frames.filter(f => f.type === Data).reduce((n, f) => n + f.length, 0) === INITIAL_STREAM_WINDOW + 60_000, 2000, 'credit used')
      client.send(frame(WindowUpdate, 0, 1, 1_000_000))
      await writing.promise
      assert.equal(writing.error, undefined)
      // The outbound queue hands frames over at the end of the loop turn (coalescing): wait for them.
      await until(() => client.frames.filter(f => f.type === Data).reduce((n, f) => n + f.length, 0) === total, 2000, 'everything sent')
      assert.equal(stream.sendWindow, 1_000_000 - (100_000 - 60_000))
    })

    it('a reset releases a writer waiting for credit', async () => {
      const client = peer('outbound')
      const stream = await client.muxer.newStream()
      const writing = track(stream.sink([new Uint8Array(INITIAL_STREAM_WINDOW * 2)]))
      await until(() => stream.sendWindow === 0)
      client.send(frame(WindowUpdate, RST, 1))
      await writing.promise
      assert.ok(writing.error instanceof StreamResetError)
      assert.equal(stream.status, 'reset')
    })

    it('closeWrite with a signal aborts a flush stuck waiting for credit', async () => {
      const client = peer('outbound')
      const stream = await client.muxer.newStream()
      void stream.sink([new Uint8Array(INITIAL_STREAM_WINDOW * 2)]).catch(() => {})
      await until(() => stream.sendWindow === 0)
      const controller = new AbortController()
      setTimeout(() => { controller.abort() }, 30)
      await assert.rejects(stream.closeWrite({ signal: controller.signal }), AbortError)
      assert.equal(stream.status, 'aborted')
      const rst = await client.nextFrame(f => (f.flags & RST) !== 0)
      assert.equal(rst.streamId, 1)
    })

    it('returns credit in batches of at least half the window as the application reads', async () => {
      const client = peer('outbound')
      client.send(frame(WindowUpdate, SYN, 2), frame(Data, 0, 2, new Uint8Array(100_000)))
      await until(() => client.incoming.length === 1)
      const stream = client.incoming[0]
      const reader = stream.source
      assert.equal((await reader.next()).value?.byteLength, 100_000)
      await sleep(10)
      assert.equal(client.take().filter(f => f.type === WindowUpdate && f.flags === 0).length, 0, 'no update before half the window was read')
      client.send(frame(Data, 0, 2, new Uint8Array(40_000)))
      assert.equal((await reader.next()).value?.byteLength, 40_000)
      const update = await client.nextFrame(f => f.type === WindowUpdate && f.flags === 0)
      assert.deepEqual([update.streamId, update.length], [2, 140_000])
      assert.equal(stream.receiveCredit, INITIAL_STREAM_WINDOW)
    })

    it('stops returning credit after closeRead, and drops what arrives', async () => {
      const client = peer('outbound')
      client.send(frame(WindowUpdate, SYN, 2))
      await until(() => client.incoming.length === 1)
      const stream = client.incoming[0]
      await stream.closeRead()
      client.send(frame(Data, 0, 2, new Uint8Array(200_000)))
      await until(() => stream.receiveCredit === INITIAL_STREAM_WINDOW - 200_000)
      await sleep(10)
      assert.equal(client.frames.filter(f => f.type === WindowUpdate && f.flags === 0).length, 0)
      assert.equal(stream.readBufferLength, 0)
    })

    it('a remote sending thousands of tiny frames to a reader that does not read cannot break the read queue', async () => {
      const client = peer('outbound')
      client.send(frame(WindowUpdate, SYN, 2))
      await until(() => client.incoming.length === 1)
      const stream = client.incoming[0]
      const count = 200_000
      const perBatch = 1000
      for (let b = 0; b < count / perBatch; b++) {
        const batch = new Uint8Array(13 * perBatch)
        for (let i = 0; i < perBatch; i++) batch.set(frame(Data, 0, 2, Uint8Array.of((b * perBatch + i) % 251)), i * 13)
        client.send(batch)
        // Sometimes a bigger payload in between, which is queued without a copy.
        if (b % 50 === 0) client.send(frame(Data, 0, 2, new Uint8Array(5000).fill(0xee)))
      }
      client.send(frame(Data, FIN, 2))
      const all = await collect(stream.source)
      assert.equal(all.byteLength, count + 4 * 5000)
      let offset = 0
      for (let b = 0; b < count / perBatch; b++) {
        for (let i = 0; i < perBatch; i++) {
          if (all[offset++] !== (b * perBatch + i) % 251) assert.fail(`byte ${offset - 1} out of order`)
        }
        if (b % 50 === 0) {
          assert.ok(all.subarray(offset, offset + 5000).every(x => x === 0xee), 'large payload in place')
          offset += 5000
        }
      }
    })

    it('a payload that arrives in many tiny chunks is delivered in order', async () => {
      const client = peer('outbound')
      client.send(frame(WindowUpdate, SYN, 2))
      await until(() => client.incoming.length === 1)
      const stream = client.incoming[0]
      const pieces = Array.from({ length: 40 }, (_, i) => Uint8Array.of(i))
      // All pushed before the muxer reads: one batch of 40+ chunks.
      client.send(encodeHeader(Data, 0, 2, 40), ...pieces, frame(Data, 0, 2, Uint8Array.of(99)), frame(Data, FIN, 2, Uint8Array.of(100)))
      assert.deepEqual([...await collect(stream.source)], [...Array.from({ length: 40 }, (_, i) => i), 99, 100])
    })
  })

  describe('bad input', () => {
    it('an unknown version is a protocol error: GoAway, streams closed, sink rejects', async () => {
      const client = peer('outbound')
      const stream = await client.muxer.newStream()
      const reading = track(collect(stream.source))
      const bad = encodeHeader(Data, 0, 1, 0)
      bad[0] = 1
      client.send(bad)
      await assertFailed(client, ProtocolError, GoAwayCode.ProtocolError, /version 1/)
      await reading.promise
      assert.ok(reading.error instanceof ConnectionClosedError)
      assert.ok((reading.error as Error & { cause?: unknown }).cause instanceof ProtocolError)
      assert.equal(stream.status, 'reset')
      assert.deepEqual(client.ended, [stream])
    })

    it('an unknown frame type is a protocol error', async () => {
      const client = peer('outbound')
      client.send(encodeHeader(4, 0, 0, 0))
      await assertFailed(client, ProtocolError, GoAwayCode.ProtocolError, /frame type 4/)
    })

    it('a SYN for an open stream id is a protocol error', async () => {
      const client = peer('outbound')
      client.send(frame(WindowUpdate, SYN, 2), frame(WindowUpdate, SYN, 2))
      await assertFailed(client, ProtocolError, GoAwayCode.ProtocolError, /already open/)
    })

    it('a SYN with an id of our parity is a protocol error', async () => {
      const client = peer('outbound')
      client.send(frame(WindowUpdate, SYN, 3))
      await assertFailed(client, ProtocolError, GoAwayCode.ProtocolError, /only we may open/)
    })

    it('a stream frame on id 0 is a protocol error', async () => {
      const client = peer('outbound')
      client.send(frame(Data, 0, 0, Uint8Array.of(1)))
      await assertFailed(client, ProtocolError, GoAwayCode.ProtocolError, /session id 0/)
    })

    it('data beyond the granted window is a protocol error', async () => {
      const client = peer('outbound')
      client.send(frame(WindowUpdate, SYN, 2), frame(Data, 0, 2, new Uint8Array(INITIAL_STREAM_WINDOW)), frame(Data, 0, 2, Uint8Array.of(1)))
      await assertFailed(client, ProtocolError, GoAwayCode.ProtocolError, /overruns its receive window/)
    })

    it('a frame longer than any window is refused from its header, before the payload arrives', async () => {
      const client = peer('outbound', { maxStreamWindowSize: INITIAL_STREAM_WINDOW })
      client.send(encodeHeader(Data, 0, 99, INITIAL_STREAM_WINDOW + 1))
      await assertFailed(client, ProtocolError, GoAwayCode.ProtocolError, /exceeds the largest window/)
    })

    it('a window update overflowing 2^32-1 is a protocol error', async () => {
      const client = peer('outbound')
      await client.muxer.newStream()
      client.send(frame(WindowUpdate, 0, 1, 0xffffffff))
      await assertFailed(client, ProtocolError, GoAwayCode.ProtocolError, /overflows/)
    })

    it('a header truncated by the end of input fails with UnexpectedEOFError', async () => {
      const client = peer('outbound')
      const stream = await client.muxer.newStream()
      client.send(encodeHeader(Ping, SYN, 0, 1).subarray(0, 5))
      client.end()
      const err = await assertFailed(client, UnexpectedEOFError, undefined, /5 of 12 header bytes/)
      assert.equal(err.name, 'UnexpectedEOFError')
      assert.equal(stream.status, 'reset')
    })

    it('a payload truncated by the end of input fails with UnexpectedEOFError', async () => {
      const client = peer('outbound')
      client.send(frame(WindowUpdate, SYN, 2), encodeHeader(Data, 0, 2, 10), Uint8Array.of(1, 2, 3))
      client.end()
      await assertFailed(client, UnexpectedEOFError, undefined, /7 payload bytes missing/)
    })

    it('data for an unknown stream is discarded and answered with RST; the connection goes on', async () => {
      const client = peer('outbound')
      client.send(frame(Data, 0, 7, new Uint8Array(1000)), frame(WindowUpdate, 0, 9, 100))
      const rst = await client.nextFrame(f => (f.flags & RST) !== 0)
      assert.deepEqual([rst.type, rst.streamId], [WindowUpdate, 7])
      client.send(frame(Data, SYN | FIN, 2, Uint8Array.of(5)))
      await until(() => client.incoming.length === 1)
      assert.deepEqual(await collect(client.incoming[0].source), Uint8Array.of(5))
      assert.equal(client.frames.filter(f => (f.flags & RST) !== 0).length, 1, 'no RST for a stray window update')
      assert.equal(client.muxer.status, 'open')
    })

    it('a RST on a Data frame resets the stream and its payload is discarded', async () => {
      const client = peer('outbound')
      client.send(frame(WindowUpdate, SYN, 2))
      await until(() => client.incoming.length === 1)
      const stream = client.incoming[0]
      const reading = track(collect(stream.source))
      client.send(frame(Data, RST, 2, Uint8Array.of(1, 2, 3)), frame(Data, SYN | FIN, 4, Uint8Array.of(4)))
      await reading.promise
      assert.ok(reading.error instanceof StreamResetError)
      await until(() => client.incoming.length === 2)
      assert.deepEqual(await collect(client.incoming[1].source), Uint8Array.of(4))
    })
  })

  describe('pings', () => {
    it('answers a ping with an ACK echoing its opaque value', async () => {
      const client = peer('outbound')
      client.send(frame(Ping, SYN, 0, 0xdeadbeef))
      const pong = await client.nextFrame(f => f.type === Ping && (f.flags & ACK) !== 0)
      assert.deepEqual([pong.streamId, pong.length], [0, 0xdeadbeef])
    })

    it('measures the RTT with a ping sent with the first stream, and through ping()', async () => {
      const client = peer('outbound')
      await sleep(5)
      assert.equal(client.frames.filter(f => f.type === Ping).length, 0, 'no ping before a stream exists')
      assert.equal(client.muxer.rtt, undefined)
      await client.muxer.newStream()
      await client.answerPing()
      await until(() => client.muxer.rtt != null, 1000, 'rtt measured')
      const pinging = client.muxer.ping()
      await client.answerPing()
      assert.ok(await pinging >= 0)
      // an unexpected pong is ignored
      client.send(frame(Ping, ACK, 0, 12345))
      await sleep(5)
      assert.equal(client.muxer.status, 'open')
    })

    it('ping() rejects with TimeoutError when unanswered, without closing the connection (keep-alive off)', async () => {
      const client = peer('outbound', { pingTimeout: 30 })
      await assert.rejects(client.muxer.ping(), TimeoutError)
      assert.equal(client.muxer.status, 'open')
    })

    it('keep-alive: a remote that goes silent is detected and the connection aborted', async () => {
      const client = peer('outbound', { enableKeepAlive: true, keepAliveInterval: 30, pingTimeout: 40 })
      const stream = await client.muxer.newStream()
      const reading = track(collect(stream.source))
      await assertFailed(client, TimeoutError, GoAwayCode.InternalError, /keep-alive/)
      await reading.promise
      assert.ok(reading.error instanceof ConnectionClosedError)
    })

    // The next two need pingTimeout well above how long a loaded machine may hold the test up
    // between two of its steps: a stall longer than it would read as a silent remote.
    it('keep-alive: a remote that answers keeps the connection up', async () => {
      const client = peer('outbound', { enableKeepAlive: true, keepAliveInterval: 20, pingTimeout: 1000 })
      for (let i = 0; i < 5; i++) await client.answerPing()
      assert.equal(client.muxer.status, 'open')
    })

    it('keep-alive: traffic from the remote counts as liveness even if a pong is late', async () => {
      const client = peer('outbound', { enableKeepAlive: true, keepAliveInterval: 20, pingTimeout: 300 })
      client.send(frame(WindowUpdate, SYN, 2))
      const started = Date.now()
      // Several times pingTimeout, so that the pongs that never come would have failed it.
      while (Date.now() - started < 1200) {
        client.send(frame(Data, 0, 2, Uint8Array.of(1)))
        await sleep(5)
      }
      assert.equal(client.muxer.status, 'open')
    })
  })

  describe('GoAway and closing', () => {
    it('after a normal GoAway from the remote: no new streams, existing ones carry on', async () => {
      const client = peer('outbound')
      const stream = await client.muxer.newStream()
      client.send(frame(GoAway, 0, 0, GoAwayCode.NormalTermination))
      await until(() => client.muxer.remoteGoAway === 0)
      await assert.rejects(client.muxer.newStream(), ConnectionClosedError)
      client.send(frame(Data, FIN, 1, Uint8Array.of(1, 2)))
      assert.deepEqual(await collect(stream.source), Uint8Array.of(1, 2))
      await stream.sink([Uint8Array.of(3)])
      const data = await client.nextFrame(f => f.type === Data)
      assert.deepEqual([...data.payload], [3])
      assert.equal(client.muxer.status, 'open')
    })

    it('a GoAway with an error code ends every stream; the sink resolves', async () => {
      const client = peer('outbound')
      const stream = await client.muxer.newStream()
      const reading = track(collect(stream.source))
      client.send(frame(GoAway, 0, 0, GoAwayCode.InternalError))
      await reading.promise
      assert.ok(reading.error instanceof ConnectionClosedError)
      assert.match(reading.error.message, /internal error/)
      await client.sink.promise
      assert.equal(client.sink.error, undefined)
      await until(() => client.output.done)
      assert.equal(client.frames.filter(f => f.type === GoAway).length, 0, 'no GoAway answered')
    })

    it('close() sends FIN on open streams, waits for the remote, then GoAway (normal)', async () => {
      const client = peer('outbound')
      const stream = await client.muxer.newStream()
      client.send(frame(WindowUpdate, ACK, 1))
      const closing = track(client.muxer.close())
      const fin = await client.nextFrame(f => f.streamId === 1 && (f.flags & FIN) !== 0)
      assert.equal(fin.type, WindowUpdate)
      await sleep(10)
      assert.equal(closing.done, false, 'close waits for the remote to close its side')
      assert.equal(client.muxer.status, 'closing')
      client.send(frame(WindowUpdate, SYN, 2))
      const refused = await client.nextFrame(f => f.streamId === 2)
      assert.equal(refused.flags, RST, 'new inbound streams are refused while closing')
      client.send(frame(WindowUpdate, FIN, 1))
      await closing.promise
      assert.equal(closing.error, undefined)
      assert.equal(stream.status, 'closed')
      const last = await client.nextFrame(f => f.type === GoAway)
      assert.equal(last.length, GoAwayCode.NormalTermination)
      await until(() => client.output.done, 1000, 'source ended')
      await client.sink.promise
      assert.equal(client.sink.error, undefined)
    })

    it('close() with a signal and 20 open streams adds one listener to it, and its abort aborts the streams still closing', async () => {
      const warnings: Error[] = []
      const onWarning = (w: Error): void => { warnings.push(w) }
      process.on('warning', onWarning)
      try {
        const client = peer('outbound')
        const streams = await Promise.all(Array.from({ length: 20 }, async () => client.muxer.newStream()))
        const controller = new AbortController()
        const closing = track(client.muxer.close({ signal: controller.signal }))
        await client.nextFrame(f => f.streamId === 39 && (f.flags & FIN) !== 0)
        assert.equal(closing.done, false, 'waiting for the remote to close its sides')
        controller.abort(new Error('enough'))
        await closing.promise
        assert.equal(closing.error, undefined)
        assert.ok(streams.every(s => s.status === 'aborted'), 'the streams still closing were aborted')
        await sleep(10)
        assert.deepEqual(warnings.filter(w => w.name === 'MaxListenersExceededWarning'), [])
      } finally {
        process.off('warning', onWarning)
      }
    })

    it('abort() sends GoAway (internal error) and no RST per stream', async () => {
      const client = peer('outbound')
      const a = await client.muxer.newStream()
      const b = await client.muxer.newStream()
      const reading = track(collect(a.source))
      client.muxer.abort(new Error('local failure'))
      await reading.promise
      assert.match(String(reading.error), /local failure/)
      assert.equal(a.status, 'aborted')
      assert.equal(b.status, 'aborted')
      await until(() => client.output.done)
      assert.deepEqual(client.frames.filter(f => f.type !== Ping).map(f => [f.type, f.flags, f.streamId, f.length]),
        [[WindowUpdate, SYN, 1, 0], [WindowUpdate, SYN, 3, 0], [GoAway, 0, 0, GoAwayCode.InternalError]])
      assert.equal(client.ended.length, 2)
    })

    it('abort() with a ProtocolError sends GoAway (protocol error)', async () => {
      const client = peer('outbound')
      client.muxer.abort(new ProtocolError('bad peer'))
      await until(() => client.output.done)
      assert.deepEqual(client.frames.filter(f => f.type === GoAway).map(f => f.length), [GoAwayCode.ProtocolError])
    })

    it('the end of input destroys streams with ConnectionClosedError and resolves the sink', async () => {
      const client = peer('outbound')
      const stream = await client.muxer.newStream()
      const writing = track(stream.sink([new Uint8Array(INITIAL_STREAM_WINDOW * 2)]))
      const reading = track(collect(stream.source))
      await until(() => stream.sendWindow === 0)
      client.end()
      await client.sink.promise
      assert.equal(client.sink.error, undefined)
      await reading.promise
      await writing.promise
      assert.ok(reading.error instanceof ConnectionClosedError)
      assert.ok(writing.error instanceof ConnectionClosedError)
      assert.equal(stream.status, 'reset')
      await until(() => client.output.done)
      assert.deepEqual(client.ended, [stream])
    })

    it('sink can be called once', async () => {
      const client = peer('outbound')
      await assert.rejects(client.muxer.sink([]), { name: 'StreamStateError' })
    })

    it('onIncomingStream throwing aborts that stream only', async () => {
      const client = peer('outbound', {}, () => { throw new Error('handler bug') })
      client.send(frame(WindowUpdate, SYN, 2))
      const rst = await client.nextFrame(f => (f.flags & RST) !== 0)
      assert.equal(rst.streamId, 2)
      assert.equal(client.muxer.status, 'open')
      assert.equal((client.incoming[0] as YamuxStream).status, 'aborted')
    })
  })
})
