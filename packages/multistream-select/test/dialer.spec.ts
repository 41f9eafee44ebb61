import assert from 'node:assert/strict'
import { AbortError, InvalidMessageError, InvalidParametersError, LimitExceededError, TimeoutError, UnexpectedEOFError, UnsupportedProtocolError } from '@peerkit/interfaces'
import { Uint8ArrayList } from 'uint8arraylist'
import { select } from '../src/index.js'
import { GeneratorSourceDuplex, HEADER, NA, RecordingDuplex, abortListeners, bytes, msg, settle, toBytes, trackUnhandledRejections } from './fixtures.js'

const A = '/a/1.0.0'
const B = '/b/2.0.0'

async function * chunksOf (...chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const c of chunks) yield c
}

describe('select (dialer), byte-exact', () => {
  trackUnhandledRejections()

  it('sends the header and the first proposal in one write, and accepts the echo', async () => {
    const d = new RecordingDuplex()
    const p = select(d, [A, B])
    await d.waitForWrites(1)
    assert.deepEqual(d.writes, [bytes(0x13, '/multistream/1.0.0\n', 0x09, '/a/1.0.0\n')])
    d.input.push(bytes(HEADER, msg(A)))
    const { stream, protocol } = await p
    assert.equal(protocol, A)
    assert.equal(stream, d)
    // nothing was left over: the raw source is handed back untouched
    assert.equal(stream.source, d.input)
    assert.equal(d.writes.length, 1)
  })

  it('accepts a header and an answer that arrive in separate chunks', async () => {
    const d = new RecordingDuplex()
    const p = select(d, A)
    d.input.push(HEADER)
    await settle()
    d.input.push(msg(A).subarray(0, 3))
    await settle()
    d.input.push(msg(A).subarray(3))
    assert.equal((await p).protocol, A)
  })

  it('falls back to the next protocol after "na", sending it alone', async () => {
    const d = new RecordingDuplex()
    const p = select(d, [A, B])
    d.input.push(bytes(HEADER, NA))
    await d.waitForWrites(2)
    assert.deepEqual(d.writes[1], bytes(0x09, '/b/2.0.0\n'))
    d.input.push(msg(B))
    assert.equal((await p).protocol, B)
    assert.equal(d.writes.length, 2)
  })

  it('fails with UnsupportedProtocolError listing the protocols when all are refused, and ends its output', async () => {
    const d = new RecordingDuplex()
    const p = select(d, [A, B])
    d.input.push(bytes(HEADER, NA))
    await d.waitForWrites(2)
    d.input.push(NA)
    await assert.rejects(p, (err: UnsupportedProtocolError) => {
      assert.ok(err instanceof UnsupportedProtocolError)
      assert.deepEqual(err.protocols, [A, B])
      assert.match(err.message, /\/a\/1\.0\.0, \/b\/2\.0\.0/)
      return true
    })
    await d.sinkDone
    assert.equal(d.writes.length, 2)
  })

  it('replays bytes that followed the answer in the same chunk', async () => {
    const d = new RecordingDuplex()
    const p = select(d, A)
    d.input.push(bytes(HEADER, msg(A), 'hello'))
    const { stream } = await p
    // the queue took the bytes back: still no wrapper around the source
    assert.equal(stream.source, d.input)
    d.input.push(bytes(' world'))
    d.input.end()
    const received = new Uint8ArrayList()
    for await (const chunk of stream.source) received.append(chunk)
    assert.equal(new TextDecoder().decode(received.subarray()), 'hello world')
  })

  it('replays leftover bytes in front of a source that cannot take them back', async () => {
    const d = new GeneratorSourceDuplex()
    const p = select(d, A)
    d.input.push(bytes(HEADER, msg(A), 'abc'))
    const { stream } = await p
    d.input.push(bytes('def'))
    d.input.end()
    const received = new Uint8ArrayList()
    for await (const chunk of stream.source) received.append(chunk)
    assert.equal(new TextDecoder().decode(received.subarray()), 'abcdef')
  })

  it('hands the application\'s chunks to the original sink as they are, and ends with them', async () => {
    const d = new RecordingDuplex()
    const p = select(d, A)
    d.input.push(bytes(HEADER, msg(A)))
    const { stream } = await p
    const one = Uint8Array.of(1, 2, 3)
    const two = new Uint8ArrayList(Uint8Array.of(4), Uint8Array.of(5))
    await stream.sink((async function * () { yield one; yield two })())
    assert.equal(d.chunks[1], one)
    assert.equal(d.chunks[2], two)
    assert.equal(d.sinkCalls, 1)
    assert.ok(d.sinkEnded)
  })

  it('accepts synchronous iterables in the returned sink', async () => {
    const d = new RecordingDuplex()
    const p = select(d, A)
    d.input.push(bytes(HEADER, msg(A)))
    const { stream } = await p
    await stream.sink([Uint8Array.of(7), Uint8Array.of(8)])
    assert.deepEqual(d.writes.slice(1), [Uint8Array.of(7), Uint8Array.of(8)])
  })

  it('refuses a second call of the returned sink', async () => {
    const d = new RecordingDuplex()
    const p = select(d, A)
    d.input.push(bytes(HEADER, msg(A)))
    const { stream } = await p
    const first = stream.sink([Uint8Array.of(1)])
    await assert.rejects(stream.sink([Uint8Array.of(2)]), /only once/)
    await first
  })
})

