import assert from 'node:assert/strict'
import { DialError, LimitExceededError, PeerkitError, TransportDialError, UnexpectedPeerError, isPeerId, isStartable, peerIdSymbol } from '../src/index.js'

describe('@peerkit/interfaces errors', () => {
  it('DialError lists every address tried and why', () => {
    const err = new DialError([
      { address: '/ip4/127.0.0.1/tcp/1', error: new TransportDialError('/ip4/127.0.0.1/tcp/1', 'connection refused') },
      { address: '/ip4/10.0.0.1/tcp/2', error: new Error('timed out') }
    ], 'QmPeer')
    assert.ok(err instanceof PeerkitError)
    assert.equal(err.name, 'DialError')
    assert.equal(err.code, 'ERR_DIAL_FAILED')
    assert.equal(err.attempts.length, 2)
    assert.match(err.message, /QmPeer/)
    assert.match(err.message, /\/ip4\/127\.0\.0\.1\/tcp\/1: TransportDialError: connection refused/)
    assert.match(err.message, /timed out/)
  })

  it('DialError without addresses says so', () => {
    assert.match(new DialError([]).message, /no address to dial/)
  })

  it('LimitExceededError names its limit, bound, value and scope', () => {
    const err = new LimitExceededError('maxMessageSize', 1024, 2048, 'stream')
    assert.equal(err.code, 'ERR_LIMIT_EXCEEDED')
    assert.equal(err.limit, 'maxMessageSize')
    assert.equal(err.max, 1024)
    assert.equal(err.value, 2048)
    assert.equal(err.message, 'maxMessageSize exceeded for stream: 2048 > 1024')
  })

  it('UnexpectedPeerError carries both ids', () => {
    const err = new UnexpectedPeerError('a', 'b')
    assert.equal(err.expected, 'a')
    assert.equal(err.actual, 'b')
    assert.equal(err.name, 'UnexpectedPeerError')
  })

  it('keeps the cause', () => {
    const cause = new Error('inner')
    assert.equal(new TransportDialError('/ip4/1.2.3.4/tcp/5', 'x', { cause }).cause, cause)
  })

  it('type guards recognise their objects', () => {
    assert.equal(isPeerId({ [peerIdSymbol]: true }), true)
    assert.equal(isPeerId({}), false)
    assert.equal(isPeerId(null), false)
    assert.equal(isStartable({ start () {}, stop () {} }), true)
    assert.equal(isStartable({ start () {} }), false)
  })
})
