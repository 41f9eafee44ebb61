/**
 * The key protobuf envelope: deterministic encoding, the PeerId multihash rule, and malformed input.
 */
import assert from 'node:assert/strict'
import { InvalidMessageError, InvalidParametersError, LimitExceededError, PeerkitError, UnsupportedKeyTypeError } from '@peerkit/interfaces'
import {
  KEY_TYPE_NUMBERS, MAX_INLINE_KEY_LENGTH, MAX_KEY_PROTOBUF_LENGTH, generateKeyPair, multihashOfPublicKeyProtobuf,
  privateKeyFromProtobuf, privateKeyToProtobuf, publicKeyFromProtobuf, publicKeyToProtobuf
} from '../src/index.js'
import { SPEC_VECTORS, fromHex } from './fixtures/vectors.js'
import type { PublicKey } from '@peerkit/interfaces'

const ED25519_PUBLIC = fromHex(SPEC_VECTORS[0].publicKey)
const ED25519_PRIVATE = fromHex(SPEC_VECTORS[0].privateKey)

/** A deterministic pseudo-random generator (xorshift32), so fuzz cases are the same on every run. */
function prng (seed: number): () => number {
  let x = seed
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 0x100000000
  }
}

describe('key protobuf', () => {
  it('encodes Type then Data with minimal varints, for every key type', async () => {
    const keys = [await generateKeyPair('Ed25519'), await generateKeyPair('secp256k1'), await generateKeyPair('ECDSA'), await generateKeyPair('RSA')]
    for (const key of keys) {
      for (const [encoded, raw] of [[publicKeyToProtobuf(key.publicKey), key.publicKey.raw], [privateKeyToProtobuf(key), key.raw]]) {
        assert.equal(encoded[0], 0x08)
        assert.equal(encoded[1], KEY_TYPE_NUMBERS[key.type])
        assert.equal(encoded[2], 0x12)
        const lengthBytes = raw.byteLength < 128 ? [raw.byteLength] : [0x80 | (raw.byteLength & 0x7f), raw.byteLength >> 7]
        assert.deepEqual([...encoded.subarray(3, 3 + lengthBytes.length)], lengthBytes)
        assert.deepEqual(encoded.subarray(3 + lengthBytes.length), raw)
      }
    }
  })

  it('encodes an RSA key type (0) explicitly', async () => {
    const key = publicKeyFromProtobuf(fromHex(SPEC_VECTORS[3].publicKey))
    assert.deepEqual([...publicKeyToProtobuf(key).subarray(0, 2)], [0x08, 0x00])
  })

  it('encodes keys from other implementations of the interface', async () => {
    const key = await generateKeyPair('Ed25519')
    const foreign = { type: 'Ed25519', raw: key.publicKey.raw } as unknown as PublicKey
    assert.deepEqual(publicKeyToProtobuf(foreign), publicKeyToProtobuf(key.publicKey))
    assert.throws(() => publicKeyToProtobuf({ type: 'DSA', raw: new Uint8Array(1) } as unknown as PublicKey), UnsupportedKeyTypeError)
  })

  it('embeds keys of up to 42 encoded bytes and hashes longer ones', () => {
    assert.equal(MAX_INLINE_KEY_LENGTH, 42)
    const at = multihashOfPublicKeyProtobuf(new Uint8Array(42).fill(1))
    assert.equal(at.code, 0x00)
    assert.equal(at.digest.byteLength, 42)
    const over = multihashOfPublicKeyProtobuf(new Uint8Array(43).fill(1))
    assert.equal(over.code, 0x12)
    assert.equal(over.digest.byteLength, 32)
  })

  it('builds an identity multihash as one array: the code, the length, then the protobuf, with the digest a view of it', () => {
    const protobuf = new Uint8Array(36).map((_, i) => i + 1)
    const mh = multihashOfPublicKeyProtobuf(protobuf)
    assert.deepEqual([...mh.bytes], [0x00, 36, ...protobuf])
    assert.deepEqual([...mh.digest], [...protobuf])
    assert.equal(mh.size, 36)
    assert.equal(mh.digest.buffer, mh.bytes.buffer, 'the digest shares the multihash\'s memory')
    assert.equal(mh.digest.byteOffset, mh.bytes.byteOffset + 2)
    protobuf[0] = 99
    assert.equal(mh.digest[0], 1, 'the protobuf is copied, not kept')
  })

  it('caches the multihash, CID and string forms', () => {
    const key = publicKeyFromProtobuf(ED25519_PUBLIC)
    assert.equal(key.toMultihash(), key.toMultihash())
    assert.equal(key.toCID(), key.toCID())
    assert.equal(key.toString(), key.toString())
    assert.equal(key.toCID().toString().startsWith('bafz'), true)
  })

  describe('malformed input', () => {
    it('rejects an empty message', () => {
      assert.throws(() => publicKeyFromProtobuf(new Uint8Array(0)), InvalidMessageError)
      assert.throws(() => privateKeyFromProtobuf(new Uint8Array(0)), InvalidMessageError)
    })

    it('rejects every truncation of the vector messages', () => {
      for (const vector of SPEC_VECTORS) {
        const pub = fromHex(vector.publicKey)
        const priv = fromHex(vector.privateKey)
        for (let length = 1; length < pub.byteLength; length++) {
          assert.throws(() => publicKeyFromProtobuf(pub.subarray(0, length)), (err: Error) => err instanceof PeerkitError, `${vector.type} public key truncated to ${length}`)
        }
        for (let length = 1; length < priv.byteLength; length += (priv.byteLength > 200 ? 37 : 1)) {
          assert.throws(() => privateKeyFromProtobuf(priv.subarray(0, length)), (err: Error) => err instanceof PeerkitError, `${vector.type} private key truncated to ${length}`)
        }
      }
      // A Data length that runs past the end is a malformed message, not a bad key.
      assert.throws(() => publicKeyFromProtobuf(ED25519_PUBLIC.subarray(0, 20)), (err: Error) => err instanceof InvalidMessageError && /Malformed/.test(err.message))
    })

    it('names an unknown key type number', () => {
      for (const [bytes, number] of [[[0x08, 0x04], '4'], [[0x08, 0x63], '99'], [[0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], '-1']] as const) {
        const message = Uint8Array.from([...bytes, 0x12, 0x20, ...new Uint8Array(32)])
        assert.throws(() => publicKeyFromProtobuf(message), (err: Error) => err instanceof UnsupportedKeyTypeError && err.keyType === number)
        assert.throws(() => privateKeyFromProtobuf(message), (err: Error) => err instanceof UnsupportedKeyTypeError && err.keyType === number)
      }
    })

    it('rejects a message without Type or without Data', () => {
      assert.throws(() => publicKeyFromProtobuf(ED25519_PUBLIC.subarray(2)), (err: Error) => err instanceof InvalidMessageError && /no Type/.test(err.message))
      assert.throws(() => publicKeyFromProtobuf(Uint8Array.of(0x08, 0x01)), (err: Error) => err instanceof InvalidMessageError && /no Data/.test(err.message))
      assert.throws(() => privateKeyFromProtobuf(ED25519_PRIVATE.subarray(2)), (err: Error) => err instanceof InvalidMessageError && /no Type/.test(err.message))
    })

    it('rejects encodings that are not deterministic', () => {
      const data = ED25519_PUBLIC.subarray(4)
      const variants = {
        reordered: [0x12, 0x20, ...data, 0x08, 0x01],
        'non-minimal type varint': [0x08, 0x81, 0x00, 0x12, 0x20, ...data],
        'non-minimal length varint': [0x08, 0x01, 0x12, 0xa0, 0x00, ...data],
        'repeated Type': [0x08, 0x01, 0x08, 0x01, 0x12, 0x20, ...data],
        'repeated Data': [0x08, 0x01, 0x12, 0x20, ...data, 0x12, 0x20, ...data],
        'unknown field': [0x08, 0x01, 0x12, 0x20, ...data, 0x18, 0x01]
      }
      for (const [name, bytes] of Object.entries(variants)) {
        assert.throws(() => publicKeyFromProtobuf(Uint8Array.from(bytes)), (err: Error) => err instanceof InvalidMessageError && /deterministic/.test(err.message), name)
      }
    })

    it('rejects messages over the size bound before parsing them', () => {
      const big = new Uint8Array(MAX_KEY_PROTOBUF_LENGTH + 1)
      assert.throws(() => publicKeyFromProtobuf(big), (err: Error) => err instanceof LimitExceededError && err.limit === 'MAX_KEY_PROTOBUF_LENGTH' && err.value === MAX_KEY_PROTOBUF_LENGTH + 1)
      assert.throws(() => privateKeyFromProtobuf(big), LimitExceededError)
    })

    it('rejects values that are not byte arrays', () => {
      for (const bad of [null, undefined, 'CAESIA==', [8, 1], {}]) {
        assert.throws(() => publicKeyFromProtobuf(bad as unknown as Uint8Array), InvalidParametersError)
        assert.throws(() => privateKeyFromProtobuf(bad as unknown as Uint8Array), InvalidParametersError)
      }
    })

    it('throws only typed errors for randomly corrupted messages', () => {
      const random = prng(0x5eed)
      const sources = SPEC_VECTORS.flatMap(v => [fromHex(v.publicKey), fromHex(v.privateKey)])
      let accepted = 0
      for (let i = 0; i < 2000; i++) {
        const source = sources[i % sources.length]
        const bytes = Uint8Array.from(source.subarray(0, Math.min(source.byteLength, 1 + Math.floor(random() * source.byteLength))))
        const flips = 1 + Math.floor(random() * 3)
        for (let f = 0; f < flips; f++) {
          bytes[Math.floor(random() * bytes.byteLength)] = Math.floor(random() * 256)
        }
        for (const parse of [publicKeyFromProtobuf, privateKeyFromProtobuf]) {
          try {
            parse(bytes)
            accepted++
          } catch (err) {
            assert.ok(err instanceof PeerkitError, `untyped ${String(err)} for ${Buffer.from(bytes).toString('hex')}`)
          }
        }
      }
      // Some corruptions are still valid keys (e.g. a flipped bit in an Ed25519 key): that is fine,
      // but most must be refused.
      assert.ok(accepted < 1000, `${accepted} corrupted messages accepted`)
    })
  })
})
