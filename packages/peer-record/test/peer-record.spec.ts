/**
 * Peer records (RFC 0003) in signed envelopes: hand-built vectors, a go-libp2p vector, round trips,
 * the checks that certify a record, and bad input.
 */
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { generateKeyPair, generateKeyPairFromSeed, privateKeyFromProtobuf } from '@peerkit/crypto'
import { InvalidMessageError, InvalidParametersError, InvalidSignatureError, LimitExceededError, UnexpectedPeerError } from '@peerkit/interfaces'
import { peerIdFromPrivateKey, peerIdFromString } from '@peerkit/peer-id'
import {
  DEFAULT_MAX_PEER_RECORD_ADDRESSES, PEER_RECORD_CODEC, PEER_RECORD_DOMAIN, PeerRecord, RecordEnvelope, openSignedPeerRecord
} from '../src/index.js'
import { GO_ENVELOPE, GO_PRIVATE_KEY, field, fromHex, handBuildSignedPeerRecord, toHex, uvarint } from './fixtures.js'
import type { PeerId, PrivateKey } from '@peerkit/interfaces'

const SEED = fromHex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60')
// /ip4/127.0.0.1/tcp/4001 and /ip6/::1/udp/4001/quic-v1, written out: code, value per protocol.
const ADDR_TCP = [0x04, 127, 0, 0, 1, 0x06, 0x0f, 0xa1]
const ADDR_QUIC = [0x29, ...new Array(15).fill(0), 1, 0x91, 0x02, 0x0f, 0xa1, 0xcd, 0x03]
const SEQ = 1_700_000_000_000n

/**
 * The envelope the hand-built test produces, frozen so that an accidental change to the encoding
 * (or to how the fixture is built) is noticed.
 */
const FROZEN_ENVELOPE =
  // public_key (field 1): Ed25519 key protobuf
  '0a24' + '08011220' + 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a' +
  // payload_type (field 2): 0x0301
  '1202' + '0301' +
  // payload (field 3): PeerRecord { peer_id, seq = 1700000000000, two AddressInfo }
  '1a56' + '0a26' + '0024' + '08011220' + 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a' +
  '10' + '80d095ffbc31' +
  '1a0a' + '0a08' + '047f000001060fa1' +
  '1a19' + '0a17' + '2900000000000000000000000000000001' + '9102' + '0fa1' + 'cd03' +
  // signature (field 5)
  '2a40' + '1d977038f78424211ce76b89f290945c17cbd96c4bdf088d28f1e3e916cc1806' +
  'a5678795fd99518c0c4bd506b8805dc203827a148b37f2ba751655a56c5af80e'

