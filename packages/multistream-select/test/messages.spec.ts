import assert from 'node:assert/strict'
import { InvalidMessageError, InvalidParametersError, LimitExceededError, UnexpectedEOFError } from '@peerkit/interfaces'
import { ByteStream, ChunkQueue } from '@peerkit/utils'
import { HEADER_FRAME, LS_FRAME, NA_FRAME, checkLength, checkProtocols, decodeListResponse, encodeListResponse, encodeMessage, readText, takeText, unusedSink } from '../src/messages.js'
import { HEADER, LS, NA, bytes, msg } from './fixtures.js'

const READ = { maxLength: 64, limit: 'maxMessageLength' }

/** A ByteStream over a queue the test feeds. */
function fed (...chunks: Uint8Array[]): { bs: ByteStream, input: ChunkQueue } {
  const input = new ChunkQueue()
  for (const c of chunks) input.push(c)
  return { bs: new ByteStream({ source: input, sink: unusedSink }), input }
}

describe('messages', () => {
  it('encodes the specification\'s examples byte for byte', () => {
    assert.deepEqual(NA_FRAME, NA)
    assert.deepEqual(LS_FRAME, LS)
    assert.deepEqual(HEADER_FRAME, HEADER)
    assert.equal(HEADER_FRAME[0], 0x13)
    assert.deepEqual(encodeMessage('/ipfs/kad/1.0.0'), bytes(16, '/ipfs/kad/1.0.0\n'))
  })

  it('uses a multi-byte varint for messages of 128 bytes or more, counting the newline', () => {
    const text = 'x'.repeat(127)
    const encoded = encodeMessage(text)
    assert.deepEqual(encoded.subarray(0, 2), Uint8Array.of(0x80, 0x01))
    assert.equal(encoded.byteLength, 2 + 128)
    assert.equal(encoded[encoded.byteLength - 1], 0x0a)
  })

  it('counts UTF-8 bytes, not UTF-16 units, in the length prefix', () => {
    assert.deepEqual(encodeMessage('/é'), bytes(4, 0x2f, 0xc3, 0xa9, 0x0a))
  })

  it('encodes an ls answer as the specification describes it', () => {
    // <varint total><varint len>/a\n<varint len>/bb\n\n : total = 4 + 5 + 1
    assert.deepEqual(encodeListResponse(['/a', '/bb']), bytes(10, 3, '/a\n', 4, '/bb\n', '\n'))
    assert.deepEqual(encodeListResponse([]), bytes(1, '\n'))
  })

  it('decodes ls answers and rejects malformed ones', () => {
    assert.deepEqual(decodeListResponse(bytes(3, '/a\n', 4, '/bb\n')), ['/a', '/bb'])
    assert.deepEqual(decodeListResponse(new Uint8Array(0)), [])
    assert.throws(() => decodeListResponse(bytes(5, '/a\n')), InvalidMessageError) // entry longer than the rest
    assert.throws(() => decodeListResponse(bytes(3, '/ab')), InvalidMessageError) // entry without newline
    assert.throws(() => decodeListResponse(bytes(0)), InvalidMessageError) // empty entry
    assert.throws(() => decodeListResponse(bytes(0x80)), InvalidMessageError) // truncated varint
    assert.throws(() => decodeListResponse(bytes(0x80, 0x80, 0x80, 0x80, 0x80, 0x01)), InvalidMessageError) // overlong varint
    assert.throws(() => decodeListResponse(bytes(3, 0xff, 0xfe, '\n')), InvalidMessageError) // invalid UTF-8
  })

  it('checks protocol ids', () => {
    assert.deepEqual(checkProtocols('/a', 1024), ['/a'])
    assert.deepEqual(checkProtocols(['/a', '/b'], 1024), ['/a', '/b'])
    for (const bad of ['', 'a\nb', 'na', 'ls', '/multistream/1.0.0', '/\ud800']) {
      assert.throws(() => checkProtocols([bad], 1024), InvalidParametersError, JSON.stringify(bad))
    }
    assert.throws(() => checkProtocols([42 as unknown as string], 1024), InvalidParametersError)
    assert.throws(() => checkProtocols({} as unknown as string[], 1024), InvalidParametersError)
    // the message (id + newline) must fit the bound; multi-byte characters count as their bytes
    assert.deepEqual(checkProtocols(['x'.repeat(1023)], 1024), ['x'.repeat(1023)])
    assert.throws(() => checkProtocols(['x'.repeat(1024)], 1024), InvalidParametersError)
    assert.deepEqual(checkProtocols(['é'.repeat(9)], 19), ['é'.repeat(9)])
    assert.throws(() => checkProtocols(['é'.repeat(10)], 20), InvalidParametersError)
  })

  it('checks length options', () => {
    assert.equal(checkLength(undefined, 'maxMessageLength', 1024), 1024)
    assert.equal(checkLength(19, 'maxMessageLength', 1024), 19)
    for (const bad of [18, 0, -1, 1.5, Number.NaN, Infinity]) {
      assert.throws(() => checkLength(bad, 'maxMessageLength', 1024), InvalidParametersError, String(bad))
    }
    assert.equal(checkLength(1, 'maxAttempts', 32, 1), 1)
    assert.throws(() => checkLength(0, 'maxAttempts', 32, 1), InvalidParametersError)
  })

  it('builds the one-byte test frames the other specs use', () => {
    assert.deepEqual(msg('na'), NA)
    assert.deepEqual(msg('/multistream/1.0.0'), HEADER)
  })

  it('readText parses the messages of one chunk without waiting, and waits for the rest of a split one', async () => {
    const { bs, input } = fed(bytes(HEADER, msg('/a/1.0.0'), msg('/b').subarray(0, 2)))
    assert.equal(await readText(bs, READ), '/multistream/1.0.0')
    assert.equal(bs.buffered, msg('/a/1.0.0').byteLength + 2, 'the whole chunk was read, one message taken')
    assert.equal(takeText(bs, READ), '/a/1.0.0')
    assert.equal(takeText(bs, READ), undefined, 'incomplete: nothing taken')
    assert.equal(bs.buffered, 2)
    const rest = readText(bs, READ)
    input.push(msg('/b').subarray(2))
    assert.equal(await rest, '/b')
    input.end()
    await assert.rejects(readText(bs, READ), UnexpectedEOFError)
  })

  it('takeText refuses what readText refuses: no newline, not UTF-8; an overlong message is left for readText', async () => {
    const noNewline = fed(bytes(2, 'ab'))
    await noNewline.bs.fill()
    assert.throws(() => takeText(noNewline.bs, READ), InvalidMessageError)
    const notUtf8 = fed(bytes(2, 0xff, 0x0a))
    await notUtf8.bs.fill()
    assert.throws(() => takeText(notUtf8.bs, READ), InvalidMessageError)
    const empty = fed(bytes(0))
    await empty.bs.fill()
    assert.throws(() => takeText(empty.bs, READ), InvalidMessageError)
    const long = fed(bytes(100, 'x'.repeat(99), 0x0a))
    await long.bs.fill()
    assert.equal(takeText(long.bs, READ), undefined)
    await assert.rejects(readText(long.bs, READ), (err: LimitExceededError) => err instanceof LimitExceededError && err.value === 100)
  })
})
