import assert from 'node:assert/strict'
import { createCipheriv, randomBytes } from 'node:crypto'
import { Uint8ArrayList } from 'uint8arraylist'
import { CipherState } from '../src/cipher-state.js'
import { BACKENDS } from './fixtures/backends.js'
import { fromHex, toHex } from './fixtures/hex.js'
import type { NoiseCrypto } from '../src/crypto.js'

const text = (s: string): Uint8Array => new TextEncoder().encode(s)

// RFC 8439 section 2.8.2
const RFC_2_8_2 = {
  key: '808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f',
  nonce: '070000004041424344454647',
  aad: '50515253c0c1c2c3c4c5c6c7',
  plaintext: 'Ladies and Gentlemen of the class of \'99: If I could offer you only one tip for the future, sunscreen would be it.',
  ciphertext: 'd31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b' +
    '1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc' +
    '3ff4def08e4b7a9de576d26586cec64b6116',
  tag: '1ae10b594f09e26a7e902ecbd0600691'
}

// RFC 8439 appendix A.5. Its nonce 00000000 || 0102030405060708 is a Noise nonce: 32 zero bits then
// the counter 0x0807060504030201 in little-endian order.
const RFC_A_5 = {
  key: '1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0',
  counter: 0x0807060504030201n,
  aad: 'f33388860000000000004e91',
  ciphertext: '64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb24c6cfc18755d43eea09ee94e382d26b0' +
    'bdb7b73c321b0100d4f03b7f355894cf332f830e710b97ce98c8a84abd0b948114ad176e008d33bd60f982b1ff37c855' +
    '9797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4b9166c767b804d46a59b5216cde7a4e9' +
    '9040c5a40433225ee282a1b0a06c523eaf4534d7f83fa1155b0047718cbc546a0d072b04b3564eea1b422273f548271a' +
    '0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a6727627097a1049e617d91d361094fa68f0ff77987130' +
    '305beaba2eda04df997b714d6c6f2c29a6ad5cb4022b02709b',
  tag: 'eead9d67890cbb22392336fea1851f38',
  plaintext: 'Internet-Drafts are draft documents valid for a maximum of six months and may be updated, ' +
    'replaced, or obsoleted by other documents at any time. It is inappropriate to use Internet-Drafts as ' +
    'reference material or to cite them other than as /\u201cwork in progress./\u201d'
}

for (const backend of BACKENDS) describe(`CipherState (${backend.name})`, () => cipherStateTests(backend))

