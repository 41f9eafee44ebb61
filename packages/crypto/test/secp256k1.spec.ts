/**
 * secp256k1 keys: point encodings, low-S signatures, DER verification, and bad input.
 */
import assert from 'node:assert/strict'
import { createECDH, createPublicKey, createVerify } from 'node:crypto'
import { InvalidKeyError } from '@peerkit/interfaces'
import { Uint8ArrayList } from 'uint8arraylist'
import { Secp256k1PrivateKey, Secp256k1PublicKey, generateKeyPair, privateKeyFromRaw, publicKeyFromProtobuf, publicKeyFromRaw, publicKeyToProtobuf } from '../src/index.js'
import { TAG_SEQUENCE, encodeElement, encodeUnsignedInteger, readElement, readUnsignedInteger } from '../src/der.js'
import { fromHex, toHex } from './fixtures/vectors.js'

const ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n

function toBigInt (bytes: Uint8Array): bigint {
  return BigInt('0x' + (toHex(bytes) || '0'))
}

function fromBigInt (value: bigint): Uint8Array {
  const hex = value.toString(16)
  return fromHex(hex.padStart(Math.max(64, hex.length + (hex.length % 2)), '0'))
}

function parseSignature (der: Uint8Array): { r: bigint, s: bigint } {
  const seq = readElement(der)
  assert.equal(seq.tag, TAG_SEQUENCE)
  assert.equal(seq.end, der.byteLength)
  const r = readElement(seq.contents)
  const s = readElement(seq.contents, r.end)
  assert.equal(s.end, seq.contents.byteLength)
  return { r: toBigInt(readUnsignedInteger(r)), s: toBigInt(readUnsignedInteger(s)) }
}

function encodeSignature (r: bigint, s: bigint): Uint8Array {
  return encodeElement(TAG_SEQUENCE, encodeUnsignedInteger(fromBigInt(r)), encodeUnsignedInteger(fromBigInt(s)))
}

