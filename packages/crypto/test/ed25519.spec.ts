/**
 * Ed25519 keys: RFC 8032 known answers, the private key forms (64-byte and legacy 96-byte), signing
 * of contiguous and chunked data, and bad input.
 */
import assert from 'node:assert/strict'
import { InvalidKeyError, InvalidParametersError } from '@peerkit/interfaces'
import * as ed from '@noble/ed25519'
import { createHash } from 'node:crypto'
import { Uint8ArrayList } from 'uint8arraylist'
import {
  Ed25519PrivateKey, Ed25519PublicKey, generateKeyPair, generateKeyPairFromSeed, privateKeyFromProtobuf,
  privateKeyFromRaw, privateKeyToProtobuf, publicKeyFromRaw
} from '../src/index.js'
import { fromHex, toHex } from './fixtures/vectors.js'

ed.hashes.sha512 = (m: Uint8Array) => Uint8Array.from(createHash('sha512').update(m).digest())

// RFC 8032 section 7.1, TEST 1 and TEST 2.
const RFC8032 = [
  {
    seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    message: '',
    signature: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b'
  },
  {
    seed: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    publicKey: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    message: '72',
    signature: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00'
  }
]

describe('Ed25519', () => {
  for (const [i, v] of RFC8032.entries()) {
    it(`matches RFC 8032 test ${i + 1}`, async () => {
      const key = await generateKeyPairFromSeed('Ed25519', fromHex(v.seed))
      assert.equal(toHex(key.publicKey.raw), v.publicKey)
      assert.equal(toHex(key.raw), v.seed + v.publicKey)
      const sig = key.sign(fromHex(v.message))
      assert.equal(toHex(sig), v.signature)
      assert.equal(key.publicKey.verify(fromHex(v.message), sig), true)
    })
  }

  it('signs exactly as @noble/ed25519 does', async () => {
    const key = await generateKeyPair('Ed25519')
    const msg = new TextEncoder().encode('compare with noble')
    assert.deepEqual(key.sign(msg), ed.sign(msg, key.raw.subarray(0, 32)))
    assert.deepEqual(key.publicKey.raw, ed.getPublicKey(key.raw.subarray(0, 32)))
  })

  it('signs and verifies a Uint8ArrayList the same as its concatenation', async () => {
    const key = await generateKeyPair('Ed25519')
    const parts = [Uint8Array.of(1, 2, 3), Uint8Array.of(), Uint8Array.of(4, 5)]
    const list = new Uint8ArrayList(...parts)
    const sig = key.sign(list)
    assert.deepEqual(sig, key.sign(list.subarray()))
    assert.equal(key.publicKey.verify(list, sig), true)
    assert.equal(key.publicKey.verify(list.subarray(), sig), true)
  })

  it('derives the same key from the same seed', async () => {
    const seed = new Uint8Array(32).fill(7)
    const a = await generateKeyPairFromSeed('Ed25519', seed)
    const b = await generateKeyPairFromSeed('Ed25519', seed)
    assert.ok(a.equals(b))
    assert.ok(a.publicKey.equals(b.publicKey))
    assert.ok(!a.equals(await generateKeyPair('Ed25519')))
  })

  it('copies the bytes it is given', () => {
    const seed = new Uint8Array(32).fill(9)
    const key = new Ed25519PrivateKey(seed)
    const publicRaw = Uint8Array.from(key.publicKey.raw)
    const pub = new Ed25519PublicKey(publicRaw)
    seed.fill(0)
    publicRaw.fill(0)
    assert.ok(key.equals(new Ed25519PrivateKey(new Uint8Array(32).fill(9))))
    assert.ok(pub.equals(key.publicKey))
  })

  it('keeps its identity multihash and its key bytes in one allocation, equal to the encoded ones', () => {
    // identity (00), length 36 (24), then the key protobuf: Type Ed25519 (08 01), Data of 32 bytes (12 20).
    const raw = fromHex('1ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e')
    const key = new Ed25519PublicKey(raw)
    const multihash = key.toMultihash()
    assert.equal(toHex(multihash.bytes), '0024080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e')
    assert.equal(multihash.code, 0x00)
    assert.deepEqual(multihash.digest, key.toProtobuf())
    assert.deepEqual(key.raw, raw)
    assert.equal(multihash.bytes.buffer, key.raw.buffer)
    assert.equal(key.raw.buffer.byteLength, 38)
    assert.equal(key.toMultihash(), multihash)
  })

  describe('the legacy 96-byte private key', () => {
    it('is accepted when both public key copies agree, and re-encoded in the 64-byte form', async () => {
      const key = await generateKeyPair('Ed25519')
      const legacy = new Uint8Array(96)
      legacy.set(key.raw)
      legacy.set(key.publicKey.raw, 64)
      const parsed = privateKeyFromRaw(legacy)
      assert.ok(parsed.equals(key))
      assert.equal(parsed.raw.byteLength, 64)

      const protobuf = Uint8Array.from([0x08, 0x01, 0x12, 96, ...legacy])
      const fromProtobuf = privateKeyFromProtobuf(protobuf)
      assert.ok(fromProtobuf.equals(key))
      assert.deepEqual(privateKeyToProtobuf(fromProtobuf), privateKeyToProtobuf(key))
    })

    it('is rejected when the two public key copies differ', async () => {
      const key = await generateKeyPair('Ed25519')
      const legacy = new Uint8Array(96)
      legacy.set(key.raw)
      legacy.set(key.publicKey.raw, 64)
      legacy[95] ^= 1
      assert.throws(() => privateKeyFromRaw(legacy), (err: Error) => err instanceof InvalidKeyError && /two copies/.test(err.message))
      const protobuf = Uint8Array.from([0x08, 0x01, 0x12, 96, ...legacy])
      assert.throws(() => privateKeyFromProtobuf(protobuf), InvalidKeyError)
    })

    it('is rejected when both copies agree with each other but not with the seed', async () => {
      const key = await generateKeyPair('Ed25519')
      const other = await generateKeyPair('Ed25519')
      const legacy = new Uint8Array(96)
      legacy.set(key.raw.subarray(0, 32))
      legacy.set(other.publicKey.raw, 32)
      legacy.set(other.publicKey.raw, 64)
      assert.throws(() => privateKeyFromRaw(legacy), (err: Error) => err instanceof InvalidKeyError && /does not belong/.test(err.message))
    })
  })

  describe('bad input', () => {
    it('rejects a 64-byte private key whose public half does not match its seed', async () => {
      const key = await generateKeyPair('Ed25519')
      const bad = Uint8Array.from(key.raw)
      bad[40] ^= 0x80
      assert.throws(() => privateKeyFromRaw(bad), (err: Error) => err instanceof InvalidKeyError && /does not belong/.test(err.message))
    })

    for (const length of [0, 31, 33, 63, 65, 95, 97, 128]) {
      it(`rejects a ${length}-byte private key`, () => {
        assert.throws(() => privateKeyFromRaw(new Uint8Array(length).fill(1), 'Ed25519'), InvalidKeyError)
      })
    }

    for (const length of [0, 31, 33, 64]) {
      it(`rejects a ${length}-byte public key`, () => {
        assert.throws(() => publicKeyFromRaw(new Uint8Array(length).fill(1), 'Ed25519'), (err: Error) => err instanceof InvalidKeyError && /32 bytes/.test(err.message))
      })
    }

    it('rejects a seed of the wrong size', async () => {
      await assert.rejects(generateKeyPairFromSeed('Ed25519', new Uint8Array(31)), InvalidParametersError)
      await assert.rejects(generateKeyPairFromSeed('Ed25519', 'seed' as unknown as Uint8Array), InvalidParametersError)
    })

    it('returns false, without throwing, for malformed signatures', async () => {
      const key = await generateKeyPair('Ed25519')
      const msg = Uint8Array.of(1, 2, 3)
      const sig = key.sign(msg)
      const flipped = Uint8Array.from(sig)
      flipped[10] ^= 1
      const nonCanonicalS = Uint8Array.from(sig)
      nonCanonicalS.fill(0xff, 32)
      for (const bad of [new Uint8Array(0), sig.subarray(0, 63), Uint8Array.from([...sig, 0]), flipped, nonCanonicalS, new Uint8Array(64)]) {
        assert.equal(key.publicKey.verify(msg, bad), false)
      }
      assert.equal(key.publicKey.verify(msg, null as unknown as Uint8Array), false)
      assert.equal(key.publicKey.verify(msg, 'sig' as unknown as Uint8Array), false)
    })

    it('returns false for a public key that is not a curve point', () => {
      // y = 2 is not the y-coordinate of any point on edwards25519.
      const notAPoint = new Uint8Array(32)
      notAPoint[0] = 2
      const pub = new Ed25519PublicKey(notAPoint)
      assert.equal(pub.verify(Uint8Array.of(1), new Uint8Array(64)), false)
    })
  })
})
