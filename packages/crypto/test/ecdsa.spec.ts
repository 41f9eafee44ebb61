/**
 * ECDSA keys on P-256, P-384 and P-521: encodings, SHA-256 signatures on every curve, signature form
 * conversion, and bad input.
 */
import assert from 'node:assert/strict'
import { createPrivateKey, createPublicKey, createVerify, generateKeyPairSync } from 'node:crypto'
import { InvalidKeyError, InvalidSignatureError, UnsupportedKeyTypeError } from '@peerkit/interfaces'
import { Uint8ArrayList } from 'uint8arraylist'
import {
  ECDSAPrivateKey, ECDSAPublicKey, ECDSA_CURVES, ecdsaSignatureFromP1363, ecdsaSignatureToP1363, generateKeyPair,
  privateKeyFromProtobuf, privateKeyFromRaw, privateKeyToProtobuf, publicKeyFromProtobuf, publicKeyFromRaw, publicKeyToProtobuf
} from '../src/index.js'
import { SPEC_VECTORS, fromHex, toHex } from './fixtures/vectors.js'
import type { ECDSACurve } from '@peerkit/interfaces'

const NODE_CURVE: Record<ECDSACurve, string> = { 'P-256': 'prime256v1', 'P-384': 'secp384r1', 'P-521': 'secp521r1' }
const SIZES: Record<ECDSACurve, number> = { 'P-256': 32, 'P-384': 48, 'P-521': 66 }
const message = new TextEncoder().encode('ecdsa message')
const ECDSA_VECTOR = SPEC_VECTORS.find(v => v.type === 'ECDSA')!

