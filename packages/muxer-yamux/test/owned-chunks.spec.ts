import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { attachByteChannel } from '@peerkit/interfaces'
import { byteChannelPair as channelPair, feedThroughReusedBuffer, readFreeingChunks } from '@peerkit/interface-compliance-tests/stream-muxer'
import { Uint8ArrayList } from 'uint8arraylist'
import { Flag, FrameType } from '../src/frame.js'
import { YamuxMuxer } from '../src/muxer.js'
import { frame, until } from './fixtures.js'
import type { YamuxInit } from '../src/config.js'
import type { ByteChannelReceiver, Stream } from '@peerkit/interfaces'

function serverWithOneStream (init: YamuxInit): { muxer: YamuxMuxer, remote: ReturnType<typeof channelPair>[0], streams: Stream[] } {
  const [remote] = channelPair()
  const streams: Stream[] = []
  const muxer = new YamuxMuxer({ direction: 'inbound', onIncomingStream: (s) => { streams.push(s) } }, init)
  muxer[attachByteChannel](remote.channel, { onInputEnd: () => {}, onOutputEnd: () => {} })
  return { muxer, remote, streams }
}

describe('yamux ownedChunks', () => {
  it('is off by default: the muxer does not take transient data, and chunks are views of what arrived', async () => {
    const { muxer, remote, streams } = serverWithOneStream({})
    const receiver = remote.receiver() as ByteChannelReceiver
    assert.notEqual(receiver.transientData, true)
    const payload = randomBytes(20_000)
    const wire = frame(FrameType.Data, Flag.SYN | Flag.FIN, 1, payload)
    receiver.onData(wire)
    await until(() => streams.length === 1)
    const chunks: Uint8ArrayList[] = []
    for await (const chunk of streams[0].source) chunks.push(chunk)
    assert.deepEqual(new Uint8ArrayList(...chunks).subarray(), new Uint8Array(payload))
    assert.ok(chunks.every(chunk => [...chunk].every(piece => piece.buffer === wire.buffer)), 'no copy without ownedChunks')
    muxer.abort(new Error('done'))
  })

  it('with ownedChunks, copies payloads out of a reused read buffer into buffers of their own, which the reader may free', async () => {
    const { muxer, remote, streams } = serverWithOneStream({ ownedChunks: true })
    const receiver = remote.receiver() as ByteChannelReceiver
    assert.equal(receiver.transientData, true)
    const payloads = [randomBytes(100_000), randomBytes(100), randomBytes(70_000), randomBytes(5_000)]
    const wire = new Uint8ArrayList(
      frame(FrameType.Data, Flag.SYN, 1, payloads[0]),
      frame(FrameType.Data, 0, 1, payloads[1]),
      frame(FrameType.WindowUpdate, 0, 1, 0),
      frame(FrameType.Data, 0, 1, payloads[2]),
      frame(FrameType.Data, Flag.FIN, 1, payloads[3])
    ).subarray()
    // Cuts inside a payload, inside the second and the third header, and a one-byte read.
    const second = 12 + 100_000
    feedThroughReusedBuffer(receiver, wire, [5, 40_000, second + 6, second + 7, second + 12 + 100 + 3, second + 12 + 100 + 12 + 30_000])
    await until(() => streams.length === 1)
    const { received, freed } = await readFreeingChunks(streams[0].source)
    assert.deepEqual(received, new Uint8Array(Buffer.concat(payloads)))
    assert.ok(freed >= 170_000, `only ${freed} bytes freed`)
    muxer.abort(new Error('done'))
  })

  it('rejects an ownedChunks that is not a boolean', () => {
    assert.throws(() => new YamuxMuxer({ direction: 'inbound' }, { ownedChunks: 'yes' as unknown as boolean }), /ownedChunks must be a boolean/)
  })
})
