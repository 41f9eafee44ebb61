import { setMaxListeners } from 'node:events'
import { AbortError, TimeoutError } from '@peerkit/interfaces'

/** Throws `AbortError` (or the signal's reason when it is an Error) if `signal` is aborted. */
export function throwIfAborted (signal?: AbortSignal): void {
  if (signal?.aborted === true) throw abortReason(signal)
}

/** The error to reject with when `signal` aborted: its reason if it is a peerkit error or Error, else `AbortError`. */
export function abortReason (signal: AbortSignal): Error {
  const reason: unknown = signal.reason
  // AbortSignal.timeout() aborts with a DOMException named TimeoutError: make it ours.
  if (reason instanceof Error && reason.name === 'TimeoutError' && !(reason instanceof TimeoutError)) {
    return new TimeoutError(reason.message, undefined, { cause: reason })
  }
  if (reason instanceof Error && reason.name !== 'AbortError') return reason
  return new AbortError(reason instanceof Error ? reason.message : undefined)
}

/**
 * Races `promise` against `signal`: rejects with the abort reason as soon as the signal aborts.
 * The listener is removed when either settles, so nothing leaks.
 */
export function raceSignal<T> (promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  // Without a signal the promise itself: no wrapper, no extra turns of the microtask queue.
  if (signal == null) return promise
  return raceAbort(promise, signal)
}

async function raceAbort<T> (promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {})
    throw abortReason(signal)
  }
  let onAbort: (() => void) | undefined
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_resolve, reject) => {
        onAbort = () => { reject(abortReason(signal)) }
        signal.addEventListener('abort', onAbort, { once: true })
      })
    ])
  } finally {
    if (onAbort != null) signal.removeEventListener('abort', onAbort)
  }
}

/**
 * A signal that aborts when any of `signals` aborts or after `timeoutMs` (with a `TimeoutError`).
 * Call `clear()` when done so the timer and listeners are released.
 */
export function anySignal (signals: Array<AbortSignal | undefined>, timeoutMs?: number, what = 'operation'): AbortSignal & { clear(): void } {
  const controller = new AbortController()
  const cleanups: Array<() => void> = []
  const clear = (): void => {
    for (const fn of cleanups.splice(0)) fn()
  }
  const abort = (reason: unknown): void => {
    clear()
    controller.abort(reason)
  }
  for (const s of signals) {
    if (s == null) continue
    if (s.aborted) {
      abort(s.reason)
      break
    }
    const fn = (): void => { abort(s.reason) }
    s.addEventListener('abort', fn, { once: true })
    cleanups.push(() => { s.removeEventListener('abort', fn) })
  }
  if (timeoutMs != null && timeoutMs > 0 && timeoutMs < Infinity && !controller.signal.aborted) {
    const timer = setTimeout(() => { abort(new TimeoutError(`${what} timed out after ${timeoutMs}ms`, timeoutMs)) }, timeoutMs)
    timer.unref?.()
    cleanups.push(() => { clearTimeout(timer) })
  }
  return Object.assign(controller.signal, { clear })
}

/**
 * An `AbortController` for a service's shutdown: its signal is shared by every operation in flight
 * (each pending upgrade, dial or request listens to it), so node's "possible EventTarget memory
 * leak" warning past 10 listeners does not apply. The operations are bounded by their own limits.
 */
export function shutdownController (): AbortController {
  const controller = new AbortController()
  setMaxListeners(Infinity, controller.signal)
  return controller
}

/** Something closed gracefully by `close()` and at once by `abort(err)`: a stream, a connection. */
export interface Closable {
  close(): Promise<void>
  abort(err: Error): void
}

/**
 * Closes every item gracefully, bounded by `signal` through a single listener: when the signal
 * aborts, the items still closing are aborted with its reason, so every close settles. (Passing
 * the signal to each `close()` adds one listener per item, and Node warns past ten.) Resolves
 * with each close's outcome, in order; never rejects. With an already aborted signal every item
 * is aborted at once.
 */
export async function closeAll (items: Iterable<Closable>, signal?: AbortSignal): Promise<Array<PromiseSettledResult<void>>> {
  const list = [...items]
  if (signal?.aborted === true) {
    const reason = abortReason(signal)
    for (const item of list) item.abort(reason)
    return list.map(() => ({ status: 'rejected', reason }))
  }
  const closing = Promise.allSettled(list.map(async item => { await item.close() }))
  if (signal == null) return closing
  const onAbort = (): void => {
    const reason = abortReason(signal)
    for (const item of list) item.abort(reason)
  }
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    return await closing
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}
