/**
 * Resolves or rejects like `promise`, but rejects with an error naming `what` if it has not settled
 * after `ms` milliseconds. The timer is cleared either way. Shared by every suite.
 */
export async function within<T> (promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => { reject(new Error(`${what} did not settle within ${ms}ms`)) }, ms)
      })
    ])
  } finally {
    clearTimeout(timer)
  }
}

/** Resolves after `ms` milliseconds. */
export async function delay (ms: number): Promise<void> {
  await new Promise<void>(resolve => { setTimeout(resolve, ms) })
}

/** Index of the first differing byte, or -1 when equal (lengths included). */
export function firstDifference (a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.byteLength, b.byteLength)
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return i
  }
  return a.byteLength === b.byteLength ? -1 : n
}
