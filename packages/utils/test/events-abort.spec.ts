import assert from 'node:assert/strict'
import { AbortError, TimeoutError } from '@peerkit/interfaces'
import { anySignal, closeAll, raceSignal, shutdownController, throwIfAborted } from '../src/abort.js'
import { TypedEventEmitter } from '../src/events.js'
import { logger, prefixLogger } from '../src/logger.js'

describe('TypedEventEmitter', () => {
  it('dispatches typed details and counts listeners', () => {
    const e = new TypedEventEmitter<{ ping: number }>()
    const seen: number[] = []
    const fn = (evt: CustomEvent<number>): void => { seen.push(evt.detail) }
    e.addEventListener('ping', fn)
    e.addEventListener('ping', fn)
    assert.equal(e.listenerCount('ping'), 1)
    e.safeDispatchEvent('ping', { detail: 4 })
    e.removeEventListener('ping', fn)
    e.removeEventListener('ping', fn)
    assert.equal(e.listenerCount('ping'), 0)
    e.safeDispatchEvent('ping', { detail: 5 })
    assert.deepEqual(seen, [4])
  })

  it('forgets once-listeners after they fire and signal-bound ones on abort', () => {
    const e = new TypedEventEmitter<{ x: undefined }>()
    e.addEventListener('x', () => {}, { once: true })
    const controller = new AbortController()
    e.addEventListener('x', () => {}, { signal: controller.signal })
    assert.equal(e.listenerCount('x'), 2)
    e.safeDispatchEvent('x')
    assert.equal(e.listenerCount('x'), 1)
    controller.abort()
    assert.equal(e.listenerCount('x'), 0)
  })
})

describe('abort helpers', () => {
  it('raceSignal without a signal hands back the promise itself', async () => {
    const p = Promise.resolve(7)
    assert.equal(raceSignal(p), p)
    assert.equal(await raceSignal(p, undefined), 7)
  })

  it('raceSignal rejects with AbortError when aborted', async () => {
    const controller = new AbortController()
    const p = raceSignal(new Promise(() => {}), controller.signal)
    controller.abort()
    await assert.rejects(p, AbortError)
  })

  it('raceSignal keeps a custom abort reason', async () => {
    const controller = new AbortController()
    controller.abort(new TimeoutError('slow'))
    await assert.rejects(raceSignal(Promise.resolve(1), controller.signal), TimeoutError)
    assert.throws(() => { throwIfAborted(controller.signal) }, TimeoutError)
  })

  it('maps the DOMException of AbortSignal.timeout() to TimeoutError', async () => {
    const signal = AbortSignal.timeout(1)
    await new Promise(resolve => setTimeout(resolve, 10))
    await assert.rejects(raceSignal(new Promise(() => {}), signal), TimeoutError)
  })

  it('raceSignal passes results through without a signal or before abort', async () => {
    assert.equal(await raceSignal(Promise.resolve(3)), 3)
    assert.equal(await raceSignal(Promise.resolve(4), new AbortController().signal), 4)
  })

  it('anySignal times out with a TimeoutError and clears its timer', async () => {
    const s = anySignal([], 10, 'test op')
    await new Promise(resolve => setTimeout(resolve, 30))
    assert.equal(s.aborted, true)
    assert.ok(s.reason instanceof TimeoutError)
    assert.match((s.reason as Error).message, /test op timed out after 10ms/)
    const t = anySignal([], 10_000)
    t.clear()
    assert.equal(t.aborted, false)
  })

  it('anySignal follows any parent signal', () => {
    const a = new AbortController()
    const b = new AbortController()
    const s = anySignal([a.signal, undefined, b.signal])
    b.abort(new Error('b'))
    assert.equal(s.aborted, true)
    assert.equal((s.reason as Error).message, 'b')
  })
})

