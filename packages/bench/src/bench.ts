import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { arch, cpus, platform, release, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { comboId, comboName } from './config.js'
import { otherLoadBetween, readCpu, stealBetween } from './load.js'
import { median, summarize } from './stats.js'
import { WorkerError, WorkerProcess, startAll, stopAll } from './worker-process.js'
import type { BenchConfig, Combo, Group } from './config.js'
import type { CpuReading, CpuShares, HostSteal, OtherLoad } from './load.js'
import type { CryptoResult, HoldResult, ProcessCounters, SamplesResult, SealedTransferResult, TimedResult, TransferResult, UsageResult } from './protocol.js'
import type { Stats } from './stats.js'
import type { Impl, WorkerOptions } from './worker-process.js'

/** The implementations compared, in the order of every A/B pair. */
export const IMPLS = ['peerkit', 'js'] as const
export type ComparedImpl = typeof IMPLS[number]

/** Which way a number is better. */
export type Better = 'higher' | 'lower'

/** One row of the results. */
export interface ResultRecord {
  /** Stable identifier, e.g. `throughput.noise+yamux.push`. */
  id: string
  group: Group
  title: string
  unit: string
  better: Better
  /** peerkit's measurements. */
  peerkit?: Stats
  /** js-libp2p's measurements. */
  js?: Stats
  /** A measurement of plain Node.js (ceilings), compared with neither. */
  reference?: Stats
  /** peerkit median / js-libp2p median. */
  ratio?: number
  /**
   * Median of the per-pair ratios (run i of peerkit / run i of js-libp2p, back to back): less
   * sensitive than `ratio` to load that drifts during the run.
   */
  pairedRatio?: number
  /** The target for `ratio` (or for the peerkit value of a ceiling fraction), e.g. `>= 2.5`. */
  target?: string
  /** Whether the target is met. */
  met?: boolean
  note?: string
}

/** The machine a run happened on. */
export interface MachineInfo {
  cpuModel: string
  cpus: number
  memoryGiB: number
  platform: string
  kernel: string
  /** The harness's Node.js release, e.g. `v20.20.2`. */
  node: string
  /** The harness's V8 version. */
  v8?: string
  /**
   * The Node.js the workers ran on when it was not the harness's (`--node PATH`): its path, release
   * and V8 version.
   */
  workerNode?: NodeRuntime
  /**
   * Environment variables of the run that change how the C library allocates (`MALLOC_*`,
   * `GLIBC_TUNABLES`, `LD_PRELOAD`): every worker inherits them, and they move the page-fault and
   * CPU rows. Absent when none is set.
   */
  allocatorEnv?: Record<string, string>
}

/** A Node.js binary, and what it reports of itself. */
export interface NodeRuntime {
  path: string
  version: string
  v8: string
}

/** A whole run: what was run, where, and the rows. */
export interface BenchResults {
  version: 1
  date: string
  mode: string
  config: BenchConfig
  machine: MachineInfo
  versions: Record<string, string>
  durationSeconds: number
  /** See {@link HostSteal}. */
  steal?: HostSteal
  /** See {@link OtherLoad}. */
  otherLoad?: OtherLoad
  /** Groups that ended with an error; their rows are missing from `results`. */
  failedGroups?: GroupFailure[]
  results: ResultRecord[]
}

/** A benchmark group that ended with an error, and the error (name and message). */
export interface GroupFailure<G extends string = Group> {
  group: G
  error: string
}

/** Where progress lines go. */
export type Log = (line: string) => void

const require = createRequire(import.meta.url)
/** Pause after each run's collection, so background GC threads finish before the next run. */
const QUIESCE_MS = 50
/** The issue's throughput target: peerkit/js-libp2p at least this, in one run. */
const THROUGHPUT_TARGET = 2.5
const MIB = 1024 * 1024
const GIB = 1024 * MIB

/** Reads this machine's description. */
export function machineInfo (env: NodeJS.ProcessEnv = process.env): MachineInfo {
  const c = cpus()
  const allocatorEnv = Object.fromEntries(Object.entries(env)
    .filter((entry): entry is [string, string] => entry[1] != null && /^(MALLOC_|GLIBC_TUNABLES$|LD_PRELOAD$)/.test(entry[0]))
    .sort(([a], [b]) => a < b ? -1 : 1))
  return {
    cpuModel: c[0]?.model ?? 'unknown',
    cpus: c.length,
    memoryGiB: Math.round(totalmem() / GIB),
    platform: `${platform()} ${arch()}`,
    kernel: release(),
    node: process.version,
    v8: process.versions.v8,
    ...(Object.keys(allocatorEnv).length > 0 ? { allocatorEnv } : {})
  }
}

/**
 * Runs the Node.js binary at `path` to read its release and V8 version; throws a `TypeError`
 * naming the path when it does not run or does not answer like Node.js.
 */
export function nodeRuntime (path: string): NodeRuntime {
  let out: string
  try {
    out = execFileSync(path, ['-p', 'JSON.stringify([process.version, process.versions.v8])'], { encoding: 'utf8', timeout: 15_000, stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (err) {
    throw new TypeError(`${path} does not run as Node.js: ${(err as Error).message.split('\n')[0]}`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(out.trim())
  } catch {
    parsed = undefined
  }
  if (!Array.isArray(parsed) || parsed.length !== 2 || !parsed.every(v => typeof v === 'string')) {
    throw new TypeError(`${path} does not answer like Node.js: ${JSON.stringify(out.trim().slice(0, 200))}`)
  }
  return { path, version: parsed[0], v8: parsed[1] }
}

function target (better: Better, ratio: number | undefined, wanted: number | undefined): Pick<ResultRecord, 'target' | 'met'> {
  if (wanted == null || ratio == null) return {}
  return better === 'higher'
    ? { target: `>= ${wanted}`, met: ratio >= wanted }
    : { target: `<= ${wanted}`, met: ratio <= wanted }
}

/** Builds a comparison row from both implementations' measurements. */
export function compare (fields: Omit<ResultRecord, 'peerkit' | 'js' | 'ratio' | 'target' | 'met'>, runs: Record<ComparedImpl, number[]>, wanted?: number,
  noRatioNote = 'ratio not computed: a median is not positive (noise at this size)'): ResultRecord {
  const peerkit = summarize(runs.peerkit)
  const js = summarize(runs.js)
  // A ratio of non-positive numbers (e.g. a memory delta lost in noise at tiny sizes) means nothing.
  const ratio = js.median > 0 && peerkit.median > 0 ? peerkit.median / js.median : undefined
  const note = ratio == null ? noRatioNote : fields.note
  const pairs = runs.peerkit.length === runs.js.length && runs.js.every(v => v > 0) && runs.peerkit.every(v => v > 0)
    ? runs.peerkit.map((v, i) => v / runs.js[i])
    : []
  const pairedRatio = ratio != null && pairs.length > 0 ? median(pairs) : undefined
  return { ...fields, peerkit, js, ratio, ...(pairedRatio != null ? { pairedRatio } : {}), ...target(fields.better, ratio, wanted), ...(note != null ? { note } : {}) }
}

/** The server and client worker of one implementation. */
export interface Pair {
  server: WorkerProcess
  client: WorkerProcess
}

/** A worker's options: the combination, and the peerkit settings the CLI overrides. */
function workerOptions (config: BenchConfig, combo: Combo = config.setupCombo): WorkerOptions {
  return { ...combo, identifyDelay: config.peerkitIdentifyDelay, noiseCrypto: config.peerkitNoiseCrypto, nodeFlags: config.nodeFlags, execPath: config.nodePath, pin: config.pin }
}

async function startPairs (combo: Combo, config: BenchConfig): Promise<Record<ComparedImpl, Pair>> {
  const options = workerOptions(config, combo)
  const [ps, pc, js, jc] = await startAll([
    ['peerkit', 'server', options], ['peerkit', 'client', options],
    ['js', 'server', options], ['js', 'client', options]
  ])
  return { peerkit: { server: ps, client: pc }, js: { server: js, client: jc } }
}

async function stopPairs (pairs: Record<ComparedImpl, Pair> | undefined): Promise<void> {
  if (pairs == null) return
  await stopAll(IMPLS.flatMap(i => [pairs[i].client, pairs[i].server]))
}

/**
 * Lets a pair that just finished a run settle before the other implementation's run starts: a
 * round trip to both processes (so neither is still busy with the run it just finished), then a
 * short pause.
 *
 * No garbage collection is forced here. Forcing one (`gc()`) before every run was the harness's
 * first design, and it distorted what it measured: after a forced full collection V8 sizes the
 * heap for the small set of objects that survived it, and the next run pays for that with
 * several times as many mark-compacts until the heap has grown again. That cost is about the
 * same in milliseconds for both implementations, so it took more from the shorter runs. An
 * application never forces collections, so the runs now see V8's heap as it stands after the
 * previous run of the same process, as an application would.
 */
export async function quiesce (pair: Pair): Promise<void> {
  await Promise.all([pair.server.cmd('usage', { gc: false }), pair.client.cmd('usage', { gc: false })])
  await sleep(QUIESCE_MS)
}

function cpuSeconds (u: { user: number, system: number }): number {
  return (u.user + u.system) / 1e6
}

/** Empty sample lists, one per implementation. */
function perImpl (): Record<ComparedImpl, number[]> {
  return { peerkit: [], js: [] }
}

/** Empty sample lists for each side and implementation. */
function perSide (): Record<'client' | 'server', Record<ComparedImpl, number[]>> {
  return { client: perImpl(), server: perImpl() }
}

/** `after - before`, field by field. */
function countersSince (before: ProcessCounters, after: ProcessCounters): ProcessCounters {
  return {
    scavenges: after.scavenges - before.scavenges,
    markCompacts: after.markCompacts - before.markCompacts,
    gcPauseMs: after.gcPauseMs - before.gcPauseMs,
    pageFaults: after.pageFaults - before.pageFaults
  }
}

/**
 * Runs one client command (at the server's address unless `args` names another) and reads,
 * around it, the server's CPU time and both processes' counters (collections, pauses, page
 * faults). The client's CPU time is the command's own.
 */
async function withUsage<T> (pair: Pair, cmd: string, args: Record<string, unknown>): Promise<{ result: T, serverCpu: number, counters: Record<'client' | 'server', ProcessCounters> }> {
  const read = async (): Promise<UsageResult[]> => Promise.all([pair.client.cmd<UsageResult>('usage', { gc: false }), pair.server.cmd<UsageResult>('usage', { gc: false })])
  const [clientBefore, serverBefore] = await read()
  const result = await pair.client.cmd<T>(cmd, { addr: pair.server.addr, ...args })
  const [clientAfter, serverAfter] = await read()
  return {
    result,
    serverCpu: cpuSeconds(serverAfter.cpu) - cpuSeconds(serverBefore.cpu),
    counters: { client: countersSince(clientBefore.counters, clientAfter.counters), server: countersSince(serverBefore.counters, serverAfter.counters) }
  }
}

/** The per-GiB rows of the throughput group that count what a process spent besides the transfer itself. */
const COUNTER_ROWS: ReadonlyArray<{ key: keyof ProcessCounters, id: string, title: string, unit: string, none: string }> = [
  { key: 'gcPauseMs', id: 'gc-pause', title: 'GC pauses', unit: 'ms/GiB', none: 'no pause' },
  { key: 'markCompacts', id: 'gc-full', title: 'full collections (mark-compact)', unit: '/GiB', none: 'no full collection' },
  { key: 'scavenges', id: 'gc-young', title: 'young-generation collections (scavenge)', unit: '/GiB', none: 'no scavenge' },
  { key: 'pageFaults', id: 'page-faults', title: 'page faults', unit: '/GiB', none: 'no page fault' }
]

/** Single-stream throughput both ways, and CPU per GiB on each side, for each combo. */
async function throughput (config: BenchConfig, log: Log): Promise<ResultRecord[]> {
  const out: ResultRecord[] = []
  for (const combo of config.throughputCombos) {
    const name = comboName(combo)
    const id = comboId(combo)
    let pairs: Record<ComparedImpl, Pair> | undefined
    try {
      pairs = await startPairs(combo, config)
      const p = pairs
      const rates = { push: perImpl(), pull: perImpl() }
      const cpu = { sender: perImpl(), receiver: perImpl() }
      // What the transfer would reach if each process had a core to itself: MiB per CPU second of
      // the busier side. Other load on the machine stretches wall time, much less CPU time.
      const cpuBound = { push: perImpl(), pull: perImpl() }
      // What the CPU time goes to besides the work itself, per GiB on each side (see COUNTER_ROWS).
      const perGib = Object.fromEntries(COUNTER_ROWS.map(row => [row.key, { sender: perImpl(), receiver: perImpl() }])) as
        Record<keyof ProcessCounters, Record<'sender' | 'receiver', Record<ComparedImpl, number[]>>>
      for (const impl of IMPLS) {
        await p[impl].client.cmd('connect', { addr: p[impl].server.addr })
        await p[impl].client.cmd('push', { addr: p[impl].server.addr, bytes: config.warmupBytes })
        await p[impl].client.cmd('pull', { addr: p[impl].server.addr, bytes: config.warmupBytes })
      }
      for (let rep = 0; rep < config.reps; rep++) {
        for (const dir of ['push', 'pull'] as const) {
          for (const impl of IMPLS) {
            const { result: r, serverCpu, counters } = await withUsage<TransferResult>(p[impl], dir, { bytes: config.throughputBytes })
            const clientCpu = cpuSeconds(r.cpu)
            const gib = r.bytes / GIB
            rates[dir][impl].push((r.bytes / MIB) / (r.ms / 1000))
            cpuBound[dir][impl].push((r.bytes / MIB) / Math.max(serverCpu, clientCpu))
            cpu.sender[impl].push((dir === 'push' ? clientCpu : serverCpu) / gib)
            cpu.receiver[impl].push((dir === 'push' ? serverCpu : clientCpu) / gib)
            const bySide = dir === 'push' ? { sender: counters.client, receiver: counters.server } : { sender: counters.server, receiver: counters.client }
            for (const { key } of COUNTER_ROWS) {
              for (const side of ['sender', 'receiver'] as const) perGib[key][side][impl].push(bySide[side][key] / gib)
            }
            log(`  throughput ${name} ${dir} ${impl}: ${rates[dir][impl].at(-1)?.toFixed(1)} MiB/s`)
            await quiesce(p[impl])
          }
        }
      }
      for (const dir of ['push', 'pull'] as const) {
        out.push(compare({
          id: `throughput.${id}.${dir}`,
          group: 'throughput',
          title: `throughput ${name}, ${dir === 'push' ? 'push (client → server)' : 'pull (server → client)'}`,
          unit: 'MiB/s',
          better: 'higher'
        }, rates[dir], THROUGHPUT_TARGET))
      }
      for (const dir of ['push', 'pull'] as const) {
        out.push(compare({
          id: `throughput-cpu.${id}.${dir}`,
          group: 'throughput',
          title: `CPU-bound throughput ${name}, ${dir} (MiB per CPU second of the busier side)`,
          unit: 'MiB/s',
          better: 'higher'
        }, cpuBound[dir]))
      }
      for (const side of ['sender', 'receiver'] as const) {
        out.push(compare({
          id: `cpu.${id}.${side}`,
          group: 'throughput',
          title: `CPU per GiB ${name}, ${side}`,
          unit: 's/GiB',
          better: 'lower'
        }, cpu[side]))
      }
      for (const row of COUNTER_ROWS) {
        for (const side of ['sender', 'receiver'] as const) {
          out.push(compare({
            id: `${row.id}.${id}.${side}`,
            group: 'throughput',
            title: `${row.title} per GiB ${name}, ${side}`,
            unit: row.unit,
            better: 'lower'
          }, perGib[row.key][side], undefined, `ratio not computed: a median is zero (${row.none})`))
        }
      }
    } finally {
      await stopPairs(pairs)
    }
  }
  return out
}

/** Operations per second of a timed run. */
function perSecond (r: TimedResult): number {
  return r.count / (r.ms / 1000)
}

/** `peerkit 330.2 /s, js 94.6 /s`: each implementation's single warm-up rate, for the log. */
function coldRates (cold: Record<ComparedImpl, number[]>, digits: number): string {
  return IMPLS.map(i => `${i} ${cold[i][0]?.toFixed(digits)} /s`).join(', ')
}

/** Sequential dial + upgrade + close, and time to first stream. */
async function connections (config: BenchConfig, log: Log): Promise<ResultRecord[]> {
  let pairs: Record<ComparedImpl, Pair> | undefined
  try {
    pairs = await startPairs(config.setupCombo, config)
    const p = pairs
    const rate = perImpl()
    const cpuPer = perSide()
    const first = perImpl()
    const cold = perImpl()
    // Warm-up: the same number of dials for each implementation, in blocks alternating between
    // them; the first block (fresh processes) is kept as the cold rate.
    const block = Math.max(1, config.dials)
    const coldDials = Math.min(block, config.dialWarmup)
    for (let done = 0; done < config.dialWarmup; done += block) {
      for (const impl of IMPLS) {
        const r = await p[impl].client.cmd<TimedResult>('dials', { addr: p[impl].server.addr, count: Math.min(block, config.dialWarmup - done) })
        if (done === 0) cold[impl].push(perSecond(r))
      }
    }
    if (coldDials > 0) log(`  warm-up: ${config.dialWarmup} dials each; first ${coldDials}: ${coldRates(cold, 1)}`)
    for (const impl of IMPLS) {
      await quiesce(p[impl])
      await p[impl].client.cmd('firstStream', { addr: p[impl].server.addr, count: Math.min(5, config.firstStreams) })
    }
    for (let rep = 0; rep < config.reps; rep++) {
      for (const impl of IMPLS) {
        const { result: r, serverCpu } = await withUsage<TimedResult>(p[impl], 'dials', { count: config.dials })
        rate[impl].push(perSecond(r))
        cpuPer.client[impl].push(cpuSeconds(r.cpu) * 1000 / r.count)
        cpuPer.server[impl].push(serverCpu * 1000 / r.count)
        log(`  connections ${impl}: ${rate[impl].at(-1)?.toFixed(1)} /s`)
        await quiesce(p[impl])
      }
      for (const impl of IMPLS) {
        const r = await p[impl].client.cmd<SamplesResult>('firstStream', { addr: p[impl].server.addr, count: config.firstStreams })
        first[impl].push(summarize(r.samples).median)
        log(`  first stream ${impl}: ${first[impl].at(-1)?.toFixed(2)} ms`)
        await quiesce(p[impl])
      }
    }
    const name = comboName(config.setupCombo)
    return [
      compare({ id: 'connections.sequential', group: 'connections', title: `connections/s (dial + upgrade + close, sequential, after ${config.dialWarmup} warm-up dials), ${name}`, unit: 'conn/s', better: 'higher' }, rate, 4),
      ...(coldDials > 0
        ? [compare({ id: 'connections.cold', group: 'connections', title: `connections/s of fresh processes (the warm-up's first ${coldDials} dials, one run), ${name}`, unit: 'conn/s', better: 'higher' }, cold)]
        : []),
      ...(['client', 'server'] as const).map(side => compare({ id: `connections.cpu.${side}`, group: 'connections', title: `CPU per connection (dial + upgrade + close), ${side}, ${name}`, unit: 'ms', better: 'lower' }, cpuPer[side])),
      compare({ id: 'connections.first-stream', group: 'connections', title: `time to first stream (dial, open, 1-byte echo), ${name}`, unit: 'ms', better: 'lower', note: 'median of the run\'s iterations' }, first, 0.25)
    ]
  } finally {
    await stopPairs(pairs)
  }
}

/** Open + 1-byte echo + close on one connection, sequentially and concurrently. */
async function streams (config: BenchConfig, log: Log): Promise<ResultRecord[]> {
  let pairs: Record<ComparedImpl, Pair> | undefined
  try {
    pairs = await startPairs(config.setupCombo, config)
    const p = pairs
    const seq = perImpl()
    const conc = perImpl()
    const cpuPer = { sequential: perSide(), concurrent: perSide() }
    /** Runs `streams` on one implementation and records its rate and both sides' CPU µs per stream. */
    const run = async (impl: ComparedImpl, kind: 'sequential' | 'concurrent', count: number, concurrency: number): Promise<number> => {
      const { result: r, serverCpu } = await withUsage<TimedResult>(p[impl], 'streams', { count, concurrency })
      cpuPer[kind].client[impl].push(cpuSeconds(r.cpu) * 1e6 / r.count)
      cpuPer[kind].server[impl].push(serverCpu * 1e6 / r.count)
      return perSecond(r)
    }
    const cold = perImpl()
    // Warm-up: one unmeasured pass of each kind per implementation; the sequential pass of the
    // fresh processes is kept as the cold rate.
    for (const impl of IMPLS) {
      await p[impl].client.cmd('connect', { addr: p[impl].server.addr })
      if (config.streamWarmup === 0) continue
      cold[impl].push(perSecond(await p[impl].client.cmd<TimedResult>('streams', { addr: p[impl].server.addr, count: config.streamWarmup, concurrency: 1 })))
      await p[impl].client.cmd('streams', { addr: p[impl].server.addr, count: config.streamWarmup, concurrency: config.concurrency })
      await quiesce(p[impl])
    }
    if (config.streamWarmup > 0) log(`  warm-up: ${config.streamWarmup} sequential and ${config.streamWarmup} concurrent streams each; sequential: ${coldRates(cold, 0)}`)
    for (let rep = 0; rep < config.reps; rep++) {
      for (const impl of IMPLS) {
        seq[impl].push(await run(impl, 'sequential', config.sequentialStreams, 1))
        log(`  streams sequential ${impl}: ${seq[impl].at(-1)?.toFixed(0)} /s`)
        await quiesce(p[impl])
      }
      for (const impl of IMPLS) {
        conc[impl].push(await run(impl, 'concurrent', config.concurrentStreams, config.concurrency))
        log(`  streams concurrent ${impl}: ${conc[impl].at(-1)?.toFixed(0)} /s`)
        await quiesce(p[impl])
      }
    }
    const name = comboName(config.setupCombo)
    return [
      compare({ id: 'streams.sequential', group: 'streams', title: `streams/s (open + 1-byte echo + close), ${config.sequentialStreams} sequential${config.streamWarmup > 0 ? `, after ${config.streamWarmup} warm-up streams` : ''}, ${name}`, unit: 'streams/s', better: 'higher' }, seq, 4),
      ...(config.streamWarmup > 0
        ? [compare({ id: 'streams.cold', group: 'streams', title: `streams/s of fresh processes (the warm-up's ${config.streamWarmup} sequential streams, one run), ${name}`, unit: 'streams/s', better: 'higher' }, cold)]
        : []),
      compare({ id: 'streams.concurrent', group: 'streams', title: `streams/s, ${config.concurrentStreams} with ${config.concurrency} in flight, ${name}`, unit: 'streams/s', better: 'higher' }, conc, 4),
      ...(['sequential', 'concurrent'] as const).flatMap(kind => (['client', 'server'] as const).map(side => compare({
        id: `streams.cpu.${kind}.${side}`,
        group: 'streams',
        title: `CPU per stream, ${kind}, ${side}, ${name}`,
        unit: 'µs',
        better: 'lower'
      }, cpuPer[kind][side])))
    ]
  } finally {
    await stopPairs(pairs)
  }
}

async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

/** Polls the server until it has `count` connections and the count has been stable for a while. */
async function settle (server: WorkerProcess, count: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let stableSince = 0
  let last = -1
  while (Date.now() < deadline) {
    const u = await server.cmd<UsageResult>('usage', { gc: false })
    if (u.connections === count && u.connections === last) {
      if (stableSince === 0) stableSince = Date.now()
      if (Date.now() - stableSince >= 1000) return
    } else {
      stableSince = 0
    }
    last = u.connections
    await sleep(100)
  }
  throw new Error(`the ${server.impl} server has ${last} connections, expected ${count}, after ${timeoutMs} ms`)
}

/** Holds `count` connections from distinct peers on the server, spread over client processes. */
async function holdConnections (impl: ComparedImpl, server: WorkerProcess, count: number, config: BenchConfig): Promise<WorkerProcess[]> {
  const processes = Math.ceil(count / config.nodesPerClientProcess)
  const clients = await startAll(Array.from({ length: processes }, () => [impl, 'client', workerOptions(config)] as [Impl, 'client', WorkerOptions]))
  try {
    await Promise.all(clients.map(async (c, i) => {
      const share = Math.min(config.nodesPerClientProcess, count - i * config.nodesPerClientProcess)
      const r = await c.cmd<HoldResult>('hold', { addr: server.addr, count: share, concurrency: config.holdConcurrency })
      if (r.connected !== share) throw new Error(`${impl} client held ${r.connected} of ${share} connections`)
    }))
  } catch (err) {
    await stopAll(clients)
    throw err
  }
  return clients
}

/** Connections held and closed before the memory baseline is read. */
const WARM_CONNECTIONS = 100

/** Attempts at one memory measurement (see {@link retryWorkerFailures}). */
const MEMORY_ATTEMPTS = 2

/**
 * Runs `attempt` until it succeeds or has failed `attempts` times. Only a worker's failure
 * (`WorkerError`, e.g. a handshake that timed out while hundreds of peers dialled at once on a
 * loaded machine) is tried again, after `onRetry`; any other error, and the last failure, is
 * thrown. Each attempt must clean up after itself.
 */
export async function retryWorkerFailures<T> (attempts: number, attempt: () => Promise<T>, onRetry: (err: WorkerError, failed: number) => void): Promise<T> {
  for (let failed = 0; ; failed++) {
    try {
      return await attempt()
    } catch (err) {
      if (!(err instanceof WorkerError) || failed + 1 >= attempts) throw err
      onRetry(err, failed + 1)
    }
  }
}

/** Server RSS and heap per idle connection from distinct peers. */
async function memory (config: BenchConfig, log: Log): Promise<ResultRecord[]> {
  const out: ResultRecord[] = []
  for (const n of config.memoryConnections) {
    const rss = perImpl()
    const heap = perImpl()
    for (let rep = 0; rep < config.memoryReps; rep++) {
      for (const impl of IMPLS) {
        // A measurement whose set-up failed (a worker's error, not a figure) is made once more
        // with fresh processes, instead of ending the whole run.
        const figures = await retryWorkerFailures(MEMORY_ATTEMPTS, async () => idleConnectionMemory(impl, n, config), (err, failed) => {
          log(`  memory ${n} ${impl}: attempt ${failed} failed (${err.message}); once more with new processes`)
        })
        rss[impl].push(figures.rss)
        heap[impl].push(figures.heap)
        log(`  memory ${n} ${impl}: ${figures.rss.toFixed(1)} KiB RSS, ${figures.heap.toFixed(1)} KiB heap per connection`)
      }
    }
    const name = comboName(config.setupCombo)
    out.push(compare({ id: `memory.${n}.rss`, group: 'memory', title: `server RSS per idle connection, ${n} peers, ${name}, after ${config.memoryIdleMs / 1000} s idle`, unit: 'KiB', better: 'lower' }, rss, 0.25))
    out.push(compare({ id: `memory.${n}.heap`, group: 'memory', title: `server JS heap per idle connection, ${n} peers, ${name}, after ${config.memoryIdleMs / 1000} s idle`, unit: 'KiB', better: 'lower' }, heap, 0.25))
  }
  return out
}

/** One server's RSS and heap per idle connection (KiB) with `n` peers, in processes of its own. */
async function idleConnectionMemory (impl: ComparedImpl, n: number, config: BenchConfig): Promise<{ rss: number, heap: number }> {
  const server = await WorkerProcess.start(impl, 'server', workerOptions(config))
  let clients: WorkerProcess[] = []
  try {
    // Warm the server's connection path, then measure from an idle state. 100 connections
    // (held, then closed) let the JIT optimise that path first: compiled code is per process,
    // not per connection, and with a smaller warm-up it showed up as 2-3 KiB "per connection"
    // in the 200-peer figures of both implementations.
    const warm = Math.min(WARM_CONNECTIONS, n)
    clients = await holdConnections(impl, server, warm, { ...config, nodesPerClientProcess: warm })
    await settle(server, warm, 60_000)
    await stopAll(clients)
    await settle(server, 0, 60_000)
    // Read both figures the same way: after a full collection and the same idle time (V8
    // returns the heap the warm-up grew only after several idle seconds).
    await server.cmd<UsageResult>('usage', { gc: true })
    await sleep(config.memoryIdleMs)
    const before = await server.cmd<UsageResult>('usage', { gc: true })
    clients = await holdConnections(impl, server, n, config)
    await settle(server, n, 120_000)
    // A full collection, then quiet: V8 gives back the heap it grew during the burst only
    // after it has seen the process idle for several seconds following a major GC.
    await server.cmd<UsageResult>('usage', { gc: true })
    await sleep(config.memoryIdleMs)
    const after = await server.cmd<UsageResult>('usage', { gc: true })
    if (after.connections !== n) throw new Error(`the ${impl} server lost connections while idle: ${after.connections} of ${n}`)
    return { rss: (after.rss - before.rss) / 1024 / n, heap: (after.heapUsed - before.heapUsed) / 1024 / n }
  } finally {
    await stopAll([...clients, server])
  }
}

/**
 * Raw `node:net` loopback and ChaCha20-Poly1305 throughput on this machine, and the two together:
 * Noise transport messages over a plain socket (`sealedPush`), what the machine allows a Noise
 * connection in Node.js before any libp2p code runs.
 */
async function ceilings (config: BenchConfig, log: Log, earlier: ResultRecord[]): Promise<ResultRecord[]> {
  const options: WorkerOptions = { nodeFlags: config.nodeFlags, execPath: config.nodePath, pin: config.pin }
  const workers = await startAll([['net', 'server', options], ['net', 'client', options]])
  const [server, client] = workers
  try {
    const net: number[] = []
    const enc: number[] = []
    const dec: number[] = []
    const sealed: number[] = []
    const sealedCpu: Record<'sender' | 'receiver', number[]> = { sender: [], receiver: [] }
    await client.cmd('push', { addr: server.addr, bytes: Math.min(config.netBytes, 64 * MIB) })
    await client.cmd('sealedPush', { addr: server.sealedAddr, bytes: Math.min(config.netBytes, 64 * MIB) })
    for (let rep = 0; rep < config.reps; rep++) {
      const r = await client.cmd<TransferResult>('push', { addr: server.addr, bytes: config.netBytes })
      net.push((r.bytes / MIB) / (r.ms / 1000))
      const c = await client.cmd<CryptoResult>('crypto', { bytes: config.cryptoBytes })
      enc.push(c.encryptMiBps)
      dec.push(c.decryptMiBps)
      const { result: s, serverCpu } = await withUsage<SealedTransferResult>({ server, client }, 'sealedPush', { addr: server.sealedAddr, bytes: config.netBytes })
      const gib = s.bytes / GIB
      sealed.push((s.bytes / MIB) / (s.ms / 1000))
      sealedCpu.sender.push(cpuSeconds(s.cpu) / gib)
      sealedCpu.receiver.push(serverCpu / gib)
      log(`  ceilings: net ${net.at(-1)?.toFixed(0)} MiB/s, chacha20-poly1305 encrypt ${c.encryptMiBps.toFixed(0)} / decrypt ${c.decryptMiBps.toFixed(0)} MiB/s, sealed loopback ${sealed.at(-1)?.toFixed(0)} MiB/s`)
    }
    const out: ResultRecord[] = [
      { id: 'ceiling.net', group: 'ceilings', title: 'ceiling: raw node:net loopback, 64 KiB writes', unit: 'MiB/s', better: 'higher', reference: summarize(net) },
      { id: 'ceiling.chacha20-poly1305.encrypt', group: 'ceilings', title: 'ceiling: node:crypto ChaCha20-Poly1305 encrypt, 64 KiB chunks', unit: 'MiB/s', better: 'higher', reference: summarize(enc) },
      { id: 'ceiling.chacha20-poly1305.decrypt', group: 'ceilings', title: 'ceiling: node:crypto ChaCha20-Poly1305 decrypt, 64 KiB chunks', unit: 'MiB/s', better: 'higher', reference: summarize(dec) }
    ]
    const ceiling = Math.min(...out.map(r => r.reference?.median ?? Infinity))
    out.push(...fractionRows(earlier, ceiling, 'ceiling.fraction', 'lower ceiling', 0.6))
    const sealedRef = summarize(sealed)
    out.push(
      { id: 'ceiling.sealed', group: 'ceilings', title: 'ceiling: Noise transport messages over raw node:net loopback (node:crypto, 65519-byte messages, no libp2p)', unit: 'MiB/s', better: 'higher', reference: sealedRef },
      { id: 'ceiling.sealed.cpu.sender', group: 'ceilings', title: 'ceiling: CPU per GiB of the sealed-loopback sender', unit: 's/GiB', better: 'lower', reference: summarize(sealedCpu.sender) },
      { id: 'ceiling.sealed.cpu.receiver', group: 'ceilings', title: 'ceiling: CPU per GiB of the sealed-loopback receiver', unit: 's/GiB', better: 'lower', reference: summarize(sealedCpu.receiver) }
    )
    out.push(...fractionRows(earlier, sealedRef.median, 'ceiling.sealed-fraction', 'sealed-loopback ceiling'))
    out.push(...targetRows(earlier, sealedRef.median))
    return out
  } finally {
    await stopAll(workers)
  }
}

/** The throughput record of `combo` in direction `dir` among the rows measured before. */
function throughputRecord (earlier: ResultRecord[], combo: Combo, dir: 'push' | 'pull'): ResultRecord | undefined {
  return earlier.find(r => r.id === `throughput.${comboId(combo)}.${dir}`)
}

/**
 * The noise+yamux push and pull throughput of both implementations (from `earlier`), plain and
 * with the peerkit reader freeing its chunks when that was run, as fractions of `ceiling` MiB/s;
 * with a `target`, peerkit's median is checked against it.
 */
function fractionRows (earlier: ResultRecord[], ceiling: number, idPrefix: string, ceilingName: string, target?: number): ResultRecord[] {
  const rows: ResultRecord[] = []
  for (const combo of [{ security: 'noise', muxer: 'yamux' }, { security: 'noise', muxer: 'yamux', ownedChunks: true }] as const) {
    const owned = 'ownedChunks' in combo
    for (const dir of ['push', 'pull'] as const) {
      const tp = throughputRecord(earlier, combo, dir)
      if (tp?.peerkit == null || tp.js == null) continue
      const peerkit = summarize(tp.peerkit.runs.map(v => v / ceiling))
      const js = summarize(tp.js.runs.map(v => v / ceiling))
      rows.push({
        id: `${idPrefix}${owned ? '.owned' : ''}.${dir}`,
        group: 'ceilings',
        title: `${comboName(combo)} ${dir} throughput as a fraction of the ${ceilingName} (${ceiling.toFixed(0)} MiB/s)`,
        unit: 'fraction',
        better: 'higher',
        peerkit,
        js,
        ratio: peerkit.median / js.median,
        ...(target != null ? { target: `>= ${target} (peerkit)`, met: peerkit.median >= target } : {})
      })
    }
  }
  return rows
}

/**
 * The throughput target in MiB/s (`THROUGHPUT_TARGET` times js-libp2p's noise+yamux throughput,
 * from `earlier`) as a multiple of the sealed loopback, push and pull: above 1, the target asks
 * more than Noise messages alone moved over a bare socket in the same run, so no implementation
 * on `node:crypto` can reach it on this machine. Computed from each js-libp2p run against the
 * sealed loopback's median, shown in the js-libp2p column.
 */
function targetRows (earlier: ResultRecord[], sealed: number): ResultRecord[] {
  const rows: ResultRecord[] = []
  for (const dir of ['push', 'pull'] as const) {
    const tp = throughputRecord(earlier, { security: 'noise', muxer: 'yamux' }, dir)
    if (tp?.js == null) continue
    rows.push({
      id: `ceiling.sealed-target.${dir}`,
      group: 'ceilings',
      title: `noise+yamux ${dir} throughput target (${THROUGHPUT_TARGET}x js-libp2p) as a multiple of the sealed-loopback ceiling (${sealed.toFixed(0)} MiB/s; above 1: more than Noise alone moved)`,
      unit: 'multiple',
      better: 'lower',
      // In the js-libp2p column, since it is made of js-libp2p's runs.
      js: summarize(tp.js.runs.map(v => THROUGHPUT_TARGET * v / sealed))
    })
  }
  return rows
}

/** The version of an installed package, found by walking up from its entry point; `unknown` if not found. */
function packageVersion (name: string): string {
  try {
    let dir = dirname(require.resolve(name))
    for (let i = 0; i < 6; i++) {
      const file = join(dir, 'package.json')
      if (existsSync(file)) {
        const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string, version?: string }
        if (pkg.name === name && typeof pkg.version === 'string') return pkg.version
      }
      dir = dirname(dir)
    }
  } catch {
    // not installed
  }
  return 'unknown'
}

/** Versions of the packages under test. */
function versions (): Record<string, string> {
  const names = ['libp2p', '@libp2p/noise', '@libp2p/yamux', '@libp2p/mplex', '@libp2p/tcp', '@peerkit/libp2p', '@peerkit/connection-encrypter-noise', '@peerkit/muxer-yamux']
  return Object.fromEntries(names.map(n => [n, packageVersion(n)]))
}

/**
 * A share of CPU time (`between` two readings) for the whole run and for each group, from the
 * reading at the run's start and those at each group's end; `undefined` when the run's share
 * cannot be measured.
 */
function cpuShares (first: CpuReading, ends: Array<[Group, CpuReading]>, between: (a: CpuReading, b: CpuReading) => number | undefined): CpuShares | undefined {
  const run = between(first, ends.at(-1)?.[1] ?? first)
  if (run == null) return undefined
  const groups: CpuShares['groups'] = {}
  let from = first
  for (const [group, at] of ends) {
    const share = between(from, at)
    if (share != null) groups[group] = share
    from = at
  }
  return { run, groups }
}

/**
 * Runs the configured benchmark groups, alternating peerkit and js-libp2p (A, B, A, B...) within
 * every benchmark, each implementation's client and server in processes of their own.
 */
export async function runBenchmarks (config: BenchConfig, log: Log = () => {}): Promise<BenchResults> {
  const started = Date.now()
  const results: ResultRecord[] = []
  const groups: Record<Group, () => Promise<ResultRecord[]>> = {
    throughput: async () => throughput(config, log),
    connections: async () => connections(config, log),
    streams: async () => streams(config, log),
    memory: async () => memory(config, log),
    ceilings: async () => ceilings(config, log, results)
  }
  // One reading at each boundary (a group's end is the next group's start), when every worker of
  // the group has exited and been reaped, so that the run's own CPU time is complete.
  const first = readCpu()
  const { ends, failedGroups } = await runGroups(config.groups, async group => {
    results.push(...await groups[group]())
  }, log)
  const steal = cpuShares(first, ends, (a, b) => stealBetween(a.machine, b.machine))
  const otherLoad = cpuShares(first, ends, otherLoadBetween)
  return {
    version: 1,
    date: new Date(started).toISOString(),
    mode: config.mode,
    config,
    machine: { ...machineInfo(), ...(config.nodePath != null ? { workerNode: nodeRuntime(config.nodePath) } : {}) },
    versions: versions(),
    durationSeconds: Math.round((Date.now() - started) / 100) / 10,
    ...(steal != null ? { steal } : {}),
    ...(otherLoad != null ? { otherLoad } : {}),
    ...(failedGroups.length > 0 ? { failedGroups } : {}),
    results
  }
}

/**
 * Runs `run` for each group in turn. A group that fails is logged and recorded, and the next group
 * still runs: a long run keeps what it measured, and its table says which rows are missing and why.
 * A CPU reading is taken at each group's end, failed or not.
 */
export async function runGroups<G extends string> (order: readonly G[], run: (group: G) => Promise<void>, log: Log): Promise<{ ends: Array<[G, CpuReading]>, failedGroups: Array<GroupFailure<G>> }> {
  const ends: Array<[G, CpuReading]> = []
  const failedGroups: Array<GroupFailure<G>> = []
  for (const group of order) {
    log(`${group}...`)
    try {
      await run(group)
    } catch (err) {
      const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err)
      log(`${group} failed, its rows are missing: ${error}`)
      failedGroups.push({ group, error })
    }
    ends.push([group, readCpu()])
  }
  return { ends, failedGroups }
}
