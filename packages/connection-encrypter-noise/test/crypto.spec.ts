import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { hkdfSync, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { dh, generateX25519KeyPair, hkdf2, sha256, x25519KeyPairFromPrivateKey } from '../src/crypto.js'
import { fromHex, toHex } from './fixtures/hex.js'

// RFC 5869 HKDF (salt = chaining key, empty info) for 64 bytes, by OpenSSL: what the Noise HKDF equals.
function rfc5869Hkdf (chainingKey: Uint8Array, ikm: Uint8Array): [Uint8Array, Uint8Array] {
  const out = new Uint8Array(hkdfSync('sha256', ikm, chainingKey, new Uint8Array(0), 64))
  return [out.subarray(0, 32), out.subarray(32)]
}

/**
 * Runs `body` (an ES module body with `gen`, the module at `modulePath`, imported) in a child
 * process whose V8 collects garbage every few allocations, and reports whether it finished.
 */
async function finishesUnderGcPressure (modulePath: string, body: string, timeoutMs: number): Promise<{ code: number | null, signal: string | null }> {
  const source = `const gen = await import(${JSON.stringify(modulePath)});\n${body}`
  const child = spawn(process.execPath, ['--gc-interval=10', '--input-type=module', '-e', source], { stdio: 'ignore' })
  const timer = setTimeout(() => { child.kill('SIGKILL') }, timeoutMs)
  try {
    const [code, signal] = await once(child, 'exit') as [number | null, string | null]
    return { code, signal }
  } finally {
    clearTimeout(timer)
  }
}

describe('crypto primitives', () => {
  describe('X25519', () => {
    it('key generation never hangs when a garbage collection hits in the middle of it', async function () {
      // Exporting a generated key as JWK after the generation can deadlock Node.js 20 when a
      // collection destroys the generation job during the export (a collection every 10
      // allocations made the earlier code hang in 3 of 5 runs of 3,000 keys).
      this.timeout(60_000)
      const modulePath = new URL('../src/crypto.js', import.meta.url).href
      for (let run = 0; run < 3; run++) {
        const result = await finishesUnderGcPressure(modulePath, `
          for (let i = 0; i < 3000; i++) { const k = gen.generateX25519KeyPair(); if (k.publicKey.byteLength !== 32) process.exit(2) }
          const k = gen.generateX25519KeyPair(); if (k.privateKey.byteLength !== 32) process.exit(3)`, 20_000)
        assert.deepEqual(result, { code: 0, signal: null }, `run ${run + 1} did not finish (killed after 20 s: hung)`)
      }
    })

    // RFC 7748 section 6.1
    const alicePrivate = '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a'
    const alicePublic = '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a'
    const bobPrivate = '5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb'
    const bobPublic = 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f'
    const shared = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742'

    it('derives public keys from raw private keys (RFC 7748 6.1)', () => {
      assert.equal(toHex(x25519KeyPairFromPrivateKey(fromHex(alicePrivate)).publicKey), alicePublic)
      assert.equal(toHex(x25519KeyPairFromPrivateKey(fromHex(bobPrivate)).publicKey), bobPublic)
    })

    it('computes the shared secret of RFC 7748 6.1 from both sides', () => {
      const alice = x25519KeyPairFromPrivateKey(fromHex(alicePrivate))
      const bob = x25519KeyPairFromPrivateKey(fromHex(bobPrivate))
      assert.equal(toHex(dh(alice, fromHex(bobPublic))), shared)
      assert.equal(toHex(dh(bob, fromHex(alicePublic))), shared)
    })

    it('generates key pairs whose raw private key round-trips', () => {
      const a = generateX25519KeyPair()
      const b = generateX25519KeyPair()
      assert.equal(a.publicKey.byteLength, 32)
      assert.equal(a.privateKey.byteLength, 32)
      assert.deepEqual(x25519KeyPairFromPrivateKey(a.privateKey).publicKey, a.publicKey)
      assert.deepEqual(dh(a, b.publicKey), dh(b, a.publicKey))
    })

    it('rejects keys of the wrong length', () => {
      assert.throws(() => x25519KeyPairFromPrivateKey(new Uint8Array(31)), { name: 'InvalidParametersError' })
      assert.throws(() => dh(generateX25519KeyPair(), new Uint8Array(33)), { name: 'InvalidKeyError' })
    })

    it('rejects a low-order public key (all-zero shared secret)', () => {
      // The point of order 1 (u = 0): every scalar multiple is the identity.
      assert.throws(() => dh(generateX25519KeyPair(), new Uint8Array(32)), { name: 'InvalidKeyError' })
      // A point of order 8 (u = 1).
      const one = new Uint8Array(32)
      one[0] = 1
      assert.throws(() => dh(generateX25519KeyPair(), one), { name: 'InvalidKeyError' })
    })
  })

  describe('SHA-256', () => {
    it('hashes the concatenation of its parts', () => {
      // FIPS 180-2 "abc"
      assert.equal(toHex(sha256(new TextEncoder().encode('a'), new TextEncoder().encode('bc'))),
        'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
    })
  })

  describe('HKDF', () => {
    it('equals RFC 5869 HKDF (OpenSSL\'s) for random inputs', () => {
      for (const ikmLength of [0, 1, 32, 64, 100]) {
        const ck = randomBytes(32)
        const ikm = randomBytes(ikmLength)
        const [a1, a2] = hkdf2(ck, ikm)
        const [b1, b2] = rfc5869Hkdf(ck, ikm)
        assert.equal(toHex(a1), toHex(b1), `output 1 for ${ikmLength} bytes of input key material`)
        assert.equal(toHex(a2), toHex(b2), `output 2 for ${ikmLength} bytes of input key material`)
      }
    })

    it('matches RFC 5869 test case 3 (empty salt and info) on its first 64 bytes', () => {
      // RFC 5869 A.3: IKM = 22 x 0x0b, salt = empty, info = empty, OKM (42 bytes) is a prefix.
      const [out1, out2] = hkdf2(new Uint8Array(0), new Uint8Array(22).fill(0x0b))
      assert.equal(toHex(Buffer.concat([out1, out2])).slice(0, 84),
        '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8')
    })
  })
})
