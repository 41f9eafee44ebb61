/**
 * Noise transport messages on the wire: `length (u16 big-endian) || ciphertext || tag`, with at most
 * 65535 bytes after the length (so at most 65519 bytes of plaintext per message).
 */
import { InvalidMessageError, InvalidParametersError, UnexpectedEOFError } from '@peerkit/interfaces'
import { freeChunk } from '@peerkit/utils'
import { Uint8ArrayList, isUint8ArrayList } from 'uint8arraylist'
import { LENGTH_PREFIX_BYTES, MAX_PLAINTEXT_BYTES, TAG_BYTES } from './constants.js'
import type { CipherState, MessageOpener } from './cipher-state.js'
import type { ByteChannel, ByteChannelReceiver, Source } from '@peerkit/interfaces'

/** Frames whose plaintext is at most this long are emitted as one contiguous buffer. */
const CONTIGUOUS_FRAME_BYTES = 2048
/** Pieces of a list averaging less than this are concatenated before encryption. */
const SMALL_PIECE_BYTES = 4096
/** Bytes of framing per message: length prefix and tag. */
const FRAME_OVERHEAD = LENGTH_PREFIX_BYTES + TAG_BYTES

/**
 * Encrypts one chunk as as few transport messages as possible: a chunk of up to 65519 bytes (a
 * `Uint8ArrayList` of small muxer frames included) becomes one message, a larger one is split into
 * maximum-size messages. All messages of the chunk are returned together so they reach the
 * transport in one write. Returns `undefined` for an empty chunk.
 *
 * Ciphertexts are not copied: large messages are returned as a list of their pieces (the length
 * prefixes and tags share one small buffer). The pieces of such a list that span a whole
 * `ArrayBuffer` are the ciphertexts the cipher made for this chunk and nothing else references
 * them, so whoever writes the list may free them once written (`freeChunk` leaves every other
 * piece alone).
 */
export function encryptChunk (cipher: CipherState, chunk: Uint8Array | Uint8ArrayList): Uint8Array | Uint8ArrayList | undefined {
  const length = chunk.byteLength
  if (length === 0) return undefined
  if (length <= CONTIGUOUS_FRAME_BYTES) {
    // Small: one contiguous frame. Copying a few hundred bytes is cheaper than extra iovecs (and
    // libsodium's backend seals straight into the frame).
    const frame = Buffer.allocUnsafe(length + FRAME_OVERHEAD)
    frame.writeUInt16BE(length + TAG_BYTES, 0)
    cipher.sealInto(chunk instanceof Uint8Array ? chunk : chunk.subarray(), frame, LENGTH_PREFIX_BYTES)
    return frame
  }

  const frames = Math.ceil(length / MAX_PLAINTEXT_BYTES)
  // Layout of `meta`: prefix(0), then for each frame i: tag(i) followed by prefix(i+1).
  const meta = Buffer.allocUnsafe(frames * (LENGTH_PREFIX_BYTES + TAG_BYTES))
  const out = new Uint8ArrayList()
  let metaOffset = 0
  for (let start = 0, i = 0; start < length; start += MAX_PLAINTEXT_BYTES, i++) {
    const end = Math.min(start + MAX_PLAINTEXT_BYTES, length)
    meta.writeUInt16BE(end - start + TAG_BYTES, metaOffset)
    if (i === 0) out.append(meta.subarray(0, LENGTH_PREFIX_BYTES))
    const { ciphertext, tag } = cipher.seal(plaintextRange(chunk, start, end))
    out.append(ciphertext)
    metaOffset += LENGTH_PREFIX_BYTES
    meta.set(tag, metaOffset)
    const pieceStart = metaOffset
    metaOffset += TAG_BYTES
    // The tag and the next frame's prefix go out as one piece.
    out.append(meta.subarray(pieceStart, end === length ? metaOffset : metaOffset + LENGTH_PREFIX_BYTES))
  }
  return out
}

/**
 * The bytes `[start, end)` of `chunk` in the form cheapest to encrypt: a view when they are
 * contiguous, the list of pieces when they are large, one concatenated buffer when they are many
 * small pieces (one native cipher call instead of many, and one output buffer).
 */
function plaintextRange (chunk: Uint8Array | Uint8ArrayList, start: number, end: number): Uint8Array | Uint8ArrayList {
  if (chunk instanceof Uint8Array) return chunk.subarray(start, end)
  const range = start === 0 && end === chunk.byteLength ? chunk : chunk.sublist(start, end)
  let pieces = 0
  let only: Uint8Array | undefined
  for (const piece of range) {
    pieces++
    only = piece
  }
  if (pieces === 1 && only != null) return only
  if ((end - start) / pieces < SMALL_PIECE_BYTES) return range.subarray()
  return range
}

