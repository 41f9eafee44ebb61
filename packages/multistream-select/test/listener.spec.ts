import assert from 'node:assert/strict'
import { AbortError, InvalidMessageError, InvalidParametersError, LimitExceededError, UnexpectedEOFError, UnsupportedProtocolError } from '@peerkit/interfaces'
import { Uint8ArrayList } from 'uint8arraylist'
import { handle } from '../src/index.js'
import { GeneratorSourceDuplex, HEADER, LS, NA, RecordingDuplex, abortListeners, activeTimers, bytes, msg, settle, trackUnhandledRejections } from './fixtures.js'

const A = '/a/1.0.0'
const B = '/b/2.0.0'

async function readAll (source: AsyncIterable<Uint8Array | Uint8ArrayList>): Promise<string> {
  const all = new Uint8ArrayList()
  for await (const chunk of source) all.append(chunk)
  return new TextDecoder().decode(all.subarray())
}

describe('handle (listener), byte-exact', () => {
  trackUnhandledRejections()

  it('answers a header and proposal sent together with its header and the echo in one write', async () => {
    const d = new RecordingDuplex()
    const p = handle(d, [B, A])
    d.input.push(bytes(0x13, '/multistream/1.0.0\n', 0x09, '/a/1.0.0\n'))
    const { stream, protocol } = await p
    assert.equal(protocol, A)
    assert.deepEqual(d.writes, [bytes(0x13, '/multistream/1.0.0\n', 0x09, '/a/1.0.0\n')])
    assert.equal(stream.source, d.input)
  })

  it('sends its header at once when the dialer\'s header arrives alone, then the echo', async () => {
    const d = new RecordingDuplex()
    const p = handle(d, A)
    d.input.push(HEADER)
    await d.waitForWrites(1)
    assert.deepEqual(d.writes, [HEADER])
    d.input.push(msg(A))
    assert.equal((await p).protocol, A)
    assert.deepEqual(d.writes, [HEADER, msg(A)])
  })

  it('answers "na" (with its header) and then the echo of the next proposal', async () => {
    const d = new RecordingDuplex()
    const p = handle(d, [A])
    d.input.push(bytes(HEADER, msg(B)))
    await d.waitForWrites(1)
    assert.deepEqual(d.writes, [bytes(HEADER, 0x03, 0x6e, 0x61, 0x0a)])
    d.input.push(msg(A))
    assert.equal((await p).protocol, A)
    assert.deepEqual(d.writes[1], msg(A))
  })

  it('answers "ls" with the protocol list in the specification\'s format', async () => {
    const d = new RecordingDuplex()
    const p = handle(d, [A, B])
    d.input.push(bytes(HEADER, LS))
    await d.waitForWrites(1)
    // <total = 10 + 10 + 1><9>/a/1.0.0\n<9>/b/2.0.0\n\n
    assert.deepEqual(d.writes, [bytes(HEADER, 21, 9, '/a/1.0.0\n', 9, '/b/2.0.0\n', '\n')])
    d.input.push(msg(B))
    assert.equal((await p).protocol, B)
  })

  it('answers "ls" with an empty list when it has no protocol, and "na" to everything', async () => {
    const d = new RecordingDuplex()
    const p = handle(d, [], { maxAttempts: 2 })
    d.input.push(bytes(HEADER, LS, msg(A)))
    await assert.rejects(p, LimitExceededError)
    assert.deepEqual(d.writes, [bytes(HEADER, 1, '\n'), NA])
  })

  it('answers a repeated header with "na"', async () => {
    const d = new RecordingDuplex()
    const p = handle(d, A)
    d.input.push(bytes(HEADER, HEADER))
    await d.waitForWrites(1)
    assert.deepEqual(d.writes, [bytes(HEADER, NA)])
    d.input.push(msg(A))
    assert.equal((await p).protocol, A)
  })

  it('replays the dialer\'s data that came in the same chunk as its proposal', async () => {
    const d = new RecordingDuplex()
    const p = handle(d, A)
    d.input.push(bytes(HEADER, msg(A), 'early data'))
    const { stream } = await p
    assert.equal(stream.source, d.input)
    d.input.push(bytes(' and more'))
    d.input.end()
    assert.equal(await readAll(stream.source), 'early data and more')
  })

  it('replays leftover data in front of a generator source', async () => {
    const d = new GeneratorSourceDuplex()
    const p = handle(d, A)
    d.input.push(bytes(HEADER, msg(A), 'xyz'))
    const { stream } = await p
    d.input.end()
    assert.equal(await readAll(stream.source), 'xyz')
  })

  it('passes the handler\'s writes through after the echo', async () => {
    const d = new RecordingDuplex()
    const p = handle(d, A)
    d.input.push(bytes(HEADER, msg(A)))
    const { stream } = await p
    const reply = bytes('reply')
    await stream.sink((async function * () { yield reply })())
    assert.equal(d.chunks[1], reply)
    assert.ok(d.sinkEnded)
  })
})

