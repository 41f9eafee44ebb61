/**
 * Helpers for testing a muxer that hands out chunks of their own (`ownedChunks` in peerkit's yamux
 * and mplex): feed it the way a socket reading into one reused buffer does, and check what its
 * streams yield.
 */
import assert from 'node:assert/strict'
import { MAX_OWNED_PIECE_BYTES, MIN_FREED_BUFFER_BYTES, freeChunk } from '@peerkit/utils'
import { Uint8ArrayList } from 'uint8arraylist'
import type { ByteChannelReceiver } from '@peerkit/interfaces'

/**
 * Feeds `bytes` to `receiver` the way a socket reading into one reused buffer does: in pieces cut
 * at `cuts` (ascending offsets), each handed over as a view of the same buffer, which is
 * overwritten as soon as `onData` returns.
 */
export function feedThroughReusedBuffer (receiver: ByteChannelReceiver, bytes: Uint8Array, cuts: number[]): void {
  const shared = new Uint8Array(bytes.byteLength)
  let start = 0
  for (const end of [...cuts, bytes.byteLength]) {
    shared.set(bytes.subarray(start, end))
    receiver.onData(shared.subarray(0, end - start))
    shared.fill(0xaa)
    start = end
  }
}

/**
 * Reads `source` to its end as an application that frees each chunk once done with it
 * (`freeChunk`), after asserting that every piece is at most `MAX_OWNED_PIECE_BYTES` long and that
 * each piece of `MIN_FREED_BUFFER_BYTES` or more spans a buffer of its own, shared with no other
 * piece. Returns the bytes read (copied before anything was freed) and how many were freed.
 */
export async function readFreeingChunks (source: AsyncIterable<Uint8Array | Uint8ArrayList>): Promise<{ received: Uint8Array, freed: number }> {
  const received = new Uint8ArrayList()
  const buffers = new Set<ArrayBufferLike>()
  let freed = 0
  for await (const chunk of source) {
    const list = new Uint8ArrayList(chunk)
    // Copied before anything is freed: freeing must not touch what comes later.
    received.append(list.slice())
    for (const piece of list) {
      assert.ok(piece.byteLength <= MAX_OWNED_PIECE_BYTES, `a piece of ${piece.byteLength} bytes`)
      if (piece.byteLength < MIN_FREED_BUFFER_BYTES) continue
      assert.equal(piece.byteOffset, 0, 'a long piece starts its buffer')
      assert.equal(piece.buffer.byteLength, piece.byteLength, 'a long piece spans its own buffer')
      assert.equal(buffers.has(piece.buffer), false, 'no two pieces share a buffer')
      buffers.add(piece.buffer)
    }
    freed += freeChunk(chunk)
  }
  return { received: received.subarray(), freed }
}
