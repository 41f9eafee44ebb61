import { InvalidMessageError, UnsupportedProtocolError } from '@peerkit/interfaces'
import { ByteStream } from '@peerkit/utils'
import { NOT_AVAILABLE } from './constants.js'
import { printable, readHeader, readText } from './messages.js'
import { offerNegotiatedChannel } from './channel.js'
import type { NegotiationWriter } from './writer.js'
import type { Logger } from '@peerkit/interfaces'
import type { ByteDuplex } from '@peerkit/utils'
import type { Uint8ArrayList } from 'uint8arraylist'

type Chunk = Uint8Array | Uint8ArrayList

const DONE: IteratorResult<Chunk, undefined> = { done: true, value: undefined }

/** Everything the optimistic source needs to finish the negotiation on its first read. */
export interface LazySourceInit {
  stream: ByteDuplex
  /** The duplex the answer is read through (the stream's source at proposal time, see `readerDuplex`). */
  reader: ByteDuplex
  writer: NegotiationWriter
  protocol: string
  maxMessageLength: number
  log: Logger
}

/**
 * The source of an optimistically selected stream. Its first `next()` makes sure the proposal is
 * sent, reads the listener's header and answer, and fails with `UnsupportedProtocolError` on `na`
 * or `InvalidMessageError` on anything unexpected (every later read fails the same way). Once the
 * answer is through, `next()` calls the raw source's iterator directly and the stream's `source`
 * is set to the raw source, so later readers skip this object altogether.
 */
export class LazySource implements AsyncIterableIterator<Chunk, undefined, undefined> {
  readonly #init: LazySourceInit
  readonly #original: AsyncIterable<Chunk>
  #raw?: AsyncIterator<Chunk>
  #negotiation?: Promise<void>
  #done = false
  #failed = false

  constructor (init: LazySourceInit) {
    this.#init = init
    this.#original = init.reader.source as AsyncIterable<Chunk>
  }

  /** The listener accepted the proposal and its answer has been read. */
  get confirmed (): boolean {
    return this.#raw != null && !this.#done
  }

  next (): Promise<IteratorResult<Chunk, undefined>> {
    const raw = this.#raw
    if (raw != null) return raw.next() as Promise<IteratorResult<Chunk, undefined>>
    return this.#firstNext()
  }

  /** The answer is in (accepted or not), or reading stopped. */
  get settled (): boolean {
    return this.#raw != null || this.#done || this.#failed
  }

  /**
   * Runs the negotiation (sends the proposal if needed, reads the answer) if no read has started
   * it yet; resolves once the listener accepted, rejects as the first read would.
   */
  async confirm (): Promise<void> {
    if (this.#done) return
    if (this.#negotiation == null) {
      this.#negotiation = this.#negotiate()
      this.#negotiation.catch(() => { this.#failed = true })
    }
    await this.#negotiation
  }

  async #firstNext (): Promise<IteratorResult<Chunk, undefined>> {
    if (this.#done) return DONE
    await this.confirm()
    const raw = this.#raw
    if (this.#done || raw == null) return DONE
    return raw.next() as Promise<IteratorResult<Chunk, undefined>>
  }

  async #negotiate (): Promise<void> {
    const { writer, protocol, log } = this.#init
    // The listener answers only once it has the proposal: send it now if the application has
    // not written yet. Both halves run together; whichever fails first fails the read.
    try {
      // Usually the proposal went out with the application's first chunk: only the answer to wait for.
      if (writer.prefixSent) await this.#readAnswer()
      else await Promise.all([writer.flush(), this.#readAnswer()])
    } finally {
      // Settled either way: the end of our data no longer waits for the answer.
      writer.gateEnd(undefined)
    }
    log('optimistic select of "%s" confirmed', protocol)
  }

  async #readAnswer (): Promise<void> {
    const { stream, reader, writer, protocol, maxMessageLength, log } = this.#init
    const bs = new ByteStream(reader)
    const readOptions = { maxLength: maxMessageLength, limit: 'maxMessageLength' }
    await readHeader(bs, readOptions)
    const answer = await readText(bs, readOptions)
    log.trace('optimistic select read "%s"', answer)
    if (answer === NOT_AVAILABLE) {
      throw new UnsupportedProtocolError([protocol])
    }
    if (answer !== protocol) {
      throw new InvalidMessageError(`Unexpected answer ${printable(answer)} to the proposal of ${printable(protocol)}`)
    }
    const { source } = bs.unwrap()
    this.#raw = source[Symbol.asyncIterator]()
    stream.source = source
    offerNegotiatedChannel(stream, reader, writer)
  }

  /** Stops reading: the raw source (or, before negotiation, the original one) is closed too. */
  async return (): Promise<IteratorResult<Chunk, undefined>> {
    this.#done = true
    const it = this.#raw ?? (isIterator(this.#original) ? this.#original : undefined)
    if (it?.return != null) await it.return()
    return DONE
  }

  async throw (err?: unknown): Promise<IteratorResult<Chunk, undefined>> {
    await this.return()
    throw err
  }

  [Symbol.asyncIterator] (): this {
    return this
  }
}

function isIterator (source: AsyncIterable<Chunk>): source is AsyncIterable<Chunk> & AsyncIterator<Chunk> {
  return typeof (source as { next?: unknown }).next === 'function'
}
