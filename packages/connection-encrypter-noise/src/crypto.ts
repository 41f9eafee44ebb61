/**
 * The Noise cipher suite `25519_ChaChaPoly_SHA256`: X25519, SHA-256 and HKDF on node's `crypto`
 * (OpenSSL), and the two backends a handshake can take its X25519 (and small-message
 * ChaCha20-Poly1305) from: node's `crypto` (the default), or libsodium (opt-in, `sodium-native`).
 * ChaCha20-Poly1305 itself lives in `cipher-state.ts`.
 */
import { createHash, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, KeyObject } from 'node:crypto'
import { importPrivateKeyObject, importPublicKeyObject, withoutStackCapture } from '@peerkit/crypto'
import { InvalidKeyError, InvalidParametersError } from '@peerkit/interfaces'
import { DH_BYTES, TAG_BYTES } from './constants.js'
import { loadLibsodium } from './libsodium.js'
import type { Libsodium } from './libsodium.js'

// DER header of an X25519 private key (OID 1.3.101.110) in PKCS#8 form; the raw 32-byte key follows.
const PKCS8_X25519_HEADER = Buffer.from('302e020100300506032b656e04220420', 'hex')
const NO_INFO = new Uint8Array(0)

/** An X25519 key pair: raw keys (RFC 7748 encoding), and for node's keys the private key as a `KeyObject`. */
export interface X25519KeyPair {
  /** The 32-byte public key. */
  readonly publicKey: Uint8Array
  /** The 32-byte private key. */
  readonly privateKey: Uint8Array
  /** The private key prepared for node's `diffieHellman` (key pairs made by node's backend). */
  readonly keyObject?: KeyObject
}

/**
 * A key pair made by `generateX25519KeyPair`: the raw private key is exported only if someone asks
 * for it (the handshake never does), which saves an export per connection.
 */
class GeneratedX25519KeyPair implements X25519KeyPair {
  readonly publicKey: Uint8Array
  readonly keyObject: KeyObject
  #privateKey?: Uint8Array

  constructor (publicKey: Uint8Array, keyObject: KeyObject) {
    this.publicKey = publicKey
    this.keyObject = keyObject
  }

  get privateKey (): Uint8Array {
    // DER, not JWK: see generateX25519KeyPair for why a generated key is not exported as JWK.
    if (this.#privateKey == null) {
      const der = this.keyObject.export({ format: 'der', type: 'pkcs8' })
      if (der.byteLength !== PKCS8_X25519_HEADER.byteLength + DH_BYTES || !der.subarray(0, PKCS8_X25519_HEADER.byteLength).equals(PKCS8_X25519_HEADER)) {
        throw new InvalidKeyError('OpenSSL exported an X25519 private key in an unexpected form')
      }
      this.#privateKey = Uint8Array.from(der.subarray(PKCS8_X25519_HEADER.byteLength))
    }
    return this.#privateKey
  }
}

/**
 * Generates a fresh X25519 key pair from the system CSPRNG. Keys cross the OpenSSL boundary as JWK,
 * not DER: OpenSSL 3 parses and writes JWK's raw base64url several times faster than DER
 * structures (a few µs instead of tens per key).
 *
 * The public key is exported by the generation itself (`publicKeyEncoding`), not by a later
 * `publicKey.export()`. On Node.js 20 that later export can hang the process for good: it holds
 * the key's lock while it allocates, and if that allocation runs a garbage collection which
 * destroys the (already unreferenced) generation job of the same key, the job's destructor waits
 * for that lock on the same thread. Seen once in ~10,000 generations in a tight loop.
 */
export function generateX25519KeyPair (): X25519KeyPair {
  // Node.js types lack the overload for a JWK public key with a KeyObject private key.
  const { publicKey, privateKey } = (generateKeyPairSync as (type: 'x25519', options: object) => { publicKey: JsonWebKey, privateKey: KeyObject })(
    'x25519', { publicKeyEncoding: { format: 'jwk' } })
  return new GeneratedX25519KeyPair(fromBase64Url(publicKey.x), privateKey)
}

