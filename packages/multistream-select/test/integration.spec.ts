import assert from 'node:assert/strict'
import { AbortError, StreamStateError, UnexpectedEOFError, UnsupportedProtocolError } from '@peerkit/interfaces'
import { Uint8ArrayList } from 'uint8arraylist'
import { handle, ls, select } from '../src/index.js'
import { HEADER, abortListeners, activeTimers, bytes, collect, msg, rawPair, settle, streamPair, toBytes, trackUnhandledRejections } from './fixtures.js'

const A = '/a/1.0.0'
const B = '/b/2.0.0'
const C = '/c/3.0.0'

const text = (data: Uint8Array): string => new TextDecoder().decode(data)

function pseudoRandom (length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length)
  let x = seed
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    out[i] = x >>> 24
  }
  return out
}

async function * slices (data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.byteLength; i += size) yield data.subarray(i, i + size)
}

describe('select ↔ handle over muxed streams', () => {
  trackUnhandledRejections()

  it('agrees on the first protocol in one round trip, header and proposal in one frame each way', async () => {
    const [dialer, listener] = streamPair()
    const [selected, handled] = await Promise.all([select(dialer, [A, B]), handle(listener, [B, A])])
    assert.equal(selected.protocol, A)
    assert.equal(handled.protocol, A)
    assert.deepEqual(dialer.sent, [bytes(HEADER, msg(A))])
    assert.deepEqual(listener.sent, [bytes(HEADER, msg(A))])
  })

  it('falls back to a later protocol', async () => {
    const [dialer, listener] = streamPair()
    const [selected, handled] = await Promise.all([select(dialer, [A, B, C]), handle(listener, [C])])
    assert.equal(selected.protocol, C)
    assert.equal(handled.protocol, C)
    assert.deepEqual(dialer.sent, [bytes(HEADER, msg(A)), msg(B), msg(C)])
  })

  it('fails on both sides when nothing is shared, and the streams close cleanly', async () => {
    const [dialer, listener] = streamPair()
    const [s, h] = await Promise.allSettled([select(dialer, [A, B]), handle(listener, [C])])
    assert.equal(s.status, 'rejected')
    assert.ok(s.reason instanceof UnsupportedProtocolError)
    assert.deepEqual(s.reason.protocols, [A, B])
    // the dialer's output ended, so the listener saw the end of the stream
    assert.equal(h.status, 'rejected')
    assert.ok(h.reason instanceof UnexpectedEOFError)
    await settle()
    assert.equal(dialer.writeStatus, 'closed')
    assert.equal(listener.writeStatus, 'closed')
    assert.equal(dialer.status, 'closed')
    assert.equal(listener.status, 'closed')
  })

  it('exchanges data both ways after negotiation, including data sent right behind the answer', async () => {
    const [dialer, listener] = streamPair()
    const handled = handle(listener, A).then(async ({ stream }) => {
      // echo server
      await stream.sink(stream.source)
    })
    const { stream } = await select(dialer, A)
    const [, received] = await Promise.all([
      stream.sink([bytes('hello'), bytes(' world')]),
      collect(stream.source)
    ])
    await handled
    assert.equal(text(received), 'hello world')
  })

  it('carries a large transfer after negotiation under flow control', async function () {
    this.timeout(10_000)
    const [dialer, listener] = streamPair(64 * 1024)
    const payload = pseudoRandom(1024 * 1024 + 17, 7)
    const handled = handle(listener, [B, A]).then(async ({ stream }) => collect(stream.source))
    const { stream } = await select(dialer, [C, A])
    await stream.sink(slices(payload, 16 * 1024 + 3))
    const received = await handled
    assert.equal(received.byteLength, payload.byteLength)
    assert.deepEqual(received, payload)
  })

  it('lists the listener\'s protocols with ls', async () => {
    const [dialer, listener] = streamPair()
    const handled = handle(listener, [A, B, C], { maxAttempts: 1 })
    const { protocols, stream } = await ls(dialer)
    assert.deepEqual(protocols, [A, B, C])
    assert.deepEqual(dialer.sent, [bytes(HEADER, 3, 'ls\n')])
    await assert.rejects(handled, /maxAttempts/)
    stream.abort(new Error('done'))
  })

  it('reports a listener that answers ls with "na"', async () => {
    const [dialer, listener] = streamPair()
    // a listener without ls support, as current go-multistream
    void (async () => {
      for await (const _ of listener.source) {
        await listener.sink([bytes(HEADER, 3, 'na\n')])
        return
      }
    })()
    await assert.rejects(ls(dialer), (err: UnsupportedProtocolError) => err instanceof UnsupportedProtocolError && err.protocols[0] === 'ls')
  })

  it('negotiates many streams concurrently', async () => {
    const pairs = Array.from({ length: 50 }, () => streamPair())
    const results = await Promise.all(pairs.map(async ([d, l], i) => {
      const wanted = i % 2 === 0 ? [A, B] : [C, B]
      const [s, h] = await Promise.all([select(d, wanted), handle(l, [B, C])])
      assert.equal(s.protocol, h.protocol)
      return s.protocol
    }))
    assert.equal(results.filter(p => p === B).length, 25)
    assert.equal(results.filter(p => p === C).length, 25)
  })

  it('aborting the dialer mid-negotiation rejects promptly and leaves nothing pending', async () => {
    await settle() // the test runner's own timer registers on the first turn
    const timersBefore = activeTimers()
    const [dialer, listener] = streamPair()
    const controller = new AbortController()
    // the listener never answers: it reads nothing
    const p = select(dialer, A, { signal: controller.signal })
    await settle()
    controller.abort()
    await assert.rejects(p, AbortError)
    assert.equal(abortListeners(controller.signal), 0)
    dialer.abort(new Error('negotiation aborted'))
    await settle()
    assert.equal(dialer.status, 'aborted')
    assert.equal(listener.status, 'reset')
    assert.equal(activeTimers(), timersBefore)
  })

  it('logs through the given logger', async () => {
    const lines: string[] = []
    const log = Object.assign((format: unknown, ...args: unknown[]) => { lines.push([format, ...args].map(String).join(' ')) }, {
      error: () => {},
      trace: () => {},
      enabled: true
    })
    const [dialer, listener] = streamPair()
    await Promise.all([select(dialer, [B, A], { log }), handle(listener, A, { log })])
    assert.ok(lines.some(l => l.includes('selected') && l.includes(A)))
    assert.ok(lines.some(l => l.includes('handled') && l.includes(A)))
  })

  it('reports a reset during negotiation', async () => {
    const [dialer, listener] = streamPair()
    const p = select(dialer, A)
    await settle()
    listener.abort(new Error('go away'))
    await assert.rejects(p, (err: Error) => err.name === 'StreamResetError')
  })
})

