#!/usr/bin/env node
// Runs every package's `test` script (through lerna, one package at a time so timing-sensitive
// network tests do not compete for the two cores) and ends with one line: `N passed, N failed`.
// Extra arguments are passed to lerna, e.g. `npm test -- --scope @peerkit/crypto`.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, existsSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const dir = mkdtempSync(join(tmpdir(), 'peerkit-test-'))
const statsFile = join(dir, 'stats.jsonl')

// --no-sort: no dependency ordering, so a failing package never causes others to be skipped.
const result = spawnSync('npx', ['lerna', 'run', 'test', '--concurrency', '1', '--no-bail', '--no-sort', '--stream', ...process.argv.slice(2)], {
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

// Repeat every failure here: lerna's streamed output can be thousands of lines long, and a log
// that keeps only its end must still say which test failed and why.
const failures = perPackage.flatMap(s => (s.failedTests ?? []).map(f => ({ package: s.package, ...f })))
if (failures.length > 0) {
  console.log('\nfailures:')
  for (const f of failures) {
    console.log(`  ${f.package}: ${f.title}`)
    if (f.file != null) console.log(`    in ${f.file}`)
    const kind = [f.name, f.code].filter(x => x != null && x !== '').join(' ')
    console.log(`    ${kind !== '' ? kind + ': ' : ''}${f.message.split('\n').join('\n    ')}`)
    if (f.stack !== '') console.log(f.stack.split('\n').map(line => `      ${line.trim()}`).join('\n'))
  }
  if (failed > failures.length) console.log(`  (${failed - failures.length} more not shown)`)
}

console.log('\nper package:')
for (const s of perPackage) {
  console.log(`  ${s.package}: ${s.passes} passed, ${s.failures} failed${s.pending > 0 ? `, ${s.pending} pending` : ''}`)
}
// Every package with a test script must have reported; one that did not (crashed, skipped) counts
// as one failure. With a --scope argument only the named packages are expected.
const scoped = process.argv.slice(2).some(a => a.startsWith('--scope'))
const expected = scoped
  ? []
  : readdirSync('packages').filter(dir => {
    const file = join('packages', dir, 'package.json')
    return existsSync(file) && JSON.parse(readFileSync(file, 'utf8')).scripts?.test != null
  }).map(dir => JSON.parse(readFileSync(join('packages', dir, 'package.json'), 'utf8')).name)
const reported = new Set(perPackage.map(s => s.package))
const missing = expected.filter(name => !reported.has(name))
for (const name of missing) console.log(`  ${name}: did not report (crashed or was not run)`)
let crashed = missing.length
if (crashed === 0 && result.status !== 0 && failed === 0) {
  console.log('  (a package test run exited non-zero without reporting a failing test)')
  crashed = 1
}
if (passed === 0 && failed === 0) console.log('  (no test ran)')
console.log(`${passed} passed, ${failed + crashed} failed${pending > 0 ? `, ${pending} skipped` : ''}`)
process.exit(result.status === 0 && failed === 0 && passed > 0 ? 0 : 1)
