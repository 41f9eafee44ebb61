import { InvalidMessageError } from '@peerkit/interfaces'
import { peerIdFromMultihash } from '@peerkit/peer-id'
import * as varint from 'uint8-varint'
import type { PeerId } from '@peerkit/interfaces'

/** True when both arrays hold the same bytes. */
export function bytesEqual (a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true
  if (a.byteLength !== b.byteLength) return false
  for (let i = 0; i < a.byteLength; i++) {
    if (a[i] !== b[i]) return false
  }
  return true
}

/** Longest varint accepted in a multihash header (codes and lengths fit in far fewer bytes). */
const MAX_MULTIHASH_VARINT_BYTES = 4

function readVarint (bytes: Uint8Array, offset: number): { value: number, next: number } {
  for (let i = offset; i < bytes.byteLength && i < offset + MAX_MULTIHASH_VARINT_BYTES; i++) {
    if ((bytes[i] & 0x80) === 0) {
      return { value: varint.decode(bytes, offset), next: i + 1 }
    }
  }
  throw new InvalidMessageError('The peer id is not a multihash: truncated or overlong varint')
}

/**
 * Parses a PeerId from its binary form (a multihash: varint code, varint length, digest).
 *
 * @throws InvalidMessageError when the bytes are not a multihash or not a PeerId
 */
export function peerIdFromBytes (bytes: Uint8Array<ArrayBuffer>): PeerId {
  if (bytes.byteLength === 0) throw new InvalidMessageError('The peer id is empty')
  const code = readVarint(bytes, 0)
  const size = readVarint(bytes, code.next)
  if (size.next + size.value !== bytes.byteLength) {
    throw new InvalidMessageError(`The peer id is not a multihash: the digest should be ${size.value} bytes, ${bytes.byteLength - size.next} follow the header`)
  }
  try {
    return peerIdFromMultihash({ code: code.value, size: size.value, digest: bytes.subarray(size.next), bytes })
  } catch (err) {
    throw new InvalidMessageError(`Invalid peer id: ${(err as Error).message}`, { cause: err })
  }
}