describe('optimistic select ↔ handle over muxed streams', () => {
  trackUnhandledRejections()

  it('sends header, proposal and the first data in one frame and gets the answer on the first read', async () => {
    const [dialer, listener] = streamPair()
    const handled = handle(listener, A).then(async ({ stream }) => {
      const request = await collect(stream.source)
      await stream.sink([bytes('re: '), request])
    })
    const { stream } = await select(dialer, A, { negotiateFully: false })
    await stream.sink([bytes('question')])
    assert.deepEqual(dialer.sent, [bytes(HEADER, msg(A), 'question')])
    assert.equal(text(await collect(stream.source)), 're: question')
    await handled
    // The handler answers only after the dialer's close, which waits for the listener's answer:
    // so the answer went alone, at the end of the turn in which the listener read the proposal.
    assert.deepEqual(listener.sent.slice(0, 2), [bytes(HEADER, msg(A)), bytes('re: ')])
  })

  it('fails the first read with UnsupportedProtocolError when the listener refuses', async () => {
    const [dialer, listener] = streamPair()
    const handled = handle(listener, B, { maxAttempts: 1 })
    const { stream } = await select(dialer, A, { negotiateFully: false })
    void stream.sink([bytes('data')]).catch(() => {})
    await assert.rejects(collect(stream.source), UnsupportedProtocolError)
    await assert.rejects(handled, /maxAttempts/)
    stream.abort(new Error('refused'))
  })

  it('works when the application writes nothing and just closes', async () => {
    const [dialer, listener] = streamPair()
    const handled = handle(listener, A).then(async ({ stream }) => {
      assert.equal((await collect(stream.source)).byteLength, 0)
      await stream.sink([bytes('unsolicited')])
    })
    const { stream } = await select(dialer, A, { negotiateFully: false })
    await stream.sink([])
    assert.equal(text(await collect(stream.source)), 'unsolicited')
    await handled
  })

  it('works when the application reads first', async () => {
    const [dialer, listener] = streamPair()
    const handled = handle(listener, A).then(async ({ stream }) => {
      await stream.sink([bytes('greeting')])
      return collect(stream.source)
    })
    const { stream } = await select(dialer, A, { negotiateFully: false })
    const it = stream.source[Symbol.asyncIterator]()
    assert.equal(text(toBytes((await it.next()).value)), 'greeting')
    await stream.sink([bytes('thanks')])
    assert.equal(text(await handled), 'thanks')
  })

  it('carries a large transfer both ways', async function () {
    this.timeout(10_000)
    const [dialer, listener] = streamPair(32 * 1024)
    const up = pseudoRandom(512 * 1024, 1)
    const down = pseudoRandom(300 * 1024 + 5, 2)
    const handled = handle(listener, A).then(async ({ stream }) => {
      const [received] = await Promise.all([collect(stream.source), stream.sink(slices(down, 7000))])
      return received
    })
    const { stream } = await select(dialer, A, { negotiateFully: false })
    const [, received] = await Promise.all([stream.sink(slices(up, 9000)), collect(stream.source)])
    assert.deepEqual(received, down)
    assert.deepEqual(await handled, up)
  })

  it('sends the proposal before the FIN when the write side is closed before anything was written', async () => {
    const [dialer, listener] = streamPair()
    const handled = handle(listener, A).then(async ({ stream }) => {
      assert.equal((await collect(stream.source)).byteLength, 0)
      await stream.sink([bytes('reply')])
    })
    const { stream } = await select(dialer, A, { negotiateFully: false })
    await stream.closeWrite()
    assert.deepEqual(dialer.sent, [bytes(HEADER, msg(A))])
    assert.equal(text(await collect(stream.source)), 'reply')
    await handled
    // The wrapper is gone once it has done its work: the stream's own method is back.
    assert.equal(Object.hasOwn(stream, 'closeWrite'), false)
  })

  it('sends the proposal before closing when close() comes first, and a refusal still reads as UnsupportedProtocolError', async () => {
    const [dialer, listener] = streamPair()
    const handled = handle(listener, B, { maxAttempts: 1 })
    const { stream } = await select(dialer, A, { negotiateFully: false })
    const reading = collect(stream.source)
    await stream.close().catch(() => {})
    await assert.rejects(reading, UnsupportedProtocolError)
    assert.deepEqual(dialer.sent[0], bytes(HEADER, msg(A)))
    await assert.rejects(handled, /maxAttempts/)
  })

  it('sends data with the proposal at once but the close only after the answer, even when the application never reads', async () => {
    const [dialer, listener] = streamPair()
    let answered = false
    let closeSeenAfterAnswer: boolean | undefined
    const handled = handle(listener, A).then(async ({ stream }) => {
      answered = true
      const request = await collect(stream.source)
      closeSeenAfterAnswer = answered
      await stream.sink([bytes('got '), request])
    })
    const { stream } = await select(dialer, A, { negotiateFully: false })
    await stream.sink([bytes('request')])
    assert.deepEqual(dialer.sent, [bytes(HEADER, msg(A), 'request')])
    await handled
    assert.equal(closeSeenAfterAnswer, true)
    assert.equal(text(await collect(stream.source)), 'got request')
  })

  it('with earlyClose sends proposal, data and the close without waiting for the answer, and the listener gets all of it', async () => {
    const [dialer, listener] = streamPair()
    const { stream } = await select(dialer, A, { negotiateFully: false, earlyClose: true })
    // No listener runs yet: without earlyClose this sink would wait for the answer before closing.
    await stream.sink([bytes('request')])
    assert.equal(dialer.writeStatus, 'closed')
    assert.deepEqual(dialer.sent, [bytes(HEADER, msg(A), 'request')])
    await settle()
    const handled = handle(listener, A).then(async ({ stream }) => {
      const request = await collect(stream.source)
      await stream.sink([bytes('got '), request])
    })
    assert.equal(text(await collect(stream.source)), 'got request')
    await handled
  })

  it('with earlyClose a closeWrite before any write sends the proposal and closes at once', async () => {
    const [dialer, listener] = streamPair()
    const { stream } = await select(dialer, A, { negotiateFully: false, earlyClose: true })
    await stream.closeWrite()
    assert.equal(dialer.writeStatus, 'closed')
    assert.deepEqual(dialer.sent, [bytes(HEADER, msg(A))])
    const handled = handle(listener, A).then(async ({ stream }) => {
      assert.equal((await collect(stream.source)).byteLength, 0)
      await stream.sink([bytes('reply')])
    })
    assert.equal(text(await collect(stream.source)), 'reply')
    await handled
  })

  it('with earlyClose a refusal still fails the first read with UnsupportedProtocolError', async () => {
    const [dialer, listener] = streamPair()
    const handled = handle(listener, B, { maxAttempts: 1 })
    const { stream } = await select(dialer, A, { negotiateFully: false, earlyClose: true })
    await stream.sink([bytes('data')]).catch(() => {})
    await assert.rejects(collect(stream.source), UnsupportedProtocolError)
    await assert.rejects(handled, /maxAttempts/)
    stream.abort(new Error('refused'))
  })

  it('fails the read instead of hanging when the write side closed underneath before the proposal went out', async () => {
    const [dialer] = streamPair()
    const { stream } = await select(dialer, A, { negotiateFully: false })
    // The muxed stream's own method, bypassing the wrapper: the proposal can no longer leave.
    await Object.getPrototypeOf(dialer).closeWrite.call(dialer)
    await assert.rejects(stream.source[Symbol.asyncIterator]().next(), StreamStateError)
  })
})

