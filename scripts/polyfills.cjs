// Test-only polyfills. js-libp2p 3.x (used as a reference peer in interop and round-trip tests)
// calls Promise.withResolvers, which Node 20 lacks. Our own sources compile against ES2022 and
// cannot call it, so this cannot hide a bug of ours.
'use strict'
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers () {
    let resolve
    let reject
    const promise = new this((res, rej) => { resolve = res; reject = rej })
    return { promise, resolve, reject }
  }
}
