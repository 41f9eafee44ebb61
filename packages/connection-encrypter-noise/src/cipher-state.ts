import { createCipheriv, createDecipheriv, createSecretKey } from 'node:crypto'
import type { CipherChaCha20Poly1305, DecipherChaCha20Poly1305, KeyObject } from 'node:crypto'
import { DecryptionError, InvalidParametersError, LimitExceededError } from '@peerkit/interfaces'
import { Uint8ArrayList } from 'uint8arraylist'
import { TAG_BYTES } from './constants.js'
import { defaultNoiseCrypto } from './crypto.js'
import type { NoiseCrypto, SmallMessageAead } from './crypto.js'

const CIPHER = 'chacha20-poly1305'
const CIPHER_OPTIONS = { authTagLength: TAG_BYTES } as const
const MAX_UINT32 = 0xffffffff
const KEY_BYTES = 32
const NONCE_BYTES = 12
/** The key followed by the nonce. */
const MATERIAL_BYTES = KEY_BYTES + NONCE_BYTES

/** A ciphertext and its authentication tag, as produced by node's AEAD API. */
export interface SealedMessage {
  /** The encrypted bytes, as long as the plaintext (a list when the plaintext was one). */
  ciphertext: Uint8Array | Uint8ArrayList
  /** The 16-byte Poly1305 tag. */
  tag: Buffer
}

/**
 * One message being decrypted as its ciphertext arrives (see `CipherState.beginOpen`): `update`
 * decrypts the next piece and returns its plaintext, which must not be used before `finish`
 * verified the tag.
 */
export interface MessageOpener {
  /** Decrypts the next piece of ciphertext; the input may be reused once this returns. */
  update(ciphertext: Uint8Array): Uint8Array
  /**
   * Verifies the 16-byte tag over everything given to `update` and moves the nonce on. Throws
   * `DecryptionError` (the nonce stays) when it does not verify: then nothing `update` returned may
   * be used.
   */
  finish(tag: Uint8Array): void
}

/**
 * The Noise `CipherState`: a ChaCha20-Poly1305 key `k` and a 64-bit message counter `n`.
 *
 * The nonce is 32 zero bits followed by `n` as a little-endian 64-bit integer. Nonce 2^64-1 is
 * reserved by Noise: once `n` reaches it every further operation throws `LimitExceededError`
 * instead of wrapping around, so a key is never used twice with the same nonce.
 *
 * Without a key (`hasKey()` false, the start of a handshake) encryption and decryption return
 * their input unchanged, as the specification requires.
 *
 * Messages are sealed and opened by node's `crypto`, except small contiguous ones when the backend
 * given to the constructor has a faster path for them (libsodium's, see `NoiseCrypto`).
 */
export class CipherState {
  // The key (bytes 0–31) and the nonce (32–43) in one small buffer: a connection holds two
  // CipherStates for as long as it lives (both in one allocation, see `pair`), and the nonce view
  // node's cipher setup takes is made per message instead (a small object against a cipher setup
  // of several µs).
  readonly #material: Buffer
  // The key as node's `KeyObject`, made on the first message node's cipher API seals or opens with
  // it. Given raw bytes, node checks and converts them on every call: about 1 µs on Node.js 20, 22
  // and 26, 17–20 µs on Node.js 24.18 and later, where that made a cipher's setup five to seven
  // times as costly as with a ready key (a key costs ~100 bytes of heap and ~0.7 KiB of native
  // memory, and 2–3 µs to make once).
  #keyObject: KeyObject | undefined
  #hasKey = false
  // n as two unsigned 32-bit halves: exact over the whole 64-bit range, no BigInt on the hot path.
  #nLow = 0
  #nHigh = 0
  readonly #small?: SmallMessageAead

