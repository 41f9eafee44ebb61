import type { EventHandler, TypedEventTarget } from '@peerkit/interfaces'

/**
 * An `EventTarget` with typed `CustomEvent` details and a listener count. Listener errors are
 * reported through `reportError`/`process` like any EventTarget listener; they never break dispatch.
 */
export class TypedEventEmitter<EventMap extends Record<string, unknown>> extends EventTarget implements TypedEventTarget<EventMap> {
  readonly #listeners = new Map<string, Set<unknown>>()

  override addEventListener<K extends keyof EventMap>(type: K, listener: EventHandler<EventMap[K]> | null, options?: boolean | AddEventListenerOptions): void
  override addEventListener (type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void
  override addEventListener (type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void {
    super.addEventListener(type, listener, options)
    if (listener == null) return
    let set = this.#listeners.get(type)
    if (set == null) {
      set = new Set()
      this.#listeners.set(type, set)
    }
    set.add(listener)
    const signal = typeof options === 'object' ? options.signal : undefined
    signal?.addEventListener('abort', () => { this.#forget(type, listener) }, { once: true })
    if (typeof options === 'object' && options.once === true) {
      // Runs right after the user's once-listener (registered after it).
      super.addEventListener(type, () => { this.#forget(type, listener) }, { once: true })
    }
  }

  override removeEventListener<K extends keyof EventMap>(type: K, listener?: EventHandler<EventMap[K]> | null, options?: boolean | EventListenerOptions): void
  override removeEventListener (type: string, listener?: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void
  override removeEventListener (type: string, listener?: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void {
    super.removeEventListener(type, listener ?? null, options)
    if (listener != null) this.#forget(type, listener)
  }

  #forget (type: string, listener: unknown): void {
    const set = this.#listeners.get(type)
    if (set == null) return
    set.delete(listener)
    if (set.size === 0) this.#listeners.delete(type)
  }

  listenerCount (type: string): number {
    return this.#listeners.get(type)?.size ?? 0
  }

  safeDispatchEvent<K extends keyof EventMap>(type: K, detail: CustomEventInit<EventMap[K]> = {}): boolean {
    return this.dispatchEvent(new CustomEvent<EventMap[K]>(type as string, detail))
  }
}
