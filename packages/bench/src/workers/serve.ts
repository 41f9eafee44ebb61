import { processCounters } from './meter.js'
import type { ProcessCounters, ReadyMessage, UsageResult, WorkerRequest, WorkerResponse } from '../protocol.js'

/** A command handler: receives the request arguments, returns a JSON-serialisable result. */
export type Command = (args: Record<string, unknown>) => Promise<unknown>

/**
 * Runs a worker's command loop on the IPC channel: announces `ready`, answers each request in
 * turn order of arrival (commands may run concurrently), and exits when the channel closes or on
 * `stop` after calling `onStop`.
 */
export function serveCommands (ready: Omit<ReadyMessage, 'type'>, commands: Record<string, Command>, onStop: () => Promise<void>): void {
  if (process.send == null) throw new Error('a benchmark worker must be started with an IPC channel (child_process.fork)')
  const send = (msg: WorkerResponse | ReadyMessage): void => { process.send?.(msg) }
  let stopping = false
  const stop = async (): Promise<void> => {
    if (stopping) return
    stopping = true
    const timer = setTimeout(() => process.exit(0), 5_000)
    timer.unref()
    await onStop().catch(() => {})
  }

  process.on('message', (raw) => {
    const msg = raw as WorkerRequest
    if (typeof msg !== 'object' || msg == null || typeof msg.id !== 'number') return
    if (msg.cmd === 'stop') {
      void stop().then(() => {
        send({ id: msg.id, ok: true, result: {} })
        process.disconnect?.()
      })
      return
    }
    const fn = commands[msg.cmd]
    Promise.resolve()
      .then(async () => {
        if (fn == null) throw new Error(`unknown command ${msg.cmd}`)
        return fn(msg.args ?? {})
      })
      .then(result => { send({ id: msg.id, ok: true, result }) })
      .catch((err: unknown) => {
        const e = err as Error
        send({ id: msg.id, ok: false, error: `${e?.name ?? 'Error'}: ${e?.message ?? String(err)}` })
      })
  })
  process.on('disconnect', () => { void stop().then(() => process.exit(0)) })
  send({ type: 'ready', ...ready })
}

/**
 * Reads this process's CPU time, memory and counters; with `collect`, collects garbage first (the
 * worker runs with `--expose-gc`). Do not collect when measuring CPU time: the collection would be
 * counted.
 *
 * Without `collect`, the CPU time is read first, so reading the counters (which parses the
 * collector's records) falls outside a measurement that this reading ends. With `collect`, the
 * counters are read first, so their records are gone before memory is measured.
 */
export async function usage (connections: number, collect: boolean): Promise<UsageResult> {
  let counters: ProcessCounters | undefined
  if (collect) {
    counters = await processCounters()
    const gc = (globalThis as { gc?: () => void }).gc
    if (gc != null) { gc(); gc() }
  }
  const cpu = process.cpuUsage()
  const m = process.memoryUsage()
  counters ??= await processCounters()
  return { cpu, rss: m.rss, heapTotal: m.heapTotal, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, connections, counters }
}

/** Difference of two `process.cpuUsage()` readings. */
export function cpuSince (start: NodeJS.CpuUsage): NodeJS.CpuUsage {
  return process.cpuUsage(start)
}

/** Runs `count` tasks with at most `concurrency` in flight; rejects on the first failure. */
export async function runLimited (count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0
  const lanes = Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, async () => {
    while (next < count) {
      const i = next++
      await task(i)
    }
  })
  await Promise.all(lanes)
}

/** Reads a required numeric argument. */
export function num (args: Record<string, unknown>, name: string): number {
  const v = args[name]
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new TypeError(`argument ${name} must be a non-negative number, got ${String(v)}`)
  return v
}

/** Reads a required string argument. */
export function str (args: Record<string, unknown>, name: string): string {
  const v = args[name]
  if (typeof v !== 'string') throw new TypeError(`argument ${name} must be a string, got ${String(v)}`)
  return v
}

/** Reads `--name value` from the process arguments. */
export function argValue (name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback
}
