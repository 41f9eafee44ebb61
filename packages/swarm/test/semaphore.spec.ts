import assert from 'node:assert/strict'
import { AbortError } from '@peerkit/interfaces'
import { Semaphore } from '../src/index.js'

/** Lets pending promise callbacks run. */
async function settle (): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve()
}

describe('Semaphore', () => {
  it('hands out its slots at once, then makes callers wait in order', async () => {
    const sem = new Semaphore(2)
    const r1 = await sem.acquire()
    const r2 = await sem.acquire()
    const order: number[] = []
    const p3 = sem.acquire().then(r => { order.push(3); return r })
    const p4 = sem.acquire().then(r => { order.push(4); return r })
    await settle()
    assert.deepEqual(order, [], 'no slot is free')
    assert.equal(sem.waiting, 2)
    r1()
    await settle()
    assert.deepEqual(order, [3], 'the first waiter gets the released slot')
    r2()
    await settle()
    assert.deepEqual(order, [3, 4])
    assert.equal(sem.waiting, 0)
    ;(await p3)()
    ;(await p4)()
    // Both slots are free again.
    const a = await sem.acquire()
    const b = await sem.acquire()
    assert.equal(sem.waiting, 0)
    a()
    b()
  })

  it('a waiter that aborts leaves the queue and takes no slot', async () => {
    const sem = new Semaphore(1)
    const held = await sem.acquire()
    const controller = new AbortController()
    const aborted = sem.acquire(controller.signal)
    const next = sem.acquire()
    assert.equal(sem.waiting, 2)
    controller.abort()
    await assert.rejects(aborted, AbortError)
    assert.equal(sem.waiting, 1, 'the aborted waiter left the queue')
    held()
    const release = await next
    release()
    // The single slot is free: nothing leaked to the aborted waiter.
    const again = await sem.acquire()
    again()
  })

  it('rejects at once with an already aborted signal when it would have to wait', async () => {
    const sem = new Semaphore(1)
    const held = await sem.acquire()
    await assert.rejects(sem.acquire(AbortSignal.abort()), AbortError)
    assert.equal(sem.waiting, 0)
    held()
    const r = await sem.acquire()
    r()
  })

  it('a waiter granted a slot while its abort is being handled gives the slot back', async () => {
    const sem = new Semaphore(1)
    const held = await sem.acquire()
    const controller = new AbortController()
    const waiter = sem.acquire(controller.signal)
    controller.abort() // the waiter's rejection is queued...
    held() // ...and the slot is granted to it before it could leave the queue
    await assert.rejects(waiter, AbortError)
    await settle()
    const r = await Promise.race([sem.acquire(), new Promise<null>(resolve => setTimeout(() => { resolve(null) }, 1000))])
    assert.notEqual(r, null, 'the slot was returned')
    r?.()
  })

  it('a waiter granted a slot just before it aborts keeps it until it releases', async () => {
    const sem = new Semaphore(1)
    const held = await sem.acquire()
    const controller = new AbortController()
    const waiter = sem.acquire(controller.signal)
    held()
    controller.abort()
    const release = await waiter
    let other = false
    const next = sem.acquire().then(r => { other = true; return r })
    await settle()
    assert.equal(other, false, 'the slot is still held')
    release()
    ;(await next)()
  })

  it('release is idempotent', async () => {
    const sem = new Semaphore(1)
    const r1 = await sem.acquire()
    r1()
    r1()
    r1()
    const a = await sem.acquire()
    let second = false
    const b = sem.acquire().then(r => { second = true; return r })
    await settle()
    assert.equal(second, false, 'repeated releases did not create extra slots')
    a()
    ;(await b)()
  })
})
