import assert from 'node:assert/strict'
import { createCipheriv, randomBytes } from 'node:crypto'
import { markAsUntransferable } from 'node:worker_threads'
import { MIN_FREED_BUFFER_BYTES, detachArrayBuffer, freeBuffer } from '../src/free-buffer.js'

const MiB = 1024 * 1024

/** Bytes of ArrayBuffer memory node tracks (`process.memoryUsage().arrayBuffers`). */
function arrayBufferBytes (): number {
  return process.memoryUsage().arrayBuffers
}

describe('freeBuffer', () => {
  it('detaches a buffer that spans its whole ArrayBuffer, and its memory is gone at once', () => {
    const buf = new Uint8Array(16 * MiB).fill(7)
    const other = new Uint8Array(buf.buffer, 100, 10)
    const before = arrayBufferBytes()
    assert.equal(freeBuffer(buf), true)
    const freed = before - arrayBufferBytes()
    assert.ok(freed >= 16 * MiB, `only ${freed} bytes freed`)
    assert.equal(buf.byteLength, 0)
    assert.equal(buf.buffer.byteLength, 0)
    // Every view of the ArrayBuffer reads as empty.
    assert.equal(other.byteLength, 0)
    // Freeing twice is refused, without throwing.
    assert.equal(freeBuffer(buf), false)
  })

  it('frees the output of node\'s cipher, the buffers a Noise sender drops once written', () => {
    const cipher = createCipheriv('chacha20-poly1305', randomBytes(32), randomBytes(12), { authTagLength: 16 })
    const out = cipher.update(randomBytes(65519))
    cipher.final()
    assert.equal(out.byteLength, 65519)
    assert.equal(freeBuffer(out), true)
    assert.equal(out.byteLength, 0)
  })

  it('leaves alone a view into a larger ArrayBuffer, a pooled Buffer, a small or a shared buffer', () => {
    const big = new Uint8Array(64 * 1024).fill(1)
    const head = big.subarray(0, 32 * 1024)
    const tail = big.subarray(32 * 1024)
    assert.equal(freeBuffer(head), false)
    assert.equal(freeBuffer(tail), false)
    assert.equal(big.byteLength, 64 * 1024)
    assert.equal(head[0], 1)

    const pooled = Buffer.allocUnsafe(3000).fill(2)
    assert.ok(pooled.buffer.byteLength > pooled.byteLength, 'expected a slice of the pool')
    assert.equal(freeBuffer(pooled), false)
    assert.equal(pooled[2999], 2)

    const small = new Uint8Array(MIN_FREED_BUFFER_BYTES - 1).fill(3)
    assert.equal(freeBuffer(small), false)
    assert.equal(small[0], 3)

    const shared = new Uint8Array(new SharedArrayBuffer(64 * 1024)).fill(4)
    assert.equal(freeBuffer(shared), false)
    assert.equal(shared[0], 4)
  })

  it('leaves alone a buffer marked untransferable, and says so', () => {
    const buf = new Uint8Array(64 * 1024).fill(5)
    markAsUntransferable(buf.buffer)
    assert.equal(freeBuffer(buf), false)
    assert.equal(buf.byteLength, 64 * 1024)
    assert.equal(buf[100], 5)
  })

  for (const via of ['transfer', 'message'] as const) {
    it(`detachArrayBuffer via ${via} frees the memory`, function () {
      if (via === 'transfer' && typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer !== 'function') {
        // Node.js 20 has no ArrayBuffer.prototype.transfer: that route then posts to a closed port.
        const buffer = new ArrayBuffer(8 * MiB)
        detachArrayBuffer(buffer, via)
        assert.equal(buffer.byteLength, 0)
        return
      }
      const buffer = new ArrayBuffer(8 * MiB)
      const before = arrayBufferBytes()
      detachArrayBuffer(buffer, via)
      assert.equal(buffer.byteLength, 0)
      assert.ok(before - arrayBufferBytes() >= 8 * MiB)
      // Many in a row: the closed port does not queue them.
      const start = arrayBufferBytes()
      for (let i = 0; i < 200; i++) detachArrayBuffer(new ArrayBuffer(MiB), via)
      assert.ok(arrayBufferBytes() - start < MiB, `${arrayBufferBytes() - start} bytes still held`)
    })
  }
})