describe('ECDSA', () => {
  for (const curve of ECDSA_CURVES) {
    describe(curve, () => {
      it('generates a key with SubjectPublicKeyInfo and SEC1 encodings', async () => {
        const key = await generateKeyPair('ECDSA', curve)
        assert.equal(key.publicKey.curve, curve)
        const spki = createPublicKey({ key: Buffer.from(key.publicKey.raw), format: 'der', type: 'spki' })
        assert.equal(spki.asymmetricKeyDetails?.namedCurve, NODE_CURVE[curve])
        const sec1 = createPrivateKey({ key: Buffer.from(key.raw), format: 'der', type: 'sec1' })
        assert.deepEqual(Uint8Array.from(sec1.export({ format: 'der', type: 'sec1' })), key.raw)
        assert.equal(key.publicKey.toMultihash().code, 0x12)
      })

      it('signs DER over SHA-256 (as go-libp2p does on every curve)', async () => {
        const key = await generateKeyPair('ECDSA', curve)
        const sig = key.sign(message)
        assert.equal(sig[0], 0x30)
        const spki = createPublicKey({ key: Buffer.from(key.publicKey.raw), format: 'der', type: 'spki' })
        assert.ok(createVerify('sha256').update(message).verify({ key: spki, dsaEncoding: 'der' }, sig))
        if (curve !== 'P-256') {
          assert.equal(createVerify(curve === 'P-384' ? 'sha384' : 'sha512').update(message).verify({ key: spki, dsaEncoding: 'der' }, sig), false)
        }
        assert.equal(key.publicKey.verify(message, sig), true)
        assert.equal(key.publicKey.verify(new Uint8ArrayList(message.subarray(0, 2), message.subarray(2)), sig), true)
        assert.equal(key.publicKey.verify(message, key.sign(new Uint8ArrayList(message.subarray(0, 7), message.subarray(7)))), true)
      })

      it('round-trips through the protobuf and raw encodings', async () => {
        const key = await generateKeyPair('ECDSA', curve)
        assert.ok(privateKeyFromProtobuf(privateKeyToProtobuf(key)).equals(key))
        assert.ok(publicKeyFromProtobuf(publicKeyToProtobuf(key.publicKey)).equals(key.publicKey))
        assert.ok(privateKeyFromRaw(key.raw).equals(key))
        assert.ok(publicKeyFromRaw(key.publicKey.raw).equals(key.publicKey))
      })

      it('converts signatures to IEEE P1363 and back', async () => {
        const key = await generateKeyPair('ECDSA', curve)
        const der = key.sign(message)
        const p1363 = ecdsaSignatureToP1363(der, curve)
        assert.equal(p1363.byteLength, SIZES[curve] * 2)
        const spki = createPublicKey({ key: Buffer.from(key.publicKey.raw), format: 'der', type: 'spki' })
        assert.ok(createVerify('sha256').update(message).verify({ key: spki, dsaEncoding: 'ieee-p1363' }, p1363))
        assert.deepEqual(ecdsaSignatureFromP1363(p1363), der)
        assert.equal(key.publicKey.verify(message, p1363), false)
      })
    })
  }

  it('rebuilds the SEC1 private key of the spec vector byte for byte', () => {
    const key = privateKeyFromProtobuf(fromHex(ECDSA_VECTOR.privateKey))
    assert.equal(toHex(privateKeyToProtobuf(key)), ECDSA_VECTOR.privateKey)
  })

  it('accepts a SEC1 private key without the optional public key and re-encodes it in full', () => {
    const full = privateKeyFromProtobuf(fromHex(ECDSA_VECTOR.privateKey))
    // SEQUENCE { INTEGER 1, OCTET STRING d, [0] prime256v1 } without the [1] public key
    const scalar = full.raw.subarray(7, 39)
    const bare = Uint8Array.from([0x30, 0x31, 0x02, 0x01, 0x01, 0x04, 0x20, ...scalar, ...fromHex('a00a06082a8648ce3d030107')])
    const key = privateKeyFromRaw(bare, 'ECDSA')
    assert.ok(key.equals(full))
  })

  describe('bad input', () => {
    it('rejects curves other than P-256, P-384 and P-521', async () => {
      for (const namedCurve of ['secp256k1', 'secp224r1']) {
        const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve })
        assert.throws(() => publicKeyFromRaw(Uint8Array.from(publicKey.export({ format: 'der', type: 'spki' })), 'ECDSA'), (err: Error) => err instanceof UnsupportedKeyTypeError && err.message.includes(namedCurve))
        assert.throws(() => privateKeyFromRaw(Uint8Array.from(privateKey.export({ format: 'der', type: 'sec1' })), 'ECDSA'), UnsupportedKeyTypeError)
        assert.throws(() => new ECDSAPrivateKey(privateKey), UnsupportedKeyTypeError)
      }
      await assert.rejects(generateKeyPair('ECDSA', 'P-192' as ECDSACurve), UnsupportedKeyTypeError)
      assert.throws(() => ecdsaSignatureToP1363(new Uint8Array(8), 'secp256k1' as ECDSACurve), UnsupportedKeyTypeError)
    })

    it('rejects a point that is not on the curve', () => {
      const spki = publicKeyFromProtobuf(fromHex(ECDSA_VECTOR.publicKey)).raw
      const bad = Uint8Array.from(spki)
      bad[bad.byteLength - 1] ^= 1
      assert.throws(() => new ECDSAPublicKey(bad), InvalidKeyError)
    })

    it('rejects a compressed point (not the canonical encoding go-libp2p and the spec use)', async () => {
      const key = await generateKeyPair('ECDSA', 'P-256')
      const point = key.publicKey.raw.subarray(key.publicKey.raw.byteLength - 65)
      const compressed = Uint8Array.from([(point[64] & 1) === 1 ? 0x03 : 0x02, ...point.subarray(1, 33)])
      const spki = Uint8Array.from([0x30, 0x39, 0x30, 0x13, ...fromHex('06072a8648ce3d020106082a8648ce3d030107'), 0x03, 0x22, 0x00, ...compressed])
      // node itself accepts it, so the check is ours
      assert.equal(createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }).asymmetricKeyType, 'ec')
      assert.throws(() => publicKeyFromRaw(spki, 'ECDSA'), (err: Error) => err instanceof InvalidKeyError && /canonical/.test(err.message))
    })

    it('rejects a SEC1 key whose public key does not belong to its scalar', async () => {
      const a = privateKeyFromProtobuf(fromHex(ECDSA_VECTOR.privateKey))
      const b = await generateKeyPair('ECDSA', 'P-256')
      const mixed = Uint8Array.from(a.raw)
      mixed.set(b.raw.subarray(b.raw.byteLength - 65), mixed.byteLength - 65)
      assert.throws(() => privateKeyFromRaw(mixed, 'ECDSA'), (err: Error) => err instanceof InvalidKeyError && /does not belong/.test(err.message))
    })

    it('rejects malformed DER', () => {
      const key = privateKeyFromProtobuf(fromHex(ECDSA_VECTOR.privateKey))
      for (const bad of [new Uint8Array(0), key.publicKey.raw.subarray(0, 40), Uint8Array.from([...key.publicKey.raw, 0]), Uint8Array.of(0x30, 0x80, 0x00, 0x00)]) {
        assert.throws(() => publicKeyFromRaw(bad, 'ECDSA'), InvalidKeyError)
      }
      for (const bad of [new Uint8Array(0), key.raw.subarray(0, 40), Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x01)]) {
        assert.throws(() => privateKeyFromRaw(bad, 'ECDSA'), InvalidKeyError)
      }
      const rsa = SPEC_VECTORS.find(v => v.type === 'RSA')!
      assert.throws(() => publicKeyFromRaw(publicKeyFromProtobuf(fromHex(rsa.publicKey)).raw, 'ECDSA'), (err: Error) => err instanceof InvalidKeyError && /not an EC key/.test(err.message))
    })

    it('names the js-libp2p public key encoding when it sees one', () => {
      const point = publicKeyFromProtobuf(fromHex(ECDSA_VECTOR.publicKey)).raw.subarray(-65)
      const jsStyle = Uint8Array.from([0x30, 0x55, 0x02, 0x01, 0x01, ...fromHex('a00a06082a8648ce3d030107'), 0xa1, 0x44, 0x03, 0x42, 0x00, ...point])
      assert.throws(() => publicKeyFromRaw(jsStyle, 'ECDSA'), (err: Error) => err instanceof InvalidKeyError && /js-libp2p/.test(err.message))
      assert.throws(() => publicKeyFromRaw(jsStyle), (err: Error) => err instanceof InvalidKeyError && /js-libp2p/.test(err.message))
      assert.throws(() => publicKeyFromProtobuf(Uint8Array.from([0x08, 0x03, 0x12, jsStyle.byteLength, ...jsStyle])), InvalidKeyError)
    })

    it('returns false, without throwing, for malformed signatures', async () => {
      const key = await generateKeyPair('ECDSA', 'P-256')
      const sig = key.sign(message)
      const flipped = Uint8Array.from(sig)
      flipped[sig.byteLength - 1] ^= 1
      for (const bad of [new Uint8Array(0), sig.subarray(0, sig.byteLength - 1), Uint8Array.from([...sig, 0]), flipped, new Uint8Array(200), Uint8Array.of(0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00)]) {
        assert.equal(key.publicKey.verify(message, bad), false)
      }
      assert.equal(key.publicKey.verify(message, [1, 2] as unknown as Uint8Array), false)
    })

    it('rejects malformed signatures in the form converters', () => {
      for (const bad of [new Uint8Array(0), Uint8Array.of(0x30, 0x00), Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x01), Uint8Array.of(0x30, 0x06, 0x02, 0x01, 0x81, 0x02, 0x01, 0x01), Uint8Array.of(0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01), Uint8Array.of(0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x00)]) {
        assert.throws(() => ecdsaSignatureToP1363(bad, 'P-256'), InvalidSignatureError)
      }
      const tooLong = Uint8Array.from([0x30, 0x46, 0x02, 0x21, 0x01, ...new Uint8Array(32), 0x02, 0x21, 0x01, ...new Uint8Array(32)])
      assert.throws(() => ecdsaSignatureToP1363(tooLong, 'P-256'), InvalidSignatureError)
      for (const length of [0, 63, 65, 128]) {
        assert.throws(() => ecdsaSignatureFromP1363(new Uint8Array(length)), InvalidSignatureError)
      }
    })
  })
})
