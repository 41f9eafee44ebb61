// js-libp2p 3.x calls Promise.withResolvers, which Node 20 lacks. Imported first by js.mjs so it is
// installed before any js-libp2p module is evaluated.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers () {
    let resolve
    let reject
    const promise = new this((res, rej) => { resolve = res; reject = rej })
    return { promise, resolve, reject }
  }
}
