import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { DecryptionError, UnexpectedEOFError } from '@peerkit/interfaces'
import { Uint8ArrayList } from 'uint8arraylist'
import { CipherState } from '../src/cipher-state.js'
import { FrameDecoder, NoiseByteChannel, decryptSource, encryptChunk } from '../src/transport.js'
import type { ByteChannel, ByteChannelReceiver } from '@peerkit/interfaces'

const KEY = randomBytes(32)

/** A raw channel: records writes, lets the test deliver received bytes. */
function rawChannel (): { channel: ByteChannel, written: Uint8ArrayList, receiver: () => ByteChannelReceiver } {
  let receiver: ByteChannelReceiver | undefined
  const written = new Uint8ArrayList()
  return {
    channel: {
      attach: (r) => { receiver = r },
      write: (d) => { written.append(d); return written.byteLength < 1000 },
      end: async () => {}
    },
    written,
    receiver: () => {
      if (receiver == null) throw new Error('not attached')
      return receiver
    }
  }
}

function recorder (): ByteChannelReceiver & { data: Uint8ArrayList, events: string[], errors: Error[] } {
  const data = new Uint8ArrayList()
  const events: string[] = []
  const errors: Error[] = []
  return {
    data,
    events,
    errors,
    onData: (d) => { data.append(d) },
    onEnd: () => { events.push('end') },
    onError: (err) => { events.push('error'); errors.push(err) },
    onDrain: () => { events.push('drain') }
  }
}

/** What a `NoiseByteChannel` keyed with `KEY` writes to its raw channel for `plaintext`. */
function sealedByChannel (plaintext: Uint8Array): Uint8Array {
  const raw = rawChannel()
  const sender = new NoiseByteChannel(raw.channel, new CipherState(KEY), new FrameDecoder(new CipherState(KEY)))
  sender.attach(recorder())
  sender.write(plaintext)
  return raw.written.subarray()
}