describe('select (dialer), bad input', () => {
  trackUnhandledRejections()

  const cases: Array<{ name: string, input: Uint8Array[], end?: boolean, check: (err: Error) => boolean }> = [
    { name: 'an answer without its trailing newline', input: [HEADER, bytes(9, '/a/1.0.0x')], check: err => err instanceof InvalidMessageError },
    { name: 'a header without its trailing newline', input: [bytes(0x13, '/multistream/1.0.0 ')], check: err => err instanceof InvalidMessageError },
    { name: 'an empty message', input: [HEADER, bytes(0)], check: err => err instanceof InvalidMessageError },
    { name: 'invalid UTF-8', input: [HEADER, bytes(3, 0xff, 0xfe, '\n')], check: err => err instanceof InvalidMessageError },
    { name: 'an answer that is neither echo nor na', input: [HEADER, msg('/c/1.0.0')], check: err => err instanceof InvalidMessageError },
    {
      name: 'a message over maxMessageLength',
      input: [bytes(0x81, 0x08)], // 1025
      check: err => err instanceof LimitExceededError && err.limit === 'maxMessageLength' && err.max === 1024 && err.value === 1025
    },
    { name: 'an overlong varint', input: [bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)], check: err => err instanceof InvalidMessageError || err instanceof LimitExceededError },
    { name: 'the end of the stream before anything', input: [], end: true, check: err => err instanceof UnexpectedEOFError },
    { name: 'the end of the stream inside a varint', input: [bytes(0x80)], end: true, check: err => err instanceof UnexpectedEOFError },
    { name: 'the end of the stream inside a message', input: [bytes(0x13, '/multi')], end: true, check: err => err instanceof UnexpectedEOFError },
    { name: 'the end of the stream after the header', input: [HEADER], end: true, check: err => err instanceof UnexpectedEOFError },
    {
      name: 'a wrong header',
      input: [msg('/multistream/2.0.0'), msg(A)],
      check: err => err instanceof UnsupportedProtocolError && err.protocols.length === 1 && err.protocols[0] === '/multistream/1.0.0' && err.message.includes('/multistream/2.0.0')
    },
    { name: 'an answer without a header first', input: [msg(A)], check: err => err instanceof UnsupportedProtocolError }
  ]

  for (const c of cases) {
    it(`fails on ${c.name} with a typed error and ends its output`, async () => {
      const d = new RecordingDuplex()
      const p = select(d, A)
      for (const chunk of c.input) d.input.push(chunk)
      if (c.end === true) d.input.end()
      await assert.rejects(p, c.check)
      await d.sinkDone
      assert.equal(d.writes.length, 1)
    })
  }

  it('applies a custom maxMessageLength', async () => {
    const d = new RecordingDuplex()
    const p = select(d, A, { maxMessageLength: 32 })
    d.input.push(bytes(HEADER, 33))
    await assert.rejects(p, (err: LimitExceededError) => err instanceof LimitExceededError && err.max === 32 && err.value === 33)
  })

  it('rejects bad parameters before touching the stream', async () => {
    const d = new RecordingDuplex()
    await assert.rejects(select(d, []), InvalidParametersError)
    await assert.rejects(select(d, ''), InvalidParametersError)
    await assert.rejects(select(d, [A, 'x\ny']), InvalidParametersError)
    await assert.rejects(select(d, 'na'), InvalidParametersError)
    await assert.rejects(select(d, '/' + 'x'.repeat(1023)), InvalidParametersError)
    await assert.rejects(select(d, '/' + 'x'.repeat(40), { maxMessageLength: 32 }), InvalidParametersError)
    await assert.rejects(select(d, A, { maxMessageLength: 10 }), InvalidParametersError)
    await assert.rejects(select(d, A, { negotiateFully: false, maxMessageLength: 1.5 }), InvalidParametersError)
    assert.equal(d.sinkCalls, 0)
    assert.equal(d.source, d.input)
  })

  it('rejects at once with an already aborted signal, writing nothing', async () => {
    const d = new RecordingDuplex()
    const controller = new AbortController()
    controller.abort()
    await assert.rejects(select(d, A, { signal: controller.signal }), AbortError)
    await assert.rejects(select(d, A, { signal: controller.signal, negotiateFully: false }), AbortError)
    assert.equal(d.sinkCalls, 0)
  })

  it('rejects promptly when the signal aborts while the listener stalls, leaving no listener behind', async () => {
    const d = new RecordingDuplex()
    const controller = new AbortController()
    const p = select(d, [A, B], { signal: controller.signal })
    await d.waitForWrites(1)
    d.input.push(HEADER) // then nothing
    await settle()
    const started = Date.now()
    controller.abort()
    await assert.rejects(p, AbortError)
    // Without the signal it would wait forever; the bound leaves room for a loaded machine.
    assert.ok(Date.now() - started < 1000)
    assert.equal(abortListeners(controller.signal), 0)
    await d.sinkDone
  })

  it('rejects with the signal\'s reason when it is an error', async () => {
    const d = new RecordingDuplex()
    const controller = new AbortController()
    const p = select(d, A, { signal: controller.signal })
    await d.waitForWrites(1)
    controller.abort(new TimeoutError('negotiation timed out', 50))
    await assert.rejects(p, TimeoutError)
    assert.equal(abortListeners(controller.signal), 0)
  })

  it('reports a failing sink', async () => {
    const d = new RecordingDuplex()
    d.sink = async () => { throw new Error('socket closed') }
    await assert.rejects(select(d, A), /socket closed/)
  })
})

