import assert from 'node:assert/strict'
import { memoryConnectionPair } from '@peerkit/interface-compliance-tests/stream-muxer'
import { pipe } from 'it-pipe'
import { yamux } from '../src/index.js'
import { collect } from './fixtures.js'

describe('yamux with it-pipe', () => {
  it('works as pipe(connection, muxer, connection), as in the README', async () => {
    const [a, b] = memoryConnectionPair()
    const factory = yamux()
    const dialer = factory.createStreamMuxer({ direction: 'outbound' })
    const listener = factory.createStreamMuxer({
      direction: 'inbound',
      onIncomingStream: (stream) => { stream.sink(stream.source).catch(() => {}) }
    })
    const piping = Promise.all([pipe(a, dialer, a), pipe(b, listener, b)])
    const stream = await dialer.newStream()
    const [, reply] = await Promise.all([stream.sink([new TextEncoder().encode('hello')]), collect(stream.source)])
    assert.equal(new TextDecoder().decode(reply), 'hello')
    await dialer.close()
    await piping
    assert.equal(listener.status, 'closed')
  })
})