describe('select ↔ handle over raw duplexes', () => {
  trackUnhandledRejections()

  it('negotiates and hands over generator sources with leftover bytes', async () => {
    const [a, b] = rawPair()
    const handled = handle(b, [B]).then(async ({ stream }) => {
      await stream.sink((async function * () { yield bytes('pong') })())
    })
    const { stream, protocol } = await select(a, [A, B], { negotiateFully: true })
    assert.equal(protocol, B)
    assert.deepEqual(a.written, [bytes(HEADER, msg(A)), msg(B)])
    assert.deepEqual(b.written.slice(0, 2), [bytes(HEADER, 3, 'na\n'), msg(B)])
    await stream.sink([])
    assert.equal(text(await collect(stream.source)), 'pong')
    await handled
  })

  it('optimistic select over raw duplexes', async () => {
    const [a, b] = rawPair()
    const handled = handle(b, A).then(async ({ stream }) => {
      const all = new Uint8ArrayList()
      for await (const c of stream.source) all.append(c)
      await stream.sink([all])
    })
    const { stream } = await select(a, A, { negotiateFully: false })
    const [, echoed] = await Promise.all([stream.sink([bytes('abc'), bytes('def')]), collect(stream.source)])
    assert.equal(text(echoed), 'abcdef')
    assert.deepEqual(a.written[0], bytes(HEADER, msg(A), 'abc'))
    await handled
  })
})
