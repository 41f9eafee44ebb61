import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { BenchResults, ResultRecord } from './bench.js'
import type { CpuShares } from './load.js'
import type { Stats } from './stats.js'

/** A number with about three significant digits, no exponent. */
export function fmt (v: number): string {
  const a = Math.abs(v)
  if (a >= 100) return v.toFixed(0)
  if (a >= 10) return v.toFixed(1)
  if (a >= 1) return v.toFixed(2)
  return v.toFixed(3)
}

function cell (s: Stats | undefined): string {
  if (s == null) return '—'
  return s.runs.length === 1 ? fmt(s.median) : `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`
}

function ratioCell (r: ResultRecord): string {
  if (r.ratio == null) return '—'
  return r.pairedRatio != null && r.peerkit != null && r.peerkit.runs.length > 1
    ? `${r.ratio.toFixed(2)}x (paired ${r.pairedRatio.toFixed(2)}x)`
    : `${r.ratio.toFixed(2)}x`
}

/** Steal time above this share of all CPU time marks a group's figures as taken on a loaded host. */
export const HIGH_STEAL = 0.1

/** Other processes' CPU time above this share of all CPU time marks a group's figures as taken on a busy machine. */
export const HIGH_OTHER_LOAD = 0.1

function percent (fraction: number): string {
  return `${(fraction * 100).toFixed(1)} %`
}

/** A header line for a run's CPU shares (see `CpuShares`), and a warning naming each group above `high`. */
function shareLines (shares: CpuShares | undefined, what: string, high: number, warning: (groups: string) => string): string[] {
  if (shares == null) return []
  const groups = Object.entries(shares.groups) as Array<[string, number]>
  const lines = [`${what}: ${percent(shares.run)} of the run${groups.length > 0 ? ` (${groups.map(([g, f]) => `${g} ${percent(f)}`).join(', ')})` : ''}`]
  const loaded = groups.filter(([, f]) => f > high).map(([g]) => g)
  if (loaded.length > 0) lines.push(warning(loaded.join(', ')))
  return lines
}

/** The header lines on the host's steal time and on other processes' load, with their warnings. */
function loadLines (res: BenchResults): string[] {
  return [
    ...shareLines(res.steal, 'host steal time (CPU time the hypervisor gave other guests, from /proc/stat)', HIGH_STEAL,
      groups => `warning: the host took more than ${percent(HIGH_STEAL)} of the CPU during ${groups}; those rows are not comparable with a quieter run's (the ratios, measured in alternation, less affected than the absolute figures)`),
    ...shareLines(res.otherLoad, "other processes' CPU time (this machine's, outside the run's own processes, from /proc)", HIGH_OTHER_LOAD,
      groups => `warning: other processes used more than ${percent(HIGH_OTHER_LOAD)} of the CPU during ${groups} (another benchmark, a build, a test suite?); those rows measured both implementations against that load`)
  ]
}

function targetCell (r: ResultRecord): string {
  if (r.target == null) return '—'
  return `${r.target} ${r.met === true ? '✓' : '✗'}`
}

/** The results as a markdown table (one row per record) with a header naming the run and machine. */
export function markdownTable (res: BenchResults): string {
  const lines = [
    `peerkit vs js-libp2p ${res.versions.libp2p ?? ''}, ${res.mode} run of ${res.date} (${res.durationSeconds} s)`,
    `machine: ${res.machine.cpuModel}, ${res.machine.cpus} CPUs, ${res.machine.memoryGiB} GiB, ${res.machine.platform}, Linux ${res.machine.kernel}, Node.js ${res.machine.node}${res.machine.v8 != null ? ` (V8 ${res.machine.v8})` : ''}`,
    ...(res.machine.workerNode != null ? [`every worker (both implementations) ran on Node.js ${res.machine.workerNode.version} (V8 ${res.machine.workerNode.v8}), ${res.machine.workerNode.path}`] : []),
    `median (min–max) of ${res.config.reps} alternating runs each (memory: ${res.config.memoryReps}); ↑ higher is better, ↓ lower is better; peerkit/js is the ratio of the medians, "paired" the median of the run-by-run ratios`,
    ...(res.config.peerkitIdentifyDelay != null ? [`peerkit identify connectionOpenDelay: ${res.config.peerkitIdentifyDelay} ms (not its default)`] : []),
    ...(res.config.peerkitNoiseCrypto != null ? [`peerkit Noise crypto: ${res.config.peerkitNoiseCrypto}${res.config.peerkitNoiseCrypto === 'libsodium' ? ' (not its default)' : ''}`] : []),
    ...(res.config.nodeFlags != null && res.config.nodeFlags.length > 0 ? [`Node.js flags of every worker (both implementations): ${res.config.nodeFlags.join(' ')}`] : []),
    ...(res.config.pin != null ? [`workers pinned (both implementations): ${res.config.pin === 'same' ? 'every worker on CPU 0' : 'servers on CPU 0, clients on CPU 1'} (not the default)`] : []),
    ...(res.machine.allocatorEnv != null ? [`allocator environment of every worker (both implementations): ${Object.entries(res.machine.allocatorEnv).map(([k, v]) => `${k}=${v}`).join(' ')}`] : []),
    ...loadLines(res),
    '',
    '| benchmark | unit | peerkit | js-libp2p | peerkit/js | target |',
    '| --- | --- | --- | --- | --- | --- |'
  ]
  for (const r of res.results) {
    const unit = `${r.unit} ${r.better === 'higher' ? '↑' : '↓'}`
    const peerkit = r.reference != null ? `${cell(r.reference)} (Node.js)` : cell(r.peerkit)
    lines.push(`| ${r.title} | ${unit} | ${peerkit} | ${cell(r.js)} | ${ratioCell(r)} | ${targetCell(r)} |`)
  }
  if (res.failedGroups != null && res.failedGroups.length > 0) {
    lines.push('')
    for (const f of res.failedGroups) lines.push(`**not measured: the ${f.group} group failed**, its rows are missing: ${f.error.split('\n')[0]}`)
  }
  return lines.join('\n') + '\n'
}

/**
 * Writes `<dir>/<YYYY-MM-DD>[-<mode>].json` and the markdown table beside it, adding the time
 * (`THHMMSS`) when a file of that name exists. Returns the JSON path.
 */
export function writeResults (res: BenchResults, dir: string): string {
  mkdirSync(dir, { recursive: true })
  const suffix = res.mode === 'full' ? '' : `-${res.mode}`
  let base = `${res.date.slice(0, 10)}${suffix}`
  if (existsSync(join(dir, `${base}.json`))) base = `${res.date.slice(0, 10)}T${res.date.slice(11, 19).replaceAll(':', '')}${suffix}`
  const json = join(dir, `${base}.json`)
  writeFileSync(json, JSON.stringify(res, null, 2) + '\n')
  writeFileSync(join(dir, `${base}.md`), markdownTable(res))
  return json
}
