/**
 * The opt-in native backend: libsodium through the `sodium-native` package, an optional peer
 * dependency. Loaded once, the first time a Noise encrypter asks for it (`crypto: 'libsodium'`),
 * never otherwise: on the benchmark machine, merely loading the addon made bulk transfers of the
 * whole process 15–25 % more expensive in CPU (see the package README).
 *
 * Why it is worth a native dependency, measured on the benchmark machine: an X25519 key pair costs
 * 18 µs instead of 43, an agreement with a raw remote key 31 µs instead of 44 (OpenSSL needs the
 * key imported as a `KeyObject` first), and ChaCha20-Poly1305 on a message of a few hundred bytes
 * about 1 µs instead of 4–6 (node sets up a cipher object per message). OpenSSL stays faster on
 * large messages (64 KiB: 31 µs against 41), which therefore keep using node's `crypto`.
 */
import { createRequire } from 'node:module'
import { logger } from '@peerkit/utils'

/** The part of `sodium-native`'s API this package uses. Functions throw on failure. */
export interface Libsodium {
  randombytes_buf(out: Uint8Array): void
  crypto_scalarmult_base(publicKey: Uint8Array, secretKey: Uint8Array): void
  /** Throws when the shared secret is all zeros (a low-order remote point). */
  crypto_scalarmult(shared: Uint8Array, secretKey: Uint8Array, remotePublicKey: Uint8Array): void
  crypto_aead_chacha20poly1305_ietf_encrypt_detached(
    ciphertext: Uint8Array, tag: Uint8Array, plaintext: Uint8Array, ad: Uint8Array | null,
    nsec: null, nonce: Uint8Array, key: Uint8Array): void
  /** Throws when the tag does not verify. */
  crypto_aead_chacha20poly1305_ietf_decrypt_detached(
    plaintext: Uint8Array, nsec: null, ciphertext: Uint8Array, tag: Uint8Array, ad: Uint8Array | null,
    nonce: Uint8Array, key: Uint8Array): void
}

const REQUIRED: ReadonlyArray<keyof Libsodium> = [
  'randombytes_buf',
  'crypto_scalarmult_base',
  'crypto_scalarmult',
  'crypto_aead_chacha20poly1305_ietf_encrypt_detached',
  'crypto_aead_chacha20poly1305_ietf_decrypt_detached'
]

/**
 * Loads libsodium; `undefined` when `sodium-native` is not installed or does not load. Each call
 * tries again: the caller (`libsodiumCrypto`) keeps the outcome.
 */
export function loadLibsodium (): Libsodium | undefined {
  const log = logger('peerkit:noise')
  try {
    const mod = createRequire(import.meta.url)('sodium-native') as Partial<Libsodium>
    const missing = REQUIRED.filter(name => typeof mod[name] !== 'function')
    if (missing.length > 0) {
      log('sodium-native lacks %s', missing.join(', '))
      return undefined
    }
    return mod as Libsodium
  } catch (err) {
    log('sodium-native is not available: %s', (err as Error).message)
    return undefined
  }
}
