import assert from 'node:assert/strict'
import { Uint8ArrayList } from 'uint8arraylist'
import { INITIAL_STREAM_WINDOW } from '../src/frame.js'
import { YamuxMuxer } from '../src/muxer.js'
import { activeTimers, delayedPair, sleep, track, until } from './fixtures.js'
import type { YamuxStream } from '../src/stream.js'

const MiB = 1024 * 1024

/** Sends `total` bytes on a new stream of `pair` and reads them on the other side with `read`. */
async function transfer (latencyMs: number, total: number, read: (stream: YamuxStream, listener: YamuxMuxer) => Promise<void>, maxStreamWindowSize?: number): Promise<YamuxStream> {
  let inbound: YamuxStream | undefined
  let reading: Promise<void> | undefined
  const pair = delayedPair(latencyMs, maxStreamWindowSize != null ? { maxStreamWindowSize } : {}, (s) => {
    inbound = s
    reading = read(s, pair.listener)
  })
  // The RTT is measured by pings sent with the stream's SYN and ACK.
  const stream = await pair.dialer.newStream()
  const chunk = new Uint8Array(256 * 1024)
  await stream.sink((function * () {
    for (let sent = 0; sent < total; sent += chunk.byteLength) yield chunk
  })())
  await until(() => reading != null)
  await reading
  assert.ok(inbound != null)
  pair.dialer.abort(new Error('done'))
  pair.listener.abort(new Error('done'))
  await pair.done
  return inbound
}

describe('yamux receive window', () => {
  let timersBefore = 0
  // Counted after an await, as in afterEach, so mocha's own hook timer is on both sides.
  beforeEach(async () => {
    await Promise.resolve()
    timersBefore = activeTimers()
  })
  afterEach(async () => {
    await sleep(20)
    assert.ok(activeTimers() <= timersBefore, 'no timer leaked')
  })

  it('grows under a fast reader so one stream can fill a high-latency link', async () => {
    let received = 0
    const stream = await transfer(10, 48 * MiB, async (s) => {
      for await (const chunk of s.source) received += chunk.byteLength
    })
    assert.equal(received, 48 * MiB)
    assert.ok(stream.receiveWindow >= 8 * MiB, `window grew to ${stream.receiveWindow}`)
    assert.ok(stream.receiveWindow <= 16 * MiB, 'window within maxStreamWindowSize')
  })

  it('never grows past maxStreamWindowSize', async () => {
    const stream = await transfer(10, 16 * MiB, async (s) => {
      for await (const _ of s.source) { /* drain */ }
    }, MiB)
    assert.equal(stream.receiveWindow, MiB)
  })

  it('stays at 256 KiB under a reader slower than the link', async () => {
    let pause = 0
    let received = 0
    const stream = await transfer(2, 3 * MiB, async (s, listener) => {
      // Slower than the link as the receiver measures it: a loaded machine can delay the pong of
      // the RTT probe by tens of milliseconds (seen: a window grown to 2 MiB behind a fixed 25 ms
      // pause), so the pause is set from the measured RTT: each read comes at least four RTTs
      // after the one before (the first, four RTTs after the stream opened), twice the two RTTs
      // within which auto-tuning would grow the window.
      await until(() => listener.rtt != null, 5000, 'the receiver measuring the RTT')
      pause = Math.max(25, Math.ceil(4 * (listener.rtt ?? 0)))
      await sleep(pause)
      for await (const chunk of s.source) {
        received += chunk.byteLength
        await sleep(pause)
      }
    })
    // The slow reader did read everything, at its measured pace.
    assert.equal(received, 3 * MiB)
    assert.ok(pause >= 25, `paused ${pause} ms per read`)
    assert.equal(stream.receiveWindow, INITIAL_STREAM_WINDOW)
  })

  it('holds writers while the connection does not take the queued frames', async () => {
    const muxer = new YamuxMuxer({ direction: 'outbound' }, { enableKeepAlive: false, sendQueueSize: 64 * 1024 })
    const stream = await muxer.newStream()
    let pulled = 0
    const writing = track(stream.sink((function * () {
      for (let i = 0; i < 20_000; i++) {
        pulled++
        yield Uint8Array.of(i & 0xff)
      }
    })()))
    await sleep(50)
    assert.equal(writing.done, false, 'the writer is held')
    assert.ok(muxer.sendQueueLength < 64 * 1024 + 1024, `queue bounded (${muxer.sendQueueLength} bytes)`)
    assert.ok(pulled < 20_000, `only ${pulled} writes pulled`)
    // Taking the queued batches releases the writer.
    const out = new Uint8ArrayList()
    const pumping = (async () => {
      for await (const chunk of muxer.source) out.append(chunk)
    })()
    await writing.promise
    assert.equal(writing.error, undefined)
    assert.equal(pulled, 20_000)
    muxer.abort(new Error('done'))
    await pumping
    assert.ok(out.byteLength >= 20_000 * 13)
  })
})
