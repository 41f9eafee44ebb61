/**
 * RSA keys: size bounds, signing, consistency checks, and bad input.
 */
import assert from 'node:assert/strict'
import { createPrivateKey, createPublicKey, createVerify, generateKeyPairSync } from 'node:crypto'
import { InvalidKeyError, InvalidParametersError, UnsupportedKeyTypeError } from '@peerkit/interfaces'
import { Uint8ArrayList } from 'uint8arraylist'
import {
  RSA_MAX_BITS, RSA_MIN_BITS, RSAPrivateKey, RSAPublicKey, generateKeyPair, privateKeyFromProtobuf, privateKeyFromRaw,
  privateKeyToProtobuf, publicKeyFromProtobuf, publicKeyFromRaw, publicKeyToProtobuf
} from '../src/index.js'
import { TAG_BIT_STRING, TAG_SEQUENCE, encodeElement, encodeUnsignedInteger } from '../src/der.js'
import type { RSAPrivateKey as RSAPrivateKeyType } from '@peerkit/interfaces'

/** A DER SubjectPublicKeyInfo for an RSA modulus of `bits` bits (not a real key; only its size matters). */
function fakeRsaSpki (bits: number): Uint8Array {
  const modulus = new Uint8Array(bits / 8).fill(0xab)
  modulus[0] = 0xc1
  const rsaPublicKey = encodeElement(TAG_SEQUENCE, encodeUnsignedInteger(modulus), encodeUnsignedInteger(Uint8Array.of(1, 0, 1)))
  const algorithm = Uint8Array.from(Buffer.from('300d06092a864886f70d0101010500', 'hex'))
  return encodeElement(TAG_SEQUENCE, algorithm, encodeElement(TAG_BIT_STRING, Uint8Array.of(0), rsaPublicKey))
}

