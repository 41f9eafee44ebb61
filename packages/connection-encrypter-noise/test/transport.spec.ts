import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { Uint8ArrayList } from 'uint8arraylist'
import { CipherState } from '../src/cipher-state.js'
import { MAX_PLAINTEXT_BYTES } from '../src/constants.js'
import { FrameDecoder, decryptSource, encryptChunk, encryptSource } from '../src/transport.js'

const KEY = randomBytes(32)

function ciphers (): { send: CipherState, receive: CipherState } {
  return { send: new CipherState(KEY), receive: new CipherState(KEY) }
}

function bytes (data: Uint8Array | Uint8ArrayList | undefined): Buffer {
  if (data == null) return Buffer.alloc(0)
  return Buffer.from(data instanceof Uint8Array ? data : data.subarray())
}

/** Splits an encrypted stream into its frames' body lengths. */
function frameLengths (wire: Uint8Array): number[] {
  const lengths: number[] = []
  for (let offset = 0; offset < wire.byteLength;) {
    const length = (wire[offset] << 8) | wire[offset + 1]
    lengths.push(length)
    offset += 2 + length
  }
  return lengths
}

async function collect (source: AsyncIterable<Uint8Array | Uint8ArrayList>): Promise<Buffer> {
  const out = new Uint8ArrayList()
  for await (const chunk of source) out.append(chunk)
  return Buffer.from(out.subarray())
}

