import assert from 'node:assert/strict'
import { ConnectionClosedError, ProtocolError, StreamStateError, UnexpectedEOFError, attachByteChannel } from '@peerkit/interfaces'
import { byteChannelPair as channelPair } from '@peerkit/interface-compliance-tests/stream-muxer'
import { Uint8ArrayList } from 'uint8arraylist'
import { Flag } from '../src/index.js'
import { collect, createSide, delay, frame } from './fixtures.js'
import type { MplexMuxer } from '../src/index.js'
import type { ByteChannel, Stream } from '@peerkit/interfaces'

interface Outcome { done: boolean, error?: unknown }

function track (promise: Promise<unknown>): Outcome {
  const outcome: Outcome = { done: false }
  promise.then(() => { outcome.done = true }, (err) => { outcome.done = true; outcome.error = err })
  return outcome
}

async function until (condition: () => boolean, ms = 2000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${ms}ms`)
    await delay(2)
  }
}

/** Attaches `muxer` to `channel`; the events it reports settle the two outcomes returned (each at most once). */
function attach (muxer: MplexMuxer, channel: ByteChannel): { input: Outcome, output: Outcome } {
  const input: Outcome = { done: false }
  const output: Outcome = { done: false }
  muxer[attachByteChannel](channel, {
    onInputEnd: (err) => {
      assert.equal(input.done, false, 'onInputEnd is reported once')
      Object.assign(input, { done: true, error: err })
    },
    onOutputEnd: (err) => {
      assert.equal(output.done, false, 'onOutputEnd is reported once')
      Object.assign(output, { done: true, error: err })
    }
  })
  return { input, output }
}

/**
 * An outbound muxer attached to one end of a channel pair, with one stream being read: `remote`
 * plays the connection, `reading` settles when the stream's source does.
 */
function attachedWithStream (): ReturnType<typeof attach> & { remote: ReturnType<typeof channelPair>[0], muxer: MplexMuxer, reading: Outcome } {
  const [remote] = channelPair()
  const { muxer } = createSide({ direction: 'outbound' })
  const outcomes = attach(muxer, remote.channel)
  const stream: Stream = muxer.newStream()
  return { ...outcomes, remote, muxer, reading: track(collect(stream.source)) }
}

describe('mplex over a byte channel', () => {
  it('carries streams both ways, then closes gracefully: our side ended, both outcomes reported', async () => {
    const [a, b] = channelPair()
    const client = createSide({ direction: 'outbound' })
    const server = createSide({ direction: 'inbound', onIncoming: (s) => { void s.sink(s.source) } })
    const c = attach(client.muxer, a.channel)
    const s = attach(server.muxer, b.channel)
    const payload = new Uint8Array(300_000).map((_, i) => (i * 7) & 0xff)
    const results = await Promise.all([0, 1, 2].map(async () => {
      const stream = client.muxer.newStream()
      const [, echoed] = await Promise.all([stream.sink([payload]), collect(stream.source)])
      return echoed
    }))
    for (const echoed of results) assert.deepEqual(echoed, payload)
    assert.equal(server.incoming.length, 3)
    await client.muxer.close()
    await until(() => c.output.done, 2000, 'output reported')
    assert.equal(c.output.error, undefined)
    assert.equal(a.ended, true, 'our side was ended after the last frame')
    // The server saw its input end and ended too; then so does our input.
    await until(() => s.input.done && s.output.done && c.input.done, 2000, 'both sides settled')
    assert.equal(s.input.error, undefined)
    assert.equal(c.input.error, undefined)
    assert.throws(() => { client.muxer[attachByteChannel](a.channel, { onInputEnd: () => {}, onOutputEnd: () => {} }) }, StreamStateError)
    await assert.rejects(client.muxer.sink([]), StreamStateError)
  })

  it('hands the frames of one turn to the channel as one write', async () => {
    const [a] = channelPair()
    const side = createSide({ direction: 'outbound' })
    attach(side.muxer, a.channel)
    const stream = side.muxer.newStream('s')
    const data = new Uint8Array(5000).fill(9)
    void stream.sink([data])
    await until(() => a.writes.length > 0)
    await delay(5)
    assert.equal(a.writes.length, 1, 'NewStream, data and close in one write')
    const expected = Buffer.concat([frame(0, Flag.NewStream, 's'), frame(0, Flag.MessageInitiator, data), frame(0, Flag.CloseInitiator)])
    assert.deepEqual(Buffer.from(a.writes[0]), expected)
    side.muxer.abort(new Error('done'))
  })

  it('garbage from the remote fails the streams and the output with ProtocolError; the input is reported ended', async () => {
    const { remote: a, input, output, reading } = attachedWithStream()
    // Flag 7 does not exist.
    a.receiver()?.onData(Uint8Array.of(0x07, 0x00))
    await until(() => input.done && output.done && reading.done)
    assert.equal(input.error, undefined)
    assert.ok(output.error instanceof ProtocolError, String(output.error))
    assert.ok(reading.error instanceof ProtocolError, String(reading.error))
    assert.equal(a.ended, false, 'a failed output does not end the channel gracefully')
  })

  it('the remote ending its side ends the muxer: open streams fail, our side is ended', async () => {
    const { remote: a, input, output, reading } = attachedWithStream()
    a.receiver()?.onEnd()
    await until(() => input.done && output.done && reading.done)
    assert.equal(input.error, undefined)
    assert.equal(output.error, undefined)
    assert.ok(reading.error instanceof ConnectionClosedError, String(reading.error))
    assert.equal(a.ended, true)
  })

  it('an ending inside a frame, or a failing connection, fails the streams and the output', async () => {
    const { remote: a, reading, ...cut } = attachedWithStream()
    a.receiver()?.onData(frame(0, Flag.MessageReceiver, 'hello').subarray(0, 4))
    a.receiver()?.onEnd()
    await until(() => cut.input.done && cut.output.done && reading.done)
    assert.ok(cut.output.error instanceof UnexpectedEOFError, String(cut.output.error))
    assert.ok(reading.error instanceof UnexpectedEOFError, String(reading.error))

    const { remote: x, muxer: otherMuxer, reading: otherReading, ...failed } = attachedWithStream()
    const reset = new Error('ECONNRESET')
    x.receiver()?.onError(reset)
    await until(() => failed.input.done && failed.output.done && otherReading.done)
    assert.equal(failed.input.error, undefined)
    assert.ok(failed.output.error instanceof ConnectionClosedError)
    assert.equal((otherReading.error as Error).cause, reset)
    // Nothing more is taken after the failure.
    x.receiver()?.onData(frame(0, Flag.MessageReceiver, 'late'))
    assert.equal(otherMuxer.streams.length, 0)
  })

  it('abort before or after attaching reports both ends once, with the abort error on the output', async () => {
    const [a] = channelPair()
    const side = createSide({ direction: 'outbound' })
    const err = new Error('stop')
    side.muxer.abort(err)
    const early = attach(side.muxer, a.channel)
    await until(() => early.input.done && early.output.done)
    assert.equal(early.output.error, err)
    assert.equal(a.receiver(), undefined, 'an aborted muxer does not attach to the channel')

    const [b] = channelPair()
    const later = createSide({ direction: 'outbound' })
    const outcome = attach(later.muxer, b.channel)
    later.muxer.abort(err)
    await until(() => outcome.input.done && outcome.output.done)
    assert.equal(outcome.input.error, undefined)
    assert.equal(outcome.output.error, err)
  })

  it('holds frames while the channel is blocked and sends them on drain', async () => {
    const [end] = channelPair()
    end.accepting = false
    const writes = end.writes
    const side = createSide({ direction: 'outbound' })
    attach(side.muxer, end.channel)
    side.muxer.newStream()
    await until(() => writes.length === 1)
    // Blocked: the next frames wait in the queue.
    side.muxer.newStream()
    await new Promise(resolve => setImmediate(resolve))
    await new Promise(resolve => setImmediate(resolve))
    assert.equal(writes.length, 1)
    end.accepting = true
    end.receiver()?.onDrain()
    assert.equal(writes.length, 2)
    side.muxer.abort(new Error('done'))
  })

  it('takes input given as a list of pieces, split anywhere', async () => {
    const [a] = channelPair()
    const side = createSide({ direction: 'inbound', onIncoming: () => {} })
    attach(side.muxer, a.channel)
    const bytes = Buffer.concat([frame(4, Flag.NewStream, 'x'), frame(4, Flag.MessageInitiator, 'hello world'), frame(4, Flag.CloseInitiator)])
    const list = new Uint8ArrayList()
    for (let i = 0; i < bytes.byteLength; i += 3) list.append(bytes.subarray(i, i + 3))
    a.receiver()?.onData(list)
    await until(() => side.incoming.length === 1)
    assert.equal(Buffer.from(await collect(side.incoming[0].source)).toString(), 'hello world')
    side.muxer.abort(new Error('done'))
  })
})
