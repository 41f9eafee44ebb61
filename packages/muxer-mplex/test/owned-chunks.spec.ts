import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { attachByteChannel } from '@peerkit/interfaces'
import { byteChannelPair as channelPair, feedThroughReusedBuffer, readFreeingChunks } from '@peerkit/interface-compliance-tests/stream-muxer'
import { Uint8ArrayList } from 'uint8arraylist'
import { Flag } from '../src/index.js'
import { createSide, delay, frame } from './fixtures.js'
import type { MplexInit } from '../src/index.js'
import type { ByteChannelReceiver } from '@peerkit/interfaces'

async function until (condition: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not met within ${ms}ms`)
    await delay(2)
  }
}

function attached (init: MplexInit): { side: ReturnType<typeof createSide>, receiver: ByteChannelReceiver } {
  const [remote] = channelPair()
  const side = createSide({ direction: 'inbound', ...init })
  side.muxer[attachByteChannel](remote.channel, { onInputEnd: () => {}, onOutputEnd: () => {} })
  return { side, receiver: remote.receiver() as ByteChannelReceiver }
}

describe('mplex ownedChunks', () => {
  it('is off by default: the muxer does not take transient data, and chunks are views of what arrived', async () => {
    const { side, receiver } = attached({})
    assert.notEqual(receiver.transientData, true)
    const payload = randomBytes(20_000)
    const wire = new Uint8ArrayList(frame(3, Flag.NewStream, 'x'), frame(3, Flag.MessageInitiator, payload), frame(3, Flag.CloseInitiator)).subarray()
    receiver.onData(wire)
    await until(() => side.incoming.length === 1)
    const chunks: Array<Uint8Array | Uint8ArrayList> = []
    for await (const chunk of side.incoming[0].source) chunks.push(chunk)
    assert.deepEqual(new Uint8ArrayList(...chunks).subarray(), new Uint8Array(payload))
    assert.ok(chunks.every(chunk => [...new Uint8ArrayList(chunk)].every(piece => piece.buffer === wire.buffer)), 'no copy without ownedChunks')
    side.muxer.abort(new Error('done'))
  })

  it('with ownedChunks, copies bodies out of a reused read buffer into buffers of their own, which the reader may free', async () => {
    const { side, receiver } = attached({ ownedChunks: true })
    assert.equal(receiver.transientData, true)
    const payloads = [randomBytes(200_000), randomBytes(100), randomBytes(70_000)]
    const frames = [
      frame(3, Flag.NewStream, 'x'),
      frame(3, Flag.MessageInitiator, payloads[0]),
      frame(3, Flag.MessageInitiator, payloads[1]),
      frame(3, Flag.MessageInitiator, payloads[2]),
      frame(3, Flag.CloseInitiator)
    ]
    const wire = new Uint8ArrayList(...frames).subarray()
    const second = frames[0].byteLength + frames[1].byteLength
    // Cuts inside a body, a header, a length, and a one-byte read.
    feedThroughReusedBuffer(receiver, wire, [1, 3, 50_000, second - 1, second + 1, second + 2, second + 60, second + frames[2].byteLength + 2])
    await until(() => side.incoming.length === 1)
    const { received, freed } = await readFreeingChunks(side.incoming[0].source)
    assert.deepEqual(received, new Uint8Array(Buffer.concat(payloads)))
    assert.ok(freed >= 260_000, `only ${freed} bytes freed`)
    side.muxer.abort(new Error('done'))
  })

  it('rejects an ownedChunks that is not a boolean', () => {
    assert.throws(() => createSide({ ownedChunks: 1 as unknown as boolean }), /ownedChunks must be a boolean/)
  })
})