describe('PeerRecord', () => {
  let key: PrivateKey
  let peerId: PeerId

  before(async () => {
    key = await generateKeyPair('Ed25519')
    peerId = peerIdFromPrivateKey(key)
  })

  describe('interop vectors', () => {
    it('seals byte for byte what RFC 0002/0003 describe, for a fixed key and seq', async () => {
      const fixed = await generateKeyPairFromSeed('Ed25519', SEED)
      const built = handBuildSignedPeerRecord(SEED, fixed.publicKey.raw, SEQ, [ADDR_TCP, ADDR_QUIC])
      const record = new PeerRecord({
        peerId: peerIdFromPrivateKey(fixed),
        multiaddrs: [multiaddr('/ip4/127.0.0.1/tcp/4001'), multiaddr('/ip6/::1/udp/4001/quic-v1')],
        seq: SEQ
      })
      assert.deepEqual([...record.peerIdBytes], built.peerId)
      assert.deepEqual([...record.marshal()], built.payload)
      const envelope = record.seal(fixed)
      assert.equal(toHex(envelope.signature), toHex(built.signature))
      assert.equal(toHex(envelope.marshal()), toHex(built.envelope))
    })

    it('opens the hand-built envelope', async () => {
      const fixed = await generateKeyPairFromSeed('Ed25519', SEED)
      const built = handBuildSignedPeerRecord(SEED, fixed.publicKey.raw, SEQ, [ADDR_TCP, ADDR_QUIC])
      const { envelope, record } = openSignedPeerRecord(built.envelope, { expectedPeer: peerIdFromPrivateKey(fixed) })
      assert.ok(envelope.publicKey.equals(fixed.publicKey))
      assert.equal(record.seq, SEQ)
      assert.deepEqual(record.multiaddrs.map(String), ['/ip4/127.0.0.1/tcp/4001', '/ip6/::1/udp/4001/quic-v1'])
      assert.equal(record.peerId.toString(), fixed.publicKey.toString())
    })

    it('matches the frozen envelope bytes (the RFC 8032 test key 1, seq 1700000000000)', async () => {
      const fixed = await generateKeyPairFromSeed('Ed25519', SEED)
      const built = handBuildSignedPeerRecord(SEED, fixed.publicKey.raw, SEQ, [ADDR_TCP, ADDR_QUIC])
      assert.equal(toHex(built.envelope), FROZEN_ENVELOPE)
      const record = new PeerRecord({ peerId: peerIdFromString(fixed.publicKey.toString()), multiaddrs: [multiaddr('/ip4/127.0.0.1/tcp/4001'), multiaddr('/ip6/::1/udp/4001/quic-v1')], seq: SEQ })
      assert.equal(toHex(record.seal(fixed).marshal()), FROZEN_ENVELOPE)
    })

    it('opens a record signed by go-libp2p and re-seals it to the same bytes', () => {
      const goKey = privateKeyFromProtobuf(GO_PRIVATE_KEY)
      const { envelope, record } = openSignedPeerRecord(GO_ENVELOPE)
      assert.ok(envelope.publicKey.equals(goKey.publicKey))
      assert.deepEqual(envelope.payloadType, PEER_RECORD_CODEC)
      assert.equal(record.peerId.toString(), peerIdFromPrivateKey(goKey).toString())
      assert.deepEqual(record.multiaddrs.map(String), Array.from({ length: 10 }, (_, i) => `/ip4/1.2.3.4/tcp/${i}`))
      assert.ok(record.seq > 1_500_000_000_000_000_000n, 'go uses unix nanoseconds')
      // Ed25519 signatures are deterministic: our encoder reproduces go's envelope exactly.
      assert.equal(toHex(record.seal(goKey).marshal()), toHex(GO_ENVELOPE))
    })
  })

  describe('records', () => {
    it('marshals and decodes', () => {
      const multiaddrs = [multiaddr('/ip4/192.0.2.1/tcp/4001'), multiaddr('/dns4/example.com/tcp/443/wss')]
      const record = new PeerRecord({ peerId, multiaddrs, seq: 42n })
      const decoded = PeerRecord.createFromProtobuf(record.marshal())
      assert.ok(decoded.equals(record))
      assert.ok(decoded.peerId.equals(peerId))
      assert.equal(decoded.seq, 42n)
      assert.deepEqual(decoded.multiaddrs.map(String), multiaddrs.map(String))
      assert.equal(record.domain, PEER_RECORD_DOMAIN)
      assert.equal(PeerRecord.DOMAIN, 'libp2p-peer-record')
      assert.deepEqual(PeerRecord.CODEC, Uint8Array.of(0x03, 0x01))
    })

    it('defaults seq to the current time in ms and addresses to none', () => {
      const before = BigInt(Date.now())
      const record = new PeerRecord({ peerId })
      assert.ok(record.seq >= before && record.seq <= BigInt(Date.now()))
      assert.equal(record.multiaddrs.length, 0)
      const decoded = PeerRecord.createFromProtobuf(record.marshal())
      assert.equal(decoded.multiaddrs.length, 0)
      assert.equal(decoded.seq, record.seq)
    })

    it('encodes seq as a uint64, up to its maximum, and refuses values outside it', () => {
      const max = 0xffffffffffffffffn
      const record = new PeerRecord({ peerId, seq: max })
      assert.equal(PeerRecord.createFromProtobuf(record.marshal()).seq, max)
      assert.equal(PeerRecord.createFromProtobuf(new PeerRecord({ peerId, seq: 0n }).marshal()).seq, 0n)
      assert.throws(() => new PeerRecord({ peerId, seq: -1n }), InvalidParametersError)
      assert.throws(() => new PeerRecord({ peerId, seq: max + 1n }), InvalidParametersError)
      assert.throws(() => new PeerRecord({ peerId, seq: 5 as unknown as bigint }), InvalidParametersError)
    })

    it('equals compares peer, seq and addresses in order', async () => {
      const a = multiaddr('/ip4/192.0.2.1/tcp/1')
      const b = multiaddr('/ip4/192.0.2.1/tcp/2')
      const base = new PeerRecord({ peerId, multiaddrs: [a, b], seq: 1n })
      const other = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
      assert.equal(base.equals(new PeerRecord({ peerId, multiaddrs: [a, b], seq: 1n })), true)
      assert.equal(base.equals(new PeerRecord({ peerId, multiaddrs: [b, a], seq: 1n })), false)
      assert.equal(base.equals(new PeerRecord({ peerId, multiaddrs: [a], seq: 1n })), false)
      assert.equal(base.equals(new PeerRecord({ peerId, multiaddrs: [a, b], seq: 2n })), false)
      assert.equal(base.equals(new PeerRecord({ peerId: other, multiaddrs: [a, b], seq: 1n })), false)
      assert.equal(base.equals(null), false)
    })

    it('skips empty and unparseable addresses, like go-libp2p', () => {
      const payload = Uint8Array.from([
        ...field(1, peerId.toMultihash().bytes),
        0x10, ...uvarint(7),
        ...field(3, field(1, ADDR_TCP)),
        ...field(3, []),
        ...field(3, field(1, [])),
        ...field(3, field(1, [0xff, 0xff, 0xff])),
        ...field(3, field(1, [0x04, 1, 2]))
      ])
      const record = PeerRecord.createFromProtobuf(payload)
      assert.deepEqual(record.multiaddrs.map(String), ['/ip4/127.0.0.1/tcp/4001'])
    })

    it('works for RSA peers, whose ids are hashes of their keys', async () => {
      const rsa = await generateKeyPair('RSA', 2048)
      const rsaId = peerIdFromPrivateKey(rsa)
      const bytes = new PeerRecord({ peerId: rsaId, multiaddrs: [multiaddr('/ip4/192.0.2.1/tcp/1')], seq: 9n }).seal(rsa).marshal()
      const { record } = openSignedPeerRecord(bytes, { expectedPeer: rsaId })
      assert.ok(record.peerId.equals(rsaId))
      assert.ok(rsaId.toString().startsWith('Qm'))
    })

    it('refuses to seal a record with a key that is not its peer\'s', async () => {
      const other = await generateKeyPair('Ed25519')
      assert.throws(() => new PeerRecord({ peerId, seq: 1n }).seal(other), InvalidParametersError)
    })
  })

  describe('certifying', () => {
    it('refuses a record signed by another key than its peer\'s (the envelope key must be the peer)', async () => {
      const mallory = await generateKeyPair('Ed25519')
      // A record naming `peerId`, validly signed by Mallory.
      const forged = RecordEnvelope.seal(new PeerRecord({ peerId, seq: 1n, multiaddrs: [multiaddr('/ip4/203.0.113.1/tcp/1')] }), mallory)
      assert.doesNotThrow(() => RecordEnvelope.openAndCertify(forged.marshal(), PEER_RECORD_DOMAIN))
      assert.throws(() => openSignedPeerRecord(forged.marshal()), (err: Error) => {
        return err instanceof UnexpectedPeerError && err.expected === peerId.toString() && err.actual === mallory.publicKey.toString()
      })
    })

    it('refuses a valid record of another peer than the expected one', async () => {
      const other = await generateKeyPair('Ed25519')
      const bytes = new PeerRecord({ peerId: peerIdFromPrivateKey(other), seq: 1n }).seal(other).marshal()
      assert.doesNotThrow(() => openSignedPeerRecord(bytes))
      assert.throws(() => openSignedPeerRecord(bytes, { expectedPeer: peerId }), (err: Error) => {
        return err instanceof UnexpectedPeerError && err.expected === peerId.toString() && err.actual === other.publicKey.toString()
      })
    })

    it('refuses a record signed for another domain', () => {
      const record = new PeerRecord({ peerId, seq: 1n })
      const envelope = RecordEnvelope.seal({ domain: 'libp2p-routing-state', codec: PEER_RECORD_CODEC, marshal: () => record.marshal() }, key)
      assert.throws(() => openSignedPeerRecord(envelope.marshal()), InvalidSignatureError)
    })

    it('refuses an envelope whose payload type is not a peer record', () => {
      const record = new PeerRecord({ peerId, seq: 1n })
      const envelope = RecordEnvelope.seal({ domain: PEER_RECORD_DOMAIN, codec: new TextEncoder().encode('/libp2p/routing-state-record'), marshal: () => record.marshal() }, key)
      assert.throws(() => openSignedPeerRecord(envelope.marshal()), (err: Error) => err instanceof InvalidMessageError && /payload type/.test(err.message))
    })

    it('refuses a tampered record', () => {
      const bytes = new PeerRecord({ peerId, seq: 1n, multiaddrs: [multiaddr('/ip4/192.0.2.1/tcp/1')] }).seal(key).marshal()
      const tampered = Uint8Array.from(bytes)
      // The last byte of the address (the port) sits just before the signature field.
      tampered[tampered.byteLength - 67] ^= 0x01
      assert.throws(() => openSignedPeerRecord(tampered), InvalidSignatureError)
    })

    it('refuses records with more addresses than maxAddresses', () => {
      const multiaddrs = Array.from({ length: DEFAULT_MAX_PEER_RECORD_ADDRESSES + 1 }, (_, i) => multiaddr(`/ip4/192.0.2.1/tcp/${i + 1}`))
      const bytes = new PeerRecord({ peerId, seq: 1n, multiaddrs }).seal(key).marshal()
      assert.throws(() => openSignedPeerRecord(bytes), (err: Error) => {
        return err instanceof LimitExceededError && err.limit === 'maxAddresses' && err.max === DEFAULT_MAX_PEER_RECORD_ADDRESSES
      })
      assert.equal(openSignedPeerRecord(bytes, { maxAddresses: multiaddrs.length }).record.multiaddrs.length, multiaddrs.length)
      assert.throws(() => PeerRecord.createFromProtobuf(new PeerRecord({ peerId, multiaddrs: multiaddrs.slice(0, 3) }).marshal(), { maxAddresses: 2 }), LimitExceededError)
    })

    it('refuses invalid peer ids', () => {
      const sha256Short = [0x12, 0x20, ...new Array(31).fill(1)]
      const unknownHash = [0x13, 0x02, 1, 2]
      const identityNotAKey = [0x00, 0x03, 1, 2, 3]
      const overlongVarint = [0x80, 0x80, 0x80, 0x80, 0x80, 0x01]
      for (const id of [[], [0x12], sha256Short, unknownHash, identityNotAKey, overlongVarint, [0x12, 0x20, ...new Array(33).fill(1)]]) {
        const payload = Uint8Array.from([...field(1, id), 0x10, 1])
        assert.throws(() => PeerRecord.createFromProtobuf(payload), InvalidMessageError, `peer id ${JSON.stringify(id)}`)
        // And inside a validly signed envelope.
        const envelope = RecordEnvelope.seal({ domain: PEER_RECORD_DOMAIN, codec: PEER_RECORD_CODEC, marshal: () => payload }, key)
        assert.throws(() => openSignedPeerRecord(envelope.marshal()), InvalidMessageError)
      }
    })

    it('refuses payloads that are not protobuf', () => {
      for (const payload of [Uint8Array.of(0xff), Uint8Array.of(0x0a, 0x30, 1), Uint8Array.of(0x10, 0xff, 0xff)]) {
        assert.throws(() => PeerRecord.createFromProtobuf(payload), InvalidMessageError)
      }
    })

    it('never crashes on a truncated or corrupted signed record', () => {
      const bytes = new PeerRecord({ peerId, seq: 3n, multiaddrs: [multiaddr('/ip4/192.0.2.1/tcp/1')] }).seal(key).marshal()
      for (let n = 0; n < bytes.byteLength; n++) {
        assert.throws(() => openSignedPeerRecord(bytes.subarray(0, n)), (err: Error) => err instanceof InvalidMessageError || err instanceof InvalidSignatureError)
      }
      for (let i = 0; i < bytes.byteLength; i++) {
        const corrupted = Uint8Array.from(bytes)
        corrupted[i] ^= 0x80
        assert.throws(() => openSignedPeerRecord(corrupted), (err: Error) => err instanceof InvalidMessageError || err instanceof InvalidSignatureError || err instanceof UnexpectedPeerError)
      }
    })
  })
})
