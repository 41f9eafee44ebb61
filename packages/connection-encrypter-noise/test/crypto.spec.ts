import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import crypto, { createHmac, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { syncBuiltinESMExports } from 'node:module'
import { defaultNoiseCrypto, hkdf2, libsodiumCrypto, noiseCrypto, nodeCrypto, sha256 } from '../src/crypto.js'
import { BACKENDS } from './fixtures/backends.js'
import { fromHex, toHex } from './fixtures/hex.js'
import type { NoiseCrypto } from '../src/crypto.js'

// The Noise specification's HKDF with two outputs, written out with HMAC-SHA256 as section 4.3
// defines it: the reference `hkdf2` must equal, whatever node function computes it.
function noiseSpecHkdf (chainingKey: Uint8Array, ikm: Uint8Array): [Uint8Array, Uint8Array] {
  const hmac = (key: Uint8Array, ...data: Uint8Array[]): Buffer => {
    const h = createHmac('sha256', key)
    for (const d of data) h.update(d)
    return h.digest()
  }
  const temp = hmac(chainingKey, ikm)
  const out1 = hmac(temp, Uint8Array.of(0x01))
  const out2 = hmac(temp, out1, Uint8Array.of(0x02))
  return [out1, out2]
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

/**
 * Calls `body` with `crypto[name]` (and its ESM named export) replaced by a wrapper that records
 * `Error.stackTraceLimit` at each call, and returns the limits seen.
 */
function recordLimits (name: 'createPublicKey' | 'hkdfSync', body: () => void): number[] {
  const original = crypto[name] as (...args: unknown[]) => unknown
  const seen: number[] = []
  const saved = Error.stackTraceLimit
  Error.stackTraceLimit = 10
  ;(crypto as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
    seen.push(Error.stackTraceLimit)
    return original(...args)
  }
  syncBuiltinESMExports()
  try {
    body()
  } finally {
    (crypto as unknown as Record<string, unknown>)[name] = original
    syncBuiltinESMExports()
    Error.stackTraceLimit = saved
  }
  return seen
}

describe('crypto primitives', () => {
  // Node.js 24.18-24.21 capture a stack trace for each raw key their key checks refuse; see
  // withoutStackCapture in @peerkit/crypto. The two calls each handshake makes several times
  // must run with capture off, and leave the limit as they found it.
  it('runs HKDF and the X25519 public key import without stack capture', () => {
    const after: number[] = []
    const hkdfLimits = recordLimits('hkdfSync', () => {
      hkdf2(randomBytes(32), randomBytes(32))
      after.push(Error.stackTraceLimit)
    })
    const importLimits = recordLimits('createPublicKey', () => {
      nodeCrypto.importPublicKey(fromHex(alicePublic))
      after.push(Error.stackTraceLimit)
    })
    assert.deepEqual(hkdfLimits, [0])
    assert.deepEqual(importLimits, [0])
    assert.deepEqual(after, [10, 10])
  })

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

    it('uses node\'s crypto by default, and libsodium when asked (sodium-native, a devDependency here)', () => {
      const libsodium = libsodiumCrypto()
      assert.ok(libsodium != null, 'sodium-native did not load: run npm install')
      assert.equal(libsodium.name, 'libsodium')
      assert.equal(libsodiumCrypto(), libsodium, 'made once')
      assert.equal(defaultNoiseCrypto, nodeCrypto)
      assert.equal(noiseCrypto(), nodeCrypto)
      assert.equal(noiseCrypto('node'), nodeCrypto)
      assert.equal(noiseCrypto('libsodium'), libsodium)
      assert.throws(() => noiseCrypto('openssl' as never), { name: 'InvalidParametersError' })
    })

    it('does not load sodium-native unless an encrypter asks for libsodium, and says so when it is missing', async function () {
      // In a process of its own: this one loaded it for the tests of both backends.
      this.timeout(20_000)
      const moduleUrl = new URL('../src/index.js', import.meta.url).href
      const run = async (init: string, hideSodium = false): Promise<string> => {
        // hideSodium: the process cannot resolve sodium-native, as when it is not installed.
        const hide = hideSodium
          ? `const Module = createRequire(import.meta.url)('node:module'); const resolve = Module._resolveFilename
             Module._resolveFilename = function (request, ...rest) { if (request === 'sodium-native') throw Object.assign(new Error('not installed'), { code: 'MODULE_NOT_FOUND' }); return resolve.call(this, request, ...rest) }`
          : ''
        const source = `import { createRequire } from 'node:module'
          ${hide}
          const { noise } = await import(${JSON.stringify(moduleUrl)})
          const { generateKeyPair } = await import(${JSON.stringify(new URL('../../../crypto/dist/src/index.js', import.meta.url).href)})
          const { peerIdFromPrivateKey } = await import(${JSON.stringify(new URL('../../../peer-id/dist/src/index.js', import.meta.url).href)})
          const privateKey = await generateKeyPair('Ed25519')
          try { noise(${init})({ privateKey, peerId: peerIdFromPrivateKey(privateKey) }) } catch (err) { process.stdout.write(err.name + ': '); }
          const cache = createRequire(import.meta.url).cache
          process.stdout.write(String(Object.keys(cache).some(k => k.includes('sodium-native'))))`
        const child = spawn(process.execPath, ['--input-type=module', '-e', source], { stdio: ['ignore', 'pipe', 'inherit'] })
        let out = ''
        child.stdout.on('data', (d: Buffer) => { out += d.toString() })
        await once(child, 'exit')
        return out
      }
      assert.equal(await run('{}'), 'false')
      assert.equal(await run("{ crypto: 'node' }"), 'false')
      assert.equal(await run("{ crypto: 'libsodium' }"), 'true')
      // Without sodium-native: the default works, asking for libsodium is a typed error.
      assert.equal(await run('{}', true), 'false')
      assert.equal(await run("{ crypto: 'libsodium' }", true), 'InvalidParametersError: false')
    })

    for (const backend of BACKENDS) x25519Tests(backend)

    it('gives the same shared secrets on both backends, whichever made the keys', () => {
      for (const a of BACKENDS) {
        for (const b of BACKENDS) {
          const ours = a.generateKeyPair()
          const theirs = b.generateKeyPair()
          const expected = toHex(a.dh(ours, theirs.publicKey))
          assert.equal(toHex(b.dh(theirs, ours.publicKey)), expected, `${a.name} keys against ${b.name} keys`)
          assert.equal(toHex(b.dh(ours, b.importPublicKey(theirs.publicKey))), expected, `${a.name} key pair on ${b.name}`)
          assert.equal(toHex(a.dh(ours, b.importPublicKey(theirs.publicKey))), expected, `${b.name}'s imported key on ${a.name}`)
        }
      }
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
    it('equals the Noise specification\'s HMAC-SHA256 construction for random inputs', () => {
      for (const ikmLength of [0, 1, 32, 64, 100]) {
        const ck = randomBytes(32)
        const ikm = randomBytes(ikmLength)
        const [a1, a2] = hkdf2(ck, ikm)
        const [b1, b2] = noiseSpecHkdf(ck, ikm)
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

// RFC 7748 section 6.1
const alicePrivate = '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a'
const alicePublic = '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a'
const bobPrivate = '5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb'
const bobPublic = 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f'
const shared = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742'

function x25519Tests (backend: NoiseCrypto): void {
  describe(`on ${backend.name}`, () => {
    it('derives public keys from raw private keys (RFC 7748 6.1)', () => {
      assert.equal(toHex(backend.keyPairFromPrivateKey(fromHex(alicePrivate)).publicKey), alicePublic)
      assert.equal(toHex(backend.keyPairFromPrivateKey(fromHex(bobPrivate)).publicKey), bobPublic)
    })

    it('computes the shared secret of RFC 7748 6.1 from both sides, from raw and from imported keys', () => {
      const alice = backend.keyPairFromPrivateKey(fromHex(alicePrivate))
      const bob = backend.keyPairFromPrivateKey(fromHex(bobPrivate))
      assert.equal(toHex(backend.dh(alice, fromHex(bobPublic))), shared)
      assert.equal(toHex(backend.dh(bob, fromHex(alicePublic))), shared)
      assert.equal(toHex(backend.dh(alice, backend.importPublicKey(fromHex(bobPublic)))), shared)
    })

    it('generates distinct key pairs whose raw private key round-trips', () => {
      const a = backend.generateKeyPair()
      const b = backend.generateKeyPair()
      assert.equal(a.publicKey.byteLength, 32)
      assert.equal(a.privateKey.byteLength, 32)
      assert.notDeepEqual(a.privateKey, b.privateKey)
      assert.deepEqual(backend.keyPairFromPrivateKey(a.privateKey).publicKey, a.publicKey)
      assert.deepEqual(backend.dh(a, b.publicKey), backend.dh(b, a.publicKey))
    })

    it('rejects keys of the wrong length', () => {
      assert.throws(() => backend.keyPairFromPrivateKey(new Uint8Array(31)), { name: 'InvalidParametersError' })
      assert.throws(() => backend.dh(backend.generateKeyPair(), new Uint8Array(33)), { name: 'InvalidKeyError' })
      assert.throws(() => backend.importPublicKey(new Uint8Array(31)), { name: 'InvalidKeyError' })
    })

    it('rejects a low-order public key (all-zero shared secret)', () => {
      // The point of order 1 (u = 0): every scalar multiple is the identity.
      assert.throws(() => backend.dh(backend.generateKeyPair(), new Uint8Array(32)), { name: 'InvalidKeyError' })
      // A point of order 8 (u = 1).
      const one = new Uint8Array(32)
      one[0] = 1
      assert.throws(() => backend.dh(backend.generateKeyPair(), one), { name: 'InvalidKeyError' })
    })
  })
}
