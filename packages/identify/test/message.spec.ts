/**
 * Reading and writing identify messages without a network: framing, merging of split messages,
 * and the splitting rule for large messages.
 */
import assert from 'node:assert/strict'
import { InvalidMessageError, LimitExceededError, UnexpectedEOFError } from '@peerkit/interfaces'
import { ByteStream } from '@peerkit/utils'
import { encodeIdentify, mergeMessages, readIdentify } from '../src/message.js'
import { IdentifyMessage, LEGACY_MESSAGE_SIZE } from '../src/index.js'
import { lp } from './utils.js'
import type { ReadIdentifyOptions } from '../src/message.js'

const limits: ReadIdentifyOptions = { maxMessageSize: 8192, maxMessages: 10, maxListenAddrs: 4, maxProtocols: 4 }

/** A byte stream whose remote sends `chunks` then closes. */
function remoteSending (...chunks: Uint8Array[]): ByteStream {
  return new ByteStream({
    source: (async function * () { yield * chunks })(),
    sink: async () => {}
  })
}

function concat (...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(parts.flatMap(p => [...p]))
}

describe('identify messages', () => {
  it('reads one message split over many chunks', async () => {
    const bytes = lp(IdentifyMessage.encode({ agentVersion: 'x/1', listenAddrs: [], protocols: ['/a', '/b'] }))
    const chunks = Array.from(bytes, b => Uint8Array.of(b))
    const message = await readIdentify(remoteSending(...chunks), limits)
    assert.equal(message.agentVersion, 'x/1')
    assert.deepEqual(message.protocols, ['/a', '/b'])
  })

  it('merges parts: later singular fields win, repeated fields are concatenated', async () => {
    const first = lp(IdentifyMessage.encode({ agentVersion: 'one', protocolVersion: 'p1', listenAddrs: [Uint8Array.of(1)], protocols: ['/a'] }))
    const second = lp(IdentifyMessage.encode({ agentVersion: 'two', listenAddrs: [Uint8Array.of(2)], protocols: ['/b'], signedPeerRecord: Uint8Array.of(9) }))
    const message = await readIdentify(remoteSending(concat(first, second)), limits)
    assert.equal(message.agentVersion, 'two')
    assert.equal(message.protocolVersion, 'p1')
    assert.deepEqual(message.listenAddrs, [Uint8Array.of(1), Uint8Array.of(2)])
    assert.deepEqual(message.protocols, ['/a', '/b'])
    assert.deepEqual(message.signedPeerRecord, Uint8Array.of(9))
    assert.deepEqual(mergeMessages(message, { listenAddrs: [], protocols: [] }), message)
  })

  it('accepts an empty message (every field absent)', async () => {
    const message = await readIdentify(remoteSending(Uint8Array.of(0)), limits)
    assert.deepEqual(message, { listenAddrs: [], protocols: [] })
  })

  it('refuses a stream that ends before any message, or inside one', async () => {
    await assert.rejects(readIdentify(remoteSending(), limits), UnexpectedEOFError)
    const whole = lp(IdentifyMessage.encode({ agentVersion: 'x', listenAddrs: [], protocols: [] }))
    await assert.rejects(readIdentify(remoteSending(whole.subarray(0, 3)), limits), UnexpectedEOFError)
    // Inside the length prefix of a second part.
    await assert.rejects(readIdentify(remoteSending(concat(whole, Uint8Array.of(0x80))), limits), UnexpectedEOFError)
  })

  it('applies the bounds to the parts together', async () => {
    const addrs = lp(IdentifyMessage.encode({ listenAddrs: [Uint8Array.of(1), Uint8Array.of(2), Uint8Array.of(3)], protocols: [] }))
    await assert.rejects(readIdentify(remoteSending(concat(addrs, addrs)), limits), (err: Error) => err instanceof LimitExceededError && err.limit === 'maxListenAddrs' && err.max === 4)
    const protocols = lp(IdentifyMessage.encode({ listenAddrs: [], protocols: ['/1', '/2', '/3'] }))
    await assert.rejects(readIdentify(remoteSending(concat(protocols, protocols)), limits), (err: Error) => err instanceof LimitExceededError && err.limit === 'maxProtocols')
    const tiny = lp(IdentifyMessage.encode({ agentVersion: 'a', listenAddrs: [], protocols: [] }))
    await assert.rejects(readIdentify(remoteSending(concat(tiny, tiny, tiny)), { ...limits, maxMessages: 2 }), (err: Error) => err instanceof LimitExceededError && err.limit === 'maxMessages' && err.value === 3)
    await assert.rejects(readIdentify(remoteSending(tiny), { ...limits, maxMessageSize: tiny.byteLength - 2 }), (err: Error) => err instanceof LimitExceededError && err.limit === 'maxMessageSize')
  })

  it('refuses parts that are not identify protobufs', async () => {
    // Field 1 (publicKey) says 100 bytes follow but the part ends.
    await assert.rejects(readIdentify(remoteSending(lp(Uint8Array.of(0x0a, 100, 1))), limits), InvalidMessageError)
    // A wire type that does not exist.
    await assert.rejects(readIdentify(remoteSending(lp(Uint8Array.of(0x0f, 1))), limits), InvalidMessageError)
  })

  it('sends a small message as one part and splits a large one before the signed record', () => {
    const record = new Uint8Array(300).fill(7)
    const small = encodeIdentify({ agentVersion: 'x', listenAddrs: [], protocols: ['/a'], signedPeerRecord: record })
    assert.equal(small.length, 1)
    const protocols = Array.from({ length: 100 }, (_, i) => `/protocol/number/${i}/1.0.0`)
    const large = encodeIdentify({ agentVersion: 'x', listenAddrs: [], protocols, signedPeerRecord: record })
    assert.equal(large.length, 2)
    assert.ok(large[0].byteLength + large[1].byteLength > LEGACY_MESSAGE_SIZE)
    const head = IdentifyMessage.decode(large[0])
    const tail = IdentifyMessage.decode(large[1])
    assert.equal(head.signedPeerRecord, undefined)
    assert.deepEqual(head.protocols, protocols)
    assert.deepEqual(tail, { listenAddrs: [], protocols: [], signedPeerRecord: record })
    // Without a record nothing is split, whatever the size.
    assert.equal(encodeIdentify({ listenAddrs: [], protocols }).length, 1)
  })
})
