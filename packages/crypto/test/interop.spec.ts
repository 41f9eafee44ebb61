/**
 * Round trips with js-libp2p's `@libp2p/crypto` for every key type: keys exchanged through the
 * protobuf encodings in both directions give the same PeerId, and signatures verify both ways.
 *
 * ECDSA is the exception, and the differences are asserted precisely below so that a change on the
 * js side is noticed.
 */
import assert from 'node:assert/strict'
import * as js from '@libp2p/crypto/keys'
import { Uint8ArrayList } from 'uint8arraylist'
import {
  ecdsaSignatureFromP1363, ecdsaSignatureToP1363, generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf,
  publicKeyFromProtobuf, publicKeyToProtobuf
} from '../src/index.js'
import { SPEC_VECTORS, fromHex, toHex } from './fixtures/vectors.js'
import type { PrivateKey } from '@peerkit/interfaces'

const message = new TextEncoder().encode('interop with js-libp2p')
const chunked = new Uint8ArrayList(message.subarray(0, 6), message.subarray(6))

type JsPrivateKey = Awaited<ReturnType<typeof js.generateKeyPair>>

const CASES = [
  { type: 'Ed25519', generateJs: async () => js.generateKeyPair('Ed25519'), generateOurs: async () => generateKeyPair('Ed25519') },
  { type: 'secp256k1', generateJs: async () => js.generateKeyPair('secp256k1'), generateOurs: async () => generateKeyPair('secp256k1') },
  { type: 'RSA', generateJs: async () => js.generateKeyPair('RSA', 2048), generateOurs: async () => generateKeyPair('RSA', 2048) }
] as const

