import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { generateKeyPair, publicKeyToProtobuf } from '@peerkit/crypto'
import { peerIdFromPrivateKey } from '@peerkit/peer-id'
import { ByteStream } from '@peerkit/utils'
import { Uint8ArrayList } from 'uint8arraylist'
import { MAX_EXTENSION_ENTRIES, noise } from '../src/index.js'
import { generateX25519KeyPair } from '../src/crypto.js'
import { XXHandshakeState } from '../src/handshake-state.js'
import { VerifiedIdentityCache, createLocalIdentity, encodePayload, verifyPayload } from '../src/payload.js'
import { NoiseHandshakePayload } from '../src/pb/payload.js'
import { TimerWatch, activeResources, memoryPair, tcpPair } from './fixtures/duplex.js'
import type { Tap } from './fixtures/duplex.js'
import type { NoiseExtensions, NoiseInit } from '../src/index.js'
import type { KeyType, PeerId, PrivateKey, SecureConnectionOptions, SecuredConnection, SecureStream } from '@peerkit/interfaces'

type Chunk = Uint8Array | Uint8ArrayList

interface Identity { privateKey: PrivateKey, peerId: PeerId }

async function makeIdentity (type: KeyType): Promise<Identity> {
  const privateKey = await generateKeyPair(type)
  return { privateKey, peerId: peerIdFromPrivateKey(privateKey) }
}

interface HandshakeSetup {
  dialer: Identity
  listener: Identity
  dialerInit?: NoiseInit
  listenerInit?: NoiseInit
  outbound?: SecureConnectionOptions
  inbound?: SecureConnectionOptions
}

async function secure (a: SecureStream, b: SecureStream, setup: HandshakeSetup): Promise<[SecuredConnection<NoiseExtensions>, SecuredConnection<NoiseExtensions>]> {
  return Promise.all([
    noise(setup.dialerInit)(setup.dialer).secureOutbound(a, { remotePeer: setup.listener.peerId, ...setup.outbound }),
    noise(setup.listenerInit)(setup.listener).secureInbound(b, setup.inbound)
  ])
}

function digest (chunks: Chunk[]): string {
  const hash = createHash('sha256')
  for (const chunk of chunks) {
    if (chunk instanceof Uint8Array) hash.update(chunk)
    else for (const piece of chunk) hash.update(piece)
  }
  return hash.digest('hex')
}

/** Reads `source` to its end; returns the byte count and digest. */
async function drain (source: AsyncIterable<Chunk>): Promise<{ bytes: number, digest: string }> {
  const hash = createHash('sha256')
  let bytes = 0
  for await (const chunk of source) {
    if (chunk instanceof Uint8Array) hash.update(chunk)
    else for (const piece of chunk) hash.update(piece)
    bytes += chunk.byteLength
  }
  return { bytes, digest: hash.digest('hex') }
}

/** Sends `aToB` from `a` and `bToA` from `b` at the same time and checks both arrive intact. */
async function exchange (a: SecureStream, b: SecureStream, aToB: Chunk[], bToA: Chunk[]): Promise<void> {
  const [, , receivedByB, receivedByA] = await Promise.all([
    a.sink(aToB),
    b.sink(bToA),
    drain(b.source),
    drain(a.source)
  ])
  assert.equal(receivedByB.bytes, aToB.reduce((n, c) => n + c.byteLength, 0))
  assert.equal(receivedByB.digest, digest(aToB))
  assert.equal(receivedByA.bytes, bToA.reduce((n, c) => n + c.byteLength, 0))
  assert.equal(receivedByA.digest, digest(bToA))
}

/** `total` bytes of random data cut into chunks of varied sizes up to `max`. */
function chunks (total: number, max: number): Uint8Array[] {
  const data = randomBytes(total)
  const out: Uint8Array[] = []
  for (let offset = 0, i = 0; offset < total; i++) {
    const size = 1 + ((i * 7919) % max)
    out.push(data.subarray(offset, offset + size))
    offset += size
  }
  return out
}

