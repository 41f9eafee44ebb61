/**
 * What else used the machine while a run measured: the hypervisor (steal time) and other processes
 * of this machine (CPU time outside the run's own processes), both from `/proc` (Linux). Either
 * stretches the wall-clock rows and moves the two implementations unevenly, so a run records both,
 * for the whole run and for each group, and its report warns of a loaded group.
 */
import { readFileSync } from 'node:fs'
import type { Group } from './config.js'

/** Shares of all CPU time (0–1): the whole run and each group. */
export interface CpuShares {
  run: number
  groups: Partial<Record<Group, number>>
}

/**
 * How much of the machine's CPU time the hypervisor took for other guests while a run measured
 * (steal time, from `/proc/stat`). A shared VM can lose most of its CPU this way. Absent where
 * `/proc/stat` does not exist (not Linux).
 */
export type HostSteal = CpuShares

/**
 * How much of the machine's CPU time went to processes other than the run's own (the harness and
 * every worker it started) while the run measured: another benchmark, a test suite, a build. The
 * machine's side is tick-sampled (`/proc/stat`), the run's own the scheduler's exact runtime
 * (`/proc/self/stat`), so on a quiet machine the two differ by a few percent of all CPU time either
 * way (the share is clamped at 0); one other process spinning on a 2-core machine reads about 40 %.
 * A kernel thread doing the workers' network work (`ksoftirqd`) counts as other.
 */
export type OtherLoad = CpuShares

/** The aggregate CPU counters of `/proc/stat`, in clock ticks: all time, steal time, and busy time. */
export interface CpuTicks {
  total: number
  steal: number
  /**
   * user + nice + system + irq + softirq: time the CPUs were busy (idle, iowait and steal
   * excluded). Interrupts count because, with tick-based accounting, a task is charged for the
   * interrupts and softirqs that ran while it was current.
   */
  busy: number
}

/**
 * Parses the `cpu` line of `/proc/stat` (user nice system idle iowait irq softirq steal guest
 * guest_nice; guest time is already counted in user and nice). `undefined` if there is none.
 */
export function parseCpuTicks (procStat: string): CpuTicks | undefined {
  const line = procStat.split('\n').find(l => l.startsWith('cpu '))
  if (line == null) return undefined
  const fields = line.trim().split(/\s+/).slice(1).map(Number)
  if (fields.length < 4 || fields.some(f => !Number.isFinite(f))) return undefined
  const total = fields.slice(0, 8).reduce((a, b) => a + b, 0)
  return { total, steal: fields[7] ?? 0, busy: fields[0] + fields[1] + fields[2] + (fields[5] ?? 0) + (fields[6] ?? 0) }
}

/** This machine's CPU counters now; `undefined` where `/proc/stat` cannot be read. */
export function readCpuTicks (path = '/proc/stat'): CpuTicks | undefined {
  try {
    return parseCpuTicks(readFileSync(path, 'utf8'))
  } catch {
    return undefined
  }
}

/**
 * The clock ticks a process and its children that have exited and been waited for used
 * (utime + stime + cutime + cstime of `/proc/<pid>/stat`). The command name, in parentheses, may
 * itself hold spaces and parentheses, so the fields are counted from its closing one.
 * `undefined` if the line cannot be read.
 */
export function parseOwnTicks (procPidStat: string): number | undefined {
  const close = procPidStat.lastIndexOf(')')
  if (close < 0) return undefined
  // After the name: state (field 3), ... utime (14), stime (15), cutime (16), cstime (17).
  const fields = procPidStat.slice(close + 1).trim().split(/\s+/)
  const times = fields.slice(11, 15).map(Number)
  if (times.length < 4 || times.some(t => !Number.isInteger(t) || t < 0)) return undefined
  return times.reduce((a, b) => a + b, 0)
}

/** The ticks this process and its finished children used; `undefined` where `/proc/self/stat` cannot be read. */
export function readOwnTicks (path = '/proc/self/stat'): number | undefined {
  try {
    return parseOwnTicks(readFileSync(path, 'utf8'))
  } catch {
    return undefined
  }
}

/** One reading of the machine's and the run's own CPU counters. */
export interface CpuReading {
  machine: CpuTicks | undefined
  own: number | undefined
}

/** Both counters now. Read it when none of the run's workers is alive: their time counts only once they are reaped. */
export function readCpu (): CpuReading {
  return { machine: readCpuTicks(), own: readOwnTicks() }
}

/** The share of CPU time stolen between two readings; `undefined` when either is missing or no time passed. */
export function stealBetween (before: CpuTicks | undefined, after: CpuTicks | undefined): number | undefined {
  if (before == null || after == null) return undefined
  const total = after.total - before.total
  return total > 0 ? (after.steal - before.steal) / total : undefined
}

/**
 * The share of all CPU time other processes used between two readings (see {@link OtherLoad}):
 * time tasks ran, less the run's own; `undefined` when a counter is missing or no time passed.
 * Never below 0 (the two counters are sampled by different clocks).
 */
export function otherLoadBetween (before: CpuReading, after: CpuReading): number | undefined {
  const { machine: m0, own: o0 } = before
  const { machine: m1, own: o1 } = after
  if (m0 == null || m1 == null || o0 == null || o1 == null) return undefined
  const total = m1.total - m0.total
  if (total <= 0) return undefined
  return Math.max(0, (m1.busy - m0.busy) - (o1 - o0)) / total
}
