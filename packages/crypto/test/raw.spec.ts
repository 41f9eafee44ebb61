/**
 * Raw key encodings with and without an explicit type, and public keys from multihashes.
 */
import assert from 'node:assert/strict'
import { InvalidKeyError, InvalidMessageError, InvalidParametersError, UnsupportedKeyTypeError } from '@peerkit/interfaces'
import * as Digest from 'multiformats/hashes/digest'
import { generateKeyPairSync } from 'node:crypto'
import { generateKeyPair, privateKeyFromRaw, publicKeyFromMultihash, publicKeyFromRaw, sha256 } from '../src/index.js'
import { SPEC_VECTORS, fromHex, toHex } from './fixtures/vectors.js'
import type { KeyType } from '@peerkit/interfaces'

describe('raw key encodings', () => {
  it('tells the key type of public keys from their bytes', async () => {
    for (const type of ['Ed25519', 'secp256k1', 'ECDSA', 'RSA'] as const) {
      const key = await generateKeyPair(type)
      const parsed = publicKeyFromRaw(key.publicKey.raw)
      assert.equal(parsed.type, type)
      assert.ok(parsed.equals(key.publicKey))
    }
  })

  it('tells the key type of 64/96-byte Ed25519 and DER private keys from their bytes', async () => {
    for (const type of ['Ed25519', 'ECDSA', 'RSA'] as const) {
      const key = await generateKeyPair(type)
      const parsed = privateKeyFromRaw(key.raw)
      assert.equal(parsed.type, type)
      assert.ok(parsed.equals(key))
    }
  })

  it('refuses to guess the type of a 32-byte private key', async () => {
    const key = await generateKeyPair('secp256k1')
    assert.throws(() => privateKeyFromRaw(key.raw), (err: Error) => err instanceof InvalidParametersError && /pass the key type/.test(err.message))
    assert.ok(privateKeyFromRaw(key.raw, 'secp256k1').equals(key))
  })

  it('accepts a bare 32-byte Ed25519 seed when the type is given', async () => {
    const key = await generateKeyPair('Ed25519')
    assert.ok(privateKeyFromRaw(key.raw.subarray(0, 32), 'Ed25519').equals(key))
  })

  it('checks the bytes against an explicit type', async () => {
    const ed = await generateKeyPair('Ed25519')
    assert.throws(() => publicKeyFromRaw(ed.publicKey.raw, 'secp256k1'), InvalidKeyError)
    assert.throws(() => publicKeyFromRaw(ed.publicKey.raw, 'RSA'), InvalidKeyError)
    assert.throws(() => publicKeyFromRaw(ed.publicKey.raw, 'ECDSA'), InvalidKeyError)
    assert.throws(() => privateKeyFromRaw(ed.raw, 'RSA'), InvalidKeyError)
  })

  it('rejects unknown types and undecidable bytes', () => {
    assert.throws(() => publicKeyFromRaw(new Uint8Array(32), 'DSA' as KeyType), (err: Error) => err instanceof UnsupportedKeyTypeError && err.keyType === 'DSA')
    assert.throws(() => privateKeyFromRaw(new Uint8Array(64), 'ed25519' as KeyType), UnsupportedKeyTypeError)
    for (const length of [0, 1, 31, 34, 64, 100]) {
      assert.throws(() => publicKeyFromRaw(new Uint8Array(length).fill(0x42)), InvalidKeyError, `public ${length}`)
    }
    for (const length of [0, 1, 31, 33, 63, 65, 100]) {
      assert.throws(() => privateKeyFromRaw(new Uint8Array(length).fill(0x42)), InvalidKeyError, `private ${length}`)
    }
    assert.throws(() => publicKeyFromRaw(new Uint8Array(10_000)), InvalidKeyError)
    assert.throws(() => privateKeyFromRaw('abc' as unknown as Uint8Array), InvalidParametersError)
  })

  it('rejects a SubjectPublicKeyInfo of another algorithm', () => {
    const { publicKey } = generateKeyPairSync('ed25519')
    assert.throws(() => publicKeyFromRaw(Uint8Array.from(publicKey.export({ format: 'der', type: 'spki' }))), UnsupportedKeyTypeError)
  })
})

describe('publicKeyFromMultihash', () => {
  it('extracts Ed25519 and secp256k1 keys from identity multihashes', () => {
    for (const vector of SPEC_VECTORS.slice(0, 2)) {
      const bytes = fromHex(vector.publicKey)
      const key = publicKeyFromMultihash(Digest.create(0x00, bytes))
      assert.equal(key.type, vector.type)
      assert.equal(key.toString(), vector.peerId)
    }
  })

  it('refuses sha2-256 multihashes, which do not contain the key', () => {
    const rsa = SPEC_VECTORS[3]
    assert.throws(() => publicKeyFromMultihash(Digest.create(0x12, sha256(fromHex(rsa.publicKey)))), (err: Error) => err instanceof InvalidParametersError && /0x12/.test(err.message))
    assert.throws(() => publicKeyFromMultihash(null as unknown as Digest.Digest<0, number>), InvalidParametersError)
  })

  it('rejects identity multihashes that do not hold a key protobuf', () => {
    assert.throws(() => publicKeyFromMultihash(Digest.create(0x00, Uint8Array.of(1, 2, 3))), InvalidMessageError)
    assert.throws(() => publicKeyFromMultihash(Digest.create(0x00, new Uint8Array(0))), InvalidMessageError)
  })
})

describe('sha256', () => {
  it('hashes contiguous and chunked data', async () => {
    const { Uint8ArrayList } = await import('uint8arraylist')
    assert.equal(toHex(sha256(new TextEncoder().encode('abc'))), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
    assert.equal(toHex(sha256(new Uint8ArrayList(Uint8Array.of(0x61), Uint8Array.of(0x62, 0x63)))), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
  })
})