  /**
   * @param key - the 32-byte key, or none yet
   * @param crypto - the backend whose small-message path to use, if it has one (default: the default backend)
   * @param material - the 44 bytes that hold the key and the nonce, zeroed here (default: a new buffer)
   * @throws {InvalidParametersError} if `material` is not 44 bytes or `key` not 32
   */
  constructor (key?: Uint8Array, crypto: NoiseCrypto = defaultNoiseCrypto, material: Buffer = Buffer.alloc(MATERIAL_BYTES)) {
    if (material.byteLength !== MATERIAL_BYTES) throw new InvalidParametersError(`A CipherState's key and nonce take ${MATERIAL_BYTES} bytes, got ${material.byteLength}`)
    this.#material = material.fill(0)
    this.#small = crypto.smallMessageAead
    if (key != null) this.initializeKey(key)
  }

  /**
   * The two transport states of a connection, their keys and nonces in one allocation: they live
   * as long as the connection does, and one small buffer costs less than two.
   */
  static pair (k1: Uint8Array, k2: Uint8Array, crypto: NoiseCrypto = defaultNoiseCrypto): [CipherState, CipherState] {
    const material = Buffer.alloc(2 * MATERIAL_BYTES)
    return [
      new CipherState(k1, crypto, material.subarray(0, MATERIAL_BYTES)),
      new CipherState(k2, crypto, material.subarray(MATERIAL_BYTES))
    ]
  }

  /** Sets the 32-byte key and resets the counter to zero (Noise `InitializeKey`). */
  initializeKey (key: Uint8Array): void {
    if (key.byteLength !== 32) throw new InvalidParametersError(`A ChaCha20-Poly1305 key is 32 bytes, got ${key.byteLength}`)
    this.#material.set(key, 0)
    this.#keyObject = undefined
    this.#hasKey = true
    this.setNonce(0n)
  }

  /** True once a key is set. */
  hasKey (): boolean {
    return this.#hasKey
  }

  /** The counter value the next operation will use. */
  get nonce (): bigint {
    return (BigInt(this.#nHigh) << 32n) | BigInt(this.#nLow)
  }

  /** Sets the counter (Noise `SetNonce`). Values outside 0..2^64-1 throw `InvalidParametersError`. */
  setNonce (n: bigint): void {
    if (n < 0n || n > 0xffffffffffffffffn) throw new InvalidParametersError(`A Noise nonce is a 64-bit unsigned integer, got ${n}`)
    this.#nLow = Number(n & 0xffffffffn)
    this.#nHigh = Number(n >> 32n)
    this.#material.writeUInt32LE(this.#nLow, KEY_BYTES + 4)
    this.#material.writeUInt32LE(this.#nHigh, KEY_BYTES + 8)
  }

  #checkNonce (): void {
    if (this.#nLow === MAX_UINT32 && this.#nHigh === MAX_UINT32) {
      throw new LimitExceededError('nonce', 2 ** 64 - 1, undefined, 'connection',
        'The Noise nonce is exhausted (2^64-1 messages with one key): the connection must be closed')
    }
  }

  #increment (): void {
    if (this.#nLow === MAX_UINT32) {
      this.#nLow = 0
      this.#nHigh++
      this.#material.writeUInt32LE(this.#nHigh, KEY_BYTES + 8)
    } else {
      this.#nLow++
    }
    this.#material.writeUInt32LE(this.#nLow, KEY_BYTES + 4)
  }

  /**
   * Encrypts one message with the current nonce and increments it. The key must be set.
   *
   * A plaintext given as a list is fed to the cipher piece by piece (it streams) and its ciphertext
   * comes back as a list of the per-piece outputs: nothing is concatenated.
   */
  seal (plaintext: Uint8Array | Uint8ArrayList, ad?: Uint8Array): SealedMessage {
    const length = plaintext.byteLength
    const small = this.#small
    if (small == null || length > small.maxBytes) return this.#sealWithNode(plaintext, ad)
    const out = Buffer.allocUnsafe(length + TAG_BYTES)
    this.#sealSmall(small, plaintext, out, ad)
    return { ciphertext: out.subarray(0, length), tag: out.subarray(length) }
  }

