/**
 * Counters of a worker process that explain its CPU time: garbage collections (by kind, with their
 * pauses) and page faults, counted from the moment this module is loaded. Both implementations'
 * workers load it (peerkit's through `serve.ts`, js-libp2p's by importing the compiled module), so
 * their numbers are taken the same way.
 */
import { PerformanceObserver, constants } from 'node:perf_hooks'
import { setImmediate } from 'node:timers/promises'
import type { PerformanceEntry } from 'node:perf_hooks'
import type { ProcessCounters } from '../protocol.js'

const totals = { scavenges: 0, markCompacts: 0, gcPauseMs: 0 }

function count (entries: PerformanceEntry[]): void {
  for (const entry of entries) {
    const kind = (entry as unknown as { detail?: { kind?: number } }).detail?.kind
    if (kind === constants.NODE_PERFORMANCE_GC_MINOR) totals.scavenges++
    else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) totals.markCompacts++
    // Incremental marking steps and weak callbacks are pauses too, but not collections.
    totals.gcPauseMs += entry.duration
  }
}

const observer = new PerformanceObserver(list => { count(list.getEntries()) })
observer.observe({ entryTypes: ['gc'] })

/**
 * The counters so far. Node records a collection on the turn after it ends, so this waits one
 * turn, then takes the entries the observer has not been handed yet: a collection that ended
 * just before the call is included.
 */
export async function processCounters (): Promise<ProcessCounters> {
  await setImmediate()
  count(observer.takeRecords())
  const { minorPageFault, majorPageFault } = process.resourceUsage()
  return { ...totals, pageFaults: minorPageFault + majorPageFault }
}
