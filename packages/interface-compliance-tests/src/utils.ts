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