describe('NoiseByteChannel', () => {
  it('encrypts writes as transport messages and decrypts what arrives, however it is split', () => {
    const raw = rawChannel()
    const sender = new NoiseByteChannel(raw.channel, new CipherState(KEY), new FrameDecoder(new CipherState(KEY)))
    const r = recorder()
    sender.attach(r)
    const plaintext = randomBytes(200_000)
    sender.write(plaintext)
    const wire = raw.written.subarray()
    assert.ok(wire.byteLength > plaintext.byteLength, 'framed and tagged')

    // A second channel with the matching receive key gets the wire bytes in awkward pieces.
    const raw2 = rawChannel()
    const receiverSide = new NoiseByteChannel(raw2.channel, new CipherState(KEY), new FrameDecoder(new CipherState(KEY)))
    const r2 = recorder()
    receiverSide.attach(r2)
    for (let offset = 0; offset < wire.byteLength;) {
      const n = 1 + (offset % 7919)
      raw2.receiver().onData(wire.subarray(offset, offset + n))
      offset += n
    }
    assert.deepEqual(Buffer.from(r2.data.subarray()), plaintext)
    raw2.receiver().onEnd()
    assert.deepEqual(r2.events, ['end'])
  })

  it('hands its ciphertexts to the raw channel to give back once written, frees them then, and leaves everything else alone', () => {
    const writes: Array<{ data: Uint8Array | Uint8ArrayList, release?: () => void }> = []
    const raw: ByteChannel = {
      attach: () => {},
      write: (data, release) => { writes.push({ data, release }); return true },
      end: async () => {}
    }
    const sender = new NoiseByteChannel(raw, new CipherState(KEY), new FrameDecoder(new CipherState(KEY)))
    sender.attach(recorder())
    const plaintext = randomBytes(3 * 65_519 + 10)
    const original = Buffer.from(plaintext)
    let inputReleased = 0
    assert.equal(sender.write(plaintext, () => { inputReleased++ }), true)
    // The plaintext is encrypted within the call: it is the caller's again before write returns.
    assert.equal(inputReleased, 1)
    assert.equal(writes.length, 1)
    const { data, release } = writes[0]
    assert.ok(release != null, 'a large write hands the raw channel a release')
    const pieces = [...(data instanceof Uint8Array ? [data] : data)]
    const wire = Buffer.concat(pieces)
    // Until released, every piece is intact: the receiver gets the plaintext back.
    const raw2 = rawChannel()
    const receiverSide = new NoiseByteChannel(raw2.channel, new CipherState(KEY), new FrameDecoder(new CipherState(KEY)))
    const r2 = recorder()
    receiverSide.attach(r2)
    raw2.receiver().onData(wire)
    assert.deepEqual(Buffer.from(r2.data.subarray()), original)

    release()
    const ciphertexts = pieces.filter(p => p.byteLength === 0)
    // Four messages, so four ciphertexts (the three full ones, and the 10-byte one which is
    // below the size worth freeing and stays); the prefixes and tags are slices of one small buffer.
    assert.equal(ciphertexts.length, 3, 'the three full-size ciphertexts were freed')
    const kept = pieces.filter(p => p.byteLength > 0)
    assert.ok(kept.every(p => p.byteLength < 100), `only small pieces stay: ${kept.map(p => p.byteLength).join(', ')}`)
    // The caller's plaintext is untouched.
    assert.deepEqual(Buffer.from(plaintext), original)

    // A small write is one frame in a buffer of its own size: nothing for the raw channel to give back.
    let smallReleased = 0
    sender.write(randomBytes(100), () => { smallReleased++ })
    assert.equal(smallReleased, 1)
    assert.equal(writes.length, 2)
    assert.equal(writes[1].release, undefined)
  })

  it('takes transient data: each chunk may be a view of one reused buffer, overwritten after each call', () => {
    const plaintext = randomBytes(300_000)
    const wire = sealedByChannel(plaintext)

    const raw2 = rawChannel()
    const receiverSide = new NoiseByteChannel(raw2.channel, new CipherState(KEY), new FrameDecoder(new CipherState(KEY)))
    assert.equal(receiverSide.transientData, true)
    const r2 = recorder()
    receiverSide.attach(r2)
    // One read buffer, as a socket reading into a shared buffer: filled, handed on, then trashed.
    const shared = Buffer.alloc(65_536)
    for (let offset = 0; offset < wire.byteLength;) {
      const n = Math.min(wire.byteLength - offset, 1 + ((offset * 31) % 65_536))
      shared.set(wire.subarray(offset, offset + n))
      raw2.receiver().onData(shared.subarray(0, n))
      shared.fill(0xee)
      offset += n
    }
    assert.deepEqual(Buffer.from(r2.data.subarray()), plaintext)
  })

  it('frees the plaintext it delivered once a receiver that takes transient data returns, and only then', () => {
    const plaintext = randomBytes(200_000)
    const wire = sealedByChannel(plaintext)

    for (const transient of [false, true]) {
      const raw2 = rawChannel()
      const receiverSide = new NoiseByteChannel(raw2.channel, new CipherState(KEY), new FrameDecoder(new CipherState(KEY)))
      // The receiver copies what it is given (as a muxer with ownedChunks does) and keeps the originals to look at later.
      const given: Array<{ piece: Uint8Array, length: number, whole: boolean }> = []
      const copies = new Uint8ArrayList()
      receiverSide.attach({
        transientData: transient,
        onData: (d) => {
          for (const piece of d instanceof Uint8Array ? [d] : d) {
            given.push({ piece, length: piece.byteLength, whole: piece.byteOffset === 0 && piece.buffer.byteLength === piece.byteLength })
            copies.append(new Uint8Array(piece))
          }
        },
        onEnd: () => {},
        onError: (err) => { throw err },
        onDrain: () => {}
      })
      // Whole messages in one read (decrypted at once) and messages straddling reads (decrypted as they arrive).
      for (const [start, end] of [[0, 100_000], [100_000, 100_001], [100_001, wire.byteLength]]) {
        raw2.receiver().onData(wire.subarray(start, end))
      }
      assert.deepEqual(Buffer.from(copies.subarray()), plaintext)
      const freeable = given.filter(g => g.whole && g.length >= 4096)
      assert.ok(freeable.length >= 3, 'the plaintexts of full-size messages are buffers of their own')
      if (transient) {
        assert.ok(freeable.every(g => g.piece.byteLength === 0), 'each was freed once the receiver returned')
      } else {
        assert.ok(given.every(g => g.piece.byteLength === g.length), 'nothing freed under a receiver that keeps its data')
        assert.deepEqual(Buffer.concat(given.map(g => g.piece)), plaintext)
      }
    }
  })

  it('takes transient data in reads that stay inside a message for many calls, or end on a message boundary', () => {
    const send = new CipherState(KEY)
    const plaintext = randomBytes(4 * 65_519 + 100)
    const wire = Buffer.from(encryptChunk(send, plaintext)?.subarray() ?? new Uint8Array(0))
    const boundaries = [65_537, 2 * 65_537]
    const raw = rawChannel()
    const channel = new NoiseByteChannel(raw.channel, new CipherState(KEY), new FrameDecoder(new CipherState(KEY)))
    const r = recorder()
    channel.attach(r)
    const shared = Buffer.alloc(70_000)
    let offset = 0
    const feed = (n: number): void => {
      shared.set(wire.subarray(offset, offset + n))
      raw.receiver().onData(shared.subarray(0, n))
      shared.fill(0xee)
      offset += n
    }
    // Small reads: the kept start of the first message grows over ~90 calls.
    while (offset + 700 < boundaries[0]) feed(700)
    // Up to the end of the first message exactly, then a read ending on the next boundary.
    feed(boundaries[0] - offset)
    assert.equal(r.data.byteLength, 65_519)
    feed(boundaries[1] - offset)
    assert.equal(r.data.byteLength, 2 * 65_519)
    // The rest in reads of 40,000 bytes: every one straddles a message boundary.
    while (offset < wire.byteLength) feed(Math.min(40_000, wire.byteLength - offset))
    assert.deepEqual(Buffer.from(r.data.subarray()), plaintext)
    assert.deepEqual(r.events, [])
  })

  /** Feeds `wire` to `channel`'s receiver in reads of `sizes` (cycled) through one buffer trashed after each read. */
  function feedTransient (receiver: ByteChannelReceiver, wire: Uint8Array, sizes: number[], upTo = wire.byteLength): void {
    const shared = Buffer.alloc(Math.max(...sizes))
    for (let offset = 0, i = 0; offset < upTo; i++) {
      const n = Math.min(sizes[i % sizes.length], upTo - offset)
      shared.set(wire.subarray(offset, offset + n))
      receiver.onData(shared.subarray(0, n))
      shared.fill(0xee)
      offset += n
    }
  }

  it('a tampered message straddling reads fails the receiver with DecryptionError, and none of it is delivered', () => {
    const send = new CipherState(KEY)
    const plaintext = randomBytes(3 * 65_519)
    const wire = Buffer.from(encryptChunk(send, plaintext)?.subarray() ?? new Uint8Array(0))
    // Messages sit at 0, 65,537 and 131,074; reads of 50,000 bytes split each of them.
    for (const index of [65_537 + 10, 65_537 + 60_000, 2 * 65_537 - 1]) {
      const tampered = Buffer.from(wire)
      tampered[index] ^= 0x01
      const raw = rawChannel()
      const channel = new NoiseByteChannel(raw.channel, new CipherState(KEY), new FrameDecoder(new CipherState(KEY)))
      const r = recorder()
      channel.attach(r)
      feedTransient(raw.receiver(), tampered, [50_000])
      assert.deepEqual(r.events, ['error'], `byte ${index}`)
      assert.ok(r.errors[0] instanceof DecryptionError)
      assert.equal(r.data.byteLength, 65_519, 'only the first message, which verified, was delivered')
      assert.deepEqual(Buffer.from(r.data.subarray()), plaintext.subarray(0, 65_519))
    }
  })

  it('a message whose tag arrives over several reads is delivered once the last tag byte is in', () => {
    const plaintext = randomBytes(1000)
    const wire = Buffer.from(encryptChunk(new CipherState(KEY), plaintext)?.subarray() ?? new Uint8Array(0))
    const raw = rawChannel()
    const decoder = new FrameDecoder(new CipherState(KEY))
    const channel = new NoiseByteChannel(raw.channel, new CipherState(KEY), decoder)
    const r = recorder()
    channel.attach(r)
    // 2 + 1000 bytes of ciphertext + 7 tag bytes, then the tag byte by byte.
    feedTransient(raw.receiver(), wire, [1009, 1, 1, 1, 1, 1, 1, 1, 1, 1], wire.byteLength - 1)
    assert.equal(r.data.byteLength, 0, 'nothing before the tag is complete')
    assert.equal(decoder.buffered, wire.byteLength - 1, 'the bytes received of the message are counted')
    feedTransient(raw.receiver(), wire.subarray(wire.byteLength - 1), [1])
    assert.deepEqual(Buffer.from(r.data.subarray()), plaintext)
    assert.equal(decoder.buffered, 0)
  })

  it('an end inside a message that straddles reads fails the receiver with UnexpectedEOFError counting what arrived', () => {
    const wire = Buffer.from(encryptChunk(new CipherState(KEY), randomBytes(10_000))?.subarray() ?? new Uint8Array(0))
    const raw = rawChannel()
    const channel = new NoiseByteChannel(raw.channel, new CipherState(KEY), new FrameDecoder(new CipherState(KEY)))
    const r = recorder()
    channel.attach(r)
    feedTransient(raw.receiver(), wire, [3000], 9000)
    raw.receiver().onEnd()
    assert.deepEqual(r.events, ['error'])
    assert.ok(r.errors[0] instanceof UnexpectedEOFError)
    assert.match(r.errors[0].message, /9000 bytes of it received/)
    assert.equal(r.data.byteLength, 0)
  })

  it('a tampered message fails the receiver with DecryptionError, and nothing more is delivered', () => {
    const send = new CipherState(KEY)
    const frames = encryptChunk(send, Buffer.from('one'))
    const second = encryptChunk(send, Buffer.from('two'))
    assert.ok(frames != null && second != null)
    const raw = rawChannel()
    const channel = new NoiseByteChannel(raw.channel, new CipherState(KEY), new FrameDecoder(new CipherState(KEY)))
    const r = recorder()
    channel.attach(r)
    raw.receiver().onData(frames)
    const bad = Buffer.from(second.subarray())
    bad[4] ^= 0xff
    raw.receiver().onData(bad)
    raw.receiver().onData(Buffer.from('more'))
    raw.receiver().onEnd()
    assert.equal(Buffer.from(r.data.subarray()).toString(), 'one')
    assert.deepEqual(r.events, ['error'])
    assert.ok(r.errors[0] instanceof DecryptionError)
  })

  it('an end inside a message fails the receiver with UnexpectedEOFError', () => {
    const frames = encryptChunk(new CipherState(KEY), Buffer.from('hello'))
    assert.ok(frames != null)
    const raw = rawChannel()
    const channel = new NoiseByteChannel(raw.channel, new CipherState(KEY), new FrameDecoder(new CipherState(KEY)))
    const r = recorder()
    channel.attach(r)
    raw.receiver().onData(frames.subarray(0, 6))
    raw.receiver().onEnd()
    assert.deepEqual(r.events, ['error'])
    assert.ok(r.errors[0] instanceof UnexpectedEOFError)
  })

  it('passes backpressure through: write() returns what the raw channel says, onDrain is forwarded', () => {
    const raw = rawChannel()
    const channel = new NoiseByteChannel(raw.channel, new CipherState(KEY), new FrameDecoder(new CipherState(KEY)))
    const r = recorder()
    channel.attach(r)
    assert.equal(channel.write(Buffer.alloc(10)), true)
    assert.equal(channel.write(Buffer.alloc(2000)), false)
    raw.receiver().onDrain()
    assert.deepEqual(r.events, ['drain'])
    assert.equal(channel.write(new Uint8Array(0)), true, 'an empty write sends nothing')
  })

  it('takes over a message the connection\'s source had begun to receive (shared decoder)', async () => {
    const send = new CipherState(KEY)
    const one = encryptChunk(send, Buffer.from('first'))
    const two = encryptChunk(send, Buffer.from('second'))
    assert.ok(one != null && two != null)
    const wire = Buffer.concat([one.subarray(), two.subarray()])
    const split = one.byteLength + 5
    const decoder = new FrameDecoder(new CipherState(KEY))
    // The source reads a chunk holding the first message and the start of the second.
    const source = decryptSource([wire.subarray(0, split)], decoder)
    const first = await source.next()
    assert.equal(Buffer.from((first.value as Uint8Array).subarray()).toString(), 'first')
    assert.equal(decoder.buffered, 5)
    // The channel, with the same decoder, completes the second.
    const raw = rawChannel()
    const channel = new NoiseByteChannel(raw.channel, new CipherState(KEY), decoder)
    const r = recorder()
    channel.attach(r)
    raw.receiver().onData(wire.subarray(split))
    assert.equal(Buffer.from(r.data.subarray()).toString(), 'second')
  })
})
