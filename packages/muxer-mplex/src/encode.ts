import { ChunkQueue } from '@peerkit/utils'
import { encodeUint8Array, encodingLength } from 'uint8-varint'
import { Uint8ArrayList } from 'uint8arraylist'

/**
 * Payloads up to this size are copied next to their header instead of being queued by reference,
 * so a burst of small frames leaves as one contiguous chunk and the outbound queue holds few,
 * large chunks.
 */
export const COPY_THRESHOLD = 1024

/** True when `list` averages less than `COPY_THRESHOLD` bytes per view. */
function isFragmented (list: Uint8ArrayList): boolean {
  const limit = Math.ceil(list.byteLength / COPY_THRESHOLD)
  let n = 0
  for (const _buf of list) {
    if (++n > limit) return true
  }
  return false
}

/** Size of the scratch slabs headers and small frames are written into. */
const SLAB_SIZE = 16 * 1024

/** Options of the frame writer. */
export interface FrameWriterInit {
  /** Queued bytes above which stream writers wait (`needsDrain`). */
  highWaterMark: number
}

/**
 * Serialises frames onto the muxer's outbound `ChunkQueue` (the muxer's `source`).
 *
 * Each frame is its header and length varints followed by its payload. Varints (and payloads of at
 * most `COPY_THRESHOLD` bytes) are written into a slab; the written part of the slab is queued as
 * one chunk at the latest on the next microtask, or at once when a large payload follows, which is
 * queued by reference (no copy). Slab bytes once queued are never written again.
 */
export class FrameWriter {
  readonly queue: ChunkQueue
  #slab = new Uint8Array(SLAB_SIZE)
  /** Start of the slab bytes written but not yet queued. */
  #start = 0
  /** End of the slab bytes written. */
  #end = 0
  #flushScheduled = false
  #ended = false

  constructor (init: FrameWriterInit) {
    this.queue = new ChunkQueue({ highWaterMark: init.highWaterMark })
  }

  /** True once the writer was ended; later frames are dropped. */
  get ended (): boolean {
    return this.#ended
  }

  /** True when writers should wait for `onDrain()` before writing more. */
  get needsDrain (): boolean {
    return this.queue.needsDrain
  }

  /** Resolves once the queue is below its high-water mark or has ended. */
  async onDrain (): Promise<void> {
    await this.queue.onDrain()
  }

  /**
   * Writes one frame: `header` (the encoded `(id << 3) | flag`), the payload length, the payload.
   * The caller keeps payloads at or below the negotiated message size.
   */
  frame (header: Uint8Array, payload?: Uint8Array | Uint8ArrayList): void {
    if (this.#ended) return
    const length = payload?.byteLength ?? 0
    const copy = length <= COPY_THRESHOLD
    const need = header.byteLength + encodingLength(length) + (copy ? length : 0)
    if (this.#slab.byteLength - this.#end < need) {
      this.#flush()
      this.#slab = new Uint8Array(Math.max(SLAB_SIZE, need))
      this.#start = 0
      this.#end = 0
    }
    const slab = this.#slab
    slab.set(header, this.#end)
    this.#end += header.byteLength
    encodeUint8Array(length, slab, this.#end)
    this.#end += encodingLength(length)
    if (payload == null || length === 0) {
      this.#scheduleFlush()
    } else if (copy) {
      if (payload instanceof Uint8Array) {
        slab.set(payload, this.#end)
      } else {
        let offset = this.#end
        for (const buf of payload) {
          slab.set(buf, offset)
          offset += buf.byteLength
        }
      }
      this.#end += length
      this.#scheduleFlush()
    } else {
      this.#flush()
      // A payload made of many small pieces is joined, so the queue's chunk count stays bounded
      // by bytes / COPY_THRESHOLD.
      if (payload instanceof Uint8ArrayList && isFragmented(payload)) {
        this.queue.push(payload.subarray())
      } else {
        this.queue.push(payload)
      }
    }
  }

  /** Queues the slab bytes written so far. */
  #flush (): void {
    if (this.#end > this.#start) {
      this.queue.push(this.#slab.subarray(this.#start, this.#end))
      this.#start = this.#end
    }
  }

  #scheduleFlush (): void {
    if (this.#flushScheduled) return
    this.#flushScheduled = true
    queueMicrotask(() => {
      this.#flushScheduled = false
      if (!this.#ended) this.#flush()
    })
  }

  /**
   * Ends the queue. Without `err`, frames written so far are still delivered, then the end; with
   * `err` they are discarded and the consumer's next read rejects with `err`.
   */
  end (err?: Error): void {
    if (this.#ended) {
      if (err != null) this.queue.end(err)
      return
    }
    if (err == null) this.#flush()
    this.#ended = true
    this.queue.end(err)
  }
}
