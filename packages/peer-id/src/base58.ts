/**
 * base58btc encoding of short byte strings (multihashes), producing a flat string.
 *
 * `multiformats`' encoder builds its result by appending one character at a time, which leaves a
 * rope of ~50 cons-strings (about 1.6 KiB) behind every PeerId whose text was asked for; this one
 * writes the characters into a byte array and decodes it once.
 */
const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
const ALPHABET_CODES = Uint8Array.from(ALPHABET, c => c.charCodeAt(0))
const LATIN1 = new TextDecoder('latin1')

/** Encodes `bytes` as base58btc (Bitcoin alphabet, leading zero bytes as `1`s). */
export function base58btcEncode (bytes: Uint8Array): string {
  let zeros = 0
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++
  // log(256) / log(58) ≈ 1.366: upper bound of the digits needed.
  const size = Math.ceil((bytes.length - zeros) * 1.366) + 1
  const digits = new Uint8Array(size)
  let length = 0
  for (let i = zeros; i < bytes.length; i++) {
    let carry = bytes[i]
    let j = 0
    for (let k = size - 1; (carry !== 0 || j < length) && k >= 0; k--, j++) {
      carry += 256 * digits[k]
      digits[k] = carry % 58
      carry = (carry / 58) | 0
    }
    length = j
  }
  const out = new Uint8Array(zeros + length)
  out.fill(ALPHABET_CODES[0], 0, zeros)
  for (let i = 0; i < length; i++) out[zeros + i] = ALPHABET_CODES[digits[size - length + i]]
  return LATIN1.decode(out)
}
