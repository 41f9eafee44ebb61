/**
 * Anything that holds sockets, timers or background tasks.
 *
 * `start()` acquires them; `stop()` releases every one of them: after `stop()` resolves no timer,
 * socket or pending promise created by the component is left behind. Both are idempotent.
 */
export interface Startable {
  /** Called before `start()` on every component of a node, in registration order. */
  beforeStart?(): void | Promise<void>
  start(): void | Promise<void>
  /** Called after every component of the node has started. */
  afterStart?(): void | Promise<void>
  /** Called before `stop()` on every component of a node. */
  beforeStop?(): void | Promise<void>
  stop(): void | Promise<void>
  /** Called after every component of the node has stopped. */
  afterStop?(): void | Promise<void>
}

/** Returns true when `obj` implements {@link Startable}. */
export function isStartable (obj: unknown): obj is Startable {
  return obj != null && typeof (obj as Startable).start === 'function' && typeof (obj as Startable).stop === 'function'
}
