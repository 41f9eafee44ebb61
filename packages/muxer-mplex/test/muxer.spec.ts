import assert from 'node:assert/strict'
import { ConnectionClosedError, InvalidParametersError, LimitExceededError, StreamResetError } from '@peerkit/interfaces'
import { pipe } from 'it-pipe'
import { Uint8ArrayList } from 'uint8arraylist'
import { mplex } from '../src/index.js'
import { checkLeaks, collect, createSide, delay, muxerPair, queued, tick, wire } from './fixtures.js'
import type { MplexStream } from '../src/index.js'

const echo = (stream: MplexStream): void => { void pipe(stream, stream).catch(() => {}) }

describe('mplex muxer', () => {
  checkLeaks()

  it('echoes data on a stream and closes gracefully on both sides', async () => {
    const [a, b] = muxerPair({}, { onIncoming: echo })
    const s = a.muxer.newStream()
    const [reply] = await Promise.all([collect(s.source), s.sink([Uint8Array.of(1, 2), Uint8Array.of(3)])])
    assert.deepEqual(reply, Uint8Array.of(1, 2, 3))
    await tick()
    assert.equal(s.status, 'closed')
    assert.equal(b.incoming[0].status, 'closed')
    assert.deepEqual(a.ended, [s])
    assert.deepEqual(b.ended, [b.incoming[0]])
    assert.equal(a.muxer.streams.length, 0)
    assert.equal(b.muxer.streams.length, 0)
    await a.muxer.close()
    await b.muxer.close()
    await Promise.all([a.sinkDone, b.sinkDone])
  })

  it('works when piped as pipe(conn, muxer, conn)', async () => {
    const a = createSide({ direction: 'outbound' })
    const b = createSide({ direction: 'inbound', onIncoming: echo })
    const piping = Promise.all([pipe(a.muxer, b.muxer, a.muxer)])
    const s = a.muxer.newStream()
    const [reply] = await Promise.all([collect(s.source), s.sink([new TextEncoder().encode('ping')])])
    assert.equal(new TextDecoder().decode(reply), 'ping')
    await a.muxer.close()
    await b.muxer.close()
    await piping
  })

  it('the same id in both directions names two different streams', async () => {
    const [a, b] = muxerPair({ onIncoming: echo }, { onIncoming: echo })
    const fromA = a.muxer.newStream()
    const fromB = b.muxer.newStream()
    assert.equal(fromA.streamId, 0)
    assert.equal(fromB.streamId, 0)
    await tick()
    assert.deepEqual(a.muxer.streams.map(s => s.id).sort(), ['i0', 'r0'])
    const [ra, rb] = await Promise.all([
      collect(fromA.source), collect(fromB.source),
      fromA.sink([Uint8Array.of(0xa)]), fromB.sink([Uint8Array.of(0xb)])
    ])
    assert.deepEqual(ra, Uint8Array.of(0xa))
    assert.deepEqual(rb, Uint8Array.of(0xb))
    assert.equal(a.incoming[0].streamId, 0)
    assert.equal(a.incoming[0].id, 'r0')
    assert.equal(fromA.id, 'i0')
    a.muxer.abort(new Error('done'))
    b.muxer.abort(new Error('done'))
  })

  it('half-close: the remote keeps writing after our closeWrite', async () => {
    const [a, b] = muxerPair()
    const s = a.muxer.newStream()
    await s.closeWrite()
    await tick()
    const remote = b.incoming[0]
    assert.deepEqual(await collect(remote.source), new Uint8Array(0))
    assert.equal(s.status, 'open')
    await remote.sink([Uint8Array.of(5, 6)])
    assert.deepEqual(await collect(s.source), Uint8Array.of(5, 6))
    await tick()
    assert.equal(s.status, 'closed')
    assert.equal(remote.status, 'closed')
    await Promise.all([a.muxer.close(), b.muxer.close()])
  })

  it('reset reaches the remote as StreamResetError; onStreamEnd fires once per stream', async () => {
    const [a, b] = muxerPair()
    const s = a.muxer.newStream()
    await tick()
    const remote = b.incoming[0]
    const reading = collect(remote.source)
    s.abort(new Error('local failure'))
    await assert.rejects(reading, StreamResetError)
    assert.equal(remote.status, 'reset')
    assert.equal(s.status, 'aborted')
    s.abort(new Error('again'))
    await tick()
    assert.deepEqual(a.ended, [s])
    assert.deepEqual(b.ended, [remote])
    await Promise.all([a.muxer.close(), b.muxer.close()])
  })

  it('carries 3 MiB in 1 MiB frames intact', async () => {
    const [a] = muxerPair({}, { onIncoming: echo })
    const s = a.muxer.newStream()
    const data = new Uint8Array(3 * 1024 * 1024 + 17).map((_v, i) => (i * 7) & 0xff)
    const [reply] = await Promise.all([collect(s.source), s.sink([data])])
    assert.equal(reply.byteLength, data.byteLength)
    assert.deepEqual(reply, data)
    a.muxer.abort(new Error('done'))
  })

  it('many small writes on many streams arrive in order', async () => {
    const [a] = muxerPair({}, { onIncoming: echo })
    const streams = Array.from({ length: 20 }, () => a.muxer.newStream())
    const results = await Promise.all(streams.map(async (s, n) => {
      const chunks = Array.from({ length: 200 }, (_v, i) => Uint8Array.of(n, i & 0xff))
      const [reply] = await Promise.all([collect(s.source), s.sink(chunks)])
      return { n, reply }
    }))
    for (const { n, reply } of results) {
      assert.equal(reply.byteLength, 400)
      for (let i = 0; i < 200; i++) assert.deepEqual([reply[2 * i], reply[2 * i + 1]], [n, i & 0xff])
    }
    a.muxer.abort(new Error('done'))
  })

  it('stream names reach the remote; the default name is the id', async () => {
    const [a, b] = muxerPair()
    a.muxer.newStream('first')
    a.muxer.newStream()
    await tick()
    assert.deepEqual(b.incoming.map(s => s.name), ['first', '1'])
    assert.throws(() => a.muxer.newStream('x'.repeat((1 << 20) + 1)), InvalidParametersError)
    a.muxer.abort(new Error('done'))
    b.muxer.abort(new Error('done'))
  })

  it('maxOutboundStreams: newStream past the cap throws LimitExceededError; closing one frees a slot', async () => {
    const [a] = muxerPair({ maxOutboundStreams: 2 })
    const first = a.muxer.newStream()
    a.muxer.newStream()
    assert.throws(() => a.muxer.newStream(), (err: unknown) => {
      assert.ok(err instanceof LimitExceededError)
      assert.equal(err.limit, 'maxOutboundStreams')
      assert.equal(err.max, 2)
      assert.equal(err.value, 3)
      return true
    })
    first.abort(new Error('x'))
    assert.equal(a.muxer.newStream().streamId, 2)
    a.muxer.abort(new Error('done'))
  })

  it('maxInboundStreams: streams past the cap are reset for the opener', async () => {
    const [a, b] = muxerPair({}, { maxInboundStreams: 2 })
    const streams = [a.muxer.newStream(), a.muxer.newStream(), a.muxer.newStream()]
    await assert.rejects(collect(streams[2].source), StreamResetError)
    assert.equal(b.incoming.length, 2)
    assert.equal(b.muxer.streams.length, 2)
    assert.equal(streams[0].status, 'open')
    a.muxer.abort(new Error('done'))
  })

  it('close() closes open streams gracefully, then ends the source', async () => {
    const [a, b] = muxerPair({}, { onIncoming: s => { void s.closeWrite() } })
    const s = a.muxer.newStream()
    await a.muxer.close()
    assert.equal(s.status, 'closed')
    assert.throws(() => a.muxer.newStream(), ConnectionClosedError)
    await a.muxer.close() // idempotent
    await b.sinkDone
    assert.equal(b.muxer.streams.length, 0)
    await b.muxer.close()
    await a.sinkDone
  })

  it('close() bounded by a signal aborts streams the remote does not close, and rejects', async () => {
    const [a, b] = muxerPair()
    const s = a.muxer.newStream()
    const controller = new AbortController()
    const closing = a.muxer.close({ signal: controller.signal })
    await delay(5)
    controller.abort()
    await assert.rejects(closing, { name: 'AbortError' })
    assert.equal(s.status, 'aborted')
    await b.sinkDone
    assert.equal(b.incoming[0].status, 'reset')
  })

  it('close() with an already aborted signal aborts at once', async () => {
    const [a, b] = muxerPair()
    const s = a.muxer.newStream()
    await assert.rejects(a.muxer.close({ signal: AbortSignal.abort() }), { name: 'AbortError' })
    assert.equal(s.status, 'aborted')
    await b.sinkDone
  })

  it('close() of a stream is bounded by closeTimeout', async () => {
    const [a] = muxerPair({ closeTimeout: 20 })
    const s = a.muxer.newStream()
    const started = Date.now()
    await a.muxer.close()
    assert.ok(Date.now() - started < 5000, 'bounded by closeTimeout (20 ms), not the default 10 s')
    assert.equal(s.status, 'aborted')
  })

  it('abort(err) errors every stream with err and makes source throw it', async () => {
    const w = wire()
    const s = w.muxer.newStream()
    w.input.push(Uint8Array.of(0x00, 0x00))
    await tick()
    const err = new Error('boom')
    const reading = collect(s.source)
    w.muxer.abort(err)
    await assert.rejects(reading, /boom/)
    await assert.rejects(collect(w.incoming[0].source), /boom/)
    await assert.rejects(w.muxer.source.next(), /boom/)
    await w.sinkDone
    assert.equal(w.ended.length, 2)
    w.muxer.abort(new Error('twice')) // no-op
  })

  it('abort() after a graceful close stops the sink too', async () => {
    const w = wire()
    await w.muxer.close()
    assert.equal((await w.muxer.source.next()).done, true)
    w.muxer.abort(new Error('stop reading'))
    await w.sinkDone
    assert.equal(w.input.ended, true) // the input was released
  })

  it('the end of the input destroys open streams with ConnectionClosedError', async () => {
    const w = wire()
    const s = w.muxer.newStream()
    const sinking = s.sink((async function * () { yield Uint8Array.of(1); await delay(10_000) })())
    w.input.end()
    await w.sinkDone
    await assert.rejects(collect(s.source), ConnectionClosedError)
    await assert.rejects(sinking, ConnectionClosedError)
    assert.equal(s.status, 'reset')
    assert.equal((await w.muxer.source.next()).done, false) // queued frames still flushed
    assert.equal((await w.muxer.source.next()).done, true)
  })

  it('a failing input ends streams with ConnectionClosedError carrying the cause', async () => {
    const side = createSide()
    const s = side.muxer.newStream()
    const cause = new Error('socket broke')
    await side.muxer.sink((async function * () { yield new Uint8Array(0); throw cause })())
    await assert.rejects(collect(s.source), (err: unknown) => err instanceof ConnectionClosedError && err.cause === cause)
    await assert.rejects(side.muxer.source.next(), ConnectionClosedError)
  })

  it('sink can be called once', async () => {
    const w = wire()
    await assert.rejects(w.muxer.sink([]), { name: 'StreamStateError' })
    w.muxer.abort(new Error('done'))
  })

  it('without onIncomingStream inbound streams are refused with a reset', async () => {
    const [a, b] = muxerPair({}, { onIncoming: null })
    const s = a.muxer.newStream()
    await assert.rejects(collect(s.source), StreamResetError)
    assert.equal(b.muxer.streams.length, 0)
    a.muxer.abort(new Error('done'))
  })

  it('an onIncomingStream that throws aborts only that stream', async () => {
    let calls = 0
    const [a] = muxerPair({}, { onIncoming: s => { if (calls++ === 0) throw new Error('handler bug'); echo(s) } })
    const bad = a.muxer.newStream()
    await assert.rejects(collect(bad.source), StreamResetError)
    const good = a.muxer.newStream()
    const [reply] = await Promise.all([collect(good.source), good.sink([Uint8Array.of(4)])])
    assert.deepEqual(reply, Uint8Array.of(4))
    a.muxer.abort(new Error('done'))
  })

  it('backpressure: writes wait while the outbound queue is over its high-water mark', async () => {
    const w = wire({ outboundHighWaterMark: 8192 })
    const s = w.muxer.newStream()
    let pulled = 0
    const sinking = s.sink((function * () {
      for (let i = 0; i < 64; i++) { pulled++; yield new Uint8Array(2048) }
    })())
    await delay(10)
    // Nobody reads the muxer's source: the writer is held once the queue passes 8 KiB.
    assert.ok(queued(w.muxer) <= 8192 + 2048 + 16, `queued ${queued(w.muxer)}`)
    assert.ok(pulled < 10, `pulled ${pulled}`)
    const received = new Uint8ArrayList()
    const reading = (async () => { for await (const chunk of w.muxer.source) received.append(chunk) })()
    await sinking
    assert.equal(pulled, 64)
    w.input.end()
    await reading
    assert.ok(received.byteLength > 64 * 2048)
  })

  it('closeWrite while a write waits for drain sends what was pulled, then Close', async () => {
    const w = wire({ outboundHighWaterMark: 4096 })
    const s = w.muxer.newStream()
    const sinking = s.sink((async function * () {
      for (let i = 0; i < 100; i++) yield new Uint8Array(2048).fill(i)
    })())
    await delay(5)
    const closing = s.closeWrite()
    const out = new Uint8ArrayList()
    const reading = (async () => { for await (const chunk of w.muxer.source) out.append(chunk) })()
    await closing
    await sinking
    assert.equal(s.writeStatus, 'closed')
    assert.equal(s.status, 'open')
    w.input.end()
    await reading
    const all = out.subarray()
    // ends with Close from the initiator of stream 0
    assert.deepEqual(all.subarray(all.byteLength - 2), Uint8Array.of(0x04, 0x00))
  })

  it('abort while a write waits for drain rejects the sink promptly', async () => {
    const w = wire({ outboundHighWaterMark: 4096 })
    const s = w.muxer.newStream()
    const sinking = s.sink((async function * () {
      while (true) yield new Uint8Array(2048)
    })())
    await delay(5)
    s.abort(new Error('give up'))
    await assert.rejects(sinking, /give up/)
    w.muxer.abort(new Error('done'))
  })

  it('logs through the connection logger when one is given', async () => {
    const lines: string[] = []
    const log = Object.assign((f: unknown) => { lines.push(String(f)) }, {
      error: (f: unknown) => { lines.push(String(f)) },
      trace: (f: unknown) => { lines.push(String(f)) },
      enabled: true
    })
    const muxer = mplex().createStreamMuxer({ direction: 'outbound', log })
    muxer.newStream()
    muxer.abort(new Error('done'))
    assert.ok(lines.some(l => l.startsWith('mplex opened outbound stream')), lines.join('\n'))
    assert.ok(lines.some(l => l.startsWith('mplex i0 ')), lines.join('\n'))
  })

  it('rejects invalid options', () => {
    assert.throws(() => mplex({ maxMessageSize: 0 }), InvalidParametersError)
    assert.throws(() => mplex({ maxInboundStreams: 1.5 }), InvalidParametersError)
    assert.throws(() => mplex({ maxStreamBufferSize: 1024 }), InvalidParametersError)
    assert.throws(() => mplex({ maxConnectionBufferSize: 1 << 20 }), InvalidParametersError)
    assert.doesNotThrow(() => mplex({ disconnectThreshold: 0, maxUnprocessedBytes: 1024 }))
  })
})
