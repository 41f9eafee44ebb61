/**
 * Counters of a worker process that explain its CPU time: garbage collections (by kind, with their
 * pauses) and page faults, counted from the moment this module is loaded. Both implementations'
 * workers load it (peerkit's through `serve.ts`, js-libp2p's by importing the compiled module), so
 * their numbers are taken the same way.
 *
 * Collections are recorded by V8's `GCProfiler`, whose per-collection work is native, and not by a
 * `gc` performance observer: an observer changes what it counts. The benchmark's peerkit worker,
 * receiving three 1 GiB noise+yamux streams, ran 35–58 full collections with the observer, 15–32
 * with no meter at all, and 11–15 counting with a `GCProfiler`. benchmarks/HISTORY.md has the
 * measurement.
 */
import { GCProfiler } from 'node:v8'
import type { ProcessCounters } from '../protocol.js'

const totals = { scavenges: 0, markCompacts: 0, gcPauseMs: 0 }

/** One collection as `GCProfiler#stop` reports it (`cost` in microseconds). */
interface GCEvent {
  gcType: string
  cost: number
}

/** Kinds of young-generation collection, by the names `GCProfiler` gives them across Node.js releases. */
const YOUNG = new Set(['Scavenge', 'MinorMarkCompact', 'MinorMarkSweep'])

let profiler = new GCProfiler()
profiler.start()

/**
 * Adds what the profiler recorded since the last call to the totals and starts a new recording.
 * The profiler keeps each collection's record (heap statistics included) until stopped, so
 * draining at every reading keeps that memory to one measurement's worth.
 */
function drain (): void {
  const data = profiler.stop() as { statistics?: GCEvent[] } | undefined
  profiler = new GCProfiler()
  profiler.start()
  for (const event of data?.statistics ?? []) {
    if (YOUNG.has(event.gcType)) totals.scavenges++
    else if (event.gcType === 'MarkSweepCompact') totals.markCompacts++
    // Incremental marking steps and weak callbacks are pauses too, but not collections.
    totals.gcPauseMs += event.cost / 1000
  }
}

/** The counters so far: collections up to this call, page faults from `process.resourceUsage()`. */
export async function processCounters (): Promise<ProcessCounters> {
  drain()
  const { minorPageFault, majorPageFault } = process.resourceUsage()
  return { ...totals, pageFaults: minorPageFault + majorPageFault }
}
