import { LimitExceededError, ProtocolError } from '@peerkit/interfaces'
import { ownedCopy } from '@peerkit/utils'
import { Uint8ArrayList } from 'uint8arraylist'
import { FLAG_NAMES, Flag, MAX_HEADER_BYTES, MAX_LENGTH_BYTES, PROTOCOL } from './frame.js'
import type { FlagValue, StreamId } from './frame.js'

/** Receives each complete frame, in order. `data` is set for NewStream and Message frames. */
export type FrameHandler = (flag: FlagValue, id: StreamId, data: Uint8Array | Uint8ArrayList | undefined) => void

/** Limits the decoder enforces. */
export interface DecoderInit {
  /** Largest frame body accepted; a header announcing more fails the connection. */
  maxMessageSize: number
  /** Largest frame (header, length and body) the decoder may hold while it arrives. */
  maxUnprocessedBytes: number
  /**
   * Copy bodies as they arrive, into buffers of their own (`ownedCopy`), instead of keeping views
   * of the chunks given to `write()`: those chunks may then be reused once `write()` returns.
   */
  copyBodies?: boolean
}

const STATE_HEADER = 0
const STATE_LENGTH = 1
const STATE_BODY = 2

const EMPTY = new Uint8Array(0)

/** Bodies whose pieces average fewer bytes than this are joined before they are handed on. */
export const JOIN_THRESHOLD = 1024
const TWO_POW_53 = 2n ** 53n
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)

/**
 * Incremental mplex frame decoder. Bytes are read straight from the chunks handed to `write()`
 * (header and length varints byte by byte, so a frame may be split anywhere); a body is kept as
 * views into those chunks and not copied, unless it arrived in pieces averaging under
 * `JOIN_THRESHOLD` bytes. Only the frame currently arriving is held, and its size is
 * checked against the limits as soon as its length is known, before any of its body is kept.
 *
 * Violations throw `ProtocolError` (invalid flag, over-long varint) or `LimitExceededError`
 * (`maxMessageSize`, `maxUnprocessedBytes`); the decoder is unusable afterwards.
 */
export class Decoder {
  readonly #onFrame: FrameHandler
  readonly #maxMessageSize: number
  readonly #maxUnprocessedBytes: number
  readonly #copyBodies: boolean

  #state = STATE_HEADER
  #headerBytes = 0
  #flag: FlagValue = 0
  #id: StreamId = 0
  #idScale = 1
  #lengthBytes = 0
  #length = 0
  #lengthScale = 1
  #remaining = 0
  #collect = false
  #first?: Uint8Array
  #rest?: Uint8ArrayList
  #pieces = 0
  #halted = false

  constructor (init: DecoderInit, onFrame: FrameHandler) {
    this.#maxMessageSize = init.maxMessageSize
    this.#maxUnprocessedBytes = init.maxUnprocessedBytes
    this.#copyBodies = init.copyBodies === true
    this.#onFrame = onFrame
  }

  /** True while part of a frame has been read but not all of it. */
  get midFrame (): boolean {
    return this.#state !== STATE_HEADER || this.#headerBytes > 0
  }