describe('secp256k1', () => {
  const message = new TextEncoder().encode('secp256k1 message')

  it('always produces low-S DER signatures that OpenSSL verifies over SHA-256', async () => {
    const key = await generateKeyPair('secp256k1')
    const spki = createPublicKey({ key: Buffer.concat([Buffer.from('3036301006072a8648ce3d020106052b8104000a032200', 'hex'), key.publicKey.raw]), format: 'der', type: 'spki' })
    for (let i = 0; i < 64; i++) {
      const sig = key.sign(message)
      const { s } = parseSignature(sig)
      assert.ok(s <= ORDER >> 1n, 'signature has a high S')
      assert.ok(createVerify('sha256').update(message).verify({ key: spki, dsaEncoding: 'der' }, sig))
      assert.equal(key.publicKey.verify(message, sig), true)
    }
  })

  it('accepts a valid high-S signature, as go-libp2p does', async () => {
    const key = await generateKeyPair('secp256k1')
    const sig = key.sign(message)
    const { r, s } = parseSignature(sig)
    const high = encodeSignature(r, ORDER - s)
    assert.ok(parseSignature(high).s > ORDER >> 1n)
    assert.equal(key.publicKey.verify(message, high), true)
  })

  it('hashes a Uint8ArrayList chunk by chunk to the same result', async () => {
    const key = await generateKeyPair('secp256k1')
    const list = new Uint8ArrayList(message.subarray(0, 3), message.subarray(3, 3), message.subarray(3))
    assert.equal(key.publicKey.verify(message, key.sign(list)), true)
    assert.equal(key.publicKey.verify(list, key.sign(message)), true)
  })

  it('accepts an uncompressed public key and stores it compressed', async () => {
    const key = await generateKeyPair('secp256k1')
    const ecdh = createECDH('secp256k1')
    ecdh.setPrivateKey(key.raw)
    const uncompressed = Uint8Array.from(ecdh.getPublicKey())
    assert.equal(uncompressed.byteLength, 65)
    const pub = publicKeyFromRaw(uncompressed)
    assert.equal(pub.type, 'secp256k1')
    assert.deepEqual(pub.raw, key.publicKey.raw)
    assert.ok(pub.equals(key.publicKey))
    assert.equal(publicKeyToProtobuf(pub).byteLength, 37)
  })

  it('reads the secp256k1 vector through an uncompressed point too', () => {
    const vectorPublic = publicKeyFromProtobuf(fromHex('08021221037777e994e452c21604f91de093ce415f5432f701dd8cd1a7a6fea0e630bfca99'))
    const key = new Secp256k1PrivateKey(fromHex('53dadf1d5a164d6b4acdb15e24aa4c5b1d3461bdbd42abedb0a4404d56ced8fb'))
    assert.ok(key.publicKey.equals(vectorPublic))
  })

  describe('bad input', () => {
    it('rejects a point that is not on the curve', async () => {
      const key = await generateKeyPair('secp256k1')
      const ecdh = createECDH('secp256k1')
      ecdh.setPrivateKey(key.raw)
      const uncompressed = Uint8Array.from(ecdh.getPublicKey())
      uncompressed[64] ^= 1
      assert.throws(() => new Secp256k1PublicKey(uncompressed), (err: Error) => err instanceof InvalidKeyError && /not a point on the curve/.test(err.message))
      // x = 5 has no y on secp256k1 (5^3 + 7 = 132 is not a square mod p).
      const noY = new Uint8Array(33)
      noY[0] = 0x02
      noY[32] = 5
      assert.throws(() => publicKeyFromRaw(noY, 'secp256k1'), InvalidKeyError)
      // x >= p
      const tooBig = new Uint8Array(33).fill(0xff)
      tooBig[0] = 0x03
      assert.throws(() => publicKeyFromRaw(tooBig, 'secp256k1'), InvalidKeyError)
    })

    it('rejects wrong lengths and prefixes', async () => {
      const key = await generateKeyPair('secp256k1')
      const wrongPrefix = Uint8Array.from(key.publicKey.raw)
      wrongPrefix[0] = 0x04
      const hybrid = new Uint8Array(65)
      hybrid[0] = 0x06
      for (const bad of [new Uint8Array(0), key.publicKey.raw.subarray(0, 32), Uint8Array.from([...key.publicKey.raw, 0]), wrongPrefix, hybrid, new Uint8Array(33)]) {
        assert.throws(() => publicKeyFromRaw(bad, 'secp256k1'), InvalidKeyError)
      }
      for (const length of [0, 31, 33, 64]) {
        assert.throws(() => privateKeyFromRaw(new Uint8Array(length).fill(1), 'secp256k1'), (err: Error) => err instanceof InvalidKeyError && /32 bytes/.test(err.message))
      }
    })

    it('rejects a private scalar of zero or not below the group order', () => {
      for (const scalar of [0n, ORDER, ORDER + 1n, (1n << 256n) - 1n]) {
        assert.throws(() => privateKeyFromRaw(fromBigInt(scalar), 'secp256k1'), (err: Error) => err instanceof InvalidKeyError && /out of range/.test(err.message))
      }
      assert.ok(privateKeyFromRaw(fromBigInt(ORDER - 1n), 'secp256k1').publicKey.raw.byteLength === 33)
      assert.ok(privateKeyFromRaw(fromBigInt(1n), 'secp256k1').publicKey.raw.byteLength === 33)
    })

    it('returns false, without throwing, for malformed or non-DER signatures', async () => {
      const key = await generateKeyPair('secp256k1')
      const sig = key.sign(message)
      const { r, s } = parseSignature(sig)
      const p1363 = Uint8Array.from([...fromBigInt(r), ...fromBigInt(s)])
      const trailing = Uint8Array.from([...sig, 0])
      const longForm = Uint8Array.from([0x30, 0x81, sig[1], ...sig.subarray(2)])
      const zeroR = encodeSignature(0n, s)
      const rTooBig = encodeSignature(r + ORDER, s)
      const truncated = sig.subarray(0, sig.byteLength - 1)
      for (const bad of [new Uint8Array(0), p1363, trailing, longForm, zeroR, rTooBig, truncated, new Uint8Array(73), Uint8Array.of(0x30, 0x00)]) {
        assert.equal(key.publicKey.verify(message, bad), false, toHex(bad))
      }
      assert.equal(key.publicKey.verify(message, undefined as unknown as Uint8Array), false)
      assert.equal(key.publicKey.verify(Uint8Array.of(1), sig), false)
    })
  })
})
