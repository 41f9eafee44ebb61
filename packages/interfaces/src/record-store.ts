import type { AbortOptions } from './abort.js'
import type { PeerId } from './peer-id.js'

/** A value stored under a key, with its provenance. */
export interface StoredRecord {
  key: Uint8Array
  value: Uint8Array
  /** When it was received or written (ms since epoch). */
  timeReceived: number
  /** The peer the record came from, when it came from the network. */
  from?: PeerId
}

/**
 * Validates and orders records for a key namespace (e.g. `/pk/`, `/ipns/`). `validate` throws
 * (`InvalidMessageError`, `InvalidSignatureError`) when a record is not acceptable; `select`
 * returns the index of the best among several valid ones.
 */
export interface RecordValidator {
  validate(key: Uint8Array, value: Uint8Array): void | Promise<void>
  select(key: Uint8Array, values: Uint8Array[]): number
}

/** A local key/value store of records (in memory or on disk). Bounded in entries and value size. */
export interface RecordStore {
  /** Stores a record after validation. Throws `LimitExceededError` past the size or count bounds. */
  put(key: Uint8Array, value: Uint8Array, options?: AbortOptions): Promise<void>
  /** Throws `NotFoundError` when absent. */
  get(key: Uint8Array, options?: AbortOptions): Promise<StoredRecord>
  has(key: Uint8Array, options?: AbortOptions): Promise<boolean>
  delete(key: Uint8Array, options?: AbortOptions): Promise<void>
}

export const distributedRecordStoreSymbol = Symbol.for('@peerkit/distributed-record-store')

/** A record store replicated across the network (e.g. the Kademlia DHT). */
export interface DistributedRecordStore {
  /** Stores the record locally and on the peers responsible for `key`. */
  put(key: Uint8Array, value: Uint8Array, options?: AbortOptions): Promise<void>
  /** The best valid record found for `key`; throws `NotFoundError` when none. */
  get(key: Uint8Array, options?: AbortOptions): Promise<StoredRecord>
}

export interface DistributedRecordStoreProvider {
  readonly [distributedRecordStoreSymbol]: DistributedRecordStore
}
