import assert from 'node:assert/strict'
import { Uint8ArrayList } from 'uint8arraylist'
import { Decoder } from '../src/decode.js'
import { FrameWriter } from '../src/encode.js'
import { Flag, PROTOCOL, mplex } from '../src/index.js'
import { encodeHeader } from '../src/frame.js'
import { bytes, collect, frame, output, tick, uvarint, wire } from './fixtures.js'
import type { FlagValue, StreamId } from '../src/index.js'

interface Decoded { flag: FlagValue, id: StreamId, data?: Uint8Array }

function decodeAll (input: Uint8Array | Uint8ArrayList, split = false, init = { maxMessageSize: 1 << 20, maxUnprocessedBytes: 4 << 20 }): Decoded[] {
  const out: Decoded[] = []
  const decoder = new Decoder(init, (flag, id, data) => {
    out.push(data == null ? { flag, id } : { flag, id, data: data instanceof Uint8Array ? data : data.subarray() })
  })
  const all = input instanceof Uint8Array ? input : input.subarray()
  if (split) {
    for (const b of all) decoder.write(Uint8Array.of(b))
  } else {
    decoder.write(input)
  }
  assert.equal(decoder.midFrame, false)
  return out
}

describe('mplex frame encoding (byte-exact, built from the spec)', () => {
  it('exposes the protocol id', () => {
    assert.equal(PROTOCOL, '/mplex/6.7.0')
    assert.equal(mplex().protocol, '/mplex/6.7.0')
  })

  it('NewStream carries the name; the default name is the id in decimal', async () => {
    const w = wire()
    w.muxer.newStream('hello')
    w.muxer.newStream()
    // id 0: header 0x00, length 5, "hello"; id 1: header (1 << 3) | 0 = 0x08, length 1, "1"
    assert.deepEqual(await output(w.muxer), bytes(0x00, 0x05, 'hello', 0x08, 0x01, '1'))
    w.muxer.abort(new Error('done'))
  })

  it('Message, Close and Reset from the initiator use flags 2, 4 and 6', async () => {
    const w = wire()
    const s = w.muxer.newStream()
    await output(w.muxer)
    await s.sink([Uint8Array.of(0xaa, 0xbb)]) // data, then closeWrite
    assert.deepEqual(await output(w.muxer), bytes(0x02, 0x02, 0xaa, 0xbb, 0x04, 0x00))
    const t = w.muxer.newStream()
    t.abort(new Error('x'))
    assert.deepEqual(await output(w.muxer), bytes(0x08, 0x01, '1', 0x0e, 0x00))
    w.muxer.abort(new Error('done'))
  })

  it('Message, Close and Reset from the receiver use flags 1, 3 and 5', async () => {
    const w = wire()
    w.input.push(frame(3, Flag.NewStream, 'three'))
    await tick()
    assert.equal(w.incoming.length, 1)
    const s = w.incoming[0]
    assert.equal(s.name, 'three')
    assert.equal(s.streamId, 3)
    assert.equal(s.direction, 'inbound')
    await s.sink([Uint8Array.of(1, 2, 3)])
    // (3 << 3) | 1 = 0x19, (3 << 3) | 3 = 0x1b
    assert.deepEqual(await output(w.muxer), bytes(0x19, 0x03, 1, 2, 3, 0x1b, 0x00))
    w.input.push(frame(4, Flag.NewStream))
    await tick()
    w.incoming[1].abort(new Error('x'))
    // (4 << 3) | 5 = 0x25
    assert.deepEqual(await output(w.muxer), bytes(0x25, 0x00))
    w.muxer.abort(new Error('done'))
  })

  it('multi-byte varint ids, both ways', async () => {
    const w = wire()
    for (let i = 0; i < 17; i++) w.muxer.newStream()
    await output(w.muxer)
    const s16 = w.muxer.streams.find(s => s.streamId === 16)!
    await s16.sink([Uint8Array.of(9)])
    // (16 << 3) | 2 = 130 = 0x82 0x01; (16 << 3) | 4 = 132 = 0x84 0x01
    assert.deepEqual(await output(w.muxer), bytes(0x82, 0x01, 0x01, 0x09, 0x84, 0x01, 0x00))

    // id 300 from the remote: (300 << 3) | 0 = 2400 = 0xe0 0x12
    w.input.push(bytes(0xe0, 0x12, 0x00))
    await tick()
    const s300 = w.incoming[0]
    assert.equal(s300.streamId, 300)
    assert.equal(s300.name, '')
    s300.abort(new Error('x'))
    // (300 << 3) | 5 = 2405 = 0xe5 0x12
    assert.deepEqual(await output(w.muxer), bytes(0xe5, 0x12, 0x00))
    w.muxer.abort(new Error('done'))
  })

  it('ids up to 2^60 - 1 (9-byte headers) are carried exactly', async () => {
    const w = wire()
    const big = (1n << 60n) - 1n
    const header = uvarint((big << 3n) | 0n)
    assert.equal(header.byteLength, 9)
    w.input.push(bytes(header, 0x00))
    const mid = 2n ** 53n + 1n // just past Number.MAX_SAFE_INTEGER
    w.input.push(frame(mid, Flag.NewStream))
    await tick()
    assert.equal(w.incoming.length, 2)
    assert.equal(w.incoming[0].streamId, big)
    assert.equal(w.incoming[0].id, `r${big}`)
    assert.equal(w.incoming[1].streamId, mid)
    w.input.push(frame(big, Flag.MessageInitiator, Uint8Array.of(7)))
    await tick()
    await w.incoming[0].sink([Uint8Array.of(8)])
    assert.deepEqual(await output(w.muxer), bytes(frame(big, Flag.MessageReceiver, Uint8Array.of(8)), frame(big, Flag.CloseReceiver)))
    assert.deepEqual((await w.incoming[0].source.next()).value?.subarray(), Uint8Array.of(7))
    w.muxer.abort(new Error('done'))
  })

  it('encodeHeader matches the spec formula for small, large and bigint ids', () => {
    assert.deepEqual(encodeHeader(0, Flag.NewStream), Uint8Array.of(0))
    assert.deepEqual(encodeHeader(15, Flag.ResetInitiator), Uint8Array.of(0x7e))
    assert.deepEqual(encodeHeader(16, Flag.MessageInitiator), Uint8Array.of(0x82, 0x01))
    assert.deepEqual(encodeHeader(2 ** 50, Flag.CloseReceiver), uvarint((2n ** 50n << 3n) | 3n))
    assert.deepEqual(encodeHeader(2n ** 59n + 7n, Flag.MessageReceiver), uvarint(((2n ** 59n + 7n) << 3n) | 1n))
  })

  it('decodes every flag from hand-built frames, whole or one byte at a time', () => {
    const input = bytes(
      frame(0, Flag.NewStream, 'a'),
      frame(1, Flag.MessageReceiver, 'xy'),
      frame(2, Flag.MessageInitiator, ''),
      frame(3, Flag.CloseReceiver),
      frame(300, Flag.CloseInitiator),
      frame(5, Flag.ResetReceiver),
      frame(2n ** 55n, Flag.ResetInitiator)
    )
    const expected: Decoded[] = [
      { flag: 0, id: 0, data: bytes('a') },
      { flag: 1, id: 1, data: bytes('xy') },
      { flag: 2, id: 2, data: new Uint8Array(0) },
      { flag: 3, id: 3 },
      { flag: 4, id: 300 },
      { flag: 5, id: 5 },
      { flag: 6, id: 2n ** 55n }
    ]
    assert.deepEqual(decodeAll(input), expected)
    assert.deepEqual(decodeAll(input, true), expected)
    // as a list of odd-sized pieces
    const list = new Uint8ArrayList(input.subarray(0, 3), input.subarray(3, 4), input.subarray(4, 11), input.subarray(11))
    assert.deepEqual(decodeAll(list), expected)
  })

  it('a Close or Reset carrying a body is accepted and the body skipped', () => {
    const input = bytes(frame(1, Flag.CloseInitiator, 'junk'), frame(1, Flag.MessageInitiator, 'ok'))
    assert.deepEqual(decodeAll(input), [{ flag: 4, id: 1 }, { flag: 2, id: 1, data: bytes('ok') }])
  })

  it('received payloads are views of the input, not copies', () => {
    const input = frame(1, Flag.MessageInitiator, new Uint8Array(5000).fill(1))
    let got: Uint8Array | Uint8ArrayList | undefined
    new Decoder({ maxMessageSize: 1 << 20, maxUnprocessedBytes: 4 << 20 }, (_f, _i, data) => { got = data }).write(input)
    assert.ok(got instanceof Uint8Array)
    assert.equal(got.buffer, input.buffer)
    assert.equal(got.byteOffset, input.byteOffset + 3)
  })

  it('a body split over a few large pieces stays as views; one in many tiny pieces is joined once', () => {
    const body = new Uint8Array(4096).map((_v, i) => i & 0xff)
    const input = frame(1, Flag.MessageInitiator, body)
    const got: Array<Uint8Array | Uint8ArrayList> = []
    const decoder = new Decoder({ maxMessageSize: 1 << 20, maxUnprocessedBytes: 4 << 20 }, (_f, _i, data) => { got.push(data!) })
    decoder.write(input.subarray(0, 2000))
    decoder.write(input.subarray(2000))
    assert.ok(got[0] instanceof Uint8ArrayList)
    const views = [...got[0]]
    assert.equal(views.length, 2)
    assert.equal(views[0].buffer, input.buffer)
    for (let i = 0; i < input.byteLength; i += 7) decoder.write(input.subarray(i, Math.min(i + 7, input.byteLength)))
    assert.ok(got[1] instanceof Uint8Array)
    assert.deepEqual(got[1], body)
  })

  it('writes larger than maxMessageSize are split into frames of at most maxMessageSize', async () => {
    const w = wire({ maxMessageSize: 2048, maxStreamBufferSize: 8192 })
    const s = w.muxer.newStream()
    await output(w.muxer)
    const data = new Uint8Array(5000).map((_v, i) => i & 0xff)
    await s.sink([data])
    const out = await output(w.muxer)
    assert.deepEqual(out, bytes(
      frame(0, Flag.MessageInitiator, data.subarray(0, 2048)),
      frame(0, Flag.MessageInitiator, data.subarray(2048, 4096)),
      frame(0, Flag.MessageInitiator, data.subarray(4096)),
      frame(0, Flag.CloseInitiator)
    ))
    w.muxer.abort(new Error('done'))
  })

  it('large payloads are queued by reference; small frames are batched into one chunk', async () => {
    const writer = new FrameWriter({ highWaterMark: 1 << 20 })
    const big = new Uint8Array(4096).fill(7)
    writer.frame(encodeHeader(1, Flag.MessageInitiator), Uint8Array.of(1))
    writer.frame(encodeHeader(1, Flag.MessageInitiator), Uint8Array.of(2))
    writer.frame(encodeHeader(1, Flag.MessageInitiator), big)
    writer.frame(encodeHeader(1, Flag.CloseInitiator))
    writer.end()
    const chunks: Uint8Array[] = []
    for await (const list of writer.queue) for (const buf of list) chunks.push(buf)
    // [two small frames + big frame's header], [big payload], [close]
    assert.equal(chunks.length, 3)
    assert.deepEqual(chunks[0], bytes(0x0a, 0x01, 0x01, 0x0a, 0x01, 0x02, 0x0a, 0x80, 0x20))
    assert.equal(chunks[1], big)
    assert.deepEqual(chunks[2], bytes(0x0c, 0x00))
  })

  it('a payload made of many tiny views is joined before it is queued', async () => {
    const writer = new FrameWriter({ highWaterMark: 1 << 20 })
    const fragmented = new Uint8ArrayList()
    for (let i = 0; i < 3000; i++) fragmented.append(Uint8Array.of(i & 0xff))
    writer.frame(encodeHeader(2, Flag.MessageReceiver), fragmented)
    writer.end()
    const chunks: Uint8Array[] = []
    for await (const list of writer.queue) for (const buf of list) chunks.push(buf)
    assert.equal(chunks.length, 2)
    assert.deepEqual(chunks[1], fragmented.subarray())
  })

  it('round-trips through a second muxer', async () => {
    const w = wire()
    w.input.push(bytes(frame(0, Flag.NewStream, 'x'), frame(0, Flag.MessageInitiator, 'hi'), frame(0, Flag.CloseInitiator)))
    await tick()
    assert.deepEqual(await collect(w.incoming[0].source), bytes('hi'))
    w.muxer.abort(new Error('done'))
  })
})
