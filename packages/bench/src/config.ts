import type { Muxer, Pin, Security } from './worker-process.js'

/** The groups of benchmarks, selectable with `--only`. */
export const GROUPS = ['throughput', 'connections', 'streams', 'memory', 'ceilings'] as const
export type Group = typeof GROUPS[number]

/** An encryption + muxer pair. */
export interface Combo {
  security: Security
  muxer: Muxer
  /**
   * The peerkit reader frees every chunk once counted, its muxer handing out chunks of their own
   * (`ownedChunks`); js-libp2p, which has no such option, runs as in the plain row.
   */
  ownedChunks?: boolean
}

/** Sizes and repetitions of one benchmark run. */
export interface BenchConfig {
  /** `full`, `quick` or `smoke`: recorded with the results. */
  mode: string
  /** The groups to run. */
  groups: Group[]
  /** A/B repetitions of every benchmark except memory. */
  reps: number
  /** Bytes moved by each single-stream throughput run. */
  throughputBytes: number
  /** Bytes of the warm-up transfer before the measured throughput runs. */
  warmupBytes: number
  /** The encryption + muxer pairs of the throughput benchmark. */
  throughputCombos: Combo[]
  /** The pair used by the connection, stream and memory benchmarks. */
  setupCombo: Combo
  /** Sequential dial + upgrade + close per run. */
  dials: number
  /**
   * Sequential dials each implementation makes before the measured connection runs, in blocks of
   * `dials` alternating between the implementations. A fresh process spends its first thousands of
   * connections on code V8 has not optimised yet (peerkit's rate roughly doubles over its first
   * ~2,000 dials, js-libp2p's rises by about a third); the measured runs are of the settled state,
   * and the first block is reported on its own row.
   */
  dialWarmup: number
  /** Dial + stream + echo round trips per run (each a fresh connection). */
  firstStreams: number
  /** Streams opened, echoed and closed one after another per run. */
  sequentialStreams: number
  /**
   * Streams each implementation opens, echoes and closes one after another, then with
   * `concurrency` in flight, on its benchmark connection before the measured stream runs (one
   * unmeasured pass of each, alternating between the implementations). A fresh process runs its
   * first thousands of streams on code V8 has not optimised yet: with a warm-up of 200, peerkit's
   * CPU per stream in the first of seven measured sequential runs was 1.35–3.09x the median of
   * the other six in every saved run of 2026-11-22 (js-libp2p's 0.99–1.46x). The warm-up's
   * sequential pass is reported on its own row.
   */
  streamWarmup: number
  /** Streams opened, echoed and closed per run with `concurrency` in flight. */
  concurrentStreams: number
  /** Streams in flight in the concurrent stream benchmark. */
  concurrency: number
  /** Idle connection counts of the memory benchmark. */
  memoryConnections: number[]
  /** A/B repetitions of the memory benchmark. */
  memoryReps: number
  /**
   * How long the server sits idle with its connections (after a full collection) before memory is
   * read, in ms. V8 gives back the heap grown during the connection burst only once the process has
   * been idle for several seconds after a major GC; idle connections are what is measured, so the
   * reading comes after that.
   */
  memoryIdleMs: number
  /** Most client nodes one client process holds in the memory benchmark. */
  nodesPerClientProcess: number
  /** Dials in flight per client process in the memory benchmark. */
  holdConcurrency: number
  /**
   * peerkit's identify `connectionOpenDelay` (ms) in every benchmark; unset: the library default.
   * For measuring what identify's delay is worth (`--identify-delay 0` identifies at once, as
   * js-libp2p does).
   */
  peerkitIdentifyDelay?: number
  /**
   * peerkit's Noise crypto backend in every benchmark (`--noise-crypto`); unset: the library
   * default (node's `crypto`).
   */
  peerkitNoiseCrypto?: 'node' | 'libsodium'
  /**
   * Extra Node.js/V8 flags for every worker process of both implementations (`--node-flags`), e.g.
   * `--initial-old-space-size=256` to see what the garbage collector's sizing costs; unset: none.
   */
  nodeFlags?: string[]
  /**
   * The Node.js binary of every worker process of both implementations (`--node PATH`), e.g. a newer
   * release than the one running the harness; unset: the harness's own.
   */
  nodePath?: string
  /**
   * Pins every worker process to a CPU (`--pin`): `same` all on CPU 0, `split` servers on CPU 0
   * and clients on CPU 1. Unset: none, the scheduler's choice, as in the runs PERFORMANCE.md
   * reports. For measuring what waking a process on another CPU costs.
   */
  pin?: Pin
  /** Bytes of each raw `node:net` ceiling run. */
  netBytes: number
  /** Bytes encrypted and decrypted by each ChaCha20-Poly1305 ceiling run. */
  cryptoBytes: number
}