  /** `seal` on node's cipher API: a list plaintext streams, its ciphertext comes back as a list. */
  #sealWithNode (plaintext: Uint8Array | Uint8ArrayList, ad?: Uint8Array): SealedMessage {
    const material = this.#requireKey()
    this.#checkNonce()
    const cipher = newCipher(this.#nodeKey(), material)
    if (ad != null) cipher.setAAD(ad, { plaintextLength: plaintext.byteLength })
    let ciphertext: Uint8Array | Uint8ArrayList
    if (plaintext instanceof Uint8Array) {
      ciphertext = cipher.update(plaintext)
    } else {
      const list = new Uint8ArrayList()
      for (const piece of plaintext) list.append(cipher.update(piece))
      ciphertext = list
    }
    cipher.final()
    const tag = cipher.getAuthTag()
    this.#increment()
    return { ciphertext, tag }
  }

  /**
   * Encrypts one message like `seal` and writes `ciphertext || tag` (`plaintext.byteLength + 16`
   * bytes) into `target` at `offset`. A small message sealed by libsodium goes there directly; any
   * other is copied there.
   */
  sealInto (plaintext: Uint8Array | Uint8ArrayList, target: Uint8Array, offset: number, ad?: Uint8Array): void {
    const length = plaintext.byteLength
    if (offset < 0 || offset + length + TAG_BYTES > target.byteLength) {
      throw new InvalidParametersError(`${length + TAG_BYTES} bytes of sealed message do not fit at offset ${offset} of ${target.byteLength} bytes`)
    }
    const small = this.#small
    if (small != null && length <= small.maxBytes) {
      this.#sealSmall(small, plaintext, target.subarray(offset, offset + length + TAG_BYTES), ad)
      return
    }
    const { ciphertext, tag } = this.#sealWithNode(plaintext, ad)
    if (ciphertext instanceof Uint8Array) {
      target.set(ciphertext, offset)
    } else {
      let at = offset
      for (const piece of ciphertext) {
        target.set(piece, at)
        at += piece.byteLength
      }
    }
    target.set(tag, offset + length)
  }

