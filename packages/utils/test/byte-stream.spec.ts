import assert from 'node:assert/strict'
import { LimitExceededError, InvalidMessageError, UnexpectedEOFError, StreamStateError, AbortError } from '@peerkit/interfaces'
import * as varint from 'uint8-varint'
import { Uint8ArrayList } from 'uint8arraylist'
import { ByteStream } from '../src/byte-stream.js'
import { ChunkQueue } from '../src/chunk-queue.js'
import type { ByteDuplex } from '../src/byte-stream.js'

/** A duplex whose source is fed by the test and whose sink records what was written. */
function testDuplex (): { duplex: ByteDuplex, input: ChunkQueue, written: Uint8ArrayList, sinkCalls: number, sinkDone: Promise<void> } {
  const input = new ChunkQueue()
  const written = new Uint8ArrayList()
  let resolveDone!: () => void
  const sinkDone = new Promise<void>(resolve => { resolveDone = resolve })
  const state = {
    input,
    written,
    sinkCalls: 0,
    sinkDone,
    duplex: {
      source: input,
      sink: async (source: AsyncIterable<Uint8Array | Uint8ArrayList> | Iterable<Uint8Array | Uint8ArrayList>) => {
        state.sinkCalls++
        for await (const chunk of source) written.append(chunk)
        resolveDone()
      }
    } as ByteDuplex
  }
  return state
}