/** Length-prefixes a handshake message. */
function frame (message: Uint8Array): Uint8Array {
  const out = Buffer.alloc(2 + message.byteLength)
  out.writeUInt16BE(message.byteLength)
  out.set(message, 2)
  return out
}

async function readFrame (stream: ByteStream): Promise<Uint8Array> {
  const prefix = await stream.read(2)
  return (await stream.read((prefix.get(0) << 8) | prefix.get(1))).subarray()
}

const MUXERS = { yamux: '/yamux/1.0.0', mplex: '/mplex/6.7.0' }

describe('noise', function () {
  let ed25519: Identity
  let ed25519b: Identity
  let secp256k1: Identity
  let rsa: Identity
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown): void => { unhandled.push(reason) }

  before(async () => {
    process.on('unhandledRejection', onUnhandled)
    ;[ed25519, ed25519b, secp256k1, rsa] = await Promise.all([
      makeIdentity('Ed25519'), makeIdentity('Ed25519'), makeIdentity('secp256k1'), makeIdentity('RSA')
    ])
  })

  after(() => {
    process.off('unhandledRejection', onUnhandled)
  })

  afterEach(async () => {
    // Let pending rejections surface before checking.
    await new Promise(resolve => setImmediate(resolve))
    assert.deepEqual(unhandled.splice(0), [], 'unhandled rejections')
  })

  describe('factory', () => {
    it('has the /noise protocol id', () => {
      assert.equal(noise()(ed25519).protocol, '/noise')
    })

    it('refuses a non-positive handshake timeout and a wrong-sized static key', () => {
      assert.throws(() => noise({ handshakeTimeout: 0 })(ed25519), { name: 'InvalidParametersError' })
      assert.throws(() => noise({ handshakeTimeout: -5 })(ed25519), { name: 'InvalidParametersError' })
      assert.throws(() => noise({ staticNoiseKey: new Uint8Array(16) })(ed25519), { name: 'InvalidParametersError' })
      assert.throws(() => noise({ verifiedIdentityCacheSize: -1 })(ed25519), { name: 'InvalidParametersError' })
      assert.throws(() => noise({ verifiedIdentityCacheSize: 1.5 })(ed25519), { name: 'InvalidParametersError' })
      assert.throws(() => noise({ crypto: 'openssl' as never })(ed25519), { name: 'InvalidParametersError' })
    })
  })

  describe('ephemeral keys', () => {
    it('every handshake uses an ephemeral key of its own, on both sides, also when they follow each other at once', async () => {
      const dialer = noise()(ed25519)
      const listener = noise()(ed25519b)
      const initiatorKeys: string[] = []
      const responderKeys: string[] = []
      const firstMessageKey = (into: string[]): Tap => {
        let seen = false
        return (list) => {
          if (!seen) {
            seen = true
            // Length prefix, then the sender's ephemeral public key in clear.
            into.push(Buffer.from(list.subarray(2, 34)).toString('hex'))
          }
          return list
        }
      }
      for (let i = 0; i < 8; i++) {
        const [a, b] = memoryPair({ aToB: firstMessageKey(initiatorKeys), bToA: firstMessageKey(responderKeys) })
        const [out, inb] = await Promise.all([
          dialer.secureOutbound(a, { remotePeer: ed25519b.peerId }),
          listener.secureInbound(b)
        ])
        await exchange(out.conn, inb.conn, [Uint8Array.of(i)], [Uint8Array.of(i + 1)])
        // Half of them start before the spare key could be made, half after.
        if (i % 2 === 0) await new Promise(resolve => setImmediate(resolve))
      }
      // Two handshakes at once on the same instances.
      const pairs = [memoryPair({ aToB: firstMessageKey(initiatorKeys), bToA: firstMessageKey(responderKeys) }),
        memoryPair({ aToB: firstMessageKey(initiatorKeys), bToA: firstMessageKey(responderKeys) })]
      await Promise.all(pairs.map(async ([a, b]) => Promise.all([dialer.secureOutbound(a), listener.secureInbound(b)])))
      assert.equal(initiatorKeys.length, 10)
      assert.equal(responderKeys.length, 10)
      assert.equal(new Set([...initiatorKeys, ...responderKeys]).size, 20, 'an ephemeral key was used twice')
    })
  })

  describe('verified identity cache', () => {
    it('a peer reconnecting with the same static key is recognised without verifying again', async () => {
      const listener = noise()(ed25519b)
      const dialer = noise({ staticNoiseKey: generateX25519KeyPair().privateKey })(ed25519)
      const peers: PeerId[] = []
      for (let i = 0; i < 2; i++) {
        const [a, b] = memoryPair()
        const [out, inb] = await Promise.all([
          dialer.secureOutbound(a, { remotePeer: ed25519b.peerId }),
          listener.secureInbound(b)
        ])
        assert.ok(inb.remotePeer.equals(ed25519.peerId))
        assert.ok(out.remotePeer.equals(ed25519b.peerId))
        peers.push(inb.remotePeer)
        await exchange(out.conn, inb.conn, [Uint8Array.of(1, 2, 3)], [Uint8Array.of(4)])
      }
      // The second handshake was answered from the cache: the very same PeerId object.
      assert.equal(peers[0], peers[1])
    })

    it('a cached identity does not vouch for a different signature, key or static key', async () => {
      const cache = new VerifiedIdentityCache(2)
      const staticKey = generateX25519KeyPair().publicKey
      const identity = createLocalIdentity(ed25519.privateKey, staticKey)
      const payload = encodePayload(identity)
      assert.ok(verifyPayload(payload, staticKey, undefined, cache).peerId.equals(ed25519.peerId))
      assert.equal(cache.size, 1)
      const badSig = Uint8Array.from(identity.identitySig)
      badSig[0] ^= 1
      assert.throws(() => verifyPayload(encodePayload({ ...identity, identitySig: badSig }), staticKey, undefined, cache), { name: 'HandshakeError' })
      assert.throws(() => verifyPayload(payload, generateX25519KeyPair().publicKey, undefined, cache), { name: 'HandshakeError' })
      // The expected peer is still checked on a cache hit.
      assert.throws(() => verifyPayload(payload, staticKey, ed25519b.peerId, cache), { name: 'UnexpectedPeerError' })
      // Bounded: the least recently used entry goes first.
      for (let i = 0; i < 3; i++) {
        const k = generateX25519KeyPair().publicKey
        verifyPayload(encodePayload(createLocalIdentity(ed25519.privateKey, k)), k, undefined, cache)
      }
      assert.equal(cache.size, 2)
      const off = new VerifiedIdentityCache(0)
      verifyPayload(payload, staticKey, undefined, off)
      assert.equal(off.size, 0)
    })
  })

  describe('round trips in memory', () => {
    const pairs: Array<[KeyType, KeyType, () => [Identity, Identity]]> = [
      ['Ed25519', 'Ed25519', () => [ed25519, ed25519b]],
      ['secp256k1', 'Ed25519', () => [secp256k1, ed25519]],
      ['RSA', 'secp256k1', () => [rsa, secp256k1]],
      ['Ed25519', 'RSA', () => [ed25519, rsa]]
    ]
    for (const [dialerType, listenerType, pick] of pairs) {
      it(`authenticates both peers and carries data both ways (${dialerType} dialer, ${listenerType} listener)`, async () => {
        const [dialer, listener] = pick()
        const [a, b] = memoryPair()
        const [outbound, inbound] = await secure(a, b, { dialer, listener })
        assert.ok(outbound.remotePeer.equals(listener.peerId))
        assert.ok(inbound.remotePeer.equals(dialer.peerId))
        assert.ok(outbound.remotePeer.publicKey?.equals(listener.privateKey.publicKey))
        assert.ok(inbound.remotePeer.publicKey?.equals(dialer.privateKey.publicKey))
        await exchange(outbound.conn, inbound.conn, chunks(300_000, 70_000), chunks(200_000, 5_000))
      })
    }

    it('carries several MiB in large chunks both ways', async () => {
      const [a, b] = memoryPair()
      const [outbound, inbound] = await secure(a, b, { dialer: ed25519, listener: secp256k1 })
      await exchange(outbound.conn, inbound.conn, chunks(6 * 1024 * 1024, 256 * 1024), chunks(4 * 1024 * 1024, 64 * 1024))
    })

    it('carries many small writes, as arrays and as lists', async () => {
      const [a, b] = memoryPair()
      const [outbound, inbound] = await secure(a, b, { dialer: ed25519, listener: ed25519b })
      const small = chunks(200_000, 100)
      const lists: Chunk[] = []
      for (let i = 0; i < small.length; i += 10) lists.push(new Uint8ArrayList(...small.slice(i, i + 10)))
      await exchange(outbound.conn, inbound.conn, small, lists)
    })

    it('delivers data the dialer sends right after the handshake, in the same chunk as message 3', async () => {
      // Coalesce everything the dialer writes so message 3 and the first transport frame travel as
      // one chunk: the listener must replay the bytes read past the handshake.
      const [a, b] = memoryPair()
      const [outbound, inbound] = await secure(a, b, { dialer: ed25519, listener: ed25519b })
      const payload = randomBytes(1000)
      await Promise.all([
        outbound.conn.sink([payload]),
        inbound.conn.sink([]),
        (async () => {
          const received = await drain(inbound.conn.source)
          assert.equal(received.digest, digest([payload]))
        })(),
        drain(outbound.conn.source)
      ])
    })

    it('works with an agreed prologue and fails on different prologues', async () => {
      const prologue = new TextEncoder().encode('shared context')
      const [a, b] = memoryPair()
      const [outbound, inbound] = await secure(a, b, {
        dialer: ed25519, listener: ed25519b, dialerInit: { prologue }, listenerInit: { prologue }
      })
      await exchange(outbound.conn, inbound.conn, [Uint8Array.of(1)], [Uint8Array.of(2)])

      const [c, d] = memoryPair()
      const results = await Promise.allSettled(secureExpectingFailure(c, d, {
        dialer: ed25519, listener: ed25519b, dialerInit: { prologue }, listenerInit: { handshakeTimeout: 100 }
      }))
      assert.equal(results[0].status, 'rejected')
      assert.equal((results[0] as PromiseRejectedResult).reason.name, 'HandshakeError')
    })

    for (const [dialerCrypto, listenerCrypto] of [['node', 'libsodium'], ['libsodium', 'node'], ['node', 'node']] as const) {
      it(`connects a dialer on ${dialerCrypto} with a listener on ${listenerCrypto}, small and large messages both ways`, async () => {
        const [a, b] = memoryPair()
        const [outbound, inbound] = await secure(a, b, {
          dialer: ed25519, listener: ed25519b, dialerInit: { crypto: dialerCrypto }, listenerInit: { crypto: listenerCrypto }
        })
        assert.ok(outbound.remotePeer.equals(ed25519b.peerId))
        assert.ok(inbound.remotePeer.equals(ed25519.peerId))
        await exchange(outbound.conn, inbound.conn, chunks(400_000, 9_000), [...chunks(3_000, 60), ...chunks(300_000, 70_000)])
      })
    }

    it('uses a given static key', async () => {
      const staticNoiseKey = randomBytes(32)
      const [a, b] = memoryPair()
      const [outbound] = await secure(a, b, { dialer: ed25519, listener: ed25519b, listenerInit: { staticNoiseKey } })
      assert.ok(outbound.remotePeer.equals(ed25519b.peerId))
    })
  })

  describe('round trips over TCP', () => {
    for (const [name, pick] of [
      ['Ed25519', () => [ed25519, ed25519b]],
      ['secp256k1 and RSA', () => [secp256k1, rsa]]
    ] as Array<[string, () => [Identity, Identity]]>) {
      it(`carries several MiB and many small writes both ways (${name})`, async () => {
        const timers = new TimerWatch()
        const before = await activeResources('TCPSocketWrap', 'TCPServerWrap')
        const tcp = await tcpPair()
        try {
          const [dialer, listener] = pick()
          const [outbound, inbound] = await secure(tcp.client, tcp.server, {
            dialer, listener, outbound: { streamMuxers: [MUXERS.yamux] }, inbound: { streamMuxers: [MUXERS.yamux] }
          })
          assert.equal(outbound.streamMuxer, MUXERS.yamux)
          assert.equal(inbound.streamMuxer, MUXERS.yamux)
          const small = chunks(100_000, 64)
          await exchange(outbound.conn, inbound.conn, [...chunks(4 * 1024 * 1024, 100_000), ...small], [...small, ...chunks(3 * 1024 * 1024, 1 << 20)])
        } finally {
          await tcp.close()
        }
        assert.equal(await activeResources('TCPSocketWrap', 'TCPServerWrap'), before, 'sockets left behind')
        assert.deepEqual(await timers.stop(), [], 'timers left behind')
      })
    }
  })

  describe('early muxer negotiation', () => {
    async function negotiate (dialerMuxers?: string[], listenerMuxers?: string[]): Promise<[SecuredConnection<NoiseExtensions>, SecuredConnection<NoiseExtensions>]> {
      const [a, b] = memoryPair()
      return secure(a, b, {
        dialer: ed25519,
        listener: ed25519b,
        outbound: dialerMuxers != null ? { streamMuxers: dialerMuxers } : undefined,
        inbound: listenerMuxers != null ? { streamMuxers: listenerMuxers } : undefined
      })
    }

    it('picks the first of the initiator\'s muxers that the responder supports (the spec example)', async () => {
      const [outbound, inbound] = await negotiate([MUXERS.yamux, MUXERS.mplex], [MUXERS.mplex, MUXERS.yamux])
      assert.equal(outbound.streamMuxer, MUXERS.yamux)
      assert.equal(inbound.streamMuxer, MUXERS.yamux)
      assert.deepEqual(outbound.remoteExtensions?.streamMuxers, [MUXERS.mplex, MUXERS.yamux])
      assert.deepEqual(inbound.remoteExtensions?.streamMuxers, [MUXERS.yamux, MUXERS.mplex])
    })

    it('skips initiator muxers the responder does not list', async () => {
      const [outbound, inbound] = await negotiate(['/other/1.0.0', MUXERS.mplex, MUXERS.yamux], [MUXERS.yamux, MUXERS.mplex])
      assert.equal(outbound.streamMuxer, MUXERS.mplex)
      assert.equal(inbound.streamMuxer, MUXERS.mplex)
    })

    it('fails the handshake on both sides when there is no overlap', async () => {
      const results = await Promise.allSettled(await negotiateSettled([MUXERS.yamux], [MUXERS.mplex]))
      for (const result of results) {
        assert.equal(result.status, 'rejected')
        assert.equal(result.reason.name, 'HandshakeError')
        assert.match(result.reason.message, /nothing in common/)
      }
    })

    it('decides nothing when the responder offers no muxers', async () => {
      const [outbound, inbound] = await negotiate([MUXERS.yamux], undefined)
      assert.equal(outbound.streamMuxer, undefined)
      assert.equal(inbound.streamMuxer, undefined)
      assert.equal(outbound.remoteExtensions, undefined)
      assert.deepEqual(inbound.remoteExtensions?.streamMuxers, [MUXERS.yamux])
    })

    it('decides nothing when the initiator offers no muxers', async () => {
      const [outbound, inbound] = await negotiate([], [MUXERS.yamux])
      assert.equal(outbound.streamMuxer, undefined)
      assert.equal(inbound.streamMuxer, undefined)
      assert.deepEqual(outbound.remoteExtensions?.streamMuxers, [MUXERS.yamux])
      assert.equal(inbound.remoteExtensions, undefined)
    })

    it('carries WebTransport certificate hashes in the extensions', async () => {
      const certhash = randomBytes(34)
      const [a, b] = memoryPair()
      const [outbound] = await secure(a, b, {
        dialer: ed25519, listener: ed25519b, listenerInit: { extensions: { webtransportCerthashes: [certhash] } }
      })
      assert.deepEqual(outbound.remoteExtensions?.webtransportCerthashes.map(h => Buffer.from(h)), [certhash])
      assert.deepEqual(outbound.remoteExtensions?.streamMuxers, [])
    })

    async function negotiateSettled (dialerMuxers: string[], listenerMuxers: string[]): Promise<Array<Promise<unknown>>> {
      const [a, b] = memoryPair()
      return [
        noise()(ed25519).secureOutbound(a, { streamMuxers: dialerMuxers }),
        noise()(ed25519b).secureInbound(b, { streamMuxers: listenerMuxers })
      ]
    }
  })

  describe('bad input', () => {
    /** Runs our dialer against a scripted listener. */
    async function againstFakeListener (script: (stream: ByteStream, state: XXHandshakeState) => Promise<void>, init?: NoiseInit, options?: SecureConnectionOptions): Promise<unknown> {
      const [a, b] = memoryPair()
      const result = noise(init)(ed25519).secureOutbound(a, options)
      const stream = new ByteStream(b)
      const state = new XXHandshakeState({ initiator: false, staticKeyPair: generateX25519KeyPair() })
      await script(stream, state)
      return result.then(() => assert.fail('the handshake should have failed'), (err: unknown) => err)
    }

    /** Runs our listener against a scripted dialer. */
    async function againstFakeDialer (script: (stream: ByteStream, state: XXHandshakeState) => Promise<void>, init?: NoiseInit): Promise<unknown> {
      const [a, b] = memoryPair()
      const result = noise(init)(ed25519).secureInbound(a)
      const stream = new ByteStream(b)
      const state = new XXHandshakeState({ initiator: true, staticKeyPair: generateX25519KeyPair() })
      await script(stream, state)
      return result.then(() => assert.fail('the handshake should have failed'), (err: unknown) => err)
    }

    it('flipped byte in a transport message: DecryptionError ends the reading side', async () => {
      let tamper = false
      const [a, b] = memoryPair({
        aToB: (chunk) => {
          if (!tamper) return chunk
          const copy = Uint8Array.from(chunk.subarray())
          copy[copy.byteLength - 20] ^= 0x10
          return new Uint8ArrayList(copy)
        }
      })
      const [outbound, inbound] = await secure(a, b, { dialer: ed25519, listener: ed25519b })
      tamper = true
      const [sent, received] = await Promise.allSettled([outbound.conn.sink([randomBytes(5000)]), drain(inbound.conn.source)])
      assert.equal(sent.status, 'fulfilled')
      assert.equal(received.status, 'rejected')
      assert.equal(received.reason.name, 'DecryptionError')
    })

    it('responder payload signed over another static key: HandshakeError', async () => {
      const err = await againstFakeListener(async (stream, state) => {
        state.readMessage(await readFrame(stream))
        const identity = createLocalIdentity(ed25519b.privateKey, generateX25519KeyPair().publicKey)
        await stream.write(frame(state.writeMessage(encodePayload(identity))))
      })
      assert.ok(err instanceof Error)
      assert.equal(err.name, 'HandshakeError')
      assert.match(err.message, /signature/)
    })

    it('initiator payload with a corrupted signature: HandshakeError', async () => {
      const err = await againstFakeDialer(async (stream, state) => {
        await stream.write(frame(state.writeMessage(new Uint8Array(0))))
        state.readMessage(await readFrame(stream))
        const identity = createLocalIdentity(ed25519b.privateKey, state.localStaticKey)
        identity.identitySig = Uint8Array.from(identity.identitySig)
        identity.identitySig[3] ^= 1
        await stream.write(frame(state.writeMessage(encodePayload(identity))))
      })
      assert.ok(err instanceof Error)
      assert.equal(err.name, 'HandshakeError')
      assert.match(err.message, /signature/)
    })

    it('malformed payloads: unparsable key, missing key or signature, not a protobuf, too many muxers: HandshakeError', async () => {
      const payloads: Array<(state: XXHandshakeState) => Uint8Array> = [
        () => NoiseHandshakePayload.encode({ identityKey: Uint8Array.from([8, 9, 18, 1, 0]), identitySig: new Uint8Array(64) }),
        () => NoiseHandshakePayload.encode({ identitySig: new Uint8Array(64) }),
        () => NoiseHandshakePayload.encode({ identityKey: publicKeyToProtobuf(ed25519b.privateKey.publicKey) as Uint8Array<ArrayBuffer> }),
        () => Uint8Array.from([0xff, 0xff, 0xff]),
        (state) => encodePayload(createLocalIdentity(ed25519b.privateKey, state.localStaticKey), {
          streamMuxers: new Array(MAX_EXTENSION_ENTRIES + 1).fill(MUXERS.yamux),
          webtransportCerthashes: []
        })
      ]
      for (const payload of payloads) {
        const err = await againstFakeListener(async (stream, state) => {
          state.readMessage(await readFrame(stream))
          await stream.write(frame(state.writeMessage(payload(state))))
        })
        assert.ok(err instanceof Error)
        assert.equal(err.name, 'HandshakeError')
        assert.ok(err.cause instanceof Error, 'the cause is kept')
      }
    })

    it('responder proving another identity than expected: UnexpectedPeerError naming both', async () => {
      const [a, b] = memoryPair()
      const results = await Promise.allSettled([
        noise()(ed25519).secureOutbound(a, { remotePeer: secp256k1.peerId }),
        noise({ handshakeTimeout: 100 })(ed25519b).secureInbound(b)
      ])
      assert.equal(results[0].status, 'rejected')
      const err = results[0].reason
      assert.equal(err.name, 'UnexpectedPeerError')
      assert.equal(err.expected, secp256k1.peerId.toString())
      assert.equal(err.actual, ed25519b.peerId.toString())
      // The dialer stops before revealing its identity: the listener sees the handshake fail.
      assert.equal(results[1].status, 'rejected')
    })

    it('initiator proving another identity than the listener expects: UnexpectedPeerError', async () => {
      const [a, b] = memoryPair()
      const results = await Promise.allSettled([
        noise()(ed25519).secureOutbound(a),
        noise()(ed25519b).secureInbound(b, { remotePeer: rsa.peerId })
      ])
      assert.equal(results[1].status, 'rejected')
      assert.equal(results[1].reason.name, 'UnexpectedPeerError')
      assert.equal(results[1].reason.actual, ed25519.peerId.toString())
    })

    it('truncated handshake message then end of stream: HandshakeError caused by UnexpectedEOFError', async () => {
      const err = await againstFakeListener(async (stream, state) => {
        state.readMessage(await readFrame(stream))
        const identity = createLocalIdentity(ed25519b.privateKey, generateX25519KeyPair().publicKey)
        const message = frame(state.writeMessage(encodePayload(identity)))
        await stream.write(message.subarray(0, 60))
        // End the listener's writing side.
        stream.unwrap().sink([]).catch(() => {})
      })
      assert.ok(err instanceof Error)
      assert.equal(err.name, 'HandshakeError')
      assert.equal((err.cause as Error).name, 'UnexpectedEOFError')
    })

    it('handshake message shorter than its tokens: HandshakeError caused by InvalidMessageError', async () => {
      const err = await againstFakeDialer(async (stream) => {
        await stream.write(frame(new Uint8Array(20)))
      })
      assert.ok(err instanceof Error)
      assert.equal(err.name, 'HandshakeError')
      assert.equal((err.cause as Error).name, 'InvalidMessageError')
    })

    it('garbage instead of a handshake: HandshakeError', async () => {
      const garbage = new TextEncoder().encode('GET / HTTP/1.1\r\nHost: example.com\r\n\r\n')
      // As the responder's reply: the first two bytes read as a length larger than what follows.
      const err1 = await againstFakeListener(async (stream) => {
        await readFrame(stream)
        await stream.write(garbage)
        stream.unwrap().sink([]).catch(() => {})
      })
      assert.ok(err1 instanceof Error)
      assert.equal(err1.name, 'HandshakeError')
      // As a well-framed message 2 full of random bytes: decryption of the static key fails.
      const err2 = await againstFakeListener(async (stream) => {
        await readFrame(stream)
        await stream.write(frame(randomBytes(200)))
      })
      assert.ok(err2 instanceof Error)
      assert.equal(err2.name, 'HandshakeError')
      assert.equal((err2.cause as Error).name, 'DecryptionError')
    })

    it('peer stalling mid-handshake: TimeoutError, and no timer is left behind', async () => {
      const timers = new TimerWatch()
      const started = Date.now()
      const err = await againstFakeListener(async (stream) => {
        await readFrame(stream) // read message 1, never answer
      }, { handshakeTimeout: 100 })
      assert.ok(err instanceof Error)
      assert.equal(err.name, 'TimeoutError')
      assert.ok(Date.now() - started < 2000)
      assert.deepEqual(await timers.stop(), [])
    })

    it('listener waiting for message 3 forever: TimeoutError', async () => {
      const err = await againstFakeDialer(async (stream, state) => {
        await stream.write(frame(state.writeMessage(new Uint8Array(0))))
        await readFrame(stream) // take message 2, never send message 3
      }, { handshakeTimeout: 100 })
      assert.ok(err instanceof Error)
      assert.equal(err.name, 'TimeoutError')
    })

    it('caller aborting mid-handshake: AbortError, and no timer is left behind', async () => {
      const timers = new TimerWatch()
      const controller = new AbortController()
      const err = await againstFakeListener(async (stream) => {
        await readFrame(stream)
        controller.abort()
      }, undefined, { signal: controller.signal })
      assert.ok(err instanceof Error)
      assert.equal(err.name, 'AbortError')
      assert.deepEqual(await timers.stop(), [])
    })

    it('an already aborted signal fails at once', async () => {
      const [a] = memoryPair()
      await assert.rejects(noise()(ed25519).secureOutbound(a, { signal: AbortSignal.abort() }), { name: 'AbortError' })
    })

    it('failure over TCP leaves the socket to the caller, who closes it without leaks', async () => {
      const timers = new TimerWatch()
      const before = await activeResources('TCPSocketWrap', 'TCPServerWrap')
      const tcp = await tcpPair()
      const results = await Promise.allSettled([
        noise()(ed25519).secureOutbound(tcp.client, { remotePeer: rsa.peerId }),
        noise({ handshakeTimeout: 300 })(ed25519b).secureInbound(tcp.server)
      ])
      assert.equal(results[0].status, 'rejected')
      assert.equal(results[0].reason.name, 'UnexpectedPeerError')
      assert.equal(results[1].status, 'rejected')
      await tcp.close()
      assert.equal(await activeResources('TCPSocketWrap', 'TCPServerWrap'), before, 'sockets left behind')
      assert.deepEqual(await timers.stop(), [], 'timers left behind')
    })

    it('an identity key is encoded as the libp2p PublicKey protobuf', async () => {
      const [a, b] = memoryPair()
      let seen: Uint8Array | undefined
      const listener = (async () => {
        const stream = new ByteStream(b)
        const state = new XXHandshakeState({ initiator: false, staticKeyPair: generateX25519KeyPair() })
        state.readMessage(await readFrame(stream))
        await stream.write(frame(state.writeMessage(encodePayload(createLocalIdentity(ed25519b.privateKey, state.localStaticKey)))))
        seen = NoiseHandshakePayload.decode(state.readMessage(await readFrame(stream))).identityKey
      })()
      await Promise.all([noise()(rsa).secureOutbound(a, { remotePeer: ed25519b.peerId }), listener])
      assert.deepEqual(Buffer.from(seen ?? []), Buffer.from(publicKeyToProtobuf(rsa.privateKey.publicKey)))
    })
  })

  /** Both sides of a handshake expected to fail; the listener gets a short timeout. */
  function secureExpectingFailure (a: SecureStream, b: SecureStream, setup: HandshakeSetup): [Promise<unknown>, Promise<unknown>] {
    return [
      noise(setup.dialerInit)(setup.dialer).secureOutbound(a, setup.outbound),
      noise(setup.listenerInit)(setup.listener).secureInbound(b, setup.inbound)
    ]
  }
})
