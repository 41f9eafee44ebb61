import assert from 'node:assert/strict'
import { ChunkQueue } from '../src/chunk-queue.js'

describe('ChunkQueue', () => {
  it('hands everything queued to the consumer as one batch', async () => {
    const q = new ChunkQueue()
    q.push(Uint8Array.of(1))
    q.push(Uint8Array.of(2, 3))
    q.push(new Uint8Array(0))
    const r = await q.next()
    assert.equal(r.done, false)
    assert.deepEqual(r.value?.subarray(), Uint8Array.of(1, 2, 3))
    assert.equal(q.byteLength, 0)
  })

  it('coalesce: pushes made during one loop turn reach a waiting consumer as one batch', async () => {
    const q = new ChunkQueue({ coalesce: true })
    const first = q.next()
    q.push(Uint8Array.of(1))
    await Promise.resolve()
    q.push(Uint8Array.of(2))
    queueMicrotask(() => { q.push(Uint8Array.of(3)) })
    const r = await first
    assert.deepEqual(r.value?.subarray(), Uint8Array.of(1, 2, 3))
    // A consumer that asks while data is queued gets it at once, as without coalescing.
    q.push(Uint8Array.of(4))
    assert.deepEqual((await q.next()).value?.subarray(), Uint8Array.of(4))
  })

  it('coalesce: end() delivers a pending batch before done; an error discards it', async () => {
    const q = new ChunkQueue({ coalesce: true })
    const p = q.next()
    q.push(Uint8Array.of(7))
    q.end()
    assert.deepEqual((await p).value?.subarray(), Uint8Array.of(7))
    assert.equal((await q.next()).done, true)
    const failing = new ChunkQueue({ coalesce: true })
    const pending = failing.next()
    failing.push(Uint8Array.of(8))
    failing.end(new Error('boom'))
    await assert.rejects(pending, /boom/)
    // Nothing is left scheduled: the queue stays quiet afterwards.
    await new Promise(resolve => setImmediate(resolve))
    assert.equal(failing.byteLength, 0)
  })

  it('wakes a waiting consumer and ends after draining', async () => {
    const q = new ChunkQueue()
    const p = q.next()
    q.push(Uint8Array.of(9))
    assert.deepEqual((await p).value?.subarray(), Uint8Array.of(9))
    q.push(Uint8Array.of(8))
    q.end()
    assert.deepEqual((await q.next()).value?.subarray(), Uint8Array.of(8))
    assert.equal((await q.next()).done, true)
    q.push(Uint8Array.of(7))
    assert.equal((await q.next()).done, true)
  })

  it('an error discards queued data and rejects the next read once', async () => {
    const q = new ChunkQueue()
    q.push(Uint8Array.of(1))
    q.end(new Error('boom'))
    await assert.rejects(q.next(), /boom/)
    assert.equal((await q.next()).done, true)
  })

  it('rejects a pending read on error', async () => {
    const q = new ChunkQueue()
    const p = q.next()
    q.end(new Error('gone'))
    await assert.rejects(p, /gone/)
  })

  it('splits large backlogs at maxYieldBytes and reports consumption', async () => {
    const consumed: number[] = []
    const q = new ChunkQueue({ maxYieldBytes: 4, onConsumed: n => consumed.push(n) })
    q.push(new Uint8Array(10))
    assert.equal((await q.next()).value?.byteLength, 4)
    assert.equal((await q.next()).value?.byteLength, 4)
    assert.equal((await q.next()).value?.byteLength, 2)
    assert.deepEqual(consumed, [4, 4, 2])
  })

  it('signals drain when the backlog falls under the high-water mark', async () => {
    const q = new ChunkQueue({ highWaterMark: 8 })
    q.push(new Uint8Array(8))
    assert.equal(q.needsDrain, true)
    let drained = false
    const d = q.onDrain().then(() => { drained = true })
    await Promise.resolve()
    assert.equal(drained, false)
    await q.next()
    await d
    assert.equal(drained, true)
  })

  it('unshift puts bytes back in front', async () => {
    const q = new ChunkQueue()
    q.push(Uint8Array.of(3))
    q.unshift(Uint8Array.of(1, 2))
    assert.deepEqual((await q.next()).value?.subarray(), Uint8Array.of(1, 2, 3))
  })

  it('does not report bytes put back with unshift as consumed twice', async () => {
    const consumed: number[] = []
    const q = new ChunkQueue({ onConsumed: n => consumed.push(n) })
    q.push(Uint8Array.of(1, 2, 3, 4))
    const first = (await q.next()).value!
    q.unshift(first.sublist(2))
    q.push(Uint8Array.of(5))
    assert.deepEqual((await q.next()).value?.subarray(), Uint8Array.of(3, 4, 5))
    assert.deepEqual(consumed, [4, 1])
  })

  it('works with for await and return()', async () => {
    const q = new ChunkQueue()
    q.push(Uint8Array.of(1))
    for await (const chunk of q) {
      assert.equal(chunk.byteLength, 1)
      break
    }
    assert.equal(q.ended, true)
  })
})

describe('ChunkQueue at scale', () => {
  it('hands over 200,000 queued chunks without copying or overflowing the stack', async () => {
    const q = new ChunkQueue()
    for (let i = 0; i < 200_000; i++) q.push(Uint8Array.of(i & 0xff))
    q.unshift(Uint8Array.of(1, 2))
    const r = await q.next()
    assert.equal(r.value?.byteLength, 200_002)
  })
})
