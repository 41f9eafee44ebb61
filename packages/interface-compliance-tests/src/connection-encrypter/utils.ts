/**
 * Small helpers of the connection-encrypter suite: deadlines that always clear their timer, a
 * tracker of timers created while a test runs (unref'd ones included), deterministic test data.
 */
import { createHook } from 'node:async_hooks'
import { sep } from 'node:path'
import { Uint8ArrayList } from 'uint8arraylist'
import { delay, firstDifference, within } from '../utils.js'
import type { AsyncHook } from 'node:async_hooks'

/** The outcome of a promise, without throwing. */
export type Settled<T> = { ok: true, value: T } | { ok: false, error: unknown }

/** Never rejects: captures the outcome (and marks the rejection as handled). */
export async function settle<T> (promise: Promise<T>): Promise<Settled<T>> {
  try {
    return { ok: true, value: await promise }
  } catch (error) {
    return { ok: false, error }
  }
}

export { within, delay, firstDifference }

/** True if `promise` settles within `ms` (its rejection is then rethrown), false otherwise. */
export async function settlesWithin (promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    return await Promise.race([
      promise.then(() => true),
      new Promise<boolean>(resolve => { timer = setTimeout(() => { resolve(false) }, ms) })
    ])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Reads `source` to its end and returns the bytes; rejects if that takes longer than `ms`. The
 * iterator is left to the connection's owner when the deadline hits (it is closed by the teardown).
 */
export async function readAll (source: AsyncIterable<Uint8Array | Uint8ArrayList>, ms: number, what: string): Promise<Uint8Array> {
  const out = new Uint8ArrayList()
  const reading = (async () => {
    for await (const chunk of source) out.append(chunk)
  })()
  await within(reading, ms, what)
  return plain(out.subarray())
}

/**
 * Reads from `iterator` until at least `bytes` bytes arrived, or it ends, or `ms` pass (then it
 * rejects). Returns what was read; the iterator stays open.
 */
export async function readAtLeast (iterator: AsyncIterator<Uint8Array | Uint8ArrayList>, bytes: number, ms: number, what: string): Promise<Uint8Array> {
  const out = new Uint8ArrayList()
  const reading = (async () => {
    while (out.byteLength < bytes) {
      const result = await iterator.next()
      if (result.done === true) return
      out.append(result.value)
    }
  })()
  reading.catch(() => {})
  await within(reading, ms, what)
  return plain(out.subarray())
}

/** The same bytes as a plain `Uint8Array` view (not a `Buffer`), so deep equality compares bytes only. */
function plain (bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/**
 * Deterministic pseudo-random bytes (xorshift32), so that any reordering, loss or corruption shows
 * up in a comparison.
 */
export function pattern (length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length)
  let x = (seed | 0) === 0 ? 0x9e3779b9 : seed | 0
  for (let i = 0; i < length; i += 4) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x
    if (i + 1 < length) out[i + 1] = x >>> 8
    if (i + 2 < length) out[i + 2] = x >>> 16
    if (i + 3 < length) out[i + 3] = x >>> 24
  }
  return out
}

/** Splits `data` into chunks whose sizes cycle pseudo-randomly between 1 and `max` bytes (views, no copies). */
export function chunks (data: Uint8Array, max: number, seed: number): Uint8Array[] {
  const sizes = pattern(64, seed)
  const out: Uint8Array[] = []
  let offset = 0
  for (let i = 0; offset < data.byteLength; i++) {
    const size = 1 + ((sizes[i % sizes.length] * 2654435761) >>> 0) % max
    out.push(data.subarray(offset, offset + size))
    offset += size
  }
  return out
}

/**
 * Records every timer (`setTimeout`/`setInterval`, unref'd ones included) created between `start()`
 * and `stop()` and not yet cleared or fired. Uses `async_hooks`, so timers created through
 * `node:timers` are seen too.
 */
export class TimerTracker {
  readonly #live = new Map<number, string>()
  readonly #hook: AsyncHook

  constructor () {
    this.#hook = createHook({
      init: (id, type) => {
        if (type !== 'Timeout') return
        const site = creationSite()
        // The test runner's own per-test timer is not the code under test's.
        const caller = site.split('\n').find(line => !line.includes('(node:'))
        if (caller?.includes(`${sep}mocha${sep}lib${sep}`) === true) return
        this.#live.set(id, site)
      },
      destroy: (id) => {
        this.#live.delete(id)
      }
    })
  }

  /** Starts recording timers. */
  start (): void {
    this.#hook.enable()
  }

  /** Stops recording (call after {@link pending}: clearances are only seen while recording). */
  stop (): void {
    this.#hook.disable()
  }

  /**
   * Creation sites of the timers still alive. Waits a few event-loop turns first, since node reports
   * cleared timers asynchronously.
   */
  async pending (): Promise<string[]> {
    for (let i = 0; i < 3; i++) await new Promise<void>(resolve => { setImmediate(resolve) })
    return [...this.#live.values()]
  }
}

function creationSite (): string {
  const stack = new Error('timer created').stack ?? ''
  // Drop the frames of this module and of node's timer internals.
  return stack.split('\n').slice(1).filter(line => !line.includes('node:internal') && !line.includes('utils.js')).slice(0, 6).join('\n')
}