  /** Bytes held for the frame currently arriving (its body so far). */
  get bufferedBytes (): number {
    return (this.#first?.byteLength ?? 0) + (this.#rest?.byteLength ?? 0)
  }

  /** Stops decoding: the rest of the current chunk and later chunks are ignored. */
  halt (): void {
    this.#halted = true
    this.#pieces = 0
    this.#first = undefined
    this.#rest = undefined
  }

  /** Decodes `chunk`, calling the frame handler for every frame it completes. */
  write (chunk: Uint8Array | Uint8ArrayList): void {
    if (chunk instanceof Uint8Array) {
      this.#writeBuf(chunk)
      return
    }
    for (const buf of chunk) {
      if (this.#halted) return
      this.#writeBuf(buf)
    }
  }

  #writeBuf (buf: Uint8Array): void {
    const n = buf.byteLength
    let i = 0
    while (i < n && !this.#halted) {
      if (this.#state === STATE_BODY) {
        const take = Math.min(this.#remaining, n - i)
        if (this.#collect) {
          const part = take === n ? buf : buf.subarray(i, i + take)
          if (this.#copyBodies) {
            for (const piece of ownedCopy(part)) this.#keep(piece)
          } else {
            this.#keep(part)
          }
        }
        i += take
        this.#remaining -= take
        if (this.#remaining === 0) this.#emit()
        continue
      }
      const b = buf[i++]
      if (this.#state === STATE_HEADER) {
        this.#readHeaderByte(b)
      } else {
        this.#readLengthByte(b)
      }
    }
  }

  #readHeaderByte (b: number): void {
    const n = this.#headerBytes++
    if (n === 0) {
      const flag = b & 0x07
      if (flag === 7) throw new ProtocolError('Invalid mplex frame flag 7', PROTOCOL)
      this.#flag = flag as FlagValue
      this.#id = (b & 0x7f) >> 3
      this.#idScale = 16
    } else if (n < MAX_HEADER_BYTES - 1) {
      // Up to 8 bytes carry 4 + 7 * 7 = 53 bits of id: exact in a double.
      this.#id = (this.#id as number) + (b & 0x7f) * this.#idScale
      this.#idScale *= 128
    } else {
      if ((b & 0x80) !== 0) throw new ProtocolError(`mplex frame header longer than ${MAX_HEADER_BYTES} bytes`, PROTOCOL)
      const id = BigInt(this.#id) + BigInt(b & 0x7f) * TWO_POW_53
      this.#id = id <= MAX_SAFE ? Number(id) : id
    }
    if ((b & 0x80) === 0) {
      this.#state = STATE_LENGTH
      this.#lengthBytes = 0
      this.#length = 0
      this.#lengthScale = 1
    }
  }

  #readLengthByte (b: number): void {
    this.#lengthBytes++
    this.#length += (b & 0x7f) * this.#lengthScale
    this.#lengthScale *= 128
    // Later bytes only add to the value, so a partial length already over the cap is final.
    if (this.#length > this.#maxMessageSize) {
      throw new LimitExceededError('maxMessageSize', this.#maxMessageSize, this.#length, 'connection',
        `mplex ${FLAG_NAMES[this.#flag]} frame for stream ${this.#id} announces ${this.#length} bytes, more than maxMessageSize (${this.#maxMessageSize})`)
    }
    if ((b & 0x80) !== 0) {
      if (this.#lengthBytes >= MAX_LENGTH_BYTES) throw new ProtocolError(`mplex frame length longer than ${MAX_LENGTH_BYTES} bytes`, PROTOCOL)
      return
    }
    const frameSize = this.#headerBytes + this.#lengthBytes + this.#length
    if (frameSize > this.#maxUnprocessedBytes) {
      throw new LimitExceededError('maxUnprocessedBytes', this.#maxUnprocessedBytes, frameSize, 'connection',
        `mplex frame of ${frameSize} bytes would exceed maxUnprocessedBytes (${this.#maxUnprocessedBytes})`)
    }
    const flag = this.#flag
    this.#collect = flag === Flag.NewStream || flag === Flag.MessageInitiator || flag === Flag.MessageReceiver
    if (this.#length === 0) {
      this.#emit()
      return
    }
    this.#state = STATE_BODY
    this.#remaining = this.#length
  }

  #keep (part: Uint8Array): void {
    this.#pieces++
    if (this.#first == null) {
      this.#first = part
    } else {
      this.#rest ??= new Uint8ArrayList(this.#first)
      this.#rest.append(part)
    }
  }

  #emit (): void {
    const flag = this.#flag
    const id = this.#id
    let data: Uint8Array | Uint8ArrayList | undefined
    if (this.#collect) {
      const rest = this.#rest
      // A body that arrived in many small pieces is joined (copied) once, so the reader's queue
      // holds at most one view per JOIN_THRESHOLD bytes.
      data = rest == null ? this.#first ?? EMPTY : this.#pieces > Math.ceil(rest.byteLength / JOIN_THRESHOLD) ? rest.subarray() : rest
    }
    this.#state = STATE_HEADER
    this.#headerBytes = 0
    this.#pieces = 0
    this.#first = undefined
    this.#rest = undefined
    this.#onFrame(flag, id, data)
  }
}
