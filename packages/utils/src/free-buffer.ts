/**
 * Giving a buffer's memory back at once, instead of at the next garbage collection.
 *
 * The memory behind a large `Uint8Array` lives outside V8's heap, and V8 counts every such byte
 * allocated since its last full collection against the old generation's limit. A process that
 * encrypts a bulk transfer allocates one such buffer per Noise message and drops it as soon as the
 * socket has written it: tens of megabytes that wait for the next scavenge to be freed, and push a
 * process with a small live heap into full collections. Detaching the `ArrayBuffer` frees the
 * memory and V8's count of it immediately.
 */
import * as workerThreads from 'node:worker_threads'
import { Uint8ArrayList } from 'uint8arraylist'
import type { MessagePort } from 'node:worker_threads'

/**
 * Buffers smaller than this are left to the collector: node's `Buffer` pool hands out slices of
 * 8 KiB pages for requests under 4 KiB, and small buffers cost the collector little.
 */
export const MIN_FREED_BUFFER_BYTES = 4096

type Transferable = ArrayBuffer & { transfer?: (newLength?: number) => ArrayBuffer }

/**
 * A port whose channel is closed: a message posted to it is serialized, which detaches the
 * `ArrayBuffer`s in its transfer list, and then dropped, which frees their memory. The route for
 * Node.js releases without `ArrayBuffer.prototype.transfer` (20); created on first use.
 */
let closedPort: MessagePort | undefined

function detachByPostMessage (buffer: ArrayBuffer): void {
  if (closedPort == null) {
    const { port1, port2 } = new workerThreads.MessageChannel()
    port1.close()
    port2.close()
    closedPort = port1
  }
  closedPort.postMessage(buffer, [buffer])
}

const hasTransfer = typeof (ArrayBuffer.prototype as Transferable).transfer === 'function'

/**
 * Node.js 21 and later say whether a buffer was marked untransferable (`transfer` ignores the mark
 * on some of them); Node.js 20's message route respects the mark on its own.
 */
const isMarkedAsUntransferable = (workerThreads as { isMarkedAsUntransferable?: (value: unknown) => boolean }).isMarkedAsUntransferable

/**
 * Detaches `buffer`, freeing its memory: by `ArrayBuffer.prototype.transfer(0)` where the runtime
 * has it, else by posting it to a closed message port (`via` picks one, for tests). Throws when
 * the buffer cannot be detached; Node.js 20's port copies an untransferable buffer instead, so
 * check `buffer.byteLength` afterwards.
 */
export function detachArrayBuffer (buffer: ArrayBuffer, via: 'transfer' | 'message' = hasTransfer ? 'transfer' : 'message'): void {
  const transfer = (buffer as Transferable).transfer
  if (via === 'transfer' && transfer != null) {
    transfer.call(buffer, 0)
  } else {
    detachByPostMessage(buffer)
  }
}

/**
 * Frees the memory behind `buf` now by detaching its `ArrayBuffer`: afterwards `buf`, and every
 * other view of that `ArrayBuffer`, reads as empty. Only for a buffer the caller allocated or was
 * given to own, that nothing else (a socket's pending write, an application's chunk) still reads.
 *
 * Does nothing and returns `false` unless `buf` spans its whole `ArrayBuffer` (a view into a larger
 * one, such as a slice of node's `Buffer` pool, is never touched), the buffer holds at least
 * {@link MIN_FREED_BUFFER_BYTES}, and the `ArrayBuffer` can be detached (not shared, not already
 * detached, not marked untransferable). Never throws.
 */
export function freeBuffer (buf: Uint8Array): boolean {
  const buffer = buf.buffer
  const length = buf.byteLength
  if (length < MIN_FREED_BUFFER_BYTES || buf.byteOffset !== 0 || buffer.byteLength !== length) return false
  if (!(buffer instanceof ArrayBuffer)) return false
  if (isMarkedAsUntransferable?.(buffer) === true) return false
  try {
    detachArrayBuffer(buffer)
  } catch {
    // Not detachable (e.g. untransferable): the collector frees it as before.
    return false
  }
  return buffer.byteLength === 0
}

/** {@link ownedCopy} copies into pieces of at most this: the size of node's own read buffers. */
export const MAX_OWNED_PIECE_BYTES = 64 * 1024

/**
 * A copy of `data` in buffers that belong to the copy alone, for a receiver that hands data on to
 * an application that may free it (`freeChunk`). The copy is cut into pieces of at most
 * {@link MAX_OWNED_PIECE_BYTES}; a piece of at least {@link MIN_FREED_BUFFER_BYTES} is a buffer of
 * its own (so `freeBuffer` frees it), a shorter one a slice of node's pool (which `freeBuffer`
 * leaves alone). Larger pieces would be mapped fresh from the kernel by the C allocator and
 * faulted in page by page; pieces of 64 KiB are reused from its heap.
 */
export function ownedCopy (data: Uint8Array | Uint8ArrayList): Uint8ArrayList {
  const out = new Uint8ArrayList()
  let left = data.byteLength
  let piece: Uint8Array | undefined
  let filled = 0
  for (const src of data instanceof Uint8Array ? [data] : data) {
    let at = 0
    while (at < src.byteLength) {
      if (piece == null) {
        piece = allocOwned(Math.min(left, MAX_OWNED_PIECE_BYTES))
        filled = 0
      }
      const n = Math.min(src.byteLength - at, piece.byteLength - filled)
      piece.set(n === src.byteLength ? src : src.subarray(at, at + n), filled)
      at += n
      filled += n
      left -= n
      if (filled === piece.byteLength) {
        out.append(piece)
        piece = undefined
      }
    }
  }
  return out
}

function allocOwned (length: number): Uint8Array {
  return length < MIN_FREED_BUFFER_BYTES ? Buffer.allocUnsafe(length) : Buffer.allocUnsafeSlow(length)
}

/**
 * Frees, with {@link freeBuffer}, every piece of `chunk` that spans a whole `ArrayBuffer`: for an
 * application done with a chunk read from a stream of a muxer that hands out chunks of their own
 * (`ownedChunks` in yamux and mplex), so that the memory goes back at once instead of at the next
 * collection. Every view of a freed piece reads as empty afterwards, so call it only once nothing
 * (a copy pending, a write the chunk was passed to, a list it was appended to) reads the chunk any
 * more. Returns the number of bytes freed; never throws.
 */
export function freeChunk (chunk: Uint8Array | Uint8ArrayList): number {
  let freed = 0
  for (const piece of chunk instanceof Uint8Array ? [chunk] : chunk) {
    const length = piece.byteLength
    if (freeBuffer(piece)) freed += length
  }
  return freed
}
