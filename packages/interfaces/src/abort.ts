/**
 * Options accepted by every operation that can be cancelled.
 */
export interface AbortOptions {
  /** Aborting this signal cancels the operation; it then rejects with an `AbortError`. */
  signal?: AbortSignal
}

/** Something that can be awaited or used directly. */
export type Awaitable<T> = T | Promise<T>
