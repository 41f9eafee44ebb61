/**
 * The little ASN.1 DER the key encodings need: building SubjectPublicKeyInfo and SEC1 structures
 * for EC keys, and strict reading of ECDSA signatures and key headers. Lengths must be minimal and
 * elements must not run past their parent; anything else is rejected with a `RangeError` that the
 * callers turn into typed errors.
 */
import { concatBytes } from './util.js'

/** DER tags used here. */
export const TAG_INTEGER = 0x02
export const TAG_BIT_STRING = 0x03
export const TAG_OCTET_STRING = 0x04
export const TAG_OID = 0x06
export const TAG_SEQUENCE = 0x30
/** Context-specific constructed tags `[0]` and `[1]`. */
export const TAG_CONTEXT_0 = 0xa0
export const TAG_CONTEXT_1 = 0xa1

/** Encodes a DER length. */
export function encodeLength (length: number): Uint8Array {
  if (length < 0x80) {
    return Uint8Array.of(length)
  }
  const bytes: number[] = []
  let rest = length
  while (rest > 0) {
    bytes.unshift(rest & 0xff)
    rest = Math.floor(rest / 256)
  }
  return Uint8Array.from([0x80 | bytes.length, ...bytes])
}

/** Encodes one element: tag, length, then the concatenated contents. */
export function encodeElement (tag: number, ...contents: Uint8Array[]): Uint8Array {
  const body = contents.length === 1 ? contents[0] : concatBytes(...contents)
  return concatBytes(Uint8Array.of(tag), encodeLength(body.byteLength), body)
}

/** Encodes a non-negative INTEGER from big-endian unsigned bytes (leading zeros are dropped). */
export function encodeUnsignedInteger (value: Uint8Array): Uint8Array {
  let start = 0
  while (start < value.byteLength - 1 && value[start] === 0) {
    start++
  }
  const significant = value.subarray(start)
  if (significant.byteLength === 0) {
    return Uint8Array.of(TAG_INTEGER, 1, 0)
  }
  return (significant[0] & 0x80) !== 0
    ? encodeElement(TAG_INTEGER, Uint8Array.of(0), significant)
    : encodeElement(TAG_INTEGER, significant)
}

/** One decoded element: its tag, contents, and the offset just past it. */
export interface DerElement {
  tag: number
  contents: Uint8Array
  end: number
}

/**
 * Reads the element starting at `offset` in `buf`, requiring the minimal length form and that it
 * fits inside `limit` (default: the end of `buf`). Throws a `RangeError` otherwise.
 */
export function readElement (buf: Uint8Array, offset = 0, limit = buf.byteLength): DerElement {
  if (offset + 2 > limit) {
    throw new RangeError('DER element truncated')
  }
  const tag = buf[offset]
  if ((tag & 0x1f) === 0x1f) {
    throw new RangeError('DER multi-byte tags are not supported')
  }
  let pos = offset + 1
  const first = buf[pos++]
  let length: number
  if (first < 0x80) {
    length = first
  } else {
    const count = first & 0x7f
    if (count === 0) {
      throw new RangeError('DER indefinite lengths are not allowed')
    }
    if (count > 4) {
      throw new RangeError('DER length too large')
    }
    if (pos + count > limit) {
      throw new RangeError('DER length truncated')
    }
    if (buf[pos] === 0) {
      throw new RangeError('DER length is not minimally encoded')
    }
    length = 0
    for (let i = 0; i < count; i++) {
      length = length * 256 + buf[pos++]
    }
    if (length < 0x80) {
      throw new RangeError('DER length is not minimally encoded')
    }
  }
  if (pos + length > limit) {
    throw new RangeError('DER element runs past its container')
  }
  return { tag, contents: buf.subarray(pos, pos + length), end: pos + length }
}

/**
 * Reads a non-negative DER INTEGER's contents as big-endian unsigned bytes, rejecting negative values
 * and non-minimal encodings.
 */
export function readUnsignedInteger (element: DerElement): Uint8Array {
  const c = element.contents
  if (element.tag !== TAG_INTEGER) {
    throw new RangeError(`expected INTEGER, got tag 0x${element.tag.toString(16)}`)
  }
  if (c.byteLength === 0) {
    throw new RangeError('empty INTEGER')
  }
  if ((c[0] & 0x80) !== 0) {
    throw new RangeError('negative INTEGER')
  }
  if (c.byteLength > 1 && c[0] === 0 && (c[1] & 0x80) === 0) {
    throw new RangeError('INTEGER is not minimally encoded')
  }
  return c[0] === 0 && c.byteLength > 1 ? c.subarray(1) : c
}

/**
 * Throws a `RangeError` unless `buf` is exactly one DER element (nothing before or after it).
 */
export function assertSingleElement (buf: Uint8Array): void {
  const element = readElement(buf)
  if (element.end !== buf.byteLength) {
    throw new RangeError(`${buf.byteLength - element.end} unexpected bytes after the DER element`)
  }
}