/**
 * Reassembles and decrypts transport messages from arbitrarily split chunks: a message split
 * across chunks, several messages in one chunk, or both. Plaintext is released only after its
 * tag verifies.
 *
 * After an error (`DecryptionError`, `InvalidMessageError`) the decoder refuses further input with
 * the same error: the connection cannot continue.
 */
export class FrameDecoder {
  readonly #cipher: CipherState
  // Received bytes not yet decoded: a queue of views, never concatenated.
  #chunks: Uint8Array[] = []
  #bytes = 0
  /**
   * How many chunks at the front of `#chunks` are this decoder's own (copies `detachInput` made, or
   * input that was not transient): `detachInput` copies only the chunks after them, so a message
   * arriving in many small reads is copied once, not once per read.
   */
  #owned = 0
  #error?: Error
  /**
   * The message being decrypted as it arrives (see `detachInput`): its plaintext pieces so far
   * (non-empty ones; not to be released before the tag verifies), the ciphertext bytes still to
   * come, and its tag as received.
   */
  #streaming?: StreamingMessage

  constructor (cipher: CipherState) {
    this.#cipher = cipher
  }

  /** Bytes received of messages not complete yet (held back, or decrypted and awaiting their tag). */
  get buffered (): number {
    const m = this.#streaming
    return this.#bytes + (m == null ? 0 : LENGTH_PREFIX_BYTES + m.length - TAG_BYTES - m.ciphertextLeft + m.tagReceived)
  }

  /**
   * Takes the next chunk received from the wire and returns the plaintext of every message it
   * completes (one buffer, or a list when there are several), or `undefined` when none completed.
   */
  decode (chunk: Uint8Array | Uint8ArrayList): Uint8Array | Uint8ArrayList | undefined {
    if (this.#error != null) throw this.#error
    try {
      if (chunk instanceof Uint8Array) {
        this.#push(chunk)
      } else {
        for (const piece of chunk) this.#push(piece)
      }
      return this.#decodeQueued()
    } catch (err) {
      throw this.#fail(err)
    }
  }

  #fail (err: unknown): Error {
    this.#error = err instanceof Error ? err : new Error(String(err))
    this.#chunks = []
    this.#bytes = 0
    this.#owned = 0
    this.#streaming = undefined
    return this.#error
  }

