/**
 * Small helpers used by the transport suite. They depend on nothing but the language, so the suite
 * stays implementation-agnostic.
 */
import { isUint8ArrayList } from 'uint8arraylist'
import { delay } from '../utils.js'
import type { Uint8ArrayList } from 'uint8arraylist'

/** A chunk as a `MultiaddrConnection` source may yield it. */
export type Chunk = Uint8Array | Uint8ArrayList

/** A promise together with its resolve/reject functions. */
export interface Deferred<T> {
  promise: Promise<T>
  resolve(value: T): void
  reject(err: Error): void
}

/** Creates a {@link Deferred}. */
export function deferred<T> (): Deferred<T> {
  let resolve!: (value: T) => void
  let reject!: (err: Error) => void
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej })
  return { promise, resolve, reject }
}

export { within as withTimeout, delay, firstDifference } from '../utils.js'

/** Polls `condition` every `interval` ms; rejects naming `what` if it is still false after `ms`. */
export async function waitFor (condition: () => boolean, ms: number, what: string, interval = 10): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms}ms`)
    await delay(interval)
  }
}

/** The bytes of a chunk, without copying a plain `Uint8Array`. */
export function toBytes (chunk: Chunk): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk
  if (isUint8ArrayList(chunk)) return chunk.subarray()
  throw new TypeError(`A source yielded a ${typeof chunk}, expected Uint8Array or Uint8ArrayList`)
}

/** Concatenates byte arrays. */
export function concat (parts: Uint8Array[], length?: number): Uint8Array {
  const total = length ?? parts.reduce((n, p) => n + p.byteLength, 0)
  const out = new Uint8Array(total)
  let offset = 0
  for (const p of parts) {
    out.set(p, offset)
    offset += p.byteLength
  }
  return out
}

/** How a read of a whole source ended. */
export interface ReadResult {
  /** Everything received, in order. */
  bytes: Uint8Array
  /** The error the source threw, if it did not end cleanly. */
  error?: Error
}

/**
 * Reads `source` to its end and returns every byte, or the bytes received so far plus the error
 * the source threw. Never rejects.
 */
export async function readAll (source: AsyncIterable<Chunk>): Promise<ReadResult> {
  const parts: Uint8Array[] = []
  let length = 0
  try {
    for await (const chunk of source) {
      const bytes = toBytes(chunk)
      // Copy: a transport may reuse its buffers once the next chunk is requested.
      parts.push(bytes.slice())
      length += bytes.byteLength
    }
  } catch (err) {
    return { bytes: concat(parts, length), error: err instanceof Error ? err : new Error(String(err)) }
  }
  return { bytes: concat(parts, length) }
}

/** Deterministic pseudo-random bytes (xorshift32), so payload corruption cannot go unnoticed. */
export function patterned (length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length)
  let x = seed >>> 0 || 0x9e3779b9
  let i = 0
  for (; i + 4 <= length; i += 4) {
    x ^= x << 13; x >>>= 0
    x ^= x >>> 17
    x ^= x << 5; x >>>= 0
    out[i] = x & 0xff
    out[i + 1] = (x >>> 8) & 0xff
    out[i + 2] = (x >>> 16) & 0xff
    out[i + 3] = x >>> 24
  }
  for (; i < length; i++) out[i] = (i * 31 + seed) & 0xff
  return out
}

/** Yields `buf` in slices of at most `size` bytes (views, no copies). */
export function * slices (buf: Uint8Array, size: number): Generator<Uint8Array> {
  for (let offset = 0; offset < buf.byteLength; offset += size) {
    yield buf.subarray(offset, Math.min(offset + size, buf.byteLength))
  }
}

/** A promise whose state can be inspected synchronously. */
export interface Tracked<T> {
  readonly promise: Promise<T>
  readonly settled: boolean
  readonly error: Error | undefined
  readonly value: T | undefined
}

/** Wraps `promise` so its state can be read synchronously; the wrapped promise never rejects unhandled. */
export function track<T> (promise: Promise<T>): Tracked<T> {
  const state: { settled: boolean, error?: Error, value?: T } = { settled: false }
  const wrapped = promise.then(value => {
    state.settled = true
    state.value = value
    return value
  }, (err: unknown) => {
    state.settled = true
    state.error = err instanceof Error ? err : new Error(String(err))
    throw state.error
  })
  wrapped.catch(() => {})
  return {
    promise: wrapped,
    get settled () { return state.settled },
    get error () { return state.error },
    get value () { return state.value }
  }
}

/** Counts of the active handle types (`process.getActiveResourcesInfo()`), when the runtime offers it. */
export function activeResources (): Map<string, number> | undefined {
  const proc = (globalThis as { process?: { getActiveResourcesInfo?: () => string[] } }).process
  if (typeof proc?.getActiveResourcesInfo !== 'function') return undefined
  const counts = new Map<string, number>()
  for (const type of proc.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1)
  return counts
}

/** The resource types whose count in `now` exceeds `baseline`, as `type: before -> now`. */
export function resourceGrowth (baseline: Map<string, number>, now: Map<string, number>): string[] {
  const out: string[] = []
  for (const [type, count] of now) {
    const before = baseline.get(type) ?? 0
    if (count > before) out.push(`${type}: ${before} -> ${count}`)
  }
  return out
}
