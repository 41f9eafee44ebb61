/**
 * The peer-ids specification's key test vectors, for all four key types.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { IDENTITY_CODE, SHA256_CODE } from '@peerkit/interfaces'
import { base58btc } from 'multiformats/bases/base58'
import { Uint8ArrayList } from 'uint8arraylist'
import {
  privateKeyFromProtobuf, privateKeyToProtobuf, publicKeyFromProtobuf, publicKeyToProtobuf,
  privateKeyFromRaw, publicKeyFromRaw
} from '../src/index.js'
import { SPEC_VECTORS, fromHex, toHex } from './fixtures/vectors.js'

const message = new TextEncoder().encode('peer-ids test vector message')

describe('peer-ids spec test vectors', () => {
  for (const vector of SPEC_VECTORS) {
    describe(vector.type, () => {
      const privateBytes = fromHex(vector.privateKey)
      const publicBytes = fromHex(vector.publicKey)

      it('parses the private key and derives the vector public key byte for byte', () => {
        const key = privateKeyFromProtobuf(privateBytes)
        assert.equal(key.type, vector.type)
        assert.equal(key.publicKey.type, vector.type)
        assert.equal(toHex(publicKeyToProtobuf(key.publicKey)), vector.publicKey)
      })

      it('parses the public key vector and re-encodes it byte for byte', () => {
        const key = publicKeyFromProtobuf(publicBytes)
        assert.equal(key.type, vector.type)
        assert.equal(toHex(publicKeyToProtobuf(key)), vector.publicKey)
        assert.ok(key.equals(privateKeyFromProtobuf(privateBytes).publicKey))
      })

      it('re-encodes the private key byte for byte', () => {
        const key = privateKeyFromProtobuf(privateBytes)
        assert.equal(toHex(privateKeyToProtobuf(key)), vector.privateKey)
        assert.ok(key.equals(privateKeyFromProtobuf(privateKeyToProtobuf(key))))
      })

      it('round-trips the raw key encodings with an explicit type', () => {
        const key = privateKeyFromProtobuf(privateBytes)
        assert.ok(privateKeyFromRaw(key.raw, vector.type).equals(key))
        assert.ok(publicKeyFromRaw(key.publicKey.raw, vector.type).equals(key.publicKey))
      })

      it('signs with the private key and verifies with the parsed public key', () => {
        const privateKey = privateKeyFromProtobuf(privateBytes)
        const publicKey = publicKeyFromProtobuf(publicBytes)
        const sig = privateKey.sign(message)
        assert.equal(publicKey.verify(message, sig), true)
        assert.equal(publicKey.verify(new Uint8ArrayList(message.subarray(0, 5), message.subarray(5)), sig), true)
        assert.equal(publicKey.verify(message.subarray(1), sig), false)
      })

      it('derives the PeerId the spec rules give', () => {
        const key = publicKeyFromProtobuf(publicBytes)
        const mh = key.toMultihash()
        if (publicBytes.byteLength <= 42) {
          assert.equal(mh.code, IDENTITY_CODE)
          assert.deepEqual(mh.digest, publicBytes)
        } else {
          assert.equal(mh.code, SHA256_CODE)
          assert.deepEqual(mh.digest, Uint8Array.from(createHash('sha256').update(publicBytes).digest()))
        }
        assert.equal(key.toString(), base58btc.baseEncode(mh.bytes))
        assert.equal(key.toString(), vector.peerId)
        const cid = key.toCID()
        assert.equal(cid.version, 1)
        assert.equal(cid.code, 0x72)
        assert.deepEqual(cid.multihash.bytes, mh.bytes)
      })
    })
  }

  it('uses identity ids for Ed25519 and secp256k1 and sha2-256 ids for ECDSA and RSA', () => {
    const codes = Object.fromEntries(SPEC_VECTORS.map(v => [v.type, publicKeyFromProtobuf(fromHex(v.publicKey)).toMultihash().code]))
    assert.deepEqual(codes, { Ed25519: IDENTITY_CODE, secp256k1: IDENTITY_CODE, ECDSA: SHA256_CODE, RSA: SHA256_CODE })
  })

  it('reads the vector keys as the spec describes them', () => {
    const [ed, secp, ecdsa, rsa] = SPEC_VECTORS.map(v => privateKeyFromProtobuf(fromHex(v.privateKey)))
    assert.equal(ed.raw.byteLength, 64)
    assert.deepEqual(ed.raw.subarray(32), ed.publicKey.raw)
    assert.equal(secp.raw.byteLength, 32)
    assert.equal(secp.publicKey.raw.byteLength, 33)
    assert.ok(ecdsa.type === 'ECDSA' && ecdsa.publicKey.curve === 'P-256')
    assert.ok(rsa.type === 'RSA' && rsa.publicKey.bits === 4096)
  })
})