describe('transport framing', () => {
  for (const size of [1, 100, 2048, 2049, MAX_PLAINTEXT_BYTES, MAX_PLAINTEXT_BYTES + 1, 3 * MAX_PLAINTEXT_BYTES + 5, 1024 * 1024]) {
    it(`encrypts ${size} bytes into ${Math.ceil(size / MAX_PLAINTEXT_BYTES)} frame(s) of at most 65535 bytes, and back`, () => {
      const { send, receive } = ciphers()
      const plaintext = randomBytes(size)
      const wire = bytes(encryptChunk(send, plaintext))
      const lengths = frameLengths(wire)
      assert.equal(lengths.length, Math.ceil(size / MAX_PLAINTEXT_BYTES))
      assert.ok(lengths.every(l => l <= 65535 && l >= 16))
      assert.equal(wire.byteLength, size + lengths.length * 18)
      assert.deepEqual(bytes(new FrameDecoder(receive).decode(wire)), plaintext)
    })
  }

  it('turns a list of many small writes into one frame', () => {
    const { send, receive } = ciphers()
    const pieces = Array.from({ length: 500 }, (_, i) => randomBytes(1 + (i % 50)))
    const list = new Uint8ArrayList(...pieces)
    const wire = bytes(encryptChunk(send, list))
    assert.deepEqual(frameLengths(wire), [list.byteLength + 16])
    assert.deepEqual(bytes(new FrameDecoder(receive).decode(wire)), Buffer.concat(pieces))
  })

  it('encrypts a list of large pieces (header + payload) without joining, split at the frame boundary', () => {
    const { send, receive } = ciphers()
    const header = randomBytes(12)
    const payload = randomBytes(200_000)
    const wire = bytes(encryptChunk(send, new Uint8ArrayList(header, payload)))
    assert.deepEqual(frameLengths(wire), [65535, 65535, 65535, 200_012 - 3 * MAX_PLAINTEXT_BYTES + 16])
    assert.deepEqual(bytes(new FrameDecoder(receive).decode(wire)), Buffer.concat([header, payload]))
  })

  it('returns nothing for an empty chunk', () => {
    assert.equal(encryptChunk(ciphers().send, new Uint8Array(0)), undefined)
    assert.equal(encryptChunk(ciphers().send, new Uint8ArrayList()), undefined)
  })

  it('decodes a stream split at every possible byte boundary', () => {
    const { send, receive } = ciphers()
    const messages = [randomBytes(5), randomBytes(40), randomBytes(1)]
    const wire = Buffer.concat(messages.map(m => bytes(encryptChunk(send, m))))
    const expected = Buffer.concat(messages)
    for (let a = 0; a <= wire.byteLength; a++) {
      for (const b of [a, Math.min(wire.byteLength, a + 1), Math.min(wire.byteLength, a + 17)]) {
        const decoder = new FrameDecoder(new CipherState(KEY))
        const out = Buffer.concat([wire.subarray(0, a), wire.subarray(a, b), wire.subarray(b)].map(c => bytes(decoder.decode(c))))
        assert.deepEqual(out, expected, `split at ${a} and ${b}`)
        assert.equal(decoder.buffered, 0)
      }
    }
    assert.ok(receive.hasKey())
  })

  it('decodes large frames arriving in random TCP-like chunks, including list chunks', () => {
    const { send, receive } = ciphers()
    const plaintext = randomBytes(600_000)
    const wire = Buffer.concat([
      bytes(encryptChunk(send, plaintext.subarray(0, 300_000))),
      bytes(encryptChunk(send, plaintext.subarray(300_000, 300_100))),
      bytes(encryptChunk(send, plaintext.subarray(300_100)))
    ])
    const decoder = new FrameDecoder(receive)
    const out = new Uint8ArrayList()
    let seed = 7
    for (let offset = 0; offset < wire.byteLength;) {
      seed = (seed * 1103515245 + 12345) % 2147483648
      const size = 1 + (seed % 70_000)
      const piece = wire.subarray(offset, offset + size)
      // Every other chunk arrives as a list of two pieces.
      const chunk = seed % 2 === 0 ? piece : new Uint8ArrayList(piece.subarray(0, 3), piece.subarray(3))
      const plain = decoder.decode(chunk)
      if (plain != null) out.append(plain)
      offset += size
    }
    assert.deepEqual(Buffer.from(out.subarray()), plaintext)
    assert.equal(decoder.buffered, 0)
  })

  it('yields all messages of one chunk together', () => {
    const { send, receive } = ciphers()
    const wire = Buffer.concat([1, 2, 3].map(n => bytes(encryptChunk(send, Uint8Array.of(n)))))
    const out = new FrameDecoder(receive).decode(wire)
    assert.ok(out instanceof Uint8ArrayList)
    assert.deepEqual(bytes(out), Buffer.from([1, 2, 3]))
  })

  it('throws DecryptionError for a flipped bit and stays failed', () => {
    const { send, receive } = ciphers()
    const wire = Buffer.concat([bytes(encryptChunk(send, randomBytes(100))), bytes(encryptChunk(send, randomBytes(100)))])
    const tampered = Buffer.from(wire)
    tampered[wire.byteLength - 30] ^= 0x04
    const decoder = new FrameDecoder(receive)
    // The first message is intact: it decodes; the second fails.
    assert.throws(() => decoder.decode(tampered), { name: 'DecryptionError' })
    assert.throws(() => decoder.decode(new Uint8Array(0)), { name: 'DecryptionError' })
    assert.equal(decoder.buffered, 0)
  })

  it('throws DecryptionError for a message replayed or reordered', () => {
    const { send, receive } = ciphers()
    const first = bytes(encryptChunk(send, Uint8Array.of(1)))
    const second = bytes(encryptChunk(send, Uint8Array.of(2)))
    const decoder = new FrameDecoder(receive)
    assert.deepEqual(bytes(decoder.decode(first)), Buffer.from([1]))
    assert.throws(() => decoder.decode(first), { name: 'DecryptionError' })
    assert.throws(() => new FrameDecoder(new CipherState(KEY)).decode(second), { name: 'DecryptionError' })
  })

  for (const length of [0, 1, 15]) {
    it(`throws InvalidMessageError for a ${length}-byte message (shorter than the tag)`, () => {
      const frame = Buffer.alloc(2 + length)
      frame.writeUInt16BE(length)
      assert.throws(() => new FrameDecoder(new CipherState(KEY)).decode(frame), { name: 'InvalidMessageError' })
      // Same when the prefix arrives split from a previous message's tail.
      const decoder = new FrameDecoder(new CipherState(KEY))
      decoder.decode(frame.subarray(0, 1))
      assert.throws(() => decoder.decode(new Uint8ArrayList(frame.subarray(1, 2), frame.subarray(2))), { name: 'InvalidMessageError' })
    })
  }

  it('accepts a message carrying an empty plaintext (16 bytes, tag only) and yields nothing for it', () => {
    const { send, receive } = ciphers()
    const sealed = send.seal(new Uint8Array(0))
    const frame = Buffer.concat([Buffer.from([0, 16]), sealed.tag])
    assert.equal(new FrameDecoder(receive).decode(frame), undefined)
    assert.equal(receive.nonce, 1n)
  })

  describe('sources', () => {
    it('round-trips chunks through encryptSource and decryptSource', async () => {
      const { send, receive } = ciphers()
      const chunks = [randomBytes(10), new Uint8ArrayList(randomBytes(5), randomBytes(70_000)), randomBytes(0), randomBytes(3)]
      const out = await collect(decryptSource(encryptSource(chunks, send), receive))
      assert.deepEqual(out, Buffer.concat(chunks.map(c => bytes(c))))
    })

    it('decryptSource throws UnexpectedEOFError when the stream ends inside a message', async () => {
      const { send, receive } = ciphers()
      const wire = bytes(encryptChunk(send, randomBytes(100)))
      await assert.rejects(collect(decryptSource([wire.subarray(0, 50)], receive)), { name: 'UnexpectedEOFError' })
    })

    it('decryptSource ends its source when decryption fails', async () => {
      const { send, receive } = ciphers()
      const wire = Buffer.from(bytes(encryptChunk(send, randomBytes(100))))
      wire[10] ^= 1
      let returned = false
      const source = (async function * () {
        try {
          yield wire
          yield wire
        } finally {
          returned = true
        }
      })()
      await assert.rejects(collect(decryptSource(source, receive)), { name: 'DecryptionError' })
      assert.equal(returned, true)
    })

    it('encryptSource refuses chunks that are not bytes', async () => {
      const bad = ['text'] as unknown as Uint8Array[]
      await assert.rejects(collect(encryptSource(bad, ciphers().send)), { name: 'InvalidParametersError' })
    })
  })
})