describe('handle (listener), bad input and bounds', () => {
  trackUnhandledRejections()

  const cases: Array<{ name: string, input: Uint8Array[], end?: boolean, check: (err: Error) => boolean }> = [
    {
      name: 'a wrong header',
      input: [msg('/multistream/2.0.0')],
      check: err => err instanceof UnsupportedProtocolError && err.protocols[0] === '/multistream/1.0.0'
    },
    { name: 'a proposal without a header', input: [msg(A)], check: err => err instanceof UnsupportedProtocolError },
    { name: 'a header without its newline', input: [bytes(0x13, '/multistream/1.0.0!')], check: err => err instanceof InvalidMessageError },
    { name: 'an empty message', input: [bytes(0)], check: err => err instanceof InvalidMessageError },
    { name: 'invalid UTF-8', input: [bytes(3, 0xc3, 0x28, '\n')], check: err => err instanceof InvalidMessageError },
    {
      name: 'a message over maxMessageLength',
      input: [bytes(0x80, 0x80, 0x04)], // 65536
      check: err => err instanceof LimitExceededError && err.limit === 'maxMessageLength' && err.value === 65536
    },
    { name: 'the end of the stream before anything', input: [], end: true, check: err => err instanceof UnexpectedEOFError },
    { name: 'the end of the stream inside a varint', input: [bytes(0x81)], end: true, check: err => err instanceof UnexpectedEOFError },
    { name: 'the end of the stream inside the header', input: [bytes(0x13, '/multistream')], end: true, check: err => err instanceof UnexpectedEOFError }
  ]

  for (const c of cases) {
    it(`fails on ${c.name} with a typed error, writing nothing`, async () => {
      const d = new RecordingDuplex()
      const p = handle(d, A)
      for (const chunk of c.input) d.input.push(chunk)
      if (c.end === true) d.input.end()
      await assert.rejects(p, c.check)
      assert.equal(d.sinkCalls, 0)
    })
  }

  it('fails on a bad proposal that came with the header, before answering anything', async () => {
    const d = new RecordingDuplex()
    const p = handle(d, A)
    d.input.push(bytes(HEADER, 4, '/abc'))
    await assert.rejects(p, InvalidMessageError)
    assert.equal(d.sinkCalls, 0)
  })

  it('fails on a bad proposal after its header was sent, and ends its output', async () => {
    const d = new RecordingDuplex()
    const p = handle(d, A)
    d.input.push(HEADER)
    await d.waitForWrites(1)
    d.input.push(bytes(4, '/abc'))
    await assert.rejects(p, InvalidMessageError)
    await d.sinkDone
    assert.deepEqual(d.writes, [HEADER])
  })

  it('fails on the end of the stream while waiting for a proposal', async () => {
    const d = new RecordingDuplex()
    const p = handle(d, A)
    d.input.push(bytes(HEADER, msg(B)))
    await d.waitForWrites(1)
    d.input.end()
    await assert.rejects(p, UnexpectedEOFError)
    await d.sinkDone
  })

  it('answers at most maxAttempts proposals', async () => {
    const d = new RecordingDuplex()
    const p = handle(d, A, { maxAttempts: 3 })
    d.input.push(bytes(HEADER, msg('/x'), msg('/y'), LS, msg(A)))
    await assert.rejects(p, (err: LimitExceededError) => err instanceof LimitExceededError && err.limit === 'maxAttempts' && err.max === 3 && err.value === 3)
    // header+na, na, list: the fourth proposal is not answered
    assert.equal(d.writes.length, 3)
    assert.deepEqual(d.writes[1], NA)
    await d.sinkDone
  })

  it('answers 32 proposals by default', async () => {
    const d = new RecordingDuplex()
    const p = handle(d, A)
    const proposals = Array.from({ length: 40 }, (_, i) => msg(`/p/${i}`))
    d.input.push(bytes(HEADER, ...proposals))
    await assert.rejects(p, (err: LimitExceededError) => err instanceof LimitExceededError && err.max === 32)
    assert.equal(d.writes.length, 32)
  })

  it('applies a custom maxMessageLength', async () => {
    const d = new RecordingDuplex()
    const p = handle(d, A, { maxMessageLength: 19 })
    d.input.push(bytes(HEADER, msg('/twenty-bytes-long!')))
    await assert.rejects(p, (err: LimitExceededError) => err instanceof LimitExceededError && err.max === 19 && err.value === 20)
  })

  it('rejects bad parameters', async () => {
    const d = new RecordingDuplex()
    await assert.rejects(handle(d, ['ls']), InvalidParametersError)
    await assert.rejects(handle(d, ['']), InvalidParametersError)
    await assert.rejects(handle(d, A, { maxAttempts: 0 }), InvalidParametersError)
    await assert.rejects(handle(d, A, { maxMessageLength: 18 }), InvalidParametersError)
    assert.equal(d.sinkCalls, 0)
  })

  it('rejects promptly when the signal aborts while the dialer stalls, leaving nothing behind', async () => {
    await settle() // the test runner's own timer registers on the first turn
    const timersBefore = activeTimers()
    const d = new RecordingDuplex()
    const controller = new AbortController()
    const p = handle(d, A, { signal: controller.signal })
    d.input.push(bytes(HEADER, 0x09, '/a/')) // a proposal that never completes
    await settle()
    const started = Date.now()
    controller.abort()
    await assert.rejects(p, AbortError)
    // Without the signal it would wait forever; the bound leaves room for a loaded machine.
    assert.ok(Date.now() - started < 1000)
    assert.equal(abortListeners(controller.signal), 0)
    assert.equal(activeTimers(), timersBefore)
  })

  it('keeps working for other streams after a failure, leaving no timers or listeners', async () => {
    await settle() // the test runner's own timer registers on the first turn
    const timersBefore = activeTimers()
    const controller = new AbortController()
    const bad = new RecordingDuplex()
    const failing = handle(bad, A, { signal: controller.signal })
    bad.input.push(bytes(0xff, 0xff, 0x03))
    await assert.rejects(failing, LimitExceededError)

    const good = new RecordingDuplex()
    const ok = handle(good, [A, B], { signal: controller.signal })
    good.input.push(bytes(HEADER, msg(B)))
    assert.equal((await ok).protocol, B)
    assert.equal(abortListeners(controller.signal), 0)
    assert.equal(activeTimers(), timersBefore)
  })
})