function cipherStateTests (backend: NoiseCrypto): void {
  it('the platform AEAD, called as CipherState calls it, matches RFC 8439 2.8.2', () => {
    // CipherState cannot produce this nonce (its first four bytes are not zero), so the primitive is
    // checked directly with the same algorithm name and options.
    const cipher = createCipheriv('chacha20-poly1305', fromHex(RFC_2_8_2.key), fromHex(RFC_2_8_2.nonce), { authTagLength: 16 })
    cipher.setAAD(fromHex(RFC_2_8_2.aad), { plaintextLength: RFC_2_8_2.plaintext.length })
    const ciphertext = Buffer.concat([cipher.update(text(RFC_2_8_2.plaintext)), cipher.final()])
    assert.equal(toHex(ciphertext), RFC_2_8_2.ciphertext)
    assert.equal(toHex(cipher.getAuthTag()), RFC_2_8_2.tag)
  })

  it('encrypts RFC 8439 A.5 byte-exactly with the Noise nonce layout', () => {
    const cs = new CipherState(fromHex(RFC_A_5.key), backend)
    cs.setNonce(RFC_A_5.counter)
    const out = cs.encryptWithAd(fromHex(RFC_A_5.aad), text(RFC_A_5.plaintext))
    assert.equal(toHex(out), RFC_A_5.ciphertext + RFC_A_5.tag)
    assert.equal(cs.nonce, RFC_A_5.counter + 1n)
  })

  it('decrypts RFC 8439 A.5', () => {
    const cs = new CipherState(fromHex(RFC_A_5.key), backend)
    cs.setNonce(RFC_A_5.counter)
    const out = cs.decryptWithAd(fromHex(RFC_A_5.aad), fromHex(RFC_A_5.ciphertext + RFC_A_5.tag))
    assert.equal(new TextDecoder().decode(out), RFC_A_5.plaintext)
  })

  it('pairs two states in one buffer, each with its own key and nonce, as separate states would be', () => {
    const k1 = fromHex(RFC_A_5.key)
    const k2 = randomBytes(32)
    const [c1, c2] = CipherState.pair(k1, k2, backend)
    const [r1, r2] = [new CipherState(k1, backend), new CipherState(k2, backend)]
    // Interleaved use: advancing one state's nonce must not touch the other's key or nonce.
    for (let i = 0; i < 3; i++) {
      const m1 = c1.encryptWithAd(new Uint8Array(0), text(`one ${i}`))
      assert.equal(new TextDecoder().decode(r1.decryptWithAd(new Uint8Array(0), m1)), `one ${i}`)
    }
    const m2 = c2.encryptWithAd(new Uint8Array(0), text('two'))
    assert.equal(new TextDecoder().decode(r2.decryptWithAd(new Uint8Array(0), m2)), 'two')
    assert.equal(c1.nonce, 3n)
    assert.equal(c2.nonce, 1n)
    // c1 at nonce 3 gives RFC 8439 A.5's ciphertext once moved to its counter: same key bytes.
    c1.setNonce(RFC_A_5.counter)
    assert.equal(toHex(c1.encryptWithAd(fromHex(RFC_A_5.aad), text(RFC_A_5.plaintext))), RFC_A_5.ciphertext + RFC_A_5.tag)
    assert.equal(c2.nonce, 1n)
    assert.throws(() => new CipherState(k1, backend, Buffer.alloc(43)), { name: 'InvalidParametersError' })
  })

  it('decrypts a ciphertext split into pieces without joining them', () => {
    const key = fromHex(RFC_A_5.key)
    const sender = new CipherState(key, backend)
    const receiver = new CipherState(key, backend)
    const plaintext = text(RFC_A_5.plaintext)
    const { ciphertext, tag } = sender.seal(plaintext)
    const bytes = ciphertext as Uint8Array
    const pieces = [bytes.subarray(0, 1), bytes.subarray(1, 100), bytes.subarray(100)]
    const out = receiver.open(pieces, tag)
    assert.ok(out instanceof Uint8ArrayList)
    assert.deepEqual(Buffer.from(out.subarray()), Buffer.from(plaintext))
  })

  it('encrypts a list plaintext piece by piece, same bytes as contiguous', () => {
    const key = fromHex(RFC_A_5.key)
    const a = new CipherState(key, backend)
    const b = new CipherState(key, backend)
    const plaintext = text(RFC_A_5.plaintext)
    const whole = a.seal(plaintext)
    const pieces = b.seal(new Uint8ArrayList(plaintext.subarray(0, 7), plaintext.subarray(7, 200), plaintext.subarray(200)))
    // A small message sealed by libsodium is joined first (its API takes one buffer).
    assert.equal(pieces.ciphertext instanceof Uint8ArrayList, backend.smallMessageAead == null)
    assert.deepEqual(Buffer.from(pieces.ciphertext.subarray()), Buffer.from(whole.ciphertext.subarray()))
    assert.deepEqual(pieces.tag, whole.tag)
  })

  it('encrypts a large list plaintext piece by piece, same bytes as contiguous', () => {
    const key = fromHex(RFC_A_5.key)
    const plaintext = randomBytes(20_000)
    const whole = new CipherState(key, backend).seal(plaintext)
    const pieces = new CipherState(key, backend).seal(new Uint8ArrayList(plaintext.subarray(0, 9_000), plaintext.subarray(9_000)))
    assert.ok(pieces.ciphertext instanceof Uint8ArrayList)
    assert.deepEqual(Buffer.from(pieces.ciphertext.subarray()), Buffer.from(whole.ciphertext.subarray()))
    assert.deepEqual(pieces.tag, whole.tag)
  })

  it('sealInto writes ciphertext and tag at an offset, the same bytes seal gives', () => {
    const key = fromHex(RFC_A_5.key)
    for (const length of [0, 1, 100, 4096, 4097, 65519]) {
      const plaintext = randomBytes(length)
      const { ciphertext, tag } = new CipherState(key, backend).seal(plaintext)
      const target = Buffer.alloc(length + 16 + 5, 0xaa)
      const cs = new CipherState(key, backend)
      cs.sealInto(new Uint8ArrayList(plaintext), target, 3)
      assert.equal(cs.nonce, 1n)
      assert.deepEqual(target.subarray(3, 3 + length), Buffer.from(ciphertext.subarray()), `ciphertext of ${length} bytes`)
      assert.deepEqual(target.subarray(3 + length, 3 + length + 16), Buffer.from(tag))
      assert.deepEqual([...target.subarray(0, 3), ...target.subarray(3 + length + 16)], [0xaa, 0xaa, 0xaa, 0xaa, 0xaa], 'nothing outside the range is written')
    }
    assert.throws(() => { new CipherState(key, backend).sealInto(new Uint8Array(10), new Uint8Array(30), 5) }, { name: 'InvalidParametersError' })
  })

  it('seals and opens what the other backend opens and seals, on both sides of the small-message limit', () => {
    const key = fromHex(RFC_2_8_2.key)
    const limit = BACKENDS.find(b => b.smallMessageAead != null)?.smallMessageAead?.maxBytes ?? 4096
    const ad = text('ad')
    for (const other of BACKENDS) {
      for (const length of [0, 12, limit - 1, limit, limit + 1, 3 * limit]) {
        const plaintext = randomBytes(length)
        const sealed = new CipherState(key, backend).encryptWithAd(ad, plaintext)
        assert.deepEqual(Buffer.from(new CipherState(key, other).decryptWithAd(ad, sealed)), plaintext, `${backend.name} → ${other.name}, ${length} bytes`)
        const { ciphertext, tag } = new CipherState(key, other).seal(plaintext)
        const opened = new CipherState(key, backend).open(Uint8Array.from(ciphertext.subarray()), tag)
        assert.deepEqual(Buffer.from(opened.subarray()), plaintext, `${other.name} → ${backend.name}, ${length} bytes`)
      }
    }
  })

  it('puts the counter little-endian in the last 8 bytes of the nonce', () => {
    // Encrypting with counter n must equal the raw AEAD with nonce 00000000 || LE64(n).
    const key = fromHex(RFC_2_8_2.key)
    const n = 0x0102030405060708n
    const cs = new CipherState(key, backend)
    cs.setNonce(n)
    const ours = cs.encryptWithAd(new Uint8Array(0), text('nonce layout'))
    const cipher = createCipheriv('chacha20-poly1305', key, fromHex('000000000807060504030201'), { authTagLength: 16 })
    const expected = Buffer.concat([cipher.update(text('nonce layout')), cipher.final(), cipher.getAuthTag()])
    assert.equal(toHex(ours), toHex(expected))
  })

  it('increments the counter across the 32-bit boundary', () => {
    const key = fromHex(RFC_2_8_2.key)
    const sender = new CipherState(key, backend)
    const receiver = new CipherState(key, backend)
    sender.setNonce(0xfffffffen)
    receiver.setNonce(0xfffffffen)
    for (let i = 0; i < 3; i++) {
      const ct = sender.encryptWithAd(new Uint8Array(0), Uint8Array.of(i))
      assert.deepEqual(Buffer.from(receiver.decryptWithAd(new Uint8Array(0), ct)), Buffer.of(i))
    }
    assert.equal(sender.nonce, 0x100000001n)
  })

  it('uses nonce 2^64-2 and then refuses to wrap', () => {
    const cs = new CipherState(fromHex(RFC_2_8_2.key), backend)
    cs.setNonce(0xfffffffffffffffen)
    cs.encryptWithAd(new Uint8Array(0), text('last'))
    assert.equal(cs.nonce, 0xffffffffffffffffn)
    assert.throws(() => cs.encryptWithAd(new Uint8Array(0), text('one too many')), { name: 'LimitExceededError', limit: 'nonce' })
    assert.throws(() => cs.decryptWithAd(new Uint8Array(0), new Uint8Array(32)), { name: 'LimitExceededError' })
    assert.throws(() => cs.setNonce(1n << 64n), { name: 'InvalidParametersError' })
  })

  it('returns the input unchanged while it has no key', () => {
    const cs = new CipherState(undefined, backend)
    const data = text('plain')
    assert.equal(cs.hasKey(), false)
    assert.equal(cs.encryptWithAd(new Uint8Array(0), data), data)
    assert.equal(cs.decryptWithAd(new Uint8Array(0), data), data)
  })

  it('throws DecryptionError for a tampered ciphertext, tag or associated data, without consuming the nonce', () => {
    const key = fromHex(RFC_A_5.key)
    const ad = fromHex(RFC_A_5.aad)
    const sealed = new CipherState(key, backend).encryptWithAd(ad, text('attack at dawn'))
    for (const index of [0, 5, sealed.byteLength - 1]) {
      const tampered = Uint8Array.from(sealed)
      tampered[index] ^= 0x01
      const cs = new CipherState(key, backend)
      assert.throws(() => cs.decryptWithAd(ad, tampered), { name: 'DecryptionError' })
      assert.equal(cs.nonce, 0n)
    }
    assert.throws(() => new CipherState(key, backend).decryptWithAd(Uint8Array.of(1), sealed), { name: 'DecryptionError' })
    assert.throws(() => new CipherState(key, backend).decryptWithAd(ad, sealed.subarray(0, 15)), { name: 'DecryptionError' })
  })

  it('beginOpen decrypts a message piece by piece as it arrives, and checks its tag at the end', () => {
    const key = fromHex(RFC_A_5.key)
    const sender = new CipherState(key, backend)
    sender.setNonce(RFC_A_5.counter)
    const { ciphertext, tag } = sender.seal(text(RFC_A_5.plaintext))
    const bytes = Buffer.from(ciphertext as Uint8Array)
    const receiver = new CipherState(key, backend)
    receiver.setNonce(RFC_A_5.counter)
    const opener = receiver.beginOpen()
    // Each piece from one reused buffer, trashed after the call.
    const scratch = Buffer.alloc(bytes.byteLength)
    const out: Uint8Array[] = []
    for (const [start, end] of [[0, 1], [1, 100], [100, bytes.byteLength]]) {
      scratch.set(bytes.subarray(start, end))
      out.push(opener.update(scratch.subarray(0, end - start)))
      scratch.fill(0xee)
    }
    assert.equal(receiver.nonce, RFC_A_5.counter, 'the nonce moves only once the tag verified')
    opener.finish(tag)
    assert.equal(receiver.nonce, RFC_A_5.counter + 1n)
    assert.equal(new TextDecoder().decode(Buffer.concat(out)), RFC_A_5.plaintext)
    assert.throws(() => opener.finish(tag), { name: 'InvalidParametersError' }, 'a message is finished once')
  })

  it('beginOpen throws DecryptionError for a tampered message, without consuming the nonce', () => {
    const key = fromHex(RFC_A_5.key)
    const { ciphertext, tag } = new CipherState(key, backend).seal(text('attack at dawn'))
    const tampered = Uint8Array.from(ciphertext as Uint8Array)
    tampered[3] ^= 0x01
    for (const [body, mac] of [[tampered, tag], [ciphertext as Uint8Array, Uint8Array.from(tag, (b, i) => i === 0 ? b ^ 1 : b)]]) {
      const cs = new CipherState(key, backend)
      const opener = cs.beginOpen()
      opener.update(body.subarray(0, 5))
      opener.update(body.subarray(5))
      assert.throws(() => { opener.finish(mac) }, { name: 'DecryptionError' })
      assert.equal(cs.nonce, 0n)
    }
  })

  it('rejects keys that are not 32 bytes', () => {
    assert.throws(() => new CipherState(new Uint8Array(16), backend), { name: 'InvalidParametersError' })
  })

  it('uses a new key for every message after initializeKey, small and large, sealing and opening', () => {
    const k1 = randomBytes(32)
    const k2 = randomBytes(32)
    for (const size of [10, 5000, 65519]) {
      const plaintext = randomBytes(size)
      const cs = new CipherState(k1, backend)
      const first = cs.seal(plaintext)
      cs.initializeKey(k2)
      const { ciphertext, tag } = cs.seal(plaintext)
      // The same bytes a state that only ever had k2 gives at nonce 0, and not those of k1.
      const fresh = new CipherState(k2, backend).seal(plaintext)
      assert.equal(toHex(ciphertext as Uint8Array), toHex(fresh.ciphertext as Uint8Array), `${size} bytes`)
      assert.equal(toHex(tag), toHex(fresh.tag), `${size} bytes`)
      assert.notEqual(toHex(tag), toHex(first.tag), `${size} bytes`)

      const reader = new CipherState(k1, backend)
      assert.equal(toHex(reader.open(first.ciphertext as Uint8Array, first.tag) as Uint8Array), toHex(plaintext))
      reader.initializeKey(k2)
      assert.equal(toHex(reader.open(ciphertext as Uint8Array, tag) as Uint8Array), toHex(plaintext), `${size} bytes`)
      // A message sealed under the old key no longer opens.
      reader.setNonce(0n)
      assert.throws(() => reader.open(first.ciphertext as Uint8Array, first.tag), { name: 'DecryptionError' })
    }
  })
}
