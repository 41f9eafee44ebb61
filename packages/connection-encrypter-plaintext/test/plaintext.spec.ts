import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { generateKeyPair, privateKeyFromProtobuf, publicKeyFromRaw, publicKeyToProtobuf } from '@peerkit/crypto'
import { Endpoint, TimerTracker, memoryWirePair, settle, within } from '@peerkit/interface-compliance-tests/connection-encrypter'
import { AbortError, HandshakeError, InvalidParametersError, LimitExceededError, TimeoutError, UnexpectedPeerError } from '@peerkit/interfaces'
import { peerIdFromPrivateKey, peerIdFromPublicKey } from '@peerkit/peer-id'
import { Uint8ArrayList } from 'uint8arraylist'
import { DEFAULT_MAX_MESSAGE_SIZE, PROTOCOL, encodeExchange, plaintext, verifyExchange } from '../src/index.js'
import { Exchange } from '../src/pb/plaintext.js'
import { field, frame, rawRemote, rsaSpki, varint, varintField } from './fixtures.js'
import type { RawRemote } from './fixtures.js'
import type { Settled } from '@peerkit/interface-compliance-tests/connection-encrypter'
import type { ConnectionEncrypter, PeerId, PrivateKey, SecuredConnection } from '@peerkit/interfaces'

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'))
const bytes = (list: Uint8Array | Uint8ArrayList): number[] => Array.from(list instanceof Uint8Array ? list : list.subarray())

// Test vectors of the libp2p peer-ids spec.
const SPEC_ED25519_PRIVATE = '080112407e0830617c4a7de83925dfb2694556b12936c477a0e1feb2e148ec9da60fee7d1ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e'
const SPEC_ED25519_PUBLIC = '080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e'
const SPEC_SECP256K1_PRIVATE = '0802122053DADF1D5A164D6B4ACDB15E24AA4C5B1D3461BDBD42ABEDB0A4404D56CED8FB'

interface Identity { privateKey: PrivateKey, peerId: PeerId }

function identityOf (privateKey: PrivateKey): Identity {
  return { privateKey, peerId: peerIdFromPrivateKey(privateKey) }
}

function errorOf (result: Settled<unknown>): Error {
  if (result.ok) assert.fail('expected the handshake to fail')
  assert.ok(result.error instanceof Error, `expected an Error, got ${String(result.error)}`)
  return result.error
}

