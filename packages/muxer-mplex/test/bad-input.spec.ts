import assert from 'node:assert/strict'
import { ConnectionClosedError, LimitExceededError, ProtocolError, StreamResetError, UnexpectedEOFError } from '@peerkit/interfaces'
import { pipe } from 'it-pipe'
import { Flag } from '../src/index.js'
import { FRAME_CHARGE } from '../src/stream.js'
import { bytes, checkLeaks, collect, frame, muxerPair, output, tick, uvarint, wire } from './fixtures.js'
import type { Wire } from './fixtures.js'
import type { MplexStream } from '../src/index.js'

const MiB = 1024 * 1024

/** Asserts the connection failed with an error matching `check`: streams, source and sink. */
async function assertFailed (w: Wire, streams: MplexStream[], check: (err: unknown) => boolean): Promise<void> {
  await w.sinkDone
  for (const s of streams) {
    await assert.rejects(collect(s.source), check)
    assert.equal(s.status, 'reset')
  }
  await assert.rejects(w.muxer.source.next(), check)
  assert.equal(w.muxer.streams.length, 0)
  assert.throws(() => w.muxer.newStream(), ConnectionClosedError)
  assert.deepEqual(new Set(w.ended), new Set(streams))
}

function isLimit (limit: string): (err: unknown) => boolean {
  return err => err instanceof LimitExceededError && err.limit === limit
}