const MIB = 1024 * 1024

const ALL_COMBOS: Combo[] = [
  { security: 'noise', muxer: 'yamux' },
  { security: 'noise', muxer: 'mplex' },
  { security: 'plaintext', muxer: 'yamux' },
  { security: 'noise', muxer: 'yamux', ownedChunks: true },
  { security: 'plaintext', muxer: 'yamux', ownedChunks: true }
]

/** The configuration of a mode: `full` (the published numbers), `quick` (development, under 3 minutes), `smoke` (tests). */
export function configFor (mode: 'full' | 'quick' | 'smoke'): BenchConfig {
  const common = {
    mode,
    groups: [...GROUPS],
    throughputCombos: ALL_COMBOS,
    setupCombo: ALL_COMBOS[0],
    concurrency: 100,
    nodesPerClientProcess: 250,
    holdConcurrency: 16
  }
  switch (mode) {
    case 'full':
      return {
        ...common,
        reps: 7,
        throughputBytes: 256 * MIB,
        warmupBytes: 32 * MIB,
        dials: 500,
        dialWarmup: 2500,
        firstStreams: 50,
        sequentialStreams: 5000,
        streamWarmup: 5000,
        concurrentStreams: 5000,
        memoryConnections: [200, 1000],
        memoryReps: 2,
        memoryIdleMs: 10_000,
        netBytes: 1024 * MIB,
        cryptoBytes: 512 * MIB
      }
    case 'quick':
      return {
        ...common,
        reps: 3,
        throughputBytes: 32 * MIB,
        warmupBytes: 8 * MIB,
        dials: 50,
        dialWarmup: 200,
        firstStreams: 20,
        sequentialStreams: 500,
        streamWarmup: 500,
        concurrentStreams: 1000,
        memoryConnections: [200],
        memoryReps: 1,
        memoryIdleMs: 8000,
        netBytes: 256 * MIB,
        cryptoBytes: 128 * MIB
      }
    case 'smoke':
      return {
        ...common,
        reps: 1,
        throughputBytes: MIB,
        warmupBytes: 256 * 1024,
        // Plain and with the peerkit reader freeing its chunks: both worker set-ups run.
        throughputCombos: [ALL_COMBOS[0], ALL_COMBOS[3]],
        dials: 3,
        dialWarmup: 6,
        firstStreams: 2,
        sequentialStreams: 10,
        streamWarmup: 10,
        concurrentStreams: 20,
        concurrency: 5,
        memoryConnections: [4],
        memoryReps: 1,
        memoryIdleMs: 100,
        nodesPerClientProcess: 2,
        holdConcurrency: 2,
        netBytes: 4 * MIB,
        cryptoBytes: 4 * MIB
      }
    default:
      throw new TypeError(`unknown mode ${String(mode)}`)
  }
}

/** `noise+yamux`, `noise+yamux, peerkit reader frees its chunks`: the combination in titles. */
export function comboName (c: Combo): string {
  return `${c.security}+${c.muxer}${c.ownedChunks === true ? ', peerkit reader frees its chunks' : ''}`
}

/** `noise+yamux`, `noise+yamux+owned`: the combination in result ids. */
export function comboId (c: Combo): string {
  return `${c.security}+${c.muxer}${c.ownedChunks === true ? '+owned' : ''}`
}