describe('ByteStream', () => {
  it('reads exact byte counts across chunk boundaries', async () => {
    const t = testDuplex()
    const bs = new ByteStream(t.duplex)
    t.input.push(Uint8Array.of(1, 2))
    t.input.push(Uint8Array.of(3, 4, 5))
    assert.deepEqual((await bs.read(3)).subarray(), Uint8Array.of(1, 2, 3))
    assert.deepEqual((await bs.read(2)).subarray(), Uint8Array.of(4, 5))
  })

  it('throws UnexpectedEOFError when the stream ends early', async () => {
    const t = testDuplex()
    const bs = new ByteStream(t.duplex)
    t.input.push(Uint8Array.of(1))
    t.input.end()
    await assert.rejects(bs.read(2), UnexpectedEOFError)
  })

  it('reads varints and length-prefixed messages', async () => {
    const t = testDuplex()
    const bs = new ByteStream(t.duplex)
    t.input.push(varint.encode(300))
    t.input.push(new Uint8Array([...varint.encode(3), 7, 8, 9]))
    assert.equal(await bs.readVarint(), 300)
    assert.deepEqual((await bs.readLP({ maxLength: 10 })).subarray(), Uint8Array.of(7, 8, 9))
  })

  it('takeBufferedLP takes whole buffered messages only, and fill reads one chunk without consuming it', async () => {
    const t = testDuplex()
    const bs = new ByteStream(t.duplex)
    assert.equal(bs.takeBufferedLP(1024), undefined, 'nothing buffered')
    // One chunk: a 2-byte message, a 200-byte message (2-byte varint) and the start of a third.
    const long = new Uint8Array(200).fill(9)
    t.input.push(new Uint8Array([...varint.encode(2), 1, 2, ...varint.encode(200), ...long, ...varint.encode(5), 7, 7]))
    assert.equal(await bs.fill(), true)
    assert.equal(bs.buffered, 1 + 2 + 2 + 200 + 1 + 2)
    assert.deepEqual(bs.takeBufferedLP(1024)?.subarray(), Uint8Array.of(1, 2))
    assert.equal(bs.takeBufferedLP(100), undefined, 'a body over maxLength is left for readLP to refuse')
    assert.equal(bs.buffered, 2 + 200 + 1 + 2, 'nothing consumed by a refusal')
    assert.deepEqual(bs.takeBufferedLP(1024)?.subarray(), long)
    assert.equal(bs.takeBufferedLP(1024), undefined, 'an incomplete message stays buffered')
    assert.equal(bs.buffered, 3)
    // The asynchronous reader picks up where the synchronous one stopped.
    t.input.push(Uint8Array.of(7, 7, 7))
    assert.deepEqual((await bs.readLP({ maxLength: 1024 })).subarray(), Uint8Array.of(7, 7, 7, 7, 7))
    t.input.end()
    assert.equal(await bs.fill(), false, 'end of stream')
  })

  it('takeBufferedLP leaves an overlong varint to readVarint, and takes nothing during a read or after unwrap', async () => {
    const t = testDuplex()
    const bs = new ByteStream(t.duplex, { maxVarintBytes: 2 })
    t.input.push(Uint8Array.of(0x80, 0x80, 0x80, 0x01, 0x00))
    await bs.fill()
    assert.equal(bs.takeBufferedLP(1024), undefined)
    await assert.rejects(bs.readVarint(), InvalidMessageError)

    const u = testDuplex()
    const other = new ByteStream(u.duplex)
    const reading = other.read(10)
    u.input.push(Uint8Array.of(1, 5))
    await new Promise(resolve => setImmediate(resolve))
    assert.equal(other.takeBufferedLP(1024), undefined, 'a read is in progress')
    u.input.push(new Uint8Array(8))
    await reading
    u.input.push(Uint8Array.of(1, 5))
    await other.fill()
    other.unwrap()
    assert.equal(other.takeBufferedLP(1024), undefined, 'unwrapped')
  })

  it('refuses an oversized length prefix before reading the body', async () => {
    const t = testDuplex()
    const bs = new ByteStream(t.duplex)
    t.input.push(varint.encode(1_000_000))
    await assert.rejects(bs.readLP({ maxLength: 1024 }), (err: LimitExceededError) => err instanceof LimitExceededError && err.value === 1_000_000)
  })

  it('refuses an overlong varint', async () => {
    const t = testDuplex()
    const bs = new ByteStream(t.duplex, { maxVarintBytes: 2 })
    t.input.push(Uint8Array.of(0x80, 0x80, 0x80, 0x01))
    await assert.rejects(bs.readVarint(), InvalidMessageError)
  })

  it('an aborted read keeps the chunk for the next read', async () => {
    const t = testDuplex()
    const bs = new ByteStream(t.duplex)
    const controller = new AbortController()
    const p = bs.read(1, { signal: controller.signal })
    controller.abort()
    await assert.rejects(p, AbortError)
    t.input.push(Uint8Array.of(42))
    assert.deepEqual((await bs.read(1)).subarray(), Uint8Array.of(42))
  })

  it('forbids concurrent reads', async () => {
    const t = testDuplex()
    const bs = new ByteStream(t.duplex)
    const p = bs.read(1)
    await assert.rejects(bs.read(1), StreamStateError)
    t.input.push(Uint8Array.of(1))
    await p
  })

  it('writes, then hands the sink over after unwrap', async () => {
    const t = testDuplex()
    const bs = new ByteStream(t.duplex)
    await bs.writeLP(Uint8Array.of(1, 2))
    await bs.write(Uint8Array.of(3))
    const duplex = bs.unwrap()
    await duplex.sink([Uint8Array.of(4), Uint8Array.of(5)])
    await t.sinkDone
    assert.equal(t.sinkCalls, 1)
    assert.deepEqual(t.written.subarray(), Uint8Array.of(2, 1, 2, 3, 4, 5))
  })

  it('unwrap leaves an untouched duplex as it is', () => {
    const t = testDuplex()
    const { source, sink } = t.duplex
    const duplex = new ByteStream(t.duplex).unwrap()
    assert.equal(duplex.source, source)
    assert.equal(duplex.sink, sink)
  })

  it('unwrap puts leftover bytes back into an unshiftable source without wrapping it', async () => {
    const t = testDuplex()
    const bs = new ByteStream(t.duplex)
    t.input.push(Uint8Array.of(1, 2, 3))
    await bs.read(1)
    const duplex = bs.unwrap()
    assert.equal(duplex.source, t.input)
    t.input.end()
    const rest = new Uint8ArrayList()
    for await (const c of duplex.source) rest.append(c)
    assert.deepEqual(rest.subarray(), Uint8Array.of(2, 3))
  })

  it('unwrap replays leftovers before the rest of a plain source', async () => {
    const chunks = [Uint8Array.of(1, 2, 3), Uint8Array.of(4)]
    const duplex: ByteDuplex = { source: (async function * () { yield * chunks })(), sink: async () => {} }
    const bs = new ByteStream(duplex)
    await bs.read(2)
    const out = new Uint8ArrayList()
    for await (const c of bs.unwrap().source) out.append(c)
    assert.deepEqual(out.subarray(), Uint8Array.of(3, 4))
    await assert.rejects(bs.read(1), StreamStateError)
  })

  it('write rejects once the sink failed', async () => {
    const duplex: ByteDuplex = {
      source: new ChunkQueue(),
      sink: async (source) => {
        for await (const _ of source) throw new Error('socket died')
      }
    }
    const bs = new ByteStream(duplex)
    await assert.rejects(bs.write(Uint8Array.of(1)), /socket died/)
    await assert.rejects(bs.write(Uint8Array.of(1)), /socket died/)
  })
})