describe('mplex bad input', () => {
  checkLeaks()

  it('a frame announcing more than maxMessageSize fails the connection before its body arrives', async () => {
    const w = wire()
    const mine = w.muxer.newStream()
    w.input.push(frame(1, Flag.NewStream))
    await tick()
    // header and length only: the body is never sent
    w.input.push(bytes(uvarint((1 << 3) | Flag.MessageInitiator), uvarint(MiB + 1)))
    await assertFailed(w, [mine, w.incoming[0]], err => {
      return err instanceof LimitExceededError && err.limit === 'maxMessageSize' && err.max === MiB && err.value === MiB + 1 && err.scope === 'connection'
    })
  })

  it('a huge announced length is refused as soon as the varint passes the cap', async () => {
    const w = wire()
    // 2^50 - 1 as a length, cut after its first four bytes (2^28 - 1 so far): already over 1 MiB
    w.input.push(bytes(uvarint((7 << 3) | Flag.MessageInitiator), uvarint(2 ** 50 - 1).subarray(0, 4)))
    await assertFailed(w, [], isLimit('maxMessageSize'))
  })

  it('maxUnprocessedBytes below maxMessageSize refuses bigger frames', async () => {
    const w = wire({ maxUnprocessedBytes: 100 })
    w.input.push(frame(1, Flag.NewStream))
    w.input.push(frame(1, Flag.MessageInitiator, new Uint8Array(90)))
    await tick()
    assert.equal(w.incoming[0].readBufferLength, 90)
    w.input.push(frame(1, Flag.MessageInitiator, new Uint8Array(200)))
    await assertFailed(w, [w.incoming[0]], err => isLimit('maxUnprocessedBytes')(err) && (err as LimitExceededError).value === 203)
  })

  it('a frame cut short by the end of input fails with UnexpectedEOFError', async () => {
    const w = wire()
    const mine = w.muxer.newStream()
    const whole = frame(0, Flag.MessageReceiver, new Uint8Array(100))
    w.input.push(whole.subarray(0, 50))
    w.input.end()
    await assertFailed(w, [mine], err => err instanceof UnexpectedEOFError)
  })

  it('a header cut short by the end of input fails with UnexpectedEOFError', async () => {
    const w = wire()
    w.input.push(Uint8Array.of(0x82)) // continuation bit set, nothing follows
    w.input.end()
    await assertFailed(w, [], err => err instanceof UnexpectedEOFError)
  })

  it('flag 7 is a protocol error; frames after it are not processed', async () => {
    const w = wire()
    const mine = w.muxer.newStream()
    w.input.push(bytes(0x0f, 0x00, frame(2, Flag.NewStream)))
    await assertFailed(w, [mine], err => err instanceof ProtocolError && err.protocol === '/mplex/6.7.0' && /flag 7/.test(err.message))
    assert.equal(w.incoming.length, 0)
  })

  it('a header varint longer than 9 bytes is a protocol error', async () => {
    const w = wire()
    w.input.push(bytes(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0x00))
    await assertFailed(w, [], err => err instanceof ProtocolError && /header longer than 9 bytes/.test(err.message))
  })

  it('a length varint longer than 9 bytes is a protocol error', async () => {
    const w = wire()
    w.input.push(bytes(0x00, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00))
    await assertFailed(w, [], err => err instanceof ProtocolError && /length longer/.test(err.message))
  })

  it('NewStream for an id the remote already has open is a protocol error', async () => {
    const w = wire()
    w.input.push(frame(4, Flag.NewStream))
    w.input.push(frame(4, Flag.MessageInitiator, 'x'))
    await tick()
    assert.equal(w.incoming.length, 1)
    // our own stream 4 would not clash: ids are per initiator
    for (let i = 0; i < 5; i++) w.muxer.newStream()
    const open = w.muxer.streams
    assert.equal(open.length, 6)
    w.input.push(frame(4, Flag.NewStream))
    await assertFailed(w, open, err => {
      return err instanceof ProtocolError && /stream 4/.test(err.message)
    })
    assert.equal(w.incoming.length, 1)
  })

  it('a flooded, unread stream is reset; memory stays bounded; other streams keep working', async () => {
    const w = wire()
    w.input.push(bytes(frame(1, Flag.NewStream), frame(2, Flag.NewStream)))
    await tick()
    const [flooded, other] = w.incoming
    await output(w.muxer)
    const chunk = new Uint8Array(64 * 1024)
    let maxBuffered = 0
    let sent = 0
    while (flooded.status === 'open' && sent < 8 * MiB) {
      w.input.push(frame(1, Flag.MessageInitiator, chunk))
      sent += chunk.byteLength
      await tick()
      maxBuffered = Math.max(maxBuffered, flooded.readBufferLength)
    }
    assert.equal(flooded.status, 'aborted')
    assert.ok(maxBuffered <= 4 * MiB, `buffered ${maxBuffered}`)
    assert.ok(sent <= 4 * MiB + chunk.byteLength)
    await assert.rejects(collect(flooded.source), (err: unknown) => {
      return err instanceof LimitExceededError && err.limit === 'maxStreamBufferSize' && err.scope === 'stream r1'
    })
    // the remote is told: ResetReceiver for id 1 = (1 << 3) | 5
    assert.deepEqual(await output(w.muxer), bytes(0x0d, 0x00))
    // later frames for the reset stream are ignored
    w.input.push(frame(1, Flag.MessageInitiator, chunk))
    // the other stream on the same connection still works both ways
    w.input.push(frame(2, Flag.MessageInitiator, 'still here'))
    w.input.push(frame(2, Flag.CloseInitiator))
    assert.equal(new TextDecoder().decode(await collect(other.source)), 'still here')
    await other.sink([bytes('reply')])
    assert.deepEqual(await output(w.muxer), bytes(frame(2, Flag.MessageReceiver, 'reply'), frame(2, Flag.CloseReceiver)))
    assert.equal(other.status, 'closed')
    w.muxer.abort(new Error('done'))
  })

  it('between two muxers: the flooding writer sees a reset, the other stream is unaffected', async () => {
    const echo = (s: MplexStream): void => { void pipe(s, s).catch(() => {}) }
    const [a, b] = muxerPair({}, { onIncoming: s => { if (s.name === 'echo') echo(s) } })
    const flood = a.muxer.newStream('flood')
    const flooding = flood.sink((function * () { while (true) yield new Uint8Array(256 * 1024) })())
    await assert.rejects(flooding, StreamResetError)
    const remote = b.incoming[0]
    assert.equal(remote.status, 'aborted')
    assert.equal(remote.readBufferLength, 0)
    const ok = a.muxer.newStream('echo')
    const [reply] = await Promise.all([collect(ok.source), ok.sink([bytes('ping')])])
    assert.deepEqual(reply, bytes('ping'))
    a.muxer.abort(new Error('done'))
    b.muxer.abort(new Error('done'))
  })

  it('a flood of one-byte frames is bounded by frame count, not only bytes', async () => {
    const w = wire()
    w.input.push(frame(1, Flag.NewStream))
    await tick()
    const s = w.incoming[0]
    const one = frame(1, Flag.MessageInitiator, Uint8Array.of(1))
    const many = new Uint8Array(one.byteLength * 40_000)
    for (let i = 0; i < 40_000; i++) many.set(one, i * one.byteLength)
    w.input.push(many)
    await tick()
    assert.equal(s.status, 'aborted')
    // at most 40 000 payload bytes arrived, far below 4 MiB: the per-frame charge tripped the cap
    await assert.rejects(collect(s.source), (err: unknown) => {
      return isLimit('maxStreamBufferSize')(err) && (err as LimitExceededError).value! > 4 * MiB
    })
    assert.ok(40_000 * (1 + FRAME_CHARGE) > 4 * MiB)
    w.muxer.abort(new Error('done'))
  })

  it('data for a stream whose read side we closed is dropped without counting against the buffer', async () => {
    const w = wire()
    w.input.push(frame(1, Flag.NewStream))
    await tick()
    const s = w.incoming[0]
    await s.closeRead()
    for (let i = 0; i < 6; i++) w.input.push(frame(1, Flag.MessageInitiator, new Uint8Array(MiB)))
    await tick()
    assert.equal(s.status, 'open')
    assert.equal(s.readBufferLength, 0)
    w.muxer.abort(new Error('done'))
  })

  it('the connection-wide cap resets the stream holding the most unread data', async () => {
    const KiB = 1024
    const w = wire({ maxMessageSize: 16 * KiB, maxStreamBufferSize: 96 * KiB, maxConnectionBufferSize: 128 * KiB })
    w.input.push(bytes(frame(1, Flag.NewStream), frame(2, Flag.NewStream), frame(3, Flag.NewStream)))
    await tick()
    const [s1, s2, s3] = w.incoming
    const push = (id: number, kib: number): void => {
      for (let i = 0; i < kib / 8; i++) w.input.push(frame(id, Flag.MessageInitiator, new Uint8Array(8 * KiB)))
    }
    push(1, 64)
    push(2, 48)
    await tick()
    assert.equal(s1.readBufferLength, 64 * KiB)
    assert.equal(s2.readBufferLength, 48 * KiB)
    push(3, 16)
    await tick()
    assert.equal(s1.status, 'aborted')
    await assert.rejects(collect(s1.source), (err: unknown) => isLimit('maxConnectionBufferSize')(err) && (err as LimitExceededError).scope === 'connection')
    assert.equal(s2.status, 'open')
    assert.equal(s3.readBufferLength, 16 * KiB)
    assert.deepEqual(await output(w.muxer), bytes(0x0d, 0x00))
    // reading frees budget: s2 drains, then takes more without anyone being reset
    await s2.source.next()
    push(2, 88)
    await tick()
    assert.equal(s2.status, 'open')
    assert.equal(s3.status, 'open')
    w.muxer.abort(new Error('done'))
  })

  it('too many inbound streams: each gets a reset; refusing faster than disconnectThreshold fails the connection', async () => {
    const w = wire({ maxInboundStreams: 2, disconnectThreshold: 3 })
    w.input.push(bytes(frame(0, Flag.NewStream), frame(1, Flag.NewStream), frame(2, Flag.NewStream)))
    await tick()
    assert.equal(w.incoming.length, 2)
    assert.equal(w.muxer.streams.length, 2)
    // ResetReceiver for id 2 = (2 << 3) | 5
    assert.deepEqual(await output(w.muxer), bytes(0x15, 0x00))
    const kept = [...w.incoming]
    w.input.push(bytes(frame(3, Flag.NewStream), frame(4, Flag.NewStream)))
    await tick()
    assert.equal(w.muxer.streams.length, 2) // 3 refusals so far: at the threshold, not over
    w.input.push(frame(5, Flag.NewStream))
    await assertFailed(w, kept, err => isLimit('disconnectThreshold')(err) && (err as LimitExceededError).value === 4)
    assert.equal(w.incoming.length, 2)
  })

  it('frames for unknown ids are ignored, and Message after the remote closed is dropped', async () => {
    const w = wire()
    w.input.push(bytes(
      frame(9, Flag.MessageInitiator, 'x'), frame(9, Flag.MessageReceiver, 'x'),
      frame(9, Flag.CloseInitiator), frame(9, Flag.CloseReceiver),
      frame(9, Flag.ResetInitiator), frame(9, Flag.ResetReceiver),
      frame(1, Flag.NewStream), frame(1, Flag.MessageInitiator, 'a'), frame(1, Flag.CloseInitiator), frame(1, Flag.MessageInitiator, 'late')
    ))
    await tick()
    assert.equal(w.incoming.length, 1)
    assert.deepEqual(await collect(w.incoming[0].source), bytes('a'))
    assert.equal(await output(w.muxer).then(o => o.byteLength), 0)
    w.muxer.abort(new Error('done'))
  })

  it('a reset for one of our streams ends it with StreamResetError', async () => {
    const w = wire()
    const s = w.muxer.newStream()
    w.input.push(frame(0, Flag.ResetReceiver))
    await assert.rejects(collect(s.source), StreamResetError)
    assert.equal(s.status, 'reset')
    w.muxer.abort(new Error('done'))
  })
})
