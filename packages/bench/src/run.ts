/**
 * `npm run bench -- [--quick] [--only throughput,streams] [--reps N] [--out DIR] [--no-save] [--cpu-prof DIR] [--identify-delay MS] [--noise-crypto node|libsodium] [--node-flags="--flag ..."] [--node PATH] [--pin same|split]`
 *
 * Runs peerkit and js-libp2p side by side and writes `benchmarks/results/<date>.json` and `.md`.
 */
import { availableParallelism, platform } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { nodeRuntime, runBenchmarks } from './bench.js'
import { GROUPS, configFor } from './config.js'
import { BenchBusyError, acquireRunLock } from './lock.js'
import { otherLoadBetween, readCpu } from './load.js'
import { HIGH_OTHER_LOAD, markdownTable, writeResults } from './report.js'
import type { Group } from './config.js'

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    smoke: { type: 'boolean', default: false },
    only: { type: 'string' },
    reps: { type: 'string' },
    out: { type: 'string' },
    'cpu-prof': { type: 'string' },
    'identify-delay': { type: 'string' },
    'noise-crypto': { type: 'string' },
    'node-flags': { type: 'string' },
    node: { type: 'string' },
    pin: { type: 'string' },
    'no-save': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false }
  }
})

if (values.help) {
  console.log(`usage: npm run bench -- [--quick | --smoke] [--only ${GROUPS.join(',')}] [--reps N] [--out DIR] [--no-save] [--cpu-prof DIR] [--identify-delay MS] [--noise-crypto node|libsodium] [--node-flags="--flag ..."] [--node PATH] [--pin same|split]`)
  process.exit(0)
}

/** Reports a bad command line and exits with status 2. */
function usageError (message: string): never {
  console.error(message)
  process.exit(2)
}

const config = configFor(values.smoke ? 'smoke' : values.quick ? 'quick' : 'full')
if (values.only != null) {
  const wanted = values.only.split(',').map(s => s.trim()).filter(s => s !== '')
  for (const g of wanted) {
    if (!(GROUPS as readonly string[]).includes(g)) {
      usageError(`unknown group ${g}; groups: ${GROUPS.join(', ')}`)
    }
  }
  config.groups = GROUPS.filter(g => wanted.includes(g)) as Group[]
}
if (values.reps != null) {
  const reps = Number(values.reps)
  if (!Number.isInteger(reps) || reps < 1) {
    usageError('--reps must be a positive integer')
  }
  config.reps = reps
}

if (values['identify-delay'] != null) {
  const ms = Number(values['identify-delay'])
  if (!Number.isInteger(ms) || ms < 0) {
    usageError('--identify-delay must be an integer >= 0 (milliseconds)')
  }
  config.peerkitIdentifyDelay = ms
}
if (values['noise-crypto'] != null) {
  const name = values['noise-crypto']
  if (name !== 'node' && name !== 'libsodium') {
    usageError('--noise-crypto must be node or libsodium')
  }
  config.peerkitNoiseCrypto = name
}
if (values['node-flags'] != null) {
  const flags = values['node-flags'].split(/\s+/).filter(f => f !== '')
  const bad = flags.find(f => !/^--[a-z0-9][a-z0-9-]*(=[^\s]+)?$/.test(f))
  if (bad != null) {
    usageError(`--node-flags takes Node.js/V8 flags such as "--initial-old-space-size=256"; got ${bad}`)
  }
  config.nodeFlags = flags
}
if (values.node != null) {
  try {
    const runtime = nodeRuntime(values.node)
    config.nodePath = runtime.path
    console.log(`workers run on Node.js ${runtime.version} (V8 ${runtime.v8}): ${runtime.path}`)
  } catch (err) {
    usageError(`--node takes the path of a Node.js binary: ${(err as Error).message}`)
  }
}
if (values.pin != null) {
  const pin = values.pin
  if (pin !== 'same' && pin !== 'split') usageError('--pin must be same or split')
  if (platform() !== 'linux') usageError('--pin works on Linux only (through taskset)')
  if (pin === 'split' && availableParallelism() < 2) usageError('--pin split needs two CPUs')
  config.pin = pin
}
if (values['cpu-prof'] != null) process.env.PEERKIT_BENCH_CPU_PROF = values['cpu-prof']

let release: () => void
try {
  release = acquireRunLock()
} catch (err) {
  if (!(err instanceof BenchBusyError)) throw err
  console.error(`${err.message}: wait for it to end, or remove the lock if no such run exists`)
  process.exit(3)
}
// Released on every way out: the end of the run, an error, Ctrl-C.
process.on('exit', release)
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.once(signal, () => { process.exit(code) })
}

console.log(`peerkit bench: ${config.mode} run of ${config.groups.join(', ')}`)
// Half a second of the machine before anything starts: a busy machine is better known now than
// from the warnings under the table minutes later.
const idleBefore = readCpu()
await new Promise(resolve => setTimeout(resolve, 500))
const busyBefore = otherLoadBetween(idleBefore, readCpu())
if (busyBefore != null && busyBefore > HIGH_OTHER_LOAD) {
  console.log(`warning: other processes are using ${(busyBefore * 100).toFixed(0)} % of the CPU before the run starts; its rows will measure both implementations against that load`)
}
const results = await runBenchmarks(config, line => { console.log(line) })
console.log('\n' + markdownTable(results))
if (!values['no-save']) {
  const dir = values.out ?? fileURLToPath(new URL('../../../../benchmarks/results/', import.meta.url))
  console.log(`written: ${writeResults(results, dir)}`)
}
// The rows that were measured are printed and saved; a failed group still fails the run.
if (results.failedGroups != null && results.failedGroups.length > 0) {
  console.error(`failed: ${results.failedGroups.map(f => f.group).join(', ')}`)
  process.exitCode = 1
}