  /** Seals a message the backend's small-message path takes, into `out` (exactly `ciphertext || tag` long). */
  #sealSmall (small: SmallMessageAead, plaintext: Uint8Array | Uint8ArrayList, out: Uint8Array, ad?: Uint8Array): void {
    const material = this.#requireKey()
    this.#checkNonce()
    small.seal(out, plaintext instanceof Uint8Array ? plaintext : plaintext.subarray(), ad,
      material.subarray(KEY_BYTES), material.subarray(0, KEY_BYTES))
    this.#increment()
  }

  /**
   * Authenticates and decrypts one message whose ciphertext may be split across several pieces,
   * each fed to the cipher in place. Nothing is returned unless the tag verifies; on failure this
   * throws `DecryptionError` and the nonce is not incremented. The key must be set; associated
   * data needs a contiguous ciphertext.
   *
   * Returns the plaintext as one `Buffer` for a contiguous ciphertext, else as a list of the
   * per-piece outputs (no concatenation).
   */
  open (ciphertext: Uint8Array | Iterable<Uint8Array>, tag: Uint8Array, ad?: Uint8Array): Uint8Array | Uint8ArrayList {
    const material = this.#requireKey()
    this.#checkNonce()
    if (ad != null && !(ciphertext instanceof Uint8Array)) {
      throw new InvalidParametersError('Associated data needs a contiguous ciphertext')
    }
    const small = this.#small
    if (small != null && ciphertext instanceof Uint8Array && ciphertext.byteLength <= small.maxBytes) {
      // Not from node's shared pool: the plaintext may be kept (views of it in decoded messages),
      // and must not hold a pool slab alive.
      const plaintext = Buffer.allocUnsafeSlow(ciphertext.byteLength)
      try {
        small.open(plaintext, ciphertext, tag, ad, material.subarray(KEY_BYTES), material.subarray(0, KEY_BYTES))
      } catch (err) {
        throw authenticationFailed(this.nonce, err)
      }
      this.#increment()
      return plaintext
    }
    let out: Uint8Array | Uint8ArrayList
    try {
      const decipher = newDecipher(this.#nodeKey(), material)
      decipher.setAuthTag(tag)
      if (ciphertext instanceof Uint8Array) {
        if (ad != null) decipher.setAAD(ad, { plaintextLength: ciphertext.byteLength })
        out = decipher.update(ciphertext)
      } else {
        const list = new Uint8ArrayList()
        for (const piece of ciphertext) list.append(decipher.update(piece))
        out = list
      }
      decipher.final()
    } catch (err) {
      throw authenticationFailed(this.nonce, err)
    }
    this.#increment()
    return out
  }

  /**
   * Noise `EncryptWithAd`: returns `ciphertext || tag` as one buffer, or the plaintext itself when
   * no key is set. Used for handshake messages.
   */
  encryptWithAd (ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    if (!this.#hasKey) return plaintext
    const out = Buffer.allocUnsafe(plaintext.byteLength + TAG_BYTES)
    this.sealInto(plaintext, out, 0, ad)
    return out
  }

  /**
   * Noise `DecryptWithAd`: authenticates and decrypts `ciphertext || tag`, or returns the input
   * when no key is set. Throws `DecryptionError` on a bad tag or a message shorter than a tag.
   */
  decryptWithAd (ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    if (!this.#hasKey) return ciphertext
    if (ciphertext.byteLength < TAG_BYTES) {
      throw new DecryptionError(`A Noise ciphertext is at least ${TAG_BYTES} bytes, got ${ciphertext.byteLength}`)
    }
    const end = ciphertext.byteLength - TAG_BYTES
    return this.open(ciphertext.subarray(0, end), ciphertext.subarray(end), ad) as Uint8Array
  }

  /**
   * Starts decrypting one message whose ciphertext arrives in pieces, without keeping them: each
   * piece is decrypted as it comes (`update`), the tag checked at the end (`finish`). Until
   * `finish` succeeds no other message may be opened or sealed with this state: the nonce is the
   * one of this message. Used for a message that straddles reads into a reused buffer, so the
   * ciphertext kept so far need not be copied.
   */
  beginOpen (): MessageOpener {
    const material = this.#requireKey()
    this.#checkNonce()
    const nonce = this.nonce
    const decipher = newDecipher(this.#nodeKey(), material)
    let finished = false
    return {
      update: (ciphertext) => {
        if (finished) throw new InvalidParametersError('The Noise message was already finished')
        return decipher.update(ciphertext)
      },
      finish: (tag) => {
        if (finished) throw new InvalidParametersError('The Noise message was already finished')
        try {
          decipher.setAuthTag(tag)
          decipher.final()
        } catch (err) {
          throw authenticationFailed(nonce, err)
        }
        finished = true
        this.#increment()
      }
    }
  }

  /** The key as a `KeyObject` for node's cipher API, made once per key (only once a key is set). */
  #nodeKey (): KeyObject {
    return (this.#keyObject ??= createSecretKey(this.#material.subarray(0, KEY_BYTES)))
  }

  /** The key and nonce bytes, once a key is set. */
  #requireKey (): Buffer {
    if (!this.#hasKey) throw new InvalidParametersError('The CipherState has no key')
    return this.#material
  }
}

/** A cipher for `key` and the nonce in `material` (see `CipherState`). */
function newCipher (key: KeyObject, material: Buffer): CipherChaCha20Poly1305 {
  return createCipheriv(CIPHER, key, material.subarray(KEY_BYTES), CIPHER_OPTIONS)
}

/** A decipher for `key` and the nonce in `material`. */
function newDecipher (key: KeyObject, material: Buffer): DecipherChaCha20Poly1305 {
  return createDecipheriv(CIPHER, key, material.subarray(KEY_BYTES), CIPHER_OPTIONS)
}

function authenticationFailed (nonce: bigint, cause: unknown): DecryptionError {
  return new DecryptionError(`Failed to authenticate the Noise message with nonce ${nonce}`, { cause })
}
