import assert from 'node:assert/strict'
import { ConnectionClosedError, ProtocolError, StreamStateError, attachByteChannel } from '@peerkit/interfaces'
import { byteChannelPair as channelPair } from '@peerkit/interface-compliance-tests/stream-muxer'
import { Uint8ArrayList } from 'uint8arraylist'
import { FrameType, GoAwayCode, HEADER_LENGTH, decodeHeader } from '../src/frame.js'
import { YamuxMuxer } from '../src/muxer.js'
import { collect, frame, track, until } from './fixtures.js'
import type { ByteChannel, Stream } from '@peerkit/interfaces'

/** Attaches `muxer` to `channel`; the events it reports settle the two promises returned. */
function attach (muxer: YamuxMuxer, channel: ByteChannel): { input: Promise<void>, output: Promise<void> } {
  const settle: { input?: (err?: Error) => void, output?: (err?: Error) => void } = {}
  const input = new Promise<void>((resolve, reject) => { settle.input = (err) => { if (err != null) reject(err); else resolve() } })
  const output = new Promise<void>((resolve, reject) => { settle.output = (err) => { if (err != null) reject(err); else resolve() } })
  const calls = { input: 0, output: 0 }
  muxer[attachByteChannel](channel, {
    onInputEnd: (err) => {
      assert.equal(++calls.input, 1, 'onInputEnd is reported once')
      settle.input?.(err)
    },
    onOutputEnd: (err) => {
      assert.equal(++calls.output, 1, 'onOutputEnd is reported once')
      settle.output?.(err)
    }
  })
  return { input, output }
}

function goAwayCodes (bytes: Uint8ArrayList): number[] {
  const codes: number[] = []
  const all = bytes.subarray()
  for (let offset = 0; offset + HEADER_LENGTH <= all.byteLength;) {
    const h = decodeHeader(all.subarray(offset, offset + HEADER_LENGTH))
    if (h.type === FrameType.GoAway) codes.push(h.length)
    offset += HEADER_LENGTH + (h.type === FrameType.Data ? h.length : 0)
  }
  return codes
}

describe('yamux over a byte channel', () => {
  it('carries streams both ways, then closes gracefully: GoAway, our side ended, both promises settled', async () => {
    const [a, b] = channelPair()
    const incoming: Stream[] = []
    const client = new YamuxMuxer({ direction: 'outbound' })
    const server = new YamuxMuxer({
      direction: 'inbound',
      onIncomingStream: (s) => {
        incoming.push(s)
        void s.sink(s.source)
      }
    })
    const c = attach(client, a.channel)
    const s = attach(server, b.channel)
    const input = track(c.input)
    const output = track(c.output)
    const payload = new Uint8Array(300_000).map((_, i) => i & 0xff)
    const results = await Promise.all([0, 1, 2].map(async () => {
      const stream = await client.newStream()
      const [, echoed] = await Promise.all([stream.sink([payload]), collect(stream.source)])
      return echoed
    }))
    for (const echoed of results) assert.deepEqual(echoed, payload)
    assert.equal(incoming.length, 3)
    await client.close()
    await until(() => output.done && input.done)
    assert.equal(output.error, undefined)
    assert.equal(input.error, undefined)
    assert.equal(a.ended, true)
    assert.deepEqual(goAwayCodes(new Uint8ArrayList(...a.writes)), [GoAwayCode.NormalTermination])
    // The server saw the end of its input (our side ended) and ended too.
    await until(() => server.status === 'closed')
    await s.input
    assert.throws(() => { client[attachByteChannel](a.channel, { onInputEnd: () => {}, onOutputEnd: () => {} }) }, StreamStateError)
    await assert.rejects(client.sink([]), StreamStateError)
  })

  it('garbage from the remote fails input with ProtocolError and sends GoAway (protocol error)', async () => {
    const [a] = channelPair()
    const muxer = new YamuxMuxer({ direction: 'outbound' })
    const { input, output } = attach(muxer, a.channel)
    const outcome = track(input)
    const stream = await muxer.newStream()
    a.receiver()?.onData(frame(FrameType.Data, 0, 1, 10).map(() => 0xee))
    await until(() => outcome.done)
    assert.ok(outcome.error instanceof ProtocolError, String(outcome.error))
    await output
    assert.deepEqual(goAwayCodes(new Uint8ArrayList(...a.writes)), [GoAwayCode.ProtocolError])
    await assert.rejects(collect(stream.source), ConnectionClosedError)
  })

  it('the remote ending its side ends the muxer (input resolves, open streams fail)', async () => {
    const [a] = channelPair()
    const muxer = new YamuxMuxer({ direction: 'outbound' })
    const { input } = attach(muxer, a.channel)
    const stream = await muxer.newStream()
    const reading = track(collect(stream.source))
    a.receiver()?.onEnd()
    await input
    await until(() => reading.done)
    assert.ok(reading.error instanceof ConnectionClosedError)
    assert.equal(muxer.status, 'closed')
  })

  it('an ending inside a frame, or a failing connection, rejects input with that error', async () => {
    const [a] = channelPair()
    const muxer = new YamuxMuxer({ direction: 'outbound' })
    const { input } = attach(muxer, a.channel)
    a.receiver()?.onData(frame(FrameType.Ping, 1, 0, 7).subarray(0, 5))
    a.receiver()?.onEnd()
    await assert.rejects(input, /inside a frame/)

    const [x] = channelPair()
    const other = new YamuxMuxer({ direction: 'outbound' })
    const attached = attach(other, x.channel)
    x.receiver()?.onError(new Error('ECONNRESET'))
    await assert.rejects(attached.input, /ECONNRESET/)
  })

  it('holds frames while the channel is blocked and sends them on drain', async () => {
    const [end] = channelPair()
    end.accepting = false
    const writes = end.writes
    const muxer = new YamuxMuxer({ direction: 'outbound' })
    attach(muxer, end.channel)
    await muxer.newStream()
    await until(() => writes.length === 1)
    // Blocked: the next frames wait in the queue.
    await muxer.newStream()
    await new Promise(resolve => setImmediate(resolve))
    await new Promise(resolve => setImmediate(resolve))
    assert.equal(writes.length, 1)
    assert.ok(muxer.sendQueueLength > 0)
    end.accepting = true
    end.receiver()?.onDrain()
    assert.equal(writes.length, 2)
    assert.equal(muxer.sendQueueLength, 0)
    muxer.abort(new Error('done'))
  })
})
