import assert from 'node:assert/strict'
import { StreamResetError, StreamStateError } from '@peerkit/interfaces'
import { streamPair, collect, delay } from './fixtures.js'

describe('AbstractStream', () => {
  it('carries data both ways and closes gracefully', async () => {
    const [a, b] = streamPair()
    const echo = (async () => { await b.sink(b.source) })()
    const [reply] = await Promise.all([
      collect(a.source),
      a.sink([Uint8Array.of(1, 2), Uint8Array.of(3)])
    ])
    await echo
    assert.deepEqual(reply, Uint8Array.of(1, 2, 3))
    assert.equal(a.status, 'closed')
    assert.equal(b.status, 'closed')
    assert.equal(a.endErrors.length, 1)
    assert.equal(a.endErrors[0], undefined)
    assert.ok(a.timeline.close != null && a.timeline.closeWrite != null && a.timeline.closeRead != null)
  })

  it('a second sink call, or one after closeWrite, returns a rejected promise (it does not throw)', async () => {
    const [a, b] = streamPair()
    const first = a.sink([Uint8Array.of(1)])
    let second: Promise<void> | undefined
    assert.doesNotThrow(() => { second = a.sink([Uint8Array.of(2)]) })
    await assert.rejects(second as Promise<void>, (err: Error) => err instanceof StreamStateError && /only once/.test(err.message))
    await first
    assert.deepEqual(await collect(b.source), Uint8Array.of(1))

    const [c] = streamPair()
    await c.closeWrite()
    // closeWrite without a sink counts as the sink's call
    await assert.rejects(c.sink([Uint8Array.of(3)]), StreamStateError)
  })

  it('half-close: the remote can keep writing after our closeWrite', async () => {
    const [a, b] = streamPair()
    await a.closeWrite()
    assert.equal(a.writeStatus, 'closed')
    assert.equal(a.status, 'open')
    assert.deepEqual(await collect(b.source), new Uint8Array(0))
    await b.sink([Uint8Array.of(5)])
    assert.deepEqual(await collect(a.source), Uint8Array.of(5))
    assert.equal(a.status, 'closed')
  })

  it('closeWrite stops pulling from a never-ending source and sends what was pulled', async () => {
    const [a, b] = streamPair()
    let pulled = 0
    const endless = (async function * () {
      while (true) {
        pulled++
        yield Uint8Array.of(pulled)
        await delay(5)
      }
    })()
    const sinking = a.sink(endless)
    await delay(20)
    await a.closeWrite()
    await sinking
    const got = await collect(b.source)
    assert.equal(got.byteLength, pulled)
  })

  it('closeWrite waits for credit to flush what was pulled, and honours its signal', async () => {
    const [a, b] = streamPair(4)
    const sinking = a.sink([new Uint8Array(10)])
    await delay(5)
    assert.equal(a.sent, 4)
    const closing = a.closeWrite()
    const reading = collect(b.source)
    await closing
    await sinking
    assert.equal((await reading).byteLength, 10, 'the chunk waiting for credit was not lost')

    const [c] = streamPair(4)
    const stuck = c.sink([new Uint8Array(10)])
    await delay(5)
    await assert.rejects(c.closeWrite({ signal: AbortSignal.timeout(20) }))
    assert.equal(c.status, 'aborted')
    await assert.rejects(stuck)
  })

  it('backpressure: a reader that does not read holds the writer at the window', async () => {
    const window = 1024
    const [a, b] = streamPair(window)
    const sinking = a.sink((function * () {
      for (let i = 0; i < 100; i++) yield new Uint8Array(256)
    })())
    await delay(20)
    assert.equal(a.sent, window)
    assert.equal(b.readBufferLength, window)
    const all = await collect(b.source)
    await sinking
    assert.equal(all.byteLength, 25600)
  })

  it('abort rejects pending reads and the sink, and resets the remote', async () => {
    const [a, b] = streamPair()
    const reading = collect(a.source)
    const remoteReading = collect(b.source)
    const never = new Promise<never>(() => {})
    const sinking = a.sink((async function * () { yield await never })())
    a.abort(new Error('local failure'))
    await assert.rejects(reading, /local failure/)
    await assert.rejects(sinking, /local failure/)
    await assert.rejects(remoteReading, StreamResetError)
    assert.equal(a.status, 'aborted')
    assert.equal(b.status, 'reset')
    assert.equal(a.resets.length, 1)
    assert.equal(b.resets.length, 0)
    assert.equal(a.endErrors.length, 1)
  })

  it('an error thrown by the sink source aborts the stream', async () => {
    const [a, b] = streamPair()
    await assert.rejects(a.sink((async function * () {
      yield Uint8Array.of(1)
      throw new Error('producer broke')
    })()), /producer broke/)
    assert.equal(a.status, 'aborted')
    await assert.rejects(collect(b.source), StreamResetError)
  })

  it('sink can be called once, and not after closeWrite', async () => {
    const [a] = streamPair()
    await a.closeWrite()
    await assert.rejects(a.sink([]), StreamStateError)
    const [c] = streamPair()
    const p = c.sink([])
    await assert.rejects(c.sink([]), StreamStateError)
    await p
  })

  it('closeRead discards buffered data and ends the source', async () => {
    const [a, b] = streamPair()
    await b.sink([Uint8Array.of(1, 2, 3)])
    await delay(1)
    await a.closeRead()
    assert.equal(a.readStatus, 'closed')
    assert.equal((await a.source.next()).done, true)
  })

  it('close times out and aborts when the remote never closes', async () => {
    const [a] = streamPair()
    await assert.rejects(a.close(), { name: 'TimeoutError' })
    assert.equal(a.status, 'aborted')
  })

  it('close honours an abort signal', async () => {
    const [a] = streamPair()
    const controller = new AbortController()
    const closing = a.close({ signal: controller.signal })
    controller.abort()
    await assert.rejects(closing)
    assert.equal(a.status, 'aborted')
  })

  it('close with an already aborted signal aborts at once', async () => {
    const [a] = streamPair()
    const started = Date.now()
    await assert.rejects(a.close({ signal: AbortSignal.abort() }))
    // Far below the 10 s close timeout it would otherwise wait, with room for a loaded machine.
    assert.ok(Date.now() - started < 1000)
    assert.equal(a.status, 'aborted')
  })

  it('many writes do not accumulate memory in the sink', async () => {
    const [a, b] = streamPair(1 << 30)
    const reading = collect(b.source)
    const n = 200_000
    const before = process.memoryUsage().heapUsed
    await a.sink((function * () { for (let i = 0; i < n; i++) yield Uint8Array.of(1) })())
    const grown = process.memoryUsage().heapUsed - before
    assert.equal((await reading).byteLength, n)
    // A reaction kept per write (about 500 bytes each) would add ~100 MB here.
    assert.ok(grown < 60 * 1024 * 1024, `heap grew ${grown} bytes`)
  })

  it('close resolves once the remote closes too', async () => {
    const [a, b] = streamPair()
    const closing = a.close()
    await delay(5)
    assert.equal(a.status, 'closing')
    await b.closeWrite()
    await closing
    assert.equal(a.status, 'closed')
  })
})