  /**
   * Copies the bytes held back (the start of an incomplete message) that are still views of the
   * input: for input given as views of a buffer that is reused once `decode` has returned. What an
   * earlier call copied is kept as it is.
   */
  detachInput (): void {
    if (this.#error != null) return
    // The start of a message is decrypted now rather than copied: its plaintext is the cipher's
    // own output, so nothing of the input has to be kept but at most the first length byte.
    if (this.#streaming == null && this.#bytes >= LENGTH_PREFIX_BYTES && this.#chunks.length > this.#owned) {
      try {
        this.#startStreaming()
      } catch (err) {
        throw this.#fail(err)
      }
    }
    const chunks = this.#chunks
    if (chunks.length > this.#owned) {
      const received = chunks.splice(this.#owned)
      chunks.push(received.length === 1 ? Buffer.from(received[0]) : Buffer.concat(received))
    }
    this.#owned = chunks.length
  }

  #push (piece: Uint8Array): void {
    if (piece.byteLength === 0) return
    this.#chunks.push(piece)
    this.#bytes += piece.byteLength
  }

  #decodeQueued (): Uint8Array | Uint8ArrayList | undefined {
    let out: Uint8Array | Uint8ArrayList | undefined
    const emit = (plaintext: Uint8Array | Uint8ArrayList): void => {
      if (plaintext.byteLength === 0) return
      if (out == null) {
        out = plaintext
      } else {
        if (out instanceof Uint8Array) out = new Uint8ArrayList(out)
        out.append(plaintext)
      }
    }

    if (this.#streaming != null) {
      const plaintext = this.#continueStreaming()
      if (plaintext == null) return undefined
      emit(plaintext)
    }

    while (this.#bytes >= LENGTH_PREFIX_BYTES) {
      if (this.#chunks.length === 1) {
        // Fast path: what is left is contiguous; walk it by offset.
        const buf = this.#chunks[0]
        const offset = this.#decodeContiguous(buf, emit)
        if (offset === buf.byteLength) {
          this.#chunks = []
          this.#owned = 0
        } else if (offset > 0) {
          this.#chunks[0] = buf.subarray(offset)
        }
        this.#bytes = buf.byteLength - offset
        break
      }
      // A message spread over several chunks.
      const length = (this.#byteAt(0) << 8) | this.#byteAt(1)
      checkLength(length)
      if (this.#bytes < LENGTH_PREFIX_BYTES + length) break
      this.#take(LENGTH_PREFIX_BYTES)
      const ciphertext = this.#take(length - TAG_BYTES)
      const tagPieces = this.#take(TAG_BYTES)
      const tag = tagPieces.length === 1 ? tagPieces[0] : Buffer.concat(tagPieces, TAG_BYTES)
      emit(this.#cipher.open(ciphertext.length === 1 ? ciphertext[0] : ciphertext, tag))
    }
    return out
  }

  /** Takes the length prefix of the (incomplete) message at the front and feeds what is queued of it. */
  #startStreaming (): void {
    const length = (this.#byteAt(0) << 8) | this.#byteAt(1)
    checkLength(length)
    // A complete message is decode()'s to decrypt, not ours.
    if (this.#bytes >= LENGTH_PREFIX_BYTES + length) return
    this.#take(LENGTH_PREFIX_BYTES)
    this.#streaming = {
      opener: this.#cipher.beginOpen(),
      plaintext: [],
      length,
      ciphertextLeft: length - TAG_BYTES,
      tag: Buffer.allocUnsafe(TAG_BYTES),
      tagReceived: 0
    }
    this.#continueStreaming()
  }

  /**
   * Feeds the streaming message what is queued of it: ciphertext to the cipher, tag bytes to a copy.
   * Returns its plaintext once the tag verified (and ends the streaming), `undefined` while more is
   * to come.
   */
  #continueStreaming (): Uint8Array | Uint8ArrayList | undefined {
    const m = this.#streaming as StreamingMessage
    if (m.ciphertextLeft > 0 && this.#bytes > 0) {
      const n = Math.min(m.ciphertextLeft, this.#bytes)
      for (const piece of this.#take(n)) {
        const plaintext = m.opener.update(piece)
        if (plaintext.byteLength > 0) m.plaintext.push(plaintext)
      }
      m.ciphertextLeft -= n
    }
    if (m.ciphertextLeft === 0 && this.#bytes > 0) {
      const n = Math.min(TAG_BYTES - m.tagReceived, this.#bytes)
      for (const piece of this.#take(n)) {
        m.tag.set(piece, m.tagReceived)
        m.tagReceived += piece.byteLength
      }
    }
    if (m.tagReceived < TAG_BYTES) return undefined
    m.opener.finish(m.tag)
    this.#streaming = undefined
    return m.plaintext.length === 1 ? m.plaintext[0] : new Uint8ArrayList(...m.plaintext)
  }

  #byteAt (index: number): number {
    for (const chunk of this.#chunks) {
      if (index < chunk.byteLength) return chunk[index]
      index -= chunk.byteLength
    }
    throw new RangeError('index out of range')
  }

  /** Removes `n` bytes (at most `#bytes`) from the front of the queue, as views. */
  #take (n: number): Uint8Array[] {
    const pieces: Uint8Array[] = []
    this.#bytes -= n
    while (n > 0) {
      const chunk = this.#chunks[0]
      if (chunk.byteLength <= n) {
        pieces.push(chunk)
        this.#chunks.shift()
        if (this.#owned > 0) this.#owned--
        n -= chunk.byteLength
      } else {
        pieces.push(chunk.subarray(0, n))
        this.#chunks[0] = chunk.subarray(n)
        n = 0
      }
    }
    return pieces
  }

  /** Decrypts the complete messages at the start of `buf`; returns the offset of the first incomplete one. */
  #decodeContiguous (buf: Uint8Array, emit: (plaintext: Uint8Array | Uint8ArrayList) => void): number {
    let offset = 0
    while (buf.byteLength - offset >= LENGTH_PREFIX_BYTES) {
      const length = (buf[offset] << 8) | buf[offset + 1]
      checkLength(length)
      const end = offset + LENGTH_PREFIX_BYTES + length
      if (end > buf.byteLength) break
      const tagStart = end - TAG_BYTES
      emit(this.#cipher.open(buf.subarray(offset + LENGTH_PREFIX_BYTES, tagStart), buf.subarray(tagStart, end)))
      offset = end
    }
    return offset
  }
}

/** A message decrypted piece by piece as it arrives (`FrameDecoder#streaming`). */
interface StreamingMessage {
  readonly opener: MessageOpener
  readonly plaintext: Uint8Array[]
  /** The message's length after its prefix (ciphertext and tag). */
  readonly length: number
  ciphertextLeft: number
  readonly tag: Buffer
  tagReceived: number
}

function checkLength (length: number): void {
  if (length < TAG_BYTES) {
    throw new InvalidMessageError(`Noise transport message of ${length} bytes is shorter than its ${TAG_BYTES}-byte tag`)
  }
}

type AnyIterator<T> = AsyncIterator<T> | Iterator<T>

const DONE: IteratorResult<never, undefined> = { done: true, value: undefined }

function iteratorOf<T> (source: Source<T>): AnyIterator<T> {
  return Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]()
}

/** Calls `return()` of an iterator we stop reading, without waiting and without throwing. */
function release (it: AnyIterator<unknown>): void {
  if (typeof it.return !== 'function') return
  try {
    void Promise.resolve(it.return()).catch(() => {})
  } catch {
    // a failing cleanup of the underlying source is not ours to report
  }
}

/**
 * A plain iterator object that maps each chunk of `source` through `transform` (no generator stage
 * per chunk). `transform` may return nothing for a chunk that produced no output yet; `onEnd` runs
 * when the source ends and may throw. On any error the source is released.
 */
abstract class TransformingSource implements AsyncGenerator<Uint8Array | Uint8ArrayList, void, undefined> {
  readonly #source: AnyIterator<Uint8Array | Uint8ArrayList>
  #done = false

  constructor (source: Source<Uint8Array | Uint8ArrayList>) {
    this.#source = iteratorOf(source)
  }

  protected abstract transform (chunk: unknown): Uint8Array | Uint8ArrayList | undefined
  protected onEnd (): void {}

  /**
   * Chained promises rather than an awaiting async method: a connection that waits for data parks
   * a promise reaction here, not a suspended frame with its context.
   */
  async next (): Promise<IteratorResult<Uint8Array | Uint8ArrayList, void>> {
    if (this.#done) return DONE
    let pending: Promise<IteratorResult<Uint8Array | Uint8ArrayList>> | IteratorResult<Uint8Array | Uint8ArrayList>
    try {
      pending = this.#source.next()
    } catch (err) {
      return this.#onError(err)
    }
    return Promise.resolve(pending).then(this.#onResult, this.#onError)
  }

  readonly #onResult = (result: IteratorResult<Uint8Array | Uint8ArrayList>): IteratorResult<Uint8Array | Uint8ArrayList, void> | Promise<IteratorResult<Uint8Array | Uint8ArrayList, void>> => {
    try {
      if (result.done === true) {
        this.#done = true
        this.onEnd()
        return DONE
      }
      const out = this.transform(result.value)
      // Nothing to emit yet (e.g. half a message): read on.
      if (out == null) return this.next()
      return { done: false, value: out }
    } catch (err) {
      return this.#onError(err)
    }
  }

  readonly #onError = (err: unknown): never => {
    if (!this.#done) {
      this.#done = true
      release(this.#source)
    }
    throw err
  }

  async return (): Promise<IteratorResult<Uint8Array | Uint8ArrayList, void>> {
    if (!this.#done) {
      this.#done = true
      release(this.#source)
    }
    return DONE
  }

  async throw (err?: unknown): Promise<IteratorResult<Uint8Array | Uint8ArrayList, void>> {
    await this.return()
    throw err
  }

  [Symbol.asyncIterator] (): this {
    return this
  }
}

/**
 * The encrypted connection's `source`: Noise messages reassembled from whatever chunking the
 * transport produced, decrypted, and yielded as plaintext. A message cut off by the end of the
 * stream throws `UnexpectedEOFError`; a message that fails authentication throws
 * `DecryptionError`. Either way the underlying source is released (its `return()` is called).
 */
class DecryptingSource extends TransformingSource {
  readonly #decoder: FrameDecoder

  constructor (source: Source<Uint8Array | Uint8ArrayList>, decoder: FrameDecoder) {
    super(source)
    this.#decoder = decoder
  }

  protected transform (chunk: Uint8Array | Uint8ArrayList): Uint8Array | Uint8ArrayList | undefined {
    return this.#decoder.decode(chunk) ?? undefined
  }

  protected override onEnd (): void {
    if (this.#decoder.buffered > 0) {
      throw new UnexpectedEOFError(`The connection ended inside a Noise message (${this.#decoder.buffered} bytes of it received)`)
    }
  }
}

/**
 * The source the encrypted connection's `sink` hands to the underlying sink: `source`, encrypted
 * chunk by chunk (a chunk of up to 65519 bytes, small muxer frames included, becomes one Noise
 * message).
 */
class EncryptingSource extends TransformingSource {
  readonly #cipher: CipherState

  constructor (source: Source<Uint8Array | Uint8ArrayList>, cipher: CipherState) {
    super(source)
    this.#cipher = cipher
  }

  protected transform (chunk: unknown): Uint8Array | Uint8ArrayList | undefined {
    if (!(chunk instanceof Uint8Array) && !isUint8ArrayList(chunk)) {
      throw new InvalidParametersError(`The Noise connection's sink was given a ${typeof chunk}, expected Uint8Array or Uint8ArrayList`)
    }
    return encryptChunk(this.#cipher, chunk) ?? undefined
  }
}

/**
 * The encrypted connection as a byte channel over the raw connection's: each chunk received is
 * decrypted as it arrives and handed on in the same call, each write is encrypted and written in
 * the same call. A message that fails authentication, or a connection that ends inside one, fails
 * the receiver (`DecryptionError`, `UnexpectedEOFError`) and nothing more is delivered.
 */
export class NoiseByteChannel implements ByteChannel, ByteChannelReceiver {
  /** Received chunks are decrypted in the call; only an incomplete message's bytes are copied. */
  get transientData (): boolean {
    return true
  }
  readonly #raw: ByteChannel
  readonly #send: CipherState
  readonly #decoder: FrameDecoder
  #receiver?: ByteChannelReceiver
  #done = false

  /**
   * @param decoder - decodes what arrives; pass the one the connection's source used so far, so a
   * message it had begun to receive is completed here
   */
  constructor (raw: ByteChannel, send: CipherState, decoder: FrameDecoder) {
    this.#raw = raw
    this.#send = send
    this.#decoder = decoder
  }

  attach (receiver: ByteChannelReceiver): void {
    this.#receiver = receiver
    this.#raw.attach(this)
  }

  /**
   * Encrypts `data` and writes it. The plaintext is not referenced once this returns, so a
   * `release` is called before that. The ciphertexts of large messages are handed to the raw
   * channel to give back once written, and are then freed at once (`freeChunk`): otherwise each
   * 64 KiB message of a bulk transfer leaves a buffer for the collector, and V8 counts those
   * against the old generation's limit until its next full collection.
   */
  write (data: Uint8Array | Uint8ArrayList, release?: () => void): boolean {
    const frames = encryptChunk(this.#send, data)
    release?.()
    if (frames == null) return true
    // A small chunk is one frame in a buffer of its own size, often a slice of node's pool: nothing to free.
    if (frames instanceof Uint8Array) return this.#raw.write(frames)
    return this.#raw.write(frames, () => { freeChunk(frames) })
  }

  async end (): Promise<void> {
    return this.#raw.end()
  }

  onData (data: Uint8Array | Uint8ArrayList): void {
    if (this.#done) return
    let plaintext: Uint8Array | Uint8ArrayList | undefined
    try {
      plaintext = this.#decoder.decode(data)
      // The plaintext is the cipher's own output; the input may be a reused read buffer.
      this.#decoder.detachInput()
    } catch (err) {
      this.onError(err instanceof Error ? err : new Error(String(err)))
      return
    }
    const receiver = this.#receiver
    if (plaintext == null || receiver == null) return
    receiver.onData(plaintext)
    // A receiver that takes transient data has copied what it keeps: the plaintext is the cipher's
    // output, this channel's own, and is freed now rather than at the next collection.
    if (receiver.transientData === true) freeChunk(plaintext)
  }

  onEnd (): void {
    if (this.#done) return
    if (this.#decoder.buffered > 0) {
      this.onError(new UnexpectedEOFError(`The connection ended inside a Noise message (${this.#decoder.buffered} bytes of it received)`))
      return
    }
    this.#done = true
    this.#receiver?.onEnd()
  }

  onError (err: Error): void {
    if (this.#done) return
    this.#done = true
    this.#receiver?.onError(err)
  }

  onDrain (): void {
    // Writing goes on after the remote ended its side.
    this.#receiver?.onDrain()
  }
}

/** The decrypting source of an encrypted connection (see `DecryptingSource`). */
export function decryptSource (source: Source<Uint8Array | Uint8ArrayList>, cipher: CipherState | FrameDecoder): AsyncGenerator<Uint8Array | Uint8ArrayList, void, undefined> {
  return new DecryptingSource(source, cipher instanceof FrameDecoder ? cipher : new FrameDecoder(cipher))
}

/** What the encrypted connection's `sink` hands to the underlying sink (see `EncryptingSource`). */
export function encryptSource (source: Source<Uint8Array | Uint8ArrayList>, cipher: CipherState): AsyncGenerator<Uint8Array | Uint8ArrayList, void, undefined> {
  return new EncryptingSource(source, cipher)
}
