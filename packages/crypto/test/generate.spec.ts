/**
 * Key generation arguments.
 */
import assert from 'node:assert/strict'
import { InvalidParametersError, UnsupportedKeyTypeError } from '@peerkit/interfaces'
import { generateKeyPair, generateKeyPairFromSeed } from '../src/index.js'
import type { KeyType } from '@peerkit/interfaces'

describe('generateKeyPair', () => {
  it('generates distinct keys of each type with the default parameters', async () => {
    for (const type of ['Ed25519', 'secp256k1', 'ECDSA'] as const) {
      const a = await generateKeyPair(type)
      const b = await generateKeyPair(type)
      assert.equal(a.type, type)
      assert.ok(!a.equals(b))
      assert.ok(!a.publicKey.equals(b.publicKey))
    }
    const ecdsa = await generateKeyPair('ECDSA')
    assert.equal(ecdsa.publicKey.curve, 'P-256')
  })

  it('rejects unknown key types', async () => {
    for (const type of ['DSA', 'ed25519', 'rsa', '', undefined]) {
      await assert.rejects(generateKeyPair(type as KeyType), UnsupportedKeyTypeError)
    }
  })

  it('derives keys from a seed for Ed25519 only', async () => {
    await assert.rejects(generateKeyPairFromSeed('secp256k1', new Uint8Array(32)), (err: Error) => err instanceof UnsupportedKeyTypeError && err.keyType === 'secp256k1')
    await assert.rejects(generateKeyPairFromSeed('RSA', new Uint8Array(32)), UnsupportedKeyTypeError)
    await assert.rejects(generateKeyPairFromSeed('Ed25519', new Uint8Array(64)), InvalidParametersError)
    const key = await generateKeyPairFromSeed('Ed25519', new Uint8Array(32))
    assert.equal(key.type, 'Ed25519')
  })
})
