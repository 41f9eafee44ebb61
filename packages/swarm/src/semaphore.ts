import { raceSignal } from '@peerkit/utils'

interface Waiter {
  grant(): void
  cancelled: boolean
}

/** Counts concurrent holders; `acquire` waits (abortably) for a free slot. */
export class Semaphore {
  #available: number
  readonly #waiters: Waiter[] = []

  constructor (slots: number) {
    this.#available = slots
  }

  /** Number of callers waiting for a slot. */
  get waiting (): number {
    return this.#waiters.length
  }

  /** Resolves with a release function once a slot is free. Rejects if `signal` aborts first. */
  async acquire (signal?: AbortSignal): Promise<() => void> {
    if (this.#available > 0) {
      this.#available--
      return this.#releaser()
    }
    let waiter!: Waiter
    const granted = new Promise<void>(resolve => {
      waiter = { grant: resolve, cancelled: false }
      this.#waiters.push(waiter)
    })
    try {
      await raceSignal(granted, signal)
    } catch (err) {
      waiter.cancelled = true
      const idx = this.#waiters.indexOf(waiter)
      if (idx >= 0) this.#waiters.splice(idx, 1)
      else void granted.then(() => { this.#release() }) // granted in the meantime: give it back
      throw err
    }
    return this.#releaser()
  }

  #releaser (): () => void {
    let released = false
    return () => {
      if (released) return
      released = true
      this.#release()
    }
  }

  #release (): void {
    const next = this.#waiters.shift()
    if (next != null) next.grant()
    else this.#available++
  }
}
