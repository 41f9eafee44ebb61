import assert from 'node:assert/strict'
import { InvalidParametersError } from '@peerkit/interfaces'
import { Uint8ArrayList } from 'uint8arraylist'
import { Flag, FrameType, GoAwayCode, HEADER_LENGTH, INITIAL_STREAM_WINDOW, decodeHeader, encodeHeader, yamux, YAMUX_PROTOCOL_ID } from '../src/index.js'

describe('yamux frame header', () => {
  it('has the constants of the spec', () => {
    assert.equal(YAMUX_PROTOCOL_ID, '/yamux/1.0.0')
    assert.equal(HEADER_LENGTH, 12)
    assert.equal(INITIAL_STREAM_WINDOW, 262144)
    assert.deepEqual(FrameType, { Data: 0, WindowUpdate: 1, Ping: 2, GoAway: 3 })
    assert.deepEqual(Flag, { SYN: 1, ACK: 2, FIN: 4, RST: 8 })
    assert.deepEqual(GoAwayCode, { NormalTermination: 0, ProtocolError: 1, InternalError: 2 })
  })

  it('encodes version, type, flags, stream id and length big-endian', () => {
    // version 0 | type 1 (WindowUpdate) | flags SYN|FIN = 0x0005 | id 0x01020304 | length 0x0a0b0c0d
    assert.deepEqual(encodeHeader(FrameType.WindowUpdate, Flag.SYN | Flag.FIN, 0x01020304, 0x0a0b0c0d),
      Uint8Array.of(0, 1, 0, 5, 1, 2, 3, 4, 0x0a, 0x0b, 0x0c, 0x0d))
    // Data, no flags, stream 1, 5 bytes
    assert.deepEqual(encodeHeader(FrameType.Data, 0, 1, 5), Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 5))
    // GoAway with protocol error on the session id
    assert.deepEqual(encodeHeader(FrameType.GoAway, 0, 0, GoAwayCode.ProtocolError), Uint8Array.of(0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1))
    // largest values
    assert.deepEqual(encodeHeader(FrameType.Ping, Flag.ACK, 0xffffffff, 0xffffffff),
      Uint8Array.of(0, 2, 0, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff))
  })

  it('decodes hand-built headers, including unsigned 32-bit values', () => {
    assert.deepEqual(decodeHeader(Uint8Array.of(0, 0, 0, 8, 0x80, 0, 0, 1, 0xff, 0xff, 0xff, 0xfe)),
      { version: 0, type: 0, flags: 8, streamId: 0x80000001, length: 0xfffffffe })
    assert.deepEqual(decodeHeader(Uint8Array.of(7, 9, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0)),
      { version: 7, type: 9, flags: 0xffff, streamId: 0, length: 0 })
  })

  it('decodes a header split over several chunks and ignores bytes after it', () => {
    const bytes = encodeHeader(FrameType.Data, Flag.ACK, 12345, 6789)
    const list = new Uint8ArrayList(bytes.subarray(0, 1), bytes.subarray(1, 5), bytes.subarray(5), Uint8Array.of(1, 2, 3))
    assert.deepEqual(decodeHeader(list), { version: 0, type: 0, flags: 2, streamId: 12345, length: 6789 })
  })

  it('round-trips arbitrary values', () => {
    for (let i = 0; i < 1000; i++) {
      const type = i % 4
      const flags = (i * 7) & 0xf
      const streamId = (i * 2654435761) >>> 0
      const length = (i * 40503 * 65537) >>> 0
      assert.deepEqual(decodeHeader(encodeHeader(type, flags, streamId, length)), { version: 0, type, flags, streamId, length })
    }
  })

  it('refuses fewer than 12 bytes', () => {
    assert.throws(() => decodeHeader(new Uint8Array(11)), RangeError)
    assert.throws(() => decodeHeader(new Uint8ArrayList(new Uint8Array(5))), RangeError)
  })
})

describe('yamux options', () => {
  it('rejects invalid options with InvalidParametersError naming the option', () => {
    const cases: Array<[string, Record<string, unknown>]> = [
      ['maxStreamWindowSize', { maxStreamWindowSize: 1024 }],
      ['maxMessageSize', { maxMessageSize: 10 }],
      ['maxInboundStreams', { maxInboundStreams: -1 }],
      ['keepAliveInterval', { keepAliveInterval: 0 }],
      ['maxAckBacklog', { maxAckBacklog: 1.5 }],
      ['enableKeepAlive', { enableKeepAlive: 'yes' }]
    ]
    for (const [name, init] of cases) {
      assert.throws(() => yamux(init), (err: unknown) => err instanceof InvalidParametersError && err.message.includes(name), name)
    }
  })

  it('creates muxers with the protocol id', () => {
    const factory = yamux()
    assert.equal(factory.protocol, '/yamux/1.0.0')
    const muxer = factory.createStreamMuxer({ direction: 'outbound' })
    assert.equal(muxer.protocol, '/yamux/1.0.0')
    muxer.abort(new Error('done'))
    assert.equal(muxer.status, 'closed')
  })
})
