import assert from 'node:assert/strict'
import { createCipheriv, randomBytes } from 'node:crypto'
import { markAsUntransferable } from 'node:worker_threads'
import { Uint8ArrayList } from 'uint8arraylist'
import { MAX_OWNED_PIECE_BYTES, MIN_FREED_BUFFER_BYTES, detachArrayBuffer, freeBuffer, freeChunk, ownedCopy } from '../src/free-buffer.js'

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

/** True when `piece` is the whole of its ArrayBuffer. */
function spansItsBuffer (piece: Uint8Array): boolean {
  return piece.byteOffset === 0 && piece.buffer.byteLength === piece.byteLength
}

describe('ownedCopy and freeChunk', () => {
  it('copies into pieces of at most 64 KiB, each long one a buffer of its own, whatever the input\'s pieces', () => {
    const bytes = randomBytes(300_000)
    // The input as one buffer, and as views of odd sizes into one larger buffer.
    const backing = new Uint8Array(bytes.byteLength + 10)
    backing.set(bytes, 5)
    const views = new Uint8ArrayList()
    for (const [start, end] of [[0, 7], [7, 70_000], [70_000, 70_001], [70_001, 250_000], [250_000, 300_000]]) {
      views.append(backing.subarray(5 + start, 5 + end))
    }
    for (const input of [bytes, views]) {
      const copy = ownedCopy(input)
      assert.equal(copy.byteLength, bytes.byteLength)
      assert.deepEqual(copy.subarray(), new Uint8Array(bytes))
      const pieces = [...copy]
      assert.equal(pieces.length, Math.ceil(bytes.byteLength / MAX_OWNED_PIECE_BYTES))
      for (const piece of pieces) {
        assert.ok(piece.byteLength <= MAX_OWNED_PIECE_BYTES)
        assert.notEqual(piece.buffer, backing.buffer)
        assert.notEqual(piece.buffer, bytes.buffer)
        if (piece.byteLength >= MIN_FREED_BUFFER_BYTES) assert.ok(spansItsBuffer(piece), 'a long piece is a buffer of its own')
      }
      // Changing the input afterwards leaves the copy as it was.
      const before = copy.subarray()
      backing.fill(0xaa)
      assert.deepEqual(copy.subarray(), before)
      backing.set(bytes, 5)
    }
    // A short copy comes from node's pool; an empty input gives an empty list.
    const short = [...ownedCopy(bytes.subarray(0, 100))]
    assert.equal(short.length, 1)
    assert.equal(spansItsBuffer(short[0]), false)
    assert.equal(ownedCopy(new Uint8Array(0)).byteLength, 0)
  })

  it('freeChunk frees the pieces that span their buffer and leaves views and short pieces alone', () => {
    const copy = ownedCopy(randomBytes(2 * MAX_OWNED_PIECE_BYTES + 100))
    const [first, second, tail] = [...copy]
    const larger = new Uint8Array(100_000)
    const view = larger.subarray(10, 50_000)
    const list = new Uint8ArrayList(first, view, second, tail)
    assert.equal(freeChunk(list), 2 * MAX_OWNED_PIECE_BYTES)
    assert.equal(first.byteLength, 0)
    assert.equal(second.byteLength, 0)
    assert.equal(tail.byteLength, 100, 'the short tail is left to the collector')
    assert.equal(view.byteLength, 49_990, 'a view into a larger buffer is left alone')
    assert.equal(freeChunk(list), 0, 'nothing is freed twice')
    const single = new Uint8Array(MIN_FREED_BUFFER_BYTES)
    assert.equal(freeChunk(single), MIN_FREED_BUFFER_BYTES)
    assert.equal(freeChunk(larger.subarray(0, 10_000)), 0)
  })
})
