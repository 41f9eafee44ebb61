import { Uint8ArrayList } from 'uint8arraylist'
import { HEADER_LENGTH, readHeader } from './frame.js'
import type { FrameHeader } from './frame.js'

/** Compact the chunk array once this many consumed slots accumulate at its front. */
const COMPACT_AFTER = 64

/**
 * The bytes received from the connection and not yet parsed: the connection's chunks as they came,
 * with a read position. Headers are decoded in place (or from a 12-byte scratch copy when one
 * straddles two chunks); payloads are handed out as lists of views of the received chunks.
 */
/** A header split across chunks is copied here to be decoded (at once: one buffer serves every connection). */
const SCRATCH = new Uint8Array(HEADER_LENGTH)

export class InputBuffer {
  #chunks: Uint8Array[] = []
  /** Index of the first unconsumed chunk. */
  #head = 0
  /** Read position inside `#chunks[#head]`. */
  #offset = 0
  #length = 0

  /** Unparsed bytes. */
  get byteLength (): number {
    return this.#length
  }

  /** Adds received bytes (no copy). */
  append (data: Uint8Array | Uint8ArrayList): void {
    if (data instanceof Uint8Array) {
      if (data.byteLength > 0) this.#chunks.push(data)
    } else {
      for (const chunk of data) {
        if (chunk.byteLength > 0) this.#chunks.push(chunk)
      }
    }
    this.#length += data.byteLength
  }

  /** Decodes and consumes a header; the caller checks `byteLength >= 12` first. */
  readHeader (): FrameHeader {
    const first = this.#chunks[this.#head]
    let header: FrameHeader
    if (first.byteLength - this.#offset >= HEADER_LENGTH) {
      header = readHeader(first, this.#offset)
      this.skip(HEADER_LENGTH)
    } else {
      this.#copyTo(SCRATCH, HEADER_LENGTH)
      header = readHeader(SCRATCH, 0)
    }
    return header
  }

  /** Consumes `n` bytes (at most `byteLength`) and returns them as views of the received chunks. */
  take (n: number): Uint8ArrayList {
    const out = new Uint8ArrayList()
    let left = n
    while (left > 0) {
      const chunk = this.#chunks[this.#head]
      const available = chunk.byteLength - this.#offset
      if (available <= left) {
        out.append(this.#offset === 0 ? chunk : chunk.subarray(this.#offset))
        left -= available
        this.#advanceChunk()
      } else {
        out.append(chunk.subarray(this.#offset, this.#offset + left))
        this.#offset += left
        left = 0
      }
    }
    this.#length -= n
    return out
  }

  /** Consumes `n` bytes (at most `byteLength`) without looking at them. */
  skip (n: number): void {
    let left = n
    while (left > 0) {
      const available = this.#chunks[this.#head].byteLength - this.#offset
      if (available <= left) {
        left -= available
        this.#advanceChunk()
      } else {
        this.#offset += left
        left = 0
      }
    }
    this.#length -= n
  }

  /**
   * Replaces what is left unparsed by a copy of it: for input given as views of a buffer that is
   * reused once the call that gave it returns.
   */
  detach (): void {
    const length = this.#length
    if (length === 0) {
      this.clear()
      return
    }
    const copy = new Uint8Array(length)
    this.#copyTo(copy, length)
    this.#chunks = [copy]
    this.#head = 0
    this.#offset = 0
    this.#length = length
  }

  /** Drops everything. */
  clear (): void {
    this.#chunks = []
    this.#head = 0
    this.#offset = 0
    this.#length = 0
  }

  #copyTo (target: Uint8Array, n: number): void {
    let written = 0
    while (written < n) {
      const chunk = this.#chunks[this.#head]
      const count = Math.min(n - written, chunk.byteLength - this.#offset)
      target.set(chunk.subarray(this.#offset, this.#offset + count), written)
      written += count
      this.#offset += count
      if (this.#offset === chunk.byteLength) this.#advanceChunk()
    }
    this.#length -= n
  }

  #advanceChunk (): void {
    this.#head++
    this.#offset = 0
    if (this.#head === this.#chunks.length) {
      this.#chunks.length = 0
      this.#head = 0
    } else if (this.#head >= COMPACT_AFTER && this.#head * 2 >= this.#chunks.length) {
      this.#chunks = this.#chunks.slice(this.#head)
      this.#head = 0
    }
  }
}