describe('logger', () => {
  it('has error and trace sub-loggers and is silent by default', () => {
    const log = logger('peerkit:test')
    assert.equal(typeof log.error, 'function')
    assert.equal(typeof log.trace, 'function')
    assert.equal(log.enabled, false)
    log('not printed %b', Uint8Array.of(1, 2))
  })

  it('prefixLogger writes through its base with a prefix, only when the base is enabled', () => {
    const lines: unknown[][] = []
    let enabled = false
    const record = (kind: string) => Object.assign((...args: unknown[]) => { lines.push([kind, ...args]) }, { enabled: true })
    const base = Object.assign((...args: unknown[]) => { lines.push(['log', ...args]) }, {
      error: record('error'),
      trace: Object.assign(record('trace'), { enabled: false })
    })
    Object.defineProperty(base, 'enabled', { get: () => enabled })
    const log = prefixLogger(base as unknown as Parameters<typeof prefixLogger>[0], 'out:7')
    log('quiet %d', 1)
    assert.equal(log.enabled, false)
    enabled = true
    assert.equal(log.enabled, true)
    log('loud %d', 2)
    log.error('bad %s', 'x')
    log.trace('not formatted: the trace sub-logger is disabled')
    assert.deepEqual(lines, [['log', 'out:7 loud %d', 2], ['error', 'out:7 bad %s', 'x']])
  })

  it('shutdownController: its signal takes any number of listeners without a leak warning, and aborts them all', async () => {
    const warnings: Error[] = []
    const onWarning = (w: Error): void => { warnings.push(w) }
    process.on('warning', onWarning)
    try {
      const controller = shutdownController()
      let aborted = 0
      for (let i = 0; i < 50; i++) controller.signal.addEventListener('abort', () => { aborted++ }, { once: true })
      controller.abort(new AbortError('stopping'))
      await new Promise(resolve => setImmediate(resolve))
      assert.equal(aborted, 50)
      assert.deepEqual(warnings.filter(w => w.name === 'MaxListenersExceededWarning'), [])
    } finally {
      process.off('warning', onWarning)
    }
  })
})

describe('closeAll', () => {
  /** An item whose close waits until released or aborted. */
  function item (fail?: Error): { close: () => Promise<void>, abort: (err: Error) => void, release: () => void, aborted?: Error } {
    let release!: () => void
    const released = new Promise<void>(resolve => { release = resolve })
    const it: { close: () => Promise<void>, abort: (err: Error) => void, release: () => void, aborted?: Error } = {
      close: async () => { await released; if (fail != null) throw fail },
      abort: (err) => { it.aborted = err; release() },
      release: () => { release() }
    }
    return it
  }

  it('closes every item and reports each outcome, without a signal', async () => {
    const items = [item(), item(new Error('bad')), item()]
    const done = closeAll(items)
    for (const i of items) i.release()
    const results = await done
    assert.deepEqual(results.map(r => r.status), ['fulfilled', 'rejected', 'fulfilled'])
    assert.ok(items.every(i => i.aborted == null))
  })

  it('adds a single listener to the signal, however many items, and removes it', async () => {
    const controller = new AbortController()
    let added = 0
    let removed = 0
    const add = controller.signal.addEventListener.bind(controller.signal)
    const remove = controller.signal.removeEventListener.bind(controller.signal)
    controller.signal.addEventListener = (...args: Parameters<AbortSignal['addEventListener']>) => { added++; add(...args) }
    controller.signal.removeEventListener = (...args: Parameters<AbortSignal['removeEventListener']>) => { removed++; remove(...args) }
    const items = Array.from({ length: 50 }, () => item())
    const done = closeAll(items, controller.signal)
    for (const i of items) i.release()
    await done
    assert.equal(added, 1)
    assert.equal(removed, 1)
  })

  it('aborts the items still closing when the signal aborts, with its reason', async () => {
    const controller = new AbortController()
    const items = [item(), item()]
    const done = closeAll(items, controller.signal)
    items[0].release()
    await new Promise(resolve => setImmediate(resolve))
    const reason = new Error('deadline')
    controller.abort(reason)
    const results = await done
    assert.deepEqual(results.map(r => r.status), ['fulfilled', 'fulfilled'])
    assert.equal(items[1].aborted, reason)
  })

  it('aborts every item at once when the signal is already aborted', async () => {
    const items = [item(), item()]
    const results = await closeAll(items, AbortSignal.abort(new Error('already')))
    assert.deepEqual(results.map(r => r.status), ['rejected', 'rejected'])
    assert.ok(items.every(i => i.aborted?.message === 'already'))
  })
})
