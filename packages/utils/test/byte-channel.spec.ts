import assert from 'node:assert/strict'
import { byteChannel } from '@peerkit/interfaces'
import { Uint8ArrayList } from 'uint8arraylist'
import { claimByteChannel, currentByteChannelOffer, offerByteChannel, prefixByteChannel } from '../src/byte-channel.js'
import { ByteStream } from '../src/byte-stream.js'
import { ChunkQueue } from '../src/chunk-queue.js'
import type { ByteChannel, ByteChannelReceiver } from '@peerkit/interfaces'

/** A channel recording what is written and letting the test deliver received bytes. */
function fakeChannel (): { channel: ByteChannel, written: Uint8Array[], receiver: () => ByteChannelReceiver | undefined, ended: () => boolean } {
  let receiver: ByteChannelReceiver | undefined
  let ended = false
  const written: Uint8Array[] = []
  return {
    channel: {
      attach: (r) => { receiver = r },
      write: (data) => { written.push(data.subarray()); return true },
      end: async () => { ended = true }
    },
    written,
    receiver: () => receiver,
    ended: () => ended
  }
}

async function * asyncOf (...chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  yield * chunks
}

function recorder (): ByteChannelReceiver & { data: number[], events: string[] } {
  const data: number[] = []
  const events: string[] = []
  return {
    data,
    events,
    onData: (d) => { data.push(...d.subarray()) },
    onEnd: () => { events.push('end') },
    onError: (err) => { events.push(`error:${err.message}`) },
    onDrain: () => { events.push('drain') }
  }
}

describe('byte channel offers', () => {
  it('an offer is claimable while the duplex keeps the source and sink it was made for', () => {
    const fake = fakeChannel()
    const duplex = { source: [] as Uint8Array[], sink: async () => {} }
    let claims = 0
    offerByteChannel(duplex, () => { claims++; return fake.channel })
    assert.ok(currentByteChannelOffer(duplex) != null)
    assert.equal(claimByteChannel(duplex), fake.channel)
    assert.equal(claims, 1)
  })

  it('an offer is ignored once a layer replaced the source or the sink without offering its own', () => {
    const fake = fakeChannel()
    const duplex = { source: [] as Uint8Array[], sink: async () => {} }
    offerByteChannel(duplex, () => fake.channel)
    duplex.sink = async () => {}
    assert.equal(currentByteChannelOffer(duplex), undefined)
    assert.equal(claimByteChannel(duplex), undefined)
    const other = { source: [] as Uint8Array[], sink: async () => {} }
    offerByteChannel(other, () => fake.channel)
    other.source = []
    assert.equal(claimByteChannel(other), undefined)
    // A duplex that never offered one
    assert.equal(claimByteChannel({ source: [], sink: async () => {} }), undefined)
    assert.equal((duplex as Record<symbol, unknown>)[byteChannel] != null, true)
  })

  it('prefixByteChannel delivers the prefix before anything the channel receives', () => {
    const fake = fakeChannel()
    const channel = prefixByteChannel(fake.channel, new Uint8ArrayList(Uint8Array.of(1, 2), Uint8Array.of(3)))
    const r = recorder()
    channel.attach(r)
    fake.receiver()?.onData(Uint8Array.of(4))
    assert.deepEqual(r.data, [1, 2, 3, 4])
    assert.equal(channel.write(Uint8Array.of(9)), true)
    assert.deepEqual(fake.written, [Uint8Array.of(9)])
    // Without a prefix it is the channel itself
    assert.equal(prefixByteChannel(fake.channel, undefined), fake.channel)
  })
})

describe('ByteStream and byte channels', () => {
  it('unwrap() passes the offer on, with the bytes read past the last message first', async () => {
    const fake = fakeChannel()
    const duplex = { source: asyncOf(Uint8Array.of(0, 1, 2, 3, 4, 5)), sink: async () => {} }
    offerByteChannel(duplex, () => fake.channel)
    const bs = new ByteStream(duplex)
    assert.deepEqual((await bs.read(2)).subarray(), Uint8Array.of(0, 1))
    const unwrapped = bs.unwrap()
    const channel = claimByteChannel(unwrapped)
    assert.ok(channel != null)
    const r = recorder()
    channel.attach(r)
    fake.receiver()?.onData(Uint8Array.of(6))
    assert.deepEqual(r.data, [2, 3, 4, 5, 6])
  })

  it('no channel is passed on when the duplex offered none, or while a write is on its way', async () => {
    const plain = new ByteStream({ source: asyncOf(Uint8Array.of(1)), sink: async () => {} })
    await plain.read(1)
    assert.equal(claimByteChannel(plain.unwrap()), undefined)

    const fake = fakeChannel()
    let release: (() => void) | undefined
    const duplex = {
      source: asyncOf(Uint8Array.of(1)),
      // A sink that takes the first chunk and then stalls: the write stays in flight.
      sink: async (source: AsyncIterable<unknown> | Iterable<unknown>) => {
        const it = (source as AsyncIterable<unknown>)[Symbol.asyncIterator]()
        await it.next()
        await new Promise<void>(resolve => { release = resolve })
      }
    }
    offerByteChannel(duplex, () => fake.channel)
    const bs = new ByteStream(duplex)
    void bs.write(Uint8Array.of(7)).catch(() => {})
    await new Promise(resolve => setImmediate(resolve))
    assert.equal(claimByteChannel(bs.unwrap()), undefined)
    release?.()
  })
})