describe('select (dialer), optimistic', () => {
  trackUnhandledRejections()

  it('resolves at once without writing, then sends header, proposal and the first data written in the same turn in one write', async () => {
    const d = new RecordingDuplex()
    const { stream, protocol } = await select(d, A, { negotiateFully: false })
    // The listener's answer: the end of our data waits for it.
    d.input.push(bytes(HEADER, msg(A)))
    assert.equal(protocol, A)
    assert.equal(d.sinkCalls, 0)
    const first = bytes('hello')
    const second = bytes('world')
    const sinkDone = stream.sink(chunksOf(first, second))
    await d.waitForWrites(2)
    assert.deepEqual(d.writes[0], bytes(0x13, '/multistream/1.0.0\n', 0x09, '/a/1.0.0\n', 'hello'))
    // later chunks go through as they are
    assert.equal(d.chunks[1], second)
    await sinkDone
    assert.ok(d.sinkEnded)
  })

  it('sends the proposal alone at the end of the turn when the application has not written by then', async () => {
    const d = new RecordingDuplex()
    const { stream } = await select(d, A, { negotiateFully: false })
    // The listener's answer: the end of our data waits for it.
    d.input.push(bytes(HEADER, msg(A)))
    assert.equal(d.writes.length, 0)
    await settle()
    await d.waitForWrites(1)
    assert.deepEqual(d.writes, [bytes(HEADER, msg(A))])
    const data = bytes('later')
    await stream.sink([data])
    assert.equal(d.chunks[1], data)
    assert.ok(d.sinkEnded)
  })

  it('takes the first chunk of a synchronous source in the same turn, and ends after it', async () => {
    const d = new RecordingDuplex()
    const { stream } = await select(d, A, { negotiateFully: false })
    d.input.push(bytes(HEADER, msg(A)))
    let pulls = 0
    function * once (): Generator<Uint8Array> {
      pulls++
      yield bytes('x')
    }
    const sinkDone = stream.sink(once())
    // One write for proposal and data, taken before any timer or I/O callback could run.
    await d.waitForWrites(1)
    assert.equal(pulls, 1)
    assert.deepEqual(d.writes[0], bytes(HEADER, msg(A), 'x'))
    await sinkDone
    assert.ok(d.sinkEnded)
    assert.equal(d.writes.length, 1)
  })

  it('a synchronous source that throws on its first chunk fails the sink; the proposal is not sent', async () => {
    const d = new RecordingDuplex()
    const { stream } = await select(d, A, { negotiateFully: false })
    const failing: Iterable<Uint8Array> = {
      [Symbol.iterator]: () => ({ next: (): IteratorResult<Uint8Array> => { throw new Error('source broke') } })
    }
    await assert.rejects(stream.sink(failing), /source broke/)
    // Not at the end of the turn either: the write side failed with the source.
    await new Promise(resolve => setImmediate(resolve))
    assert.equal(d.writes.length, 0)
  })

  it('joins the proposal with a first chunk that is a Uint8ArrayList, without copying it', async () => {
    const d = new RecordingDuplex()
    const { stream } = await select(d, A, { negotiateFully: false })
    // The listener's answer: the end of our data waits for it.
    d.input.push(bytes(HEADER, msg(A)))
    const part = Uint8Array.of(1, 2)
    await stream.sink([new Uint8ArrayList(part, Uint8Array.of(3))])
    assert.deepEqual(d.writes[0], bytes(HEADER, msg(A), 1, 2, 3))
    const list = d.chunks[0] as Uint8ArrayList
    assert.ok([...list].includes(part))
  })

  it('checks the listener\'s answer on the first read and then hands over the raw source', async () => {
    const d = new RecordingDuplex()
    const { stream } = await select(d, A, { negotiateFully: false })
    void stream.sink(chunksOf(bytes('ping')))
    d.input.push(bytes(HEADER, msg(A), 'pong'))
    const it = stream.source[Symbol.asyncIterator]()
    const r = await it.next()
    assert.equal(new TextDecoder().decode(toBytes(r.value)), 'pong')
    assert.equal(stream.source, d.input)
    d.input.push(bytes('!'))
    assert.deepEqual(toBytes((await it.next()).value), bytes('!'))
  })

  it('fails the first read with UnsupportedProtocolError on "na", and every later read too', async () => {
    const d = new RecordingDuplex()
    const { stream } = await select(d, A, { negotiateFully: false })
    void stream.sink(chunksOf(bytes('x')))
    d.input.push(bytes(HEADER, NA))
    const it = stream.source[Symbol.asyncIterator]()
    await assert.rejects(it.next(), (err: UnsupportedProtocolError) => err instanceof UnsupportedProtocolError && err.protocols[0] === A)
    await assert.rejects(it.next(), UnsupportedProtocolError)
  })

  for (const [name, input, type] of [
    ['garbage', [bytes(HEADER, 5, 'abcde')], InvalidMessageError],
    ['a different protocol', [bytes(HEADER, msg(B))], InvalidMessageError],
    ['a wrong header', [msg('/multistream/2.0.0')], UnsupportedProtocolError],
    ['an oversized message', [bytes(0xff, 0x7f)], LimitExceededError]
  ] as const) {
    it(`fails the first read with a typed error on ${name}`, async () => {
      const d = new RecordingDuplex()
      const { stream } = await select(d, A, { negotiateFully: false })
      void stream.sink([bytes('x')])
      for (const chunk of input) d.input.push(chunk)
      await assert.rejects(stream.source[Symbol.asyncIterator]().next(), type)
    })
  }

  it('fails the first read with UnexpectedEOFError when the listener closes without answering', async () => {
    const d = new RecordingDuplex()
    const { stream } = await select(d, A, { negotiateFully: false })
    void stream.sink([bytes('x')])
    d.input.end()
    await assert.rejects(stream.source[Symbol.asyncIterator]().next(), UnexpectedEOFError)
  })

  it('still sends the proposal when the application ends its sink without writing', async () => {
    const d = new RecordingDuplex()
    const { stream } = await select(d, A, { negotiateFully: false })
    const sinkDone = stream.sink([])
    await d.waitForWrites(1)
    assert.deepEqual(d.writes, [bytes(HEADER, msg(A))])
    await settle()
    assert.equal(d.sinkEnded, false, 'the end waits for the answer')
    d.input.push(bytes(HEADER, msg(A), 'reply'))
    d.input.end()
    await sinkDone
    assert.ok(d.sinkEnded)
    const received = new Uint8ArrayList()
    for await (const chunk of stream.source) received.append(chunk)
    assert.equal(new TextDecoder().decode(received.subarray()), 'reply')
  })

  it('passes data on at once but the end only after the answer, also after a refusal', async () => {
    for (const answer of [A, 'na']) {
      const d = new RecordingDuplex()
      const { stream } = await select(d, A, { negotiateFully: false })
      const sinkDone = stream.sink([bytes('one'), bytes('two')])
      await d.waitForWrites(2)
      assert.deepEqual(d.writes, [bytes(HEADER, msg(A), 'one'), bytes('two')])
      await settle()
      assert.equal(d.sinkEnded, false, 'the end waits for the answer')
      d.input.push(bytes(HEADER, msg(answer), 'data'))
      await sinkDone
      assert.ok(d.sinkEnded)
      const read = stream.source[Symbol.asyncIterator]().next()
      if (answer === A) assert.deepEqual(toBytes((await read).value), bytes('data'))
      else await assert.rejects(read, UnsupportedProtocolError)
    }
  })

  it('sends the proposal alone when the application reads before writing', async () => {
    const d = new RecordingDuplex()
    const { stream } = await select(d, A, { negotiateFully: false })
    const it = stream.source[Symbol.asyncIterator]()
    const read = it.next()
    await d.waitForWrites(1)
    assert.deepEqual(d.writes, [bytes(HEADER, msg(A))])
    d.input.push(bytes(HEADER, msg(A), 'first'))
    assert.deepEqual(toBytes((await read).value), bytes('first'))
    const data = bytes('later')
    void stream.sink(chunksOf(data))
    await d.waitForWrites(2)
    assert.equal(d.chunks[1], data)
  })

  it('sends the proposal alone when a read starts while the first chunk is still being produced', async () => {
    const d = new RecordingDuplex()
    const { stream } = await select(d, A, { negotiateFully: false })
    let release!: () => void
    const gate = new Promise<void>(resolve => { release = resolve })
    const data = bytes('slow')
    const sinkDone = stream.sink((async function * () { await gate; yield data })())
    assert.equal(d.writes.length, 0)
    const read = stream.source[Symbol.asyncIterator]().next()
    await d.waitForWrites(1)
    assert.deepEqual(d.writes, [bytes(HEADER, msg(A))])
    release()
    await d.waitForWrites(2)
    assert.equal(d.chunks[1], data)
    d.input.push(bytes(HEADER, msg(A), 'ok'))
    assert.deepEqual(toBytes((await read).value), bytes('ok'))
    await sinkDone
  })

  it('serialises concurrent first reads behind one negotiation', async () => {
    const d = new RecordingDuplex()
    const { stream } = await select(d, A, { negotiateFully: false })
    const it = stream.source[Symbol.asyncIterator]()
    const r1 = it.next()
    const r2 = it.next()
    d.input.push(bytes(HEADER, msg(A), 'one'))
    assert.deepEqual(toBytes((await r1).value), bytes('one'))
    d.input.push(bytes('two'))
    assert.deepEqual(toBytes((await r2).value), bytes('two'))
  })

  it('ends the original source when the application stops reading before the answer', async () => {
    const d = new RecordingDuplex()
    const { stream } = await select(d, A, { negotiateFully: false })
    const it = stream.source[Symbol.asyncIterator]()
    assert.deepEqual(await it.return?.(), { done: true, value: undefined })
    assert.ok(d.input.ended)
    assert.deepEqual(await it.next(), { done: true, value: undefined })
  })

  it('fails the first read when the proposal cannot be sent', async () => {
    const d = new RecordingDuplex()
    d.sink = async () => { throw new Error('write side gone') }
    const { stream } = await select(d, A, { negotiateFully: false })
    await assert.rejects(stream.source[Symbol.asyncIterator]().next(), /write side gone/)
  })

  it('is not used for several protocols, nor by default', async () => {
    for (const [protocols, options] of [[[A, B], { negotiateFully: false }], [A, {}]] as Array<[string | string[], { negotiateFully?: boolean }]>) {
      const d = new RecordingDuplex()
      let resolved = false
      const p = select(d, protocols, options).then(r => { resolved = true; return r })
      await d.waitForWrites(1)
      await settle()
      assert.equal(resolved, false)
      d.input.push(bytes(HEADER, msg(A)))
      assert.equal((await p).protocol, A)
    }
  })
})
