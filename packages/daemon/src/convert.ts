import { multiaddr } from '@multiformats/multiaddr'
import { InvalidMessageError, InvalidPeerIdError } from '@peerkit/interfaces'
import { peerIdFromMultihash } from '@peerkit/peer-id'
import * as varint from 'uint8-varint'
import type { PeerId } from '@peerkit/interfaces'
import type { Multiaddr } from '@multiformats/multiaddr'

/**
 * A PeerId from its binary multihash, as carried in every daemon message.
 *
 * @throws InvalidPeerIdError when the bytes are missing or are not a PeerId multihash
 */
export function peerIdFromBytes (bytes: Uint8Array | undefined, field: string): PeerId {
  if (bytes == null || bytes.byteLength === 0) throw new InvalidPeerIdError(`Missing ${field}`)
  let code: number
  let codeLength: number
  let size: number
  let sizeLength: number
  try {
    code = varint.decode(bytes)
    codeLength = varint.encodingLength(code)
    size = varint.decode(bytes, codeLength)
    sizeLength = varint.encodingLength(size)
  } catch (err) {
    throw new InvalidPeerIdError(`${field} is not a multihash: ${(err as Error).message}`, undefined, { cause: err })
  }
  const offset = codeLength + sizeLength
  if (bytes.byteLength !== offset + size) {
    throw new InvalidPeerIdError(`${field} is not a multihash: digest of ${bytes.byteLength - offset} bytes, ${size} announced`)
  }
  // peerIdFromMultihash copies what it keeps; the views only need to live through the call.
  const view = bytes as Uint8Array<ArrayBuffer>
  const digest: Parameters<typeof peerIdFromMultihash>[0] = { code, size, digest: view.subarray(offset), bytes: view }
  return peerIdFromMultihash(digest)
}

/**
 * A multiaddr from its binary form.
 *
 * @throws InvalidMessageError when the bytes are not a valid multiaddr
 */
export function multiaddrFromBytes (bytes: Uint8Array | undefined, field: string): Multiaddr {
  if (bytes == null || bytes.byteLength === 0) throw new InvalidMessageError(`Missing ${field}`)
  try {
    return multiaddr(bytes)
  } catch (err) {
    throw new InvalidMessageError(`${field} is not a valid multiaddr: ${(err as Error).message}`, { cause: err })
  }
}
