/**
 * js-libp2p 3.x calls `Promise.withResolvers`, which Node 20 lacks. Imported first by every module
 * here that loads js-libp2p (peerkit's own code does not need it).
 */
interface WithResolvers {
  withResolvers?: <T>() => { promise: Promise<T>, resolve: (value: T | PromiseLike<T>) => void, reject: (reason?: unknown) => void }
}

const P = Promise as unknown as WithResolvers
if (typeof P.withResolvers !== 'function') {
  P.withResolvers = function withResolvers<T> () {
    let resolve!: (value: T | PromiseLike<T>) => void
    let reject!: (reason?: unknown) => void
    const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej })
    return { promise, resolve, reject }
  }
}

export {}
