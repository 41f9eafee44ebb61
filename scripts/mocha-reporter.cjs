// Spec reporter that also appends the run's totals to $PEERKIT_TEST_STATS (one JSON line per
// package), so the root test runner can sum them across the workspace.
'use strict'
const fs = require('node:fs')
const Mocha = require('mocha')
const { EVENT_RUN_END } = Mocha.Runner.constants

class PeerkitReporter extends Mocha.reporters.Spec {
  constructor (runner, options) {
    super(runner, options)
    runner.once(EVENT_RUN_END, () => {
      const file = process.env.PEERKIT_TEST_STATS
      if (file == null || file === '') return
      const stats = runner.stats ?? {}
      const line = JSON.stringify({
        package: process.env.npm_package_name ?? process.cwd(),
        passes: stats.passes ?? 0,
        failures: stats.failures ?? 0,
        pending: stats.pending ?? 0,
        tests: stats.tests ?? 0
      })
      fs.appendFileSync(file, line + '\n')
    })
  }
}

module.exports = PeerkitReporter
