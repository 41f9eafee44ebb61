// Spec reporter that also appends the run's totals and its failures to $PEERKIT_TEST_STATS (one
// JSON line per package), so the root test runner can sum them across the workspace and repeat
// every failure next to its closing line, where a truncated CI log still shows it.
'use strict'
const fs = require('node:fs')
const Mocha = require('mocha')
const { EVENT_RUN_END, EVENT_TEST_FAIL } = Mocha.Runner.constants

// Bounds on what one package may add to the stats file: a run with hundreds of failures still
// gives a short summary.
const MAX_FAILURES = 20
const MAX_MESSAGE = 2000
const MAX_STACK_LINES = 8

function describeError (err) {
  if (err == null) return { message: String(err), stack: '' }
  const message = String(err.message ?? err).slice(0, MAX_MESSAGE)
  const stack = typeof err.stack === 'string'
    ? err.stack.split('\n').filter(line => line.trimStart().startsWith('at ')).slice(0, MAX_STACK_LINES).join('\n')
    : ''
  return { name: err.name ?? err.constructor?.name, code: err.code, message, stack }
}

class PeerkitReporter extends Mocha.reporters.Spec {
  constructor (runner, options) {
    super(runner, options)
    const failures = []
    runner.on(EVENT_TEST_FAIL, (test, err) => {
      if (failures.length >= MAX_FAILURES) return
      failures.push({ title: test.fullTitle(), file: test.file, ...describeError(err) })
    })
    runner.once(EVENT_RUN_END, () => {
      const file = process.env.PEERKIT_TEST_STATS
      if (file == null || file === '') return
      const stats = runner.stats ?? {}
      const line = JSON.stringify({
        package: process.env.npm_package_name ?? process.cwd(),
        passes: stats.passes ?? 0,
        failures: stats.failures ?? 0,
        pending: stats.pending ?? 0,
        tests: stats.tests ?? 0,
        failedTests: failures
      })
      fs.appendFileSync(file, line + '\n')
    })
  }
}

module.exports = PeerkitReporter
