/**
 * The message protocol between the benchmark runner and its worker processes (IPC channel of
 * `child_process.fork`). The plain-JS js-libp2p worker (`workers/js.mjs`) speaks the same protocol;
 * keep both in step.
 */

/** The protocols every benchmark server handles. */
export const PROTOCOLS = Object.freeze({
  /** Reads to EOF, answers the byte count as 8 bytes (big-endian), closes. */
  sink: '/bench/sink/1.0.0',
  /** Reads an 8-byte big-endian size until EOF, then sends that many bytes and closes. */
  source: '/bench/source/1.0.0',
  /** Echoes everything until EOF, then closes. */
  echo: '/bench/echo/1.0.0'
})

/** Size of the chunks both implementations write in the throughput benchmarks. */
export const CHUNK_SIZE = 64 * 1024

/** Roles a worker process plays. */
export type Role = 'server' | 'client'

/** A command from the runner. */
export interface WorkerRequest {
  id: number
  cmd: string
  args: Record<string, unknown>
}

/** The answer to one command. */
export interface WorkerResponse {
  id: number
  ok: boolean
  result?: unknown
  error?: string
}

/** Sent once by a worker when it can take commands; servers include the address to dial. */
export interface ReadyMessage {
  type: 'ready'
  addr?: string
  /** The ceiling server's listener for Noise-framed, encrypted pushes (`sealedPush`). */
  sealedAddr?: string
  peerId?: string
}

/** CPU time used by a process, in microseconds (as `process.cpuUsage()`). */
export interface CpuUsage {
  user: number
  system: number
}

/** Counters of a worker process since it started (see `workers/meter.ts`). */
export interface ProcessCounters {
  /** Young-generation collections. */
  scavenges: number
  /** Full (mark-compact) collections. */
  markCompacts: number
  /** Milliseconds the main thread spent paused in the collector, all kinds together. */
  gcPauseMs: number
  /** Minor and major page faults. */
  pageFaults: number
}

/** The answer to `usage`. */
export interface UsageResult {
  cpu: CpuUsage
  rss: number
  heapTotal: number
  heapUsed: number
  external: number
  arrayBuffers: number
  connections: number
  counters: ProcessCounters
}

/** The answer to `push` and `pull`. */
export interface TransferResult {
  ms: number
  bytes: number
  cpu: CpuUsage
}

/** The answer to `dials` and `streams`: elapsed time for `count` operations. */
export interface TimedResult {
  ms: number
  count: number
  /** The client process's CPU time over the operations. */
  cpu: CpuUsage
}

/** The answer to `firstStream`: one duration per iteration. */
export interface SamplesResult {
  samples: number[]
}

/** The answer to `hold`. */
export interface HoldResult {
  connected: number
  ms: number
}

/** The answer to `crypto` (net worker only): MiB/s of each direction. */
export interface CryptoResult {
  encryptMiBps: number
  decryptMiBps: number
}

/** The answer to `sealedPush` (net worker only). */
export interface SealedTransferResult extends TransferResult {
  /** Plaintext bytes the server decrypted and authenticated. */
  plaintextBytes: number
}

/**
 * The key of the sealed-loopback ceiling: fixed, since both processes need it and nothing is
 * secret in a benchmark. Each connection starts at nonce 0.
 */
export const SEALED_CEILING_KEY = new Uint8Array(32).map((_, i) => i * 7 + 1)

/** Encodes a non-negative integer below 2^53 as 8 big-endian bytes. */
export function encodeSize (n: number): Uint8Array {
  const buf = new Uint8Array(8)
  new DataView(buf.buffer).setBigUint64(0, BigInt(n))
  return buf
}

/** Decodes 8 big-endian bytes written by `encodeSize`. */
export function decodeSize (buf: Uint8Array): number {
  if (buf.byteLength !== 8) throw new RangeError(`expected 8 bytes, got ${buf.byteLength}`)
  return Number(new DataView(buf.buffer, buf.byteOffset, 8).getBigUint64(0))
}
