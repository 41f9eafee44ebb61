import { ChunkQueue } from '@peerkit/utils'
import { Uint8ArrayList } from 'uint8arraylist'
import { HEADER_LENGTH, decodeHeader, encodeHeader, FrameType } from '../src/frame.js'
import { YamuxMuxer } from '../src/muxer.js'
import type { YamuxInit } from '../src/config.js'
import type { FrameHeader } from '../src/frame.js'
import type { YamuxStream } from '../src/stream.js'
import type { Stream } from '@peerkit/interfaces'

/** A frame the muxer under test sent. */
export interface SentFrame extends FrameHeader {
  payload: Uint8Array
}

/** Builds a frame from a header and optional payload. */
export function frame (type: number, flags: number, streamId: number, lengthOrPayload: number | Uint8Array = 0): Uint8Array {
  if (typeof lengthOrPayload === 'number') return encodeHeader(type, flags, streamId, lengthOrPayload)
  const out = new Uint8Array(HEADER_LENGTH + lengthOrPayload.byteLength)
  out.set(encodeHeader(type, flags, streamId, lengthOrPayload.byteLength), 0)
  out.set(lengthOrPayload, HEADER_LENGTH)
  return out
}

/** Outcome of a promise, recorded without leaving rejections unhandled. */
export interface Outcome {
  done: boolean
  error?: Error
}

export function track (promise: Promise<unknown>): Outcome & { promise: Promise<void> } {
  const outcome: Outcome & { promise: Promise<void> } = { done: false, promise: Promise.resolve() }
  outcome.promise = promise.then(() => { outcome.done = true }, (err: unknown) => {
    outcome.done = true
    outcome.error = err instanceof Error ? err : new Error(String(err))
  })
  return outcome
}

export const sleep = async (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

export async function until (condition: () => boolean, ms = 2000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what}: not true within ${ms}ms`)
    await sleep(2)
  }
}

export async function collect (source: AsyncIterable<Uint8Array | Uint8ArrayList>): Promise<Uint8Array> {
  const all = new Uint8ArrayList()
  for await (const chunk of source) all.append(chunk)
  return all.subarray()
}

export function activeTimers (): number {
  return process.getActiveResourcesInfo().filter(t => t === 'Timeout').length
}

/**
 * A yamux muxer wired to a hand-driven remote: the test writes raw bytes with `send()` and reads
 * the frames the muxer emitted from `frames` / `nextFrame()`.
 */
export class RawPeer {
  readonly muxer: YamuxMuxer
  readonly frames: SentFrame[] = []
  readonly incoming: YamuxStream[] = []
  readonly ended: Stream[] = []
  readonly sink: Outcome & { promise: Promise<void> }
  readonly output: Outcome & { promise: Promise<void> }
  readonly #input = new ChunkQueue()
  #cursor = 0
  #wake?: () => void

  constructor (direction: 'inbound' | 'outbound', init: YamuxInit = {}, onStream?: (stream: YamuxStream) => void) {
    this.muxer = new YamuxMuxer({
      direction,
      onIncomingStream: (s) => {
        const stream = s as YamuxStream
        this.incoming.push(stream)
        onStream?.(stream)
      },
      onStreamEnd: (s) => { this.ended.push(s) }
    }, { enableKeepAlive: false, ...init })
    this.sink = track(this.muxer.sink(this.#input))
    this.output = track(this.#read())
  }

  async #read (): Promise<void> {
    const buffer = new Uint8ArrayList()
    for await (const chunk of this.muxer.source) {
      buffer.append(chunk)
      while (buffer.byteLength >= HEADER_LENGTH) {
        const header = decodeHeader(buffer)
        const size = header.type === FrameType.Data ? header.length : 0
        if (buffer.byteLength < HEADER_LENGTH + size) break
        this.frames.push({ ...header, payload: buffer.subarray(HEADER_LENGTH, HEADER_LENGTH + size) })
        buffer.consume(HEADER_LENGTH + size)
      }
      this.#wake?.()
    }
    this.#wake?.()
  }

  /** Feeds raw bytes to the muxer. */
  send (...chunks: Uint8Array[]): void {
    for (const c of chunks) this.#input.push(c)
  }

  /** Ends the muxer's input (the remote closed the connection). */
  end (): void {
    this.#input.end()
  }

  /** Frames sent since the last `take()` (or the start). */
  take (): SentFrame[] {
    const out = this.frames.slice(this.#cursor)
    this.#cursor = this.frames.length
    return out
  }

  /** Waits for the next frame matching `match` (skipping others), sent after the last one returned. */
  async nextFrame (match: (f: SentFrame) => boolean = () => true, ms = 2000): Promise<SentFrame> {
    const deadline = Date.now() + ms
    while (true) {
      while (this.#cursor < this.frames.length) {
        const f = this.frames[this.#cursor++]
        if (match(f)) return f
      }
      if (this.output.done) throw new Error('muxer output ended before the expected frame')
      const left = deadline - Date.now()
      if (left <= 0) throw new Error('expected frame not sent in time')
      await new Promise<void>(resolve => {
        const timer = setTimeout(resolve, left)
        this.#wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
    }
  }

  /** Answers the muxer's pending ping (its initial RTT probe). */
  async answerPing (): Promise<void> {
    const ping = await this.nextFrame(f => f.type === FrameType.Ping && (f.flags & 0x1) !== 0)
    this.send(encodeHeader(FrameType.Ping, 0x2, 0, ping.length))
  }
}

/**
 * Two yamux muxers connected through an in-memory link that delays every batch by `latencyMs`
 * in each direction (so the RTT is 2 x latency), preserving order.
 */
export function delayedPair (latencyMs: number, init: YamuxInit = {}, onStream?: (stream: YamuxStream) => void): { dialer: YamuxMuxer, listener: YamuxMuxer, done: Promise<unknown> } {
  const dialer = new YamuxMuxer({ direction: 'outbound' }, { enableKeepAlive: false, ...init })
  const listener = new YamuxMuxer({ direction: 'inbound', onIncomingStream: (s) => onStream?.(s as YamuxStream) }, { enableKeepAlive: false, ...init })
  const link = (from: YamuxMuxer, to: YamuxMuxer): Promise<void> => {
    const queue = new ChunkQueue()
    const pumping = (async () => {
      // A pipe with latency and no bandwidth limit: each batch lands `latencyMs` after it left
      // (timers of equal delay fire in order).
      for await (const batch of from.source) {
        setTimeout(() => { queue.push(batch) }, latencyMs)
      }
      await new Promise<void>(resolve => setTimeout(resolve, latencyMs))
      queue.end()
    })()
    return Promise.all([pumping, to.sink(queue).catch(() => {})]).then(() => {})
  }
  return { dialer, listener, done: Promise.all([link(dialer, listener), link(listener, dialer)]) }
}
