/**
 * Small byte helpers shared by the key implementations.
 */
import { createHash } from 'node:crypto'
import type { Hash, Sign, Verify } from 'node:crypto'
import type { SignableData } from '@peerkit/interfaces'

/** Anything that accepts incremental input: a hash, a signer or a verifier. */
type Updatable = Hash | Sign | Verify

/**
 * Feeds `data` to `target` chunk by chunk, so a `Uint8ArrayList` is never concatenated.
 */
export function updateWith<T extends Updatable> (target: T, data: SignableData): T {
  if (data instanceof Uint8Array) {
    target.update(data)
  } else {
    for (const chunk of data) {
      target.update(chunk)
    }
  }
  return target
}

/**
 * The SHA-256 digest of `data`, computed with node's native implementation. A `Uint8ArrayList` is
 * hashed chunk by chunk without being concatenated.
 */
export function sha256 (data: SignableData): Uint8Array {
  return toUint8Array(updateWith(createHash('sha256'), data).digest())
}

/** Returns the bytes of `data` as one contiguous array, copying only when there are several chunks. */
export function contiguous (data: SignableData): Uint8Array {
  return data instanceof Uint8Array ? data : data.subarray()
}

/** A plain `Uint8Array` view of a node `Buffer` (no copy). */
export function toUint8Array (buf: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(buf) === Uint8Array.prototype ? buf : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
}

/** A fresh copy of `buf` in its own `ArrayBuffer`, so later changes to the caller's bytes do not reach us. */
export function copyBytes (buf: Uint8Array): Uint8Array {
  const out = new Uint8Array(buf.byteLength)
  out.set(buf)
  return out
}

/** Byte-wise equality. Not constant-time: it is used on public keys, ids and encodings only. */
export function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) {
    return true
  }
  if (a.byteLength !== b.byteLength) {
    return false
  }
  for (let i = 0; i < a.byteLength; i++) {
    if (a[i] !== b[i]) {
      return false
    }
  }
  return true
}

/** Concatenates byte arrays into a fresh one. */
export function concatBytes (...parts: Uint8Array[]): Uint8Array {
  let length = 0
  for (const p of parts) {
    length += p.byteLength
  }
  const out = new Uint8Array(length)
  let offset = 0
  for (const p of parts) {
    out.set(p, offset)
    offset += p.byteLength
  }
  return out
}

/**
 * Left-pads a big-endian unsigned number to `length` bytes. Throws a `RangeError` when it does not
 * fit (after dropping leading zero bytes).
 */
export function leftPad (buf: Uint8Array, length: number): Uint8Array {
  let start = 0
  while (start < buf.byteLength - length && buf[start] === 0) {
    start++
  }
  const significant = buf.subarray(start)
  if (significant.byteLength > length) {
    throw new RangeError(`value of ${significant.byteLength} bytes does not fit in ${length} bytes`)
  }
  const out = new Uint8Array(length)
  out.set(significant, length - significant.byteLength)
  return out
}

/** Big-endian unsigned bytes to a bigint. */
export function bytesToBigInt (buf: Uint8Array): bigint {
  let hex = ''
  for (const b of buf) {
    hex += b.toString(16).padStart(2, '0')
  }
  return hex === '' ? 0n : BigInt('0x' + hex)
}

/** A non-negative bigint to big-endian bytes, left-padded to `length`. */
export function bigIntToBytes (value: bigint, length: number): Uint8Array {
  const hex = value.toString(16).padStart(length * 2, '0')
  if (hex.length > length * 2) {
    throw new RangeError(`value does not fit in ${length} bytes`)
  }
  return Uint8Array.from(Buffer.from(hex, 'hex'))
}

/** Base64url (no padding) text of `buf`, as used in JWK members. */
export function toBase64Url (buf: Uint8Array): string {
  return Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString('base64url')
}

/** Bytes of a base64url JWK member. */
export function fromBase64Url (str: string | undefined): Uint8Array {
  return toUint8Array(Buffer.from(str ?? '', 'base64url'))
}

/** A `Buffer` view of `buf` without copying, for node APIs that want one. */
export function asBuffer (buf: Uint8Array): Buffer {
  return Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
}

/** Describes an unknown thrown value for an error message. */
export function describe (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
