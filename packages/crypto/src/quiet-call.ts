import { createPrivateKey, createPublicKey } from 'node:crypto'
import type { JsonWebKeyInput, KeyObject, PrivateKeyInput, PublicKeyInput } from 'node:crypto'

/**
 * Calls into node's `crypto` without V8 capturing stack traces for the errors node throws and
 * catches inside the call.
 *
 * Node.js 24.18 to 24.21 (at least) tell a `KeyObject` or `CryptoKey` from any other argument by
 * reading a private field inside `try`/`catch`. For every other object (a `Buffer`, a JWK, an
 * options object) that read throws a `TypeError`, and V8 captures a stack trace for it before
 * the `catch` drops it. `createPublicKey` with a JWK or DER input does this four times and
 * `hkdfSync` with a `Buffer` key once. Measured on this project's development VM, 20 frames deep:
 * an X25519 JWK import took 48.9 µs on 24.21 and 8.6 µs with capture off; `hkdfSync` 14.6 and
 * 7.5 µs. Node.js 20, 22, 24.17, 25 and 26 do not pay it, and there the wrapper costs nothing
 * measurable.
 *
 * Only synchronous calls belong here: `Error.stackTraceLimit` is set to 0 for the call and set
 * back before this function returns or throws, so no other code runs while it is 0. Errors that
 * escape `fn` carry no stack of their own; callers wrap them in a typed error with `cause`.
 * Where `Error.stackTraceLimit` cannot be written (a frozen `Error`), `fn` simply runs.
 */
export function withoutStackCapture<T> (fn: () => T): T {
  const limit = Error.stackTraceLimit
  try {
    Error.stackTraceLimit = 0
  } catch {
    return fn()
  }
  try {
    return fn()
  } finally {
    Error.stackTraceLimit = limit
  }
}

/**
 * Node's `createPublicKey` for a key given as bytes (DER, PEM) or JWK, without stack capture: every
 * public key import of this package, and of the Noise package, goes through here.
 */
export function importPublicKeyObject (input: PublicKeyInput | JsonWebKeyInput): KeyObject {
  return withoutStackCapture(() => createPublicKey(input))
}

/** Node's `createPrivateKey` for a key given as bytes or JWK, without stack capture (as {@link importPublicKeyObject}). */
export function importPrivateKeyObject (input: PrivateKeyInput | JsonWebKeyInput): KeyObject {
  return withoutStackCapture(() => createPrivateKey(input))
}
