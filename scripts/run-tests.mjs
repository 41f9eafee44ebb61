#!/usr/bin/env node
// Runs every package's `test` script (through lerna, one package at a time so timing-sensitive
// network tests do not compete for the two cores) and ends with one line: `N passed, N failed`.
// Extra arguments are passed to lerna, e.g. `npm test -- --scope @peerkit/crypto`.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const dir = mkdtempSync(join(tmpdir(), 'peerkit-test-'))
const statsFile = join(dir, 'stats.jsonl')

const result = spawnSync('npx', ['lerna', 'run', 'test', '--concurrency', '1', '--no-bail', '--stream', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, PEERKIT_TEST_STATS: statsFile }
})

let passed = 0
let failed = 0
let pending = 0
const perPackage = []
if (existsSync(statsFile)) {
  for (const line of readFileSync(statsFile, 'utf8').split('\n')) {
    if (line.trim() === '') continue
    const s = JSON.parse(line)
    passed += s.passes
    failed += s.failures
    pending += s.pending
    perPackage.push(s)
  }
}
rmSync(dir, { recursive: true, force: true })

console.log('\nper package:')
for (const s of perPackage) {
  console.log(`  ${s.package}: ${s.passes} passed, ${s.failures} failed${s.pending > 0 ? `, ${s.pending} pending` : ''}`)
}
// A package whose mocha process crashed before reporting counts as one failure.
const crashed = result.status !== 0 && failed === 0 ? 1 : 0
if (crashed > 0) console.log('  (a package test run exited non-zero without reporting a failing test)')
if (passed === 0 && failed === 0) console.log('  (no test ran)')
console.log(`${passed} passed, ${failed + crashed} failed${pending > 0 ? `, ${pending} skipped` : ''}`)
process.exit(result.status === 0 && failed === 0 && passed > 0 ? 0 : 1)
