/**
 * Round trips with js-libp2p's `@libp2p/peer-id` and `@libp2p/crypto` for every key type: keys
 * generated on one side and exchanged as protobuf give the same PeerId on the other, and each side
 * parses the other's PeerId text. ECDSA PeerIds differ, and the difference is asserted.
 */
import assert from 'node:assert/strict'
import * as js from '@libp2p/crypto/keys'
import * as jsPeerId from '@libp2p/peer-id'
import { InvalidPeerIdError } from '@peerkit/interfaces'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@peerkit/crypto'
import { base36 } from 'multiformats/bases/base36'
import { peerIdFromCID, peerIdFromMultihash, peerIdFromPrivateKey, peerIdFromPublicKey, peerIdFromString } from '../src/index.js'
import { SPEC_VECTORS, fromHex } from './fixtures/vectors.js'
import type { PublicKey } from '@peerkit/interfaces'

const CASES = [
  { type: 'Ed25519', prefix: '12D3KooW', generateJs: async () => js.generateKeyPair('Ed25519'), generateOurs: async () => generateKeyPair('Ed25519') },
  { type: 'secp256k1', prefix: '16Uiu2HA', generateJs: async () => js.generateKeyPair('secp256k1'), generateOurs: async () => generateKeyPair('secp256k1') },
  { type: 'RSA', prefix: 'Qm', generateJs: async () => js.generateKeyPair('RSA', 2048), generateOurs: async () => generateKeyPair('RSA', 2048) }
] as const

describe('interop with js-libp2p @libp2p/peer-id', () => {
  for (const c of CASES) {
    describe(c.type, () => {
      it('their key, imported here, has the PeerId they compute', async () => {
        const theirs = await c.generateJs()
        const theirId = jsPeerId.peerIdFromPrivateKey(theirs)
        const ours = peerIdFromPrivateKey(privateKeyFromProtobuf(js.privateKeyToProtobuf(theirs)))
        assert.equal(ours.toString(), theirId.toString())
        assert.ok(ours.toString().startsWith(c.prefix))
        assert.equal(ours.toCID().toString(), theirId.toCID().toString())
        assert.deepEqual(ours.toMultihash().bytes, theirId.toMultihash().bytes)
        assert.equal(ours.type, c.type)
      })

      it('our key, exported there, has the PeerId we compute', async () => {
        const ours = await c.generateOurs()
        const ourId = peerIdFromPrivateKey(ours)
        const theirId = jsPeerId.peerIdFromPrivateKey(js.privateKeyFromProtobuf(privateKeyToProtobuf(ours)))
        assert.equal(theirId.toString(), ourId.toString())
        assert.equal(theirId.toCID().toString(), ourId.toCID().toString())
      })

      it('each side parses the other\'s PeerId text and CID', async () => {
        const theirId = jsPeerId.peerIdFromPrivateKey(await c.generateJs())
        for (const text of [theirId.toString(), theirId.toCID().toString(), theirId.toCID().toString(base36)]) {
          assert.ok(peerIdFromString(text).equals(theirId.toString()), text)
        }
        assert.ok(peerIdFromCID(theirId.toCID()).equals(theirId.toMultihash().bytes))
        assert.ok(peerIdFromMultihash(theirId.toMultihash()).equals(theirId.toString()))

        const ourId = peerIdFromPrivateKey(await c.generateOurs())
        for (const text of [ourId.toString(), ourId.toCID().toString(), ourId.toCID().toString(base36)]) {
          assert.ok(jsPeerId.peerIdFromString(text).equals(ourId.toString()), text)
        }
        const parsed = jsPeerId.peerIdFromString(ourId.toString())
        assert.equal(parsed.type, c.type)
        if (c.type !== 'RSA') {
          // Identity ids carry the key, and both sides find the same one.
          assert.deepEqual(parsed.publicKey?.raw, ourId.publicKey?.raw)
          assert.deepEqual(peerIdFromString(theirId.toString()).publicKey?.raw, theirId.publicKey?.raw)
        }
      })

      it('accepts their public key object directly', async () => {
        const theirs = await c.generateJs()
        const ours = peerIdFromPublicKey(theirs.publicKey as unknown as PublicKey)
        assert.equal(ours.toString(), jsPeerId.peerIdFromPublicKey(theirs.publicKey).toString())
        assert.equal(ours.publicKey?.type, c.type)
      })
    })
  }

  it('agrees on the PeerIds of the spec vectors', () => {
    for (const vector of SPEC_VECTORS.filter(v => v.type !== 'ECDSA')) {
      const theirId = jsPeerId.peerIdFromPrivateKey(js.privateKeyFromProtobuf(fromHex(vector.privateKey)))
      assert.equal(theirId.toString(), vector.peerId)
      assert.ok(peerIdFromString(vector.peerId).equals(theirId.toString()))
    }
    assert.ok(jsPeerId.peerIdFromString('bafzbeie5745rpv2m6tjyuugywy4d5ewrqgqqhfnf445he3omzpjbx5xqxe').equals(peerIdFromString('QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N').toString()))
  })

  describe('ECDSA', () => {
    const vector = SPEC_VECTORS.find(v => v.type === 'ECDSA')!

    it('js-libp2p makes no PeerId from an ECDSA key; ours is the spec\'s sha2-256 id', () => {
      const theirs = js.privateKeyFromProtobuf(fromHex(vector.privateKey))
      assert.throws(() => jsPeerId.peerIdFromPrivateKey(theirs), (err: Error) => err.name === 'UnsupportedKeyTypeError')
      const ours = peerIdFromPrivateKey(privateKeyFromProtobuf(fromHex(vector.privateKey)))
      assert.equal(ours.toString(), vector.peerId)
      assert.equal(ours.type, 'ECDSA')
    })

    it('js-libp2p parses our ECDSA PeerId as a hashed id, which it labels RSA', () => {
      const parsed = jsPeerId.peerIdFromString(vector.peerId)
      assert.equal(parsed.toString(), vector.peerId)
      assert.equal(parsed.type, 'RSA')
      assert.equal(parsed.publicKey, undefined)
    })

    it('we refuse the identity PeerId js-libp2p derives from its own ECDSA key encoding', async () => {
      const theirs = await js.generateKeyPair('ECDSA', 'P-256')
      const theirText = theirs.publicKey.toString()
      assert.equal(theirs.publicKey.toMultihash().code, 0x00)
      assert.throws(() => peerIdFromString(theirText), (err: Error) => err instanceof InvalidPeerIdError && err.input === theirText)
      // The same key material, read through the private key (whose encoding both sides share), has the spec's id.
      const ours = peerIdFromPrivateKey(privateKeyFromProtobuf(js.privateKeyToProtobuf(theirs)))
      assert.ok(ours.toString().startsWith('Qm'))
      assert.notEqual(ours.toString(), theirText)
    })
  })
})