describe('RSA', () => {
  let key: RSAPrivateKeyType
  const message = new TextEncoder().encode('rsa message')

  before(async () => {
    key = await generateKeyPair('RSA', 2048)
  })

  it('exports the size bounds deployed peers enforce', () => {
    assert.equal(RSA_MIN_BITS, 2048)
    assert.equal(RSA_MAX_BITS, 8192)
  })

  it('generates a 2048-bit key with PKCS#1 and SubjectPublicKeyInfo encodings', () => {
    assert.equal(key.publicKey.bits, 2048)
    const spki = createPublicKey({ key: Buffer.from(key.publicKey.raw), format: 'der', type: 'spki' })
    assert.equal(spki.asymmetricKeyType, 'rsa')
    const pkcs1 = createPrivateKey({ key: Buffer.from(key.raw), format: 'der', type: 'pkcs1' })
    assert.equal(pkcs1.asymmetricKeyDetails?.modulusLength, 2048)
    assert.equal(publicKeyToProtobuf(key.publicKey).byteLength > 42, true)
    assert.equal(key.publicKey.toString().startsWith('Qm'), true)
  })

  it('signs with RSASSA-PKCS1-v1_5 over SHA-256', () => {
    const sig = key.sign(message)
    assert.equal(sig.byteLength, 256)
    const verifier = createVerify('sha256').update(message)
    assert.ok(verifier.verify(createPublicKey({ key: Buffer.from(key.publicKey.raw), format: 'der', type: 'spki' }), sig))
    assert.equal(key.publicKey.verify(message, sig), true)
    assert.equal(key.publicKey.verify(new Uint8ArrayList(message.subarray(0, 4), message.subarray(4)), sig), true)
    assert.deepEqual(key.sign(new Uint8ArrayList(message.subarray(0, 4), message.subarray(4))), sig)
  })

  it('round-trips through the protobuf encodings', () => {
    const priv = privateKeyFromProtobuf(privateKeyToProtobuf(key))
    assert.ok(priv.equals(key))
    const pub = publicKeyFromProtobuf(publicKeyToProtobuf(key.publicKey))
    assert.ok(pub.equals(key.publicKey))
    assert.equal(pub.toString(), key.publicKey.toString())
  })

  it('tells RSA keys from others by their DER without a type', () => {
    assert.equal(publicKeyFromRaw(key.publicKey.raw).type, 'RSA')
    assert.equal(privateKeyFromRaw(key.raw).type, 'RSA')
  })

  describe('size bounds', () => {
    it('refuses to generate keys outside the bounds', async () => {
      await assert.rejects(generateKeyPair('RSA', 1024), (err: Error) => err instanceof UnsupportedKeyTypeError && /1024 bits/.test(err.message) && err.keyType === 'RSA')
      await assert.rejects(generateKeyPair('RSA', 8200), UnsupportedKeyTypeError)
      await assert.rejects(generateKeyPair('RSA', 2048.5), InvalidParametersError)
      await assert.rejects(generateKeyPair('RSA', 'P-256' as unknown as number), InvalidParametersError)
    })

    it('refuses a 1024-bit key, public and private', () => {
      const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 })
      const spki = Uint8Array.from(publicKey.export({ format: 'der', type: 'spki' }))
      const pkcs1 = Uint8Array.from(privateKey.export({ format: 'der', type: 'pkcs1' }))
      assert.throws(() => new RSAPublicKey(spki), (err: Error) => err instanceof UnsupportedKeyTypeError && /1024 bits/.test(err.message))
      assert.throws(() => publicKeyFromProtobuf(Uint8Array.from([0x08, 0x00, 0x12, 0xa2, 0x01, ...spki])), UnsupportedKeyTypeError)
      assert.throws(() => privateKeyFromRaw(pkcs1, 'RSA'), UnsupportedKeyTypeError)
      assert.throws(() => new RSAPrivateKey(privateKey), UnsupportedKeyTypeError)
    })

    it('refuses a modulus above 8192 bits and accepts one of exactly 8192', () => {
      assert.throws(() => publicKeyFromRaw(fakeRsaSpki(8200)), (err: Error) => err instanceof UnsupportedKeyTypeError && /8200 bits/.test(err.message))
      assert.equal((publicKeyFromRaw(fakeRsaSpki(8192)) as RSAPublicKey).bits, 8192)
      assert.equal((publicKeyFromRaw(fakeRsaSpki(2048)) as RSAPublicKey).bits, 2048)
      assert.throws(() => publicKeyFromRaw(fakeRsaSpki(2040)), UnsupportedKeyTypeError)
    })
  })

  describe('bad input', () => {
    it('rejects malformed DER', () => {
      const spki = key.publicKey.raw
      for (const bad of [spki.subarray(0, spki.byteLength - 1), Uint8Array.from([...spki, 0]), Uint8Array.of(0x30, 0x00), new Uint8Array(100)]) {
        assert.throws(() => publicKeyFromRaw(bad, 'RSA'), InvalidKeyError)
      }
      for (const bad of [key.raw.subarray(0, 200), Uint8Array.from([...key.raw, 0]), Uint8Array.of(0x30, 0x00)]) {
        assert.throws(() => privateKeyFromRaw(bad, 'RSA'), InvalidKeyError)
      }
    })

    it('rejects an EC key given as RSA', () => {
      const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      assert.throws(() => publicKeyFromRaw(Uint8Array.from(publicKey.export({ format: 'der', type: 'spki' })), 'RSA'), (err: Error) => err instanceof InvalidKeyError && /not an RSA key/.test(err.message))
      assert.throws(() => new RSAPrivateKey(privateKey), InvalidKeyError)
    })

    it('rejects a private key whose components are inconsistent', () => {
      const jwk = createPrivateKey({ key: Buffer.from(key.raw), format: 'der', type: 'pkcs1' }).export({ format: 'jwk' })
      const d = Buffer.from(jwk.d ?? '', 'base64url')
      d[d.length - 1] ^= 2
      const badD = createPrivateKey({ key: { ...jwk, d: d.toString('base64url') }, format: 'jwk' })
      assert.throws(() => privateKeyFromRaw(Uint8Array.from(badD.export({ format: 'der', type: 'pkcs1' })), 'RSA'), (err: Error) => err instanceof InvalidKeyError && /inconsistent/.test(err.message))
      const badQi = createPrivateKey({ key: { ...jwk, qi: jwk.dp }, format: 'jwk' })
      assert.throws(() => privateKeyFromRaw(Uint8Array.from(badQi.export({ format: 'der', type: 'pkcs1' })), 'RSA'), (err: Error) => err instanceof InvalidKeyError && /CRT/.test(err.message))
    })

    it('returns false, without throwing, for malformed signatures', () => {
      const sig = key.sign(message)
      const flipped = Uint8Array.from(sig)
      flipped[100] ^= 1
      for (const bad of [new Uint8Array(0), sig.subarray(1), Uint8Array.from([...sig, 0]), flipped, new Uint8Array(256), new Uint8Array(256).fill(0xff)]) {
        assert.equal(key.publicKey.verify(message, bad), false)
      }
      assert.equal(key.publicKey.verify(message, {} as unknown as Uint8Array), false)
    })
  })
})