describe('ChunkQueue.pipeTo', () => {
  it('hands batches to the consumer by calls, pauses while it is blocked and resumes', async () => {
    const q = new ChunkQueue()
    const batches: number[][] = []
    let accept = true
    let ended: Error | undefined | null = null
    q.push(Uint8Array.of(1))
    q.pipeTo({
      write: (d) => { batches.push([...d.subarray()]); return accept },
      end: (err) => { ended = err }
    })
    assert.deepEqual(batches, [[1]])
    accept = false
    q.push(Uint8Array.of(2))
    assert.deepEqual(batches, [[1], [2]])
    // Blocked: queued, not handed over
    q.push(Uint8Array.of(3))
    q.push(Uint8Array.of(4))
    assert.deepEqual(batches, [[1], [2]])
    assert.equal(q.byteLength, 2)
    accept = true
    q.resume()
    assert.deepEqual(batches, [[1], [2], [3, 4]])
    q.push(Uint8Array.of(5))
    q.end()
    assert.deepEqual(batches, [[1], [2], [3, 4], [5]])
    assert.equal(ended, undefined)
    await assert.rejects(q.next(), /piped/)
  })

  it('coalesces the pushes of one loop turn, and end() flushes them before ending', async () => {
    const q = new ChunkQueue({ coalesce: true })
    const batches: number[][] = []
    const events: string[] = []
    q.pipeTo({ write: (d) => { batches.push([...d.subarray()]); return true }, end: () => { events.push('end') } })
    q.push(Uint8Array.of(1))
    q.push(Uint8Array.of(2))
    assert.deepEqual(batches, [])
    await new Promise(resolve => setImmediate(resolve))
    assert.deepEqual(batches, [[1, 2]])
    q.push(Uint8Array.of(3))
    q.end()
    assert.deepEqual(batches, [[1, 2], [3]])
    assert.deepEqual(events, ['end'])
  })

  it('pipeTo options.coalesce overrides the constructor: batching switched on, or off, for the consumer', async () => {
    const plain = new ChunkQueue()
    const batches: number[][] = []
    plain.pipeTo({ write: (d) => { batches.push([...d.subarray()]); return true }, end: () => {} }, { coalesce: true })
    plain.push(Uint8Array.of(1))
    plain.push(Uint8Array.of(2))
    assert.deepEqual(batches, [], 'held until the end of the turn')
    await new Promise(resolve => setImmediate(resolve))
    assert.deepEqual(batches, [[1, 2]])

    const coalescing = new ChunkQueue({ coalesce: true })
    const direct: number[][] = []
    coalescing.pipeTo({ write: (d) => { direct.push([...d.subarray()]); return true }, end: () => {} }, { coalesce: false })
    coalescing.push(Uint8Array.of(3))
    coalescing.push(Uint8Array.of(4))
    assert.deepEqual(direct, [[3], [4]], 'handed over at once')
  })

  it('with maxYieldBytes, hands the whole backlog over in bounded batches until the consumer asks to wait', () => {
    const q = new ChunkQueue({ maxYieldBytes: 2 })
    const batches: number[][] = []
    let accept = true
    q.pipeTo({ write: (d) => { batches.push([...d.subarray()]); return accept || batches.length < 2 }, end: () => {} })
    q.push(Uint8Array.of(1, 2, 3, 4, 5))
    assert.deepEqual(batches, [[1, 2], [3, 4], [5]])
    accept = false
    q.push(Uint8Array.of(6, 7, 8, 9, 10))
    assert.deepEqual(batches.slice(3), [[6, 7]], 'stops after the batch the consumer refused more after')
    assert.equal(q.byteLength, 3)
    accept = true
    q.resume()
    assert.deepEqual(batches.slice(3), [[6, 7], [8, 9], [10]])
  })

  it('an error ends the consumer with it and drops what is queued', () => {
    const q = new ChunkQueue()
    let ended: Error | undefined
    const batches: number[][] = []
    q.pipeTo({ write: (d) => { batches.push([...d.subarray()]); return false }, end: (err) => { ended = err } })
    q.push(Uint8Array.of(1))
    q.push(Uint8Array.of(2))
    q.end(new Error('boom'))
    assert.deepEqual(batches, [[1]])
    assert.equal(ended?.message, 'boom')
    assert.throws(() => { q.pipeTo({ write: () => true, end: () => {} }) }, /already has a consumer/)
  })
})