describe('plaintext', () => {
  let local: Identity
  let remote: Identity
  let encrypter: ConnectionEncrypter

  before(async () => {
    local = identityOf(privateKeyFromProtobuf(hex(SPEC_ED25519_PRIVATE)))
    remote = identityOf(await generateKeyPair('Ed25519'))
    encrypter = plaintext()(local)
  })

  /** Runs `secureOutbound` against a raw remote that sends `incoming` (then optionally ends). */
  async function against (incoming: Uint8Array | null, options: { end?: boolean, encrypter?: ConnectionEncrypter, remotePeer?: PeerId } = {}): Promise<{ result: Settled<SecuredConnection>, raw: RawRemote }> {
    const raw = rawRemote()
    if (incoming != null) raw.input.push(incoming)
    if (options.end === true) raw.input.end()
    const result = await within(settle((options.encrypter ?? encrypter).secureOutbound(raw.conn, { remotePeer: options.remotePeer })), 2000, 'the handshake')
    return { result, raw }
  }

  describe('Exchange message', () => {
    it('encodes an Ed25519 identity byte for byte as the spec describes', () => {
      const publicKeyPb = bytes(hex(SPEC_ED25519_PUBLIC))
      const id = [0x00, publicKeyPb.length, ...publicKeyPb] // identity multihash of the key protobuf
      const body = [0x0a, id.length, ...id, 0x12, publicKeyPb.length, ...publicKeyPb]
      assert.equal(body.length, 78)
      assert.deepEqual(bytes(encodeExchange(local.privateKey.publicKey)), [78, ...body])
    })

    it('encodes an RSA identity with an explicit key Type 0 and a sha2-256 id', async () => {
      const key = await generateKeyPair('RSA', 2048)
      const der = bytes(key.publicKey.raw)
      const publicKeyPb = [0x08, 0x00, 0x12, ...varint(der.length), ...der]
      const id = [0x12, 0x20, ...createHash('sha256').update(Uint8Array.from(publicKeyPb)).digest()]
      const body = [0x0a, id.length, ...id, 0x12, ...varint(publicKeyPb.length), ...publicKeyPb]
      assert.ok(body.length > 127, 'the length prefix takes two bytes')
      assert.deepEqual(bytes(encodeExchange(key.publicKey)), [...varint(body.length), ...body])
    })

    it('secureOutbound sends exactly the length-prefixed Exchange during the handshake', async () => {
      const { result, raw } = await against(encodeExchange(remote.privateKey.publicKey))
      assert.equal(result.ok, true)
      assert.deepEqual(bytes(raw.written), bytes(encodeExchange(local.privateKey.publicKey)))
    })

    it('decodes and verifies a hand-built Exchange', () => {
      const publicKeyPb = bytes(hex(SPEC_ED25519_PUBLIC))
      const body = [...field(1, [0x00, publicKeyPb.length, ...publicKeyPb]), ...field(2, publicKeyPb)]
      const peerId = verifyExchange(Exchange.decode(Uint8Array.from(body)))
      assert.equal(peerId.toString(), local.peerId.toString())
      assert.ok(peerId.toString().startsWith('12D3KooW'))
      assert.ok(peerId.publicKey?.equals(local.privateKey.publicKey))
    })
  })

  describe('handshakes', () => {
    for (const type of ['RSA', 'secp256k1', 'ECDSA'] as const) {
      it(`identifies an ${type} peer to an Ed25519 peer, both ways`, async () => {
        const other = identityOf(type === 'secp256k1' ? privateKeyFromProtobuf(hex(SPEC_SECP256K1_PRIVATE)) : await generateKeyPair(type))
        const otherEncrypter = plaintext()(other)
        for (const [dialer, dialerId, listener, listenerId] of [[encrypter, local, otherEncrypter, other], [otherEncrypter, other, encrypter, local]] as const) {
          const [a, b] = memoryWirePair().map(w => new Endpoint(w))
          const [outbound, inbound] = await Promise.all([
            dialer.secureOutbound(a.conn, { remotePeer: listenerId.peerId }),
            listener.secureInbound(b.conn)
          ])
          assert.equal(outbound.remotePeer.toString(), listenerId.peerId.toString())
          assert.equal(inbound.remotePeer.toString(), dialerId.peerId.toString())
          assert.equal(inbound.remotePeer.type, dialerId.privateKey.type)
          a.destroy()
          b.destroy()
        }
      })
    }

    it('accepts an 8192-bit RSA key (the largest libp2p allows) within the default maxMessageSize', async () => {
      const key = publicKeyFromRaw(rsaSpki(8192), 'RSA')
      const message = encodeExchange(key)
      assert.ok(message.byteLength < DEFAULT_MAX_MESSAGE_SIZE, `${message.byteLength} bytes`)
      const { result } = await against(message)
      assert.equal(result.ok, true, result.ok ? '' : String((result as { error: unknown }).error))
      assert.equal((result as { value: SecuredConnection }).value.remotePeer.toString(), peerIdFromPublicKey(key).toString())
    })

    it('keeps bytes that arrive in the same chunk as the Exchange, without adding a stage to the source', async () => {
      const raw = rawRemote()
      const after = new TextEncoder().encode('first bytes after the handshake')
      raw.input.push(new Uint8ArrayList(encodeExchange(remote.privateKey.publicKey), after))
      const secured = await encrypter.secureOutbound(raw.conn, { remotePeer: remote.peerId })
      assert.equal(secured.conn.source, raw.input, 'the secured source should be the raw source itself')
      raw.input.push(Uint8Array.of(1, 2, 3))
      raw.input.end()
      const received = new Uint8ArrayList()
      for await (const chunk of secured.conn.source) received.append(chunk)
      assert.deepEqual(bytes(received), [...after, 1, 2, 3])
    })

    it('passes data through unchanged in both directions and propagates the end of the stream', async () => {
      const raw = rawRemote()
      raw.input.push(encodeExchange(remote.privateKey.publicKey))
      const secured = await encrypter.secureOutbound(raw.conn)
      const handshakeBytes = raw.written.byteLength
      const payload = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 31) & 0xff)
      await secured.conn.sink([payload.subarray(0, 1000), payload.subarray(1000)])
      assert.deepEqual(bytes(raw.written.sublist(handshakeBytes)), bytes(payload))
    })

    it('ignores unknown fields in the Exchange message', async () => {
      const publicKeyPb = bytes(publicKeyToProtobuf(remote.privateKey.publicKey))
      const body = [...field(1, bytes(remote.peerId.toMultihash().bytes)), ...varintField(7, 42), ...field(2, publicKeyPb), ...field(9, [1, 2, 3])]
      const { result } = await against(frame(body), { remotePeer: remote.peerId })
      assert.equal(result.ok, true)
    })

    it('accepts a public key whose fields come in another order, and derives the id from the key', async () => {
      const raw = bytes(remote.privateKey.publicKey.raw)
      const reordered = [...field(2, raw), ...varintField(1, 1)]
      const body = [...field(1, bytes(remote.peerId.toMultihash().bytes)), ...field(2, reordered)]
      const { result } = await against(frame(body))
      assert.equal(result.ok, true)
      assert.equal((result as { value: SecuredConnection }).value.remotePeer.toString(), remote.peerId.toString())
    })

    it('the listener checks an expected PeerId when given one', async () => {
      const raw = rawRemote()
      raw.input.push(encodeExchange(remote.privateKey.publicKey))
      const error = errorOf(await settle(encrypter.secureInbound(raw.conn, { remotePeer: local.peerId })))
      assert.ok(error instanceof UnexpectedPeerError)
    })
  })

  describe('invalid input from the remote', () => {
    const remoteId = (): number[] => bytes(remote.peerId.toMultihash().bytes)
    const remoteKey = (): number[] => bytes(publicKeyToProtobuf(remote.privateKey.publicKey))
    let timers: TimerTracker

    // Every failure below must leave nothing behind.
    beforeEach(() => {
      timers = new TimerTracker()
      timers.start()
    })
    afterEach(async () => {
      const left = await timers.pending()
      timers.stop()
      assert.deepEqual(left, [], 'timers left behind')
    })

    async function failure (body: number[] | Uint8Array, pattern: RegExp, remotePeer?: PeerId): Promise<Error> {
      const { result } = await against(body instanceof Uint8Array ? body : frame(body), { end: true, remotePeer })
      const error = errorOf(result)
      assert.ok(error instanceof HandshakeError, `expected HandshakeError, got ${error.name}: ${error.message}`)
      assert.equal(error.protocol, PROTOCOL)
      assert.match(error.message, pattern)
      return error
    }

    it('an id that is not the PeerId of the public key', async () => {
      const other = bytes(local.peerId.toMultihash().bytes)
      await failure([...field(1, other), ...field(2, remoteKey())], /is not the PeerId of its public key/)
    })

    it('an id sent as CID bytes instead of a multihash', async () => {
      const cid = bytes(remote.peerId.toCID().bytes)
      await failure([...field(1, cid), ...field(2, remoteKey())], /is not the PeerId of its public key/)
    })

    it('an empty id', async () => {
      await failure([...field(1, []), ...field(2, remoteKey())], /\(empty\) is not the PeerId/)
    })

    it('a missing id', async () => {
      await failure(field(2, remoteKey()), /has no id/)
    })

    it('a missing public key', async () => {
      await failure(field(1, remoteId()), /has no public key/)
    })

    it('a public key without Type', async () => {
      await failure([...field(1, remoteId()), ...field(2, field(2, bytes(remote.privateKey.publicKey.raw)))], /no Type field/)
    })

    it('a public key without Data', async () => {
      await failure([...field(1, remoteId()), ...field(2, varintField(1, 1))], /no Data field/)
    })

    it('an empty message', async () => {
      await failure([], /has no id/)
    })

    it('an unknown key type', async () => {
      const error = await failure([...field(1, remoteId()), ...field(2, [...varintField(1, 9), ...field(2, bytes(remote.privateKey.publicKey.raw))])], /Malformed Exchange/)
      assert.equal((error.cause as Error).name, 'InvalidMessageError')
    })

    it('key bytes that are not a valid key of their type', async () => {
      const error = await failure([...field(1, remoteId()), ...field(2, [...varintField(1, 1), ...field(2, new Array(31).fill(7))])], /public key is invalid/)
      assert.ok(error.cause instanceof Error)
    })

    it('a malformed protobuf (a field running past the end of the message)', async () => {
      const error = await failure([0x0a, 0xff, 0xff, 0x03, 0x01], /Malformed Exchange/)
      assert.equal((error.cause as Error).name, 'InvalidMessageError')
    })

    it('a wrong wire type for the public key', async () => {
      const error = await failure([...field(1, remoteId()), ...varintField(2, 5)], /Malformed Exchange/)
      assert.equal((error.cause as Error).name, 'InvalidMessageError')
    })

    it('a length prefix longer than 5 bytes', async () => {
      const error = await failure(Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01), /Varint longer/)
      assert.equal((error.cause as Error).name, 'InvalidMessageError')
    })

    it('a truncated message followed by the end of the stream', async () => {
      const full = frame([...field(1, remoteId()), ...field(2, remoteKey())])
      const error = await failure(full.subarray(0, 30), /closed the connection/)
      assert.equal((error.cause as Error).name, 'UnexpectedEOFError')
    })

    it('the end of the stream before any byte', async () => {
      await failure(new Uint8Array(0), /closed the connection/)
    })

    it('an announced length above maxMessageSize, refused before the body arrives', async () => {
      // Only the prefix is sent and the stream stays open: the encrypter must not wait for the body.
      const { result } = await against(Uint8Array.from(varint(DEFAULT_MAX_MESSAGE_SIZE + 1)))
      const error = errorOf(result)
      assert.ok(error instanceof LimitExceededError, `got ${error.name}`)
      assert.equal(error.limit, 'maxMessageSize')
      assert.equal(error.max, DEFAULT_MAX_MESSAGE_SIZE)
      assert.equal(error.value, DEFAULT_MAX_MESSAGE_SIZE + 1)
    })

    it('a valid message above a configured maxMessageSize', async () => {
      const small = plaintext({ maxMessageSize: 50 })(local)
      const { result } = await against(encodeExchange(remote.privateKey.publicKey), { encrypter: small })
      const error = errorOf(result)
      assert.ok(error instanceof LimitExceededError)
      assert.equal(error.max, 50)
      assert.equal(error.value, 78)
    })

    it('a remote that is not the expected peer', async () => {
      const { result } = await against(encodeExchange(remote.privateKey.publicKey), { remotePeer: local.peerId })
      const error = errorOf(result)
      assert.ok(error instanceof UnexpectedPeerError, `got ${error.name}`)
      assert.equal(error.expected, local.peerId.toString())
      assert.equal(error.actual, remote.peerId.toString())
    })

    it('a transport that fails while sending', async () => {
      const raw = rawRemote()
      raw.breakSink(new Error('connection reset'))
      const error = errorOf(await within(settle(encrypter.secureOutbound(raw.conn)), 2000, 'the handshake'))
      assert.ok(error instanceof HandshakeError, `got ${error.name}`)
      assert.match(error.message, /connection reset/)
    })
  })

  describe('timeouts and aborts', () => {
    it('fails with TimeoutError after handshakeTimeout against a silent remote', async () => {
      const quick = plaintext({ handshakeTimeout: 50 })(local)
      const raw = rawRemote()
      const started = Date.now()
      const error = errorOf(await within(settle(quick.secureOutbound(raw.conn)), 2000, 'the handshake'))
      assert.ok(error instanceof TimeoutError, `got ${error.name}`)
      assert.equal(error.timeoutMs, 50)
      assert.ok(Date.now() - started >= 45)
    })

    it('fails with AbortError when the caller aborts', async () => {
      const raw = rawRemote()
      const controller = new AbortController()
      const handshake = settle(encrypter.secureInbound(raw.conn, { signal: controller.signal }))
      await raw.waitWritten(1)
      controller.abort()
      const error = errorOf(await within(handshake, 500, 'the handshake'))
      assert.ok(error instanceof AbortError, `got ${error.name}`)
    })

    it('fails with the caller\'s abort reason when it is an error of its own', async () => {
      const raw = rawRemote()
      const controller = new AbortController()
      const reason = new TimeoutError('upgrade took too long', 1234)
      controller.abort(reason)
      const error = errorOf(await within(settle(encrypter.secureInbound(raw.conn, { signal: controller.signal })), 500, 'the handshake'))
      assert.equal(error, reason)
      assert.equal(raw.written.byteLength, 0, 'nothing is sent once aborted')
    })

    it('arms one timer per handshake and clears it; handshakeTimeout 0 arms none', async () => {
      for (const [handshakeTimeout, expected] of [[undefined, 1], [0, 0], [Infinity, 0]] as const) {
        const instance = plaintext({ handshakeTimeout })(local)
        const raw = rawRemote()
        const controller = new AbortController()
        const timers = new TimerTracker()
        timers.start()
        try {
          const handshake = settle(instance.secureOutbound(raw.conn, { signal: controller.signal }))
          await raw.waitWritten(1)
          assert.equal((await timers.pending()).length, expected, `handshakeTimeout ${String(handshakeTimeout)}`)
          controller.abort()
          errorOf(await handshake)
          assert.deepEqual(await timers.pending(), [])
        } finally {
          timers.stop()
        }
      }
    })
  })

  describe('options', () => {
    it('has the protocol id /plaintext/2.0.0', () => {
      assert.equal(encrypter.protocol, '/plaintext/2.0.0')
      assert.equal(PROTOCOL, '/plaintext/2.0.0')
    })

    it('refuses invalid options', () => {
      for (const maxMessageSize of [0, -1, 1.5, Number.NaN, Infinity]) {
        assert.throws(() => plaintext({ maxMessageSize }), InvalidParametersError, `maxMessageSize ${maxMessageSize}`)
      }
      for (const handshakeTimeout of [-1, Number.NaN]) {
        assert.throws(() => plaintext({ handshakeTimeout }), InvalidParametersError, `handshakeTimeout ${handshakeTimeout}`)
      }
    })

    it('refuses a peerId that does not belong to the private key', () => {
      assert.throws(() => plaintext()({ privateKey: local.privateKey, peerId: remote.peerId }), InvalidParametersError)
    })
  })
})