function fromBase64Url (value: string | undefined): Uint8Array {
  if (value == null) throw new InvalidKeyError('OpenSSL exported an X25519 key without its key material')
  const bytes = Buffer.from(value, 'base64url')
  if (bytes.byteLength !== DH_BYTES) throw new InvalidKeyError(`An X25519 key is ${DH_BYTES} bytes, got ${bytes.byteLength}`)
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/**
 * Builds a key pair from a raw 32-byte X25519 private key (any 32 bytes are valid: the scalar is
 * clamped when used). Throws `InvalidParametersError` for a wrong length.
 */
export function x25519KeyPairFromPrivateKey (privateKey: Uint8Array): X25519KeyPair {
  if (privateKey.byteLength !== DH_BYTES) {
    throw new InvalidParametersError(`An X25519 private key is ${DH_BYTES} bytes, got ${privateKey.byteLength}`)
  }
  const keyObject = importPrivateKeyObject({
    key: Buffer.concat([PKCS8_X25519_HEADER, privateKey]),
    format: 'der',
    type: 'pkcs8'
  })
  return { privateKey: Uint8Array.from(privateKey), publicKey: rawPublicKey(keyObject), keyObject }
}

// Key pairs made elsewhere (by libsodium's backend) get their KeyObject once, when node's backend first uses them.
const keyObjects = new WeakMap<X25519KeyPair, KeyObject>()

function privateKeyObject (keyPair: X25519KeyPair): KeyObject {
  if (keyPair.keyObject != null) return keyPair.keyObject
  let keyObject = keyObjects.get(keyPair)
  if (keyObject == null) {
    keyObject = x25519KeyPairFromPrivateKey(keyPair.privateKey).keyObject as KeyObject
    keyObjects.set(keyPair, keyObject)
  }
  return keyObject
}

function rawPublicKey (privateKey: KeyObject): Uint8Array {
  return fromBase64Url(createPublicKey(privateKey).export({ format: 'jwk' }).x)
}

/**
 * X25519 (RFC 7748) between our key pair and a remote 32-byte public key. Throws `InvalidKeyError`
 * when the public key has the wrong length or is a low-order point (the shared secret would be
 * all zeros; OpenSSL refuses it, which the Noise specification allows).
 */
export function dh (keyPair: X25519KeyPair, remotePublicKey: Uint8Array | KeyObject): Buffer {
  const publicKey = remotePublicKey instanceof Uint8Array ? importX25519PublicKey(remotePublicKey) : remotePublicKey
  try {
    return diffieHellman({ privateKey: privateKeyObject(keyPair), publicKey })
  } catch (err) {
    throw new InvalidKeyError('X25519 key agreement failed: the remote public key is invalid', { cause: err })
  }
}

/**
 * A raw 32-byte X25519 public key as a node `KeyObject`, for a key that takes part in more than
 * one agreement. Throws `InvalidKeyError` for a wrong length or a key OpenSSL refuses.
 *
 * Two imports per handshake, each without stack capture: on Node.js 24.18–24.21 a JWK import
 * otherwise costs about 40 µs more (see `withoutStackCapture` in `@peerkit/crypto`, which
 * `importPublicKeyObject` uses).
 */
export function importX25519PublicKey (remotePublicKey: Uint8Array): KeyObject {
  if (remotePublicKey.byteLength !== DH_BYTES) {
    throw new InvalidKeyError(`An X25519 public key is ${DH_BYTES} bytes, got ${remotePublicKey.byteLength}`)
  }
  const jwk = { kty: 'OKP', crv: 'X25519', x: Buffer.from(remotePublicKey.buffer, remotePublicKey.byteOffset, remotePublicKey.byteLength).toString('base64url') }
  try {
    return importPublicKeyObject({ key: jwk, format: 'jwk' })
  } catch (err) {
    throw new InvalidKeyError('X25519 key agreement failed: the remote public key is invalid', { cause: err })
  }
}

/** SHA-256 over the concatenation of `parts`, without concatenating them first. */
export function sha256 (...parts: Uint8Array[]): Buffer {
  const hash = createHash('sha256')
  for (const part of parts) hash.update(part)
  return hash.digest()
}

/**
 * The Noise `HKDF(chaining_key, input_key_material, 2)` function, returning two 32-byte outputs:
 * `temp = HMAC(ck, ikm); out1 = HMAC(temp, 0x01); out2 = HMAC(temp, out1 || 0x02)`.
 *
 * That is RFC 5869 HKDF with the chaining key as salt and no info, for 64 bytes: one `hkdfSync`
 * call. Three `createHmac` calls with raw keys measured slightly faster on Node.js 20 and 22
 * (12.8 against 15.2 µs), but Node.js 24.18–24.21 capture a stack trace for every raw key handed
 * to a function that also takes a `KeyObject` (75 against 19 µs per call on 24.21); on Node.js 26
 * the single call is the faster one (7 against 12 µs). The call runs without stack capture (see
 * `withoutStackCapture` in `@peerkit/crypto`): 14.6 against 7.5 µs on 24.21.
 */
export function hkdf2 (chainingKey: Uint8Array, inputKeyMaterial: Uint8Array): [Buffer, Buffer] {
  const out = Buffer.from(withoutStackCapture(() => hkdfSync('sha256', inputKeyMaterial, chainingKey, NO_INFO, 64)))
  return [out.subarray(0, 32), out.subarray(32)]
}

/** A remote X25519 public key prepared for one or more agreements by `NoiseCrypto.importPublicKey`. */
export type X25519PublicKey = KeyObject | Uint8Array

/**
 * ChaCha20-Poly1305 (RFC 8439) on small contiguous messages, for a backend that is faster on them
 * than node's cipher objects. Node's `crypto` keeps every other message.
 */
export interface SmallMessageAead {
  /** The longest plaintext (and ciphertext) this path takes, in bytes. */
  readonly maxBytes: number
  /** Writes `ciphertext || tag` (`plaintext.byteLength + 16` bytes) to the start of `out`. */
  seal(out: Uint8Array, plaintext: Uint8Array, ad: Uint8Array | undefined, nonce: Uint8Array, key: Uint8Array): void
  /** Writes the plaintext to `out` (as long as `ciphertext`); throws when the tag does not verify. */
  open(out: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array, ad: Uint8Array | undefined, nonce: Uint8Array, key: Uint8Array): void
}

/** The backend names `NoiseInit.crypto` accepts. */
export type NoiseCryptoName = 'libsodium' | 'node'

/**
 * Where a handshake's X25519, and the sealing and opening of small messages, come from. Both
 * backends compute the same functions (RFC 7748, RFC 8439), so peers using either interoperate;
 * the choice is one of speed only.
 */
export interface NoiseCrypto {
  readonly name: NoiseCryptoName
  /** A fresh key pair from the system CSPRNG. */
  generateKeyPair(): X25519KeyPair
  /** The key pair of a raw 32-byte private key; `InvalidParametersError` for a wrong length. */
  keyPairFromPrivateKey(privateKey: Uint8Array): X25519KeyPair
  /** A remote key prepared for agreements; `InvalidKeyError` for a wrong length or a key refused. */
  importPublicKey(remotePublicKey: Uint8Array): X25519PublicKey
  /** X25519; `InvalidKeyError` for a wrong-length or low-order remote key. */
  dh(keyPair: X25519KeyPair, remotePublicKey: X25519PublicKey): Uint8Array
  /** Present when this backend seals and opens small messages faster than node's `crypto`. */
  readonly smallMessageAead?: SmallMessageAead
}

/** X25519 on node's `crypto` (OpenSSL), keys crossing the boundary as JWK. */
export const nodeCrypto: NoiseCrypto = Object.freeze({
  name: 'node',
  generateKeyPair: generateX25519KeyPair,
  keyPairFromPrivateKey: x25519KeyPairFromPrivateKey,
  importPublicKey: importX25519PublicKey,
  dh
})

/**
 * Messages up to this many bytes are sealed and opened by libsodium: measured per message, libsodium
 * 1.1–1.4 µs against node's 4–5 µs up to 1 KiB, 5.7 against 8.5 µs at 4 KiB, even at 16 KiB, and
 * slower above. 4 KiB also keeps a sealed message within node's shared allocation pool.
 */
const LIBSODIUM_AEAD_MAX_BYTES = 4096

function libsodiumBackend (sodium: Libsodium): NoiseCrypto {
  const keyPairOf = (privateKey: Uint8Array, publicKey: Uint8Array): X25519KeyPair => {
    sodium.crypto_scalarmult_base(publicKey, privateKey)
    return { publicKey, privateKey }
  }
  const checkLength = (key: Uint8Array): void => {
    if (key.byteLength !== DH_BYTES) throw new InvalidKeyError(`An X25519 public key is ${DH_BYTES} bytes, got ${key.byteLength}`)
  }
  return Object.freeze({
    name: 'libsodium',
    generateKeyPair (): X25519KeyPair {
      // One allocation for both keys: private key in bytes 0-31, public key in 32-63.
      const keys = new Uint8Array(2 * DH_BYTES)
      const privateKey = keys.subarray(0, DH_BYTES)
      sodium.randombytes_buf(privateKey)
      return keyPairOf(privateKey, keys.subarray(DH_BYTES))
    },
    keyPairFromPrivateKey (privateKey: Uint8Array): X25519KeyPair {
      if (privateKey.byteLength !== DH_BYTES) {
        throw new InvalidParametersError(`An X25519 private key is ${DH_BYTES} bytes, got ${privateKey.byteLength}`)
      }
      return keyPairOf(Uint8Array.from(privateKey), new Uint8Array(DH_BYTES))
    },
    importPublicKey (remotePublicKey: Uint8Array): X25519PublicKey {
      // libsodium takes the raw key as it is: nothing to prepare.
      checkLength(remotePublicKey)
      return remotePublicKey
    },
    dh (keyPair: X25519KeyPair, remotePublicKey: X25519PublicKey): Uint8Array {
      const remote = remotePublicKey instanceof KeyObject
        ? fromBase64Url(remotePublicKey.export({ format: 'jwk' }).x)
        : remotePublicKey
      checkLength(remote)
      const shared = Buffer.allocUnsafe(DH_BYTES)
      try {
        sodium.crypto_scalarmult(shared, keyPair.privateKey, remote)
      } catch (err) {
        // libsodium refuses an all-zero result: the remote key is a low-order point.
        throw new InvalidKeyError('X25519 key agreement failed: the remote public key is invalid', { cause: err })
      }
      return shared
    },
    smallMessageAead: Object.freeze({
      maxBytes: LIBSODIUM_AEAD_MAX_BYTES,
      seal (out: Uint8Array, plaintext: Uint8Array, ad: Uint8Array | undefined, nonce: Uint8Array, key: Uint8Array): void {
        const length = plaintext.byteLength
        sodium.crypto_aead_chacha20poly1305_ietf_encrypt_detached(
          out.subarray(0, length), out.subarray(length, length + TAG_BYTES), plaintext, ad ?? null, null, nonce, key)
      },
      open (out: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array, ad: Uint8Array | undefined, nonce: Uint8Array, key: Uint8Array): void {
        sodium.crypto_aead_chacha20poly1305_ietf_decrypt_detached(out, null, ciphertext, tag, ad ?? null, nonce, key)
      }
    })
  })
}

// The outcome of the one attempt to load libsodium: its backend, null when it did not load.
let libsodiumOutcome: NoiseCrypto | null | undefined

/**
 * libsodium's backend, loading `sodium-native` on the first call; `undefined` when it is not
 * installed or does not load.
 */
export function libsodiumCrypto (): NoiseCrypto | undefined {
  if (libsodiumOutcome === undefined) {
    const sodium = loadLibsodium()
    libsodiumOutcome = sodium == null ? null : libsodiumBackend(sodium)
  }
  return libsodiumOutcome ?? undefined
}

/** The backend used when none is named: node's `crypto`. */
export const defaultNoiseCrypto: NoiseCrypto = nodeCrypto

/**
 * The backend called `name`, or the default one (node's). Throws `InvalidParametersError` for an
 * unknown name, or for `'libsodium'` when `sodium-native` is not installed or does not load.
 */
export function noiseCrypto (name?: NoiseCryptoName): NoiseCrypto {
  if (name == null || name === 'node') return nodeCrypto
  if (name === 'libsodium') {
    const backend = libsodiumCrypto()
    if (backend == null) {
      throw new InvalidParametersError('crypto: \'libsodium\' needs sodium-native (npm install sodium-native), which is not installed or does not load on this platform')
    }
    return backend
  }
  throw new InvalidParametersError(`crypto must be 'libsodium' or 'node', got ${String(name)}`)
}
