/**
 * Helpers of the stream-muxer suite. They depend on nothing but the language, node and
 * uint8arraylist, so the suite stays implementation-agnostic.
 */
import { createHash } from 'node:crypto'
import { Uint8ArrayList } from 'uint8arraylist'
import type { Stream } from '@peerkit/interfaces'

/** A chunk as a muxer or stream source may yield it. */
export type Chunk = Uint8Array | Uint8ArrayList

/** Resolves after `ms` milliseconds. */
export async function sleep (ms: number): Promise<void> {
  await new Promise<void>(resolve => setTimeout(resolve, ms))
}

export { within } from '../utils.js'

/** Polls `condition` every few ms; rejects naming `what` if it is still false after `ms`. */
export async function until (condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what}: not true within ${ms}ms`)
    await sleep(5)
  }
}

/** The outcome of a promise, recorded without ever leaving a rejection unhandled. */
export interface Settled<T> {
  readonly promise: Promise<T>
  readonly done: boolean
  readonly value?: T
  readonly error?: Error
}

/** Starts tracking `promise`; the returned record fills in when it settles. */
export function track<T> (promise: Promise<T>): Settled<T> {
  const record: { promise: Promise<T>, done: boolean, value?: T, error?: Error } = { promise, done: false }
  promise.then(value => {
    record.done = true
    record.value = value
  }, (err: unknown) => {
    record.done = true
    record.error = err instanceof Error ? err : new Error(String(err))
  })
  return record
}

/** What reading a whole source gave. */
export interface ReadResult {
  /** Everything received, in order. */
  bytes: Uint8Array
  /** The error the source threw, if it did not end cleanly. */
  error?: Error
}

/** Reads `source` to its end (or error) and returns the bytes; never rejects. */
export async function readAll (source: AsyncIterable<Chunk>): Promise<ReadResult> {
  const all = new Uint8ArrayList()
  try {
    for await (const chunk of source) all.append(chunk)
    return { bytes: all.subarray() }
  } catch (err) {
    return { bytes: all.subarray(), error: err instanceof Error ? err : new Error(String(err)) }
  }
}

/** Reads `source` to its end and returns the bytes; rejects with the source's error. */
export async function collect (source: AsyncIterable<Chunk>): Promise<Uint8Array> {
  const result = await readAll(source)
  if (result.error != null) throw result.error
  return result.bytes
}

/** A deterministic pseudo-random generator (mulberry32), so failures reproduce. */
export function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** `length` pseudo-random bytes derived from `seed`. */
export function randomBytes (length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length)
  const rand = prng(seed)
  let i = 0
  for (; i + 4 <= length; i += 4) {
    const v = (rand() * 4294967296) >>> 0
    out[i] = v
    out[i + 1] = v >>> 8
    out[i + 2] = v >>> 16
    out[i + 3] = v >>> 24
  }
  for (; i < length; i++) out[i] = (rand() * 256) >>> 0
  return out
}

/** Hex SHA-256 of some bytes, for comparing large payloads in assertion messages. */
export function digest (data: Uint8Array | Uint8ArrayList): string {
  const hash = createHash('sha256')
  if (data instanceof Uint8Array) {
    hash.update(data)
  } else {
    for (const chunk of data) hash.update(chunk)
  }
  return hash.digest('hex')
}

/** Splits `data` into chunks of at most `size` bytes (views, no copies). */
export function chunked (data: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let offset = 0; offset < data.byteLength; offset += size) {
    out.push(data.subarray(offset, Math.min(offset + size, data.byteLength)))
  }
  return out
}

/** Echoes everything a stream receives back to it; resolves when done, never rejects. */
export async function echo (stream: Stream): Promise<void> {
  try {
    await stream.sink(stream.source)
  } catch {
    // the test looks at the other side
  }
}

/** The error's `name`, or `code`, to compare error kinds without importing an implementation. */
export function errorKind (err: unknown): string {
  if (err == null || typeof err !== 'object') return String(err)
  const e = err as { name?: unknown, code?: unknown }
  return `${String(e.name)}/${String(e.code)}`
}

/** True if `err` is (by name or code) the reset error of the shared error vocabulary. */
export function isResetError (err: unknown): boolean {
  const kind = errorKind(err)
  return kind.includes('StreamResetError') || kind.includes('ERR_STREAM_RESET')
}

/** Counts the active resources of one type (`Timeout`, `TCPSocketWrap`, ...) keeping the event loop alive. */
export function activeResources (type: string): number {
  return process.getActiveResourcesInfo().filter(t => t === type).length
}

/** A source that yields `data` and then stays open (never ends by itself) until `release()`. */
export function openEnded (data: Uint8Array): { source: AsyncGenerator<Uint8Array>, release(): void } {
  let release = (): void => {}
  const released = new Promise<void>(resolve => { release = resolve })
  return {
    source: (async function * () {
      yield data
      await released
    })(),
    release
  }
}