describe('interop with js-libp2p @libp2p/crypto', () => {
  for (const c of CASES) {
    describe(c.type, () => {
      let theirs: JsPrivateKey
      let ours: PrivateKey

      before(async () => {
        theirs = await c.generateJs()
        ours = await c.generateOurs()
      })

      it('imports their private key and gets the same key, bytes and PeerId', () => {
        const imported = privateKeyFromProtobuf(js.privateKeyToProtobuf(theirs))
        assert.equal(imported.type, c.type)
        assert.deepEqual(imported.raw, theirs.raw)
        assert.deepEqual(imported.publicKey.raw, theirs.publicKey.raw)
        assert.equal(imported.publicKey.toString(), theirs.publicKey.toString())
        assert.deepEqual(imported.publicKey.toMultihash().bytes, theirs.publicKey.toMultihash().bytes)
        assert.equal(imported.publicKey.toCID().toString(), theirs.publicKey.toCID().toString())
        assert.deepEqual(privateKeyToProtobuf(imported), js.privateKeyToProtobuf(theirs))
      })

      it('imports their public key protobuf', () => {
        const imported = publicKeyFromProtobuf(js.publicKeyToProtobuf(theirs.publicKey))
        assert.equal(imported.toString(), theirs.publicKey.toString())
        assert.deepEqual(publicKeyToProtobuf(imported), js.publicKeyToProtobuf(theirs.publicKey))
      })

      it('exports our keys so that they read the same key and PeerId', () => {
        const exported = js.privateKeyFromProtobuf(privateKeyToProtobuf(ours))
        assert.equal(exported.publicKey.toString(), ours.publicKey.toString())
        assert.deepEqual(exported.raw, ours.raw)
        const exportedPublic = js.publicKeyFromProtobuf(publicKeyToProtobuf(ours.publicKey))
        assert.equal(exportedPublic.toString(), ours.publicKey.toString())
        assert.ok(exportedPublic.equals(exported.publicKey))
      })

      it('verifies their signatures', async () => {
        const imported = publicKeyFromProtobuf(js.publicKeyToProtobuf(theirs.publicKey))
        const sig = await theirs.sign(message)
        assert.equal(imported.verify(message, sig), true)
        assert.equal(imported.verify(chunked, sig), true)
        assert.equal(imported.verify(message.subarray(1), sig), false)
      })

      it('produces signatures they verify', async () => {
        const theirView = js.publicKeyFromProtobuf(publicKeyToProtobuf(ours.publicKey))
        assert.equal(await theirView.verify(message, ours.sign(message)), true)
        assert.equal(await theirView.verify(message, ours.sign(chunked)), true)
        assert.equal(await theirView.verify(message.subarray(1), ours.sign(message)), false)
      })
    })
  }

  it('agrees with js-libp2p on the Ed25519, secp256k1 and RSA spec vectors', () => {
    for (const vector of SPEC_VECTORS.filter(v => v.type !== 'ECDSA')) {
      const theirs = js.privateKeyFromProtobuf(fromHex(vector.privateKey))
      assert.equal(theirs.publicKey.toString(), vector.peerId)
      assert.equal(toHex(js.publicKeyToProtobuf(theirs.publicKey)), vector.publicKey)
      assert.equal(privateKeyFromProtobuf(fromHex(vector.privateKey)).publicKey.toString(), vector.peerId)
    }
  })

  it('verifies js-libp2p secp256k1 signatures over many messages (low-S on both sides)', async () => {
    const theirs = await js.generateKeyPair('secp256k1')
    const imported = publicKeyFromProtobuf(js.publicKeyToProtobuf(theirs.publicKey))
    const ours = await generateKeyPair('secp256k1')
    const theirView = js.publicKeyFromProtobuf(publicKeyToProtobuf(ours.publicKey))
    for (let i = 0; i < 32; i++) {
      const msg = Uint8Array.of(i, i + 1, i + 2)
      assert.equal(imported.verify(msg, await theirs.sign(msg)), true)
      assert.equal(await theirView.verify(msg, ours.sign(msg)), true)
    }
  })

  describe('ECDSA: where js-libp2p departs from the spec', () => {
    const vector = SPEC_VECTORS.find(v => v.type === 'ECDSA')!
    // The vector key's public point (uncompressed, 65 bytes) and its P-256 OID, as they appear in the encodings.
    const point = '04de3d300fa36ae0e8f5d530899d83abab44abf3161f162a4bc901d8e6ecda020e8b6d5f8da30525e71d6851510c098e5c47c646a597fb4dcec034e9f77c409e62'
    const p256 = '06082a8648ce3d030107'

    it('private keys: the same SEC1 encoding on both sides, byte for byte', async () => {
      const theirs = js.privateKeyFromProtobuf(fromHex(vector.privateKey))
      assert.equal(toHex(js.privateKeyToProtobuf(theirs)), vector.privateKey)
      const generated = await js.generateKeyPair('ECDSA', 'P-256')
      const imported = privateKeyFromProtobuf(js.privateKeyToProtobuf(generated))
      assert.deepEqual(imported.raw, generated.raw)
      const ours = await generateKeyPair('ECDSA', 'P-256')
      assert.deepEqual(js.privateKeyFromProtobuf(privateKeyToProtobuf(ours)).raw, ours.raw)
    })

    it('public keys: js encodes SEQUENCE { INTEGER 1, [0] curve, [1] point } instead of a SubjectPublicKeyInfo', () => {
      const theirs = js.privateKeyFromProtobuf(fromHex(vector.privateKey))
      const ours = privateKeyFromProtobuf(fromHex(vector.privateKey))
      // The spec vector (and ours): SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING point }
      assert.equal(toHex(ours.publicKey.raw), '3059301306072a8648ce3d0201' + p256 + '034200' + point)
      assert.equal(toHex(publicKeyToProtobuf(ours.publicKey)), vector.publicKey)
      // js-libp2p: a SEC1 ECPrivateKey with the private scalar left out.
      assert.equal(toHex(theirs.publicKey.raw), '3055020101a00a' + p256 + 'a144034200' + point)
      assert.notEqual(toHex(js.publicKeyToProtobuf(theirs.publicKey)), vector.publicKey)
    })

    it('public keys: neither side parses the other\'s encoding', () => {
      // js-libp2p fails on the spec's own vector, with an untyped error.
      assert.throws(() => js.publicKeyFromProtobuf(fromHex(vector.publicKey)), TypeError)
      // We refuse js-libp2p's encoding, and say what it is.
      const theirs = js.privateKeyFromProtobuf(fromHex(vector.privateKey))
      assert.throws(() => publicKeyFromProtobuf(js.publicKeyToProtobuf(theirs.publicKey)), /js-libp2p/)
    })

    it('PeerIds: js embeds its 91-byte key protobuf with the identity hash; the spec requires sha2-256 over 42 bytes', () => {
      const theirs = js.privateKeyFromProtobuf(fromHex(vector.privateKey))
      const ours = privateKeyFromProtobuf(fromHex(vector.privateKey))
      const theirMultihash = theirs.publicKey.toMultihash()
      assert.equal(theirMultihash.code, 0x00)
      assert.equal(theirMultihash.digest.byteLength, 91)
      assert.deepEqual(theirMultihash.digest, js.publicKeyToProtobuf(theirs.publicKey))
      assert.equal(ours.publicKey.toMultihash().code, 0x12)
      assert.equal(ours.publicKey.toString(), vector.peerId)
      assert.notEqual(theirs.publicKey.toString(), ours.publicKey.toString())
    })

    it('signatures: js signs IEEE P1363 (r | s); we sign DER. Converted, they verify both ways', async () => {
      const theirs = await js.generateKeyPair('ECDSA', 'P-256')
      const ours = privateKeyFromProtobuf(js.privateKeyToProtobuf(theirs))
      assert.equal(ours.type, 'ECDSA')

      const theirSig = await theirs.sign(message)
      assert.equal(theirSig.byteLength, 64)
      assert.equal(ours.publicKey.verify(message, theirSig), false)
      assert.equal(ours.publicKey.verify(message, ecdsaSignatureFromP1363(theirSig)), true)

      const ourSig = ours.sign(message)
      assert.equal(ourSig[0], 0x30)
      assert.equal(await theirs.publicKey.verify(message, ourSig), false)
      assert.equal(await theirs.publicKey.verify(message, ecdsaSignatureToP1363(ourSig, 'P-256')), true)
    })
  })
})
