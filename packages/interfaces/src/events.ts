/**
 * An `EventTarget` whose event names and `detail` payloads are typed by an event map.
 * Implementations live in `@peerkit/utils` (`TypedEventEmitter`).
 */
export interface TypedEventTarget<EventMap extends Record<string, unknown>> extends EventTarget {
  addEventListener<K extends keyof EventMap>(type: K, listener: EventHandler<EventMap[K]> | null, options?: boolean | AddEventListenerOptions): void
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void
  removeEventListener<K extends keyof EventMap>(type: K, listener?: EventHandler<EventMap[K]> | null, options?: boolean | EventListenerOptions): void
  removeEventListener(type: string, listener?: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void
  /** Number of listeners currently registered for `type`. */
  listenerCount(type: string): number
  /** Dispatches a `CustomEvent` with the given detail; returns false if a listener called `preventDefault()`. */
  safeDispatchEvent<K extends keyof EventMap>(type: K, detail?: CustomEventInit<EventMap[K]>): boolean
}

/** A listener receiving a `CustomEvent` whose `detail` is `T`. */
export type EventHandler<T> = ((evt: CustomEvent<T>) => void) | { handleEvent(evt: CustomEvent<T>): void }
