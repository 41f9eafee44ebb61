/**
 * Runs the transport suite inside a separate, silent mocha instance and reports each test's
 * outcome, so a self-test can assert that the suite fails for a broken transport.
 */
import Mocha from 'mocha'
import tests from '../../src/transport/index.js'
import type { TestSetup } from '../../src/index.js'
import type { TransportTestFixture } from '../../src/transport/index.js'

/** Outcome of one nested run. */
export interface SuiteOutcome {
  /** Titles of the tests that passed. */
  passed: string[]
  /** Titles of the tests (not hooks) that failed, with their errors. */
  failed: Array<{ title: string, error: Error }>
  /** Titles of hooks that failed. */
  failedHooks: string[]
  /** Number of tests the run selected. */
  total: number
}

const MOCHA_GLOBALS = ['describe', 'context', 'it', 'specify', 'before', 'after', 'beforeEach', 'afterEach'] as const

/**
 * Registers the transport suite for `setup` in a fresh mocha instance (only the tests whose full
 * title matches `grep`, when given), runs it and collects the results.
 */
export async function runTransportSuite (setup: TestSetup<TransportTestFixture>, grep?: RegExp): Promise<SuiteOutcome> {
  const mocha = new Mocha({ reporter: Mocha.reporters.Base, timeout: 20_000 })
  if (grep != null) mocha.grep(grep)

  // The suite calls the global describe/it: point them at the nested instance while it registers.
  const context: Record<string, unknown> = {}
  mocha.suite.emit('pre-require', context, 'transport-suite-self-test', mocha)
  const globals = globalThis as unknown as Record<string, unknown>
  const saved = MOCHA_GLOBALS.map(name => [name, globals[name]] as const)
  try {
    for (const name of MOCHA_GLOBALS) globals[name] = context[name]
    tests(setup)
  } finally {
    for (const [name, value] of saved) globals[name] = value
  }

  // mocha.run() writes these static reporter settings; keep the outer run's values.
  const base = Mocha.reporters.Base as unknown as Record<string, unknown>
  const reporterSettings = { useColors: base.useColors, inlineDiffs: base.inlineDiffs, hideDiff: base.hideDiff }

  const outcome: SuiteOutcome = { passed: [], failed: [], failedHooks: [], total: 0 }
  try {
    await new Promise<void>(resolve => {
      const runner = mocha.run(() => { resolve() })
      outcome.total = runner.total
      runner.on('pass', test => { outcome.passed.push(test.fullTitle()) })
      runner.on('fail', (runnable, err: Error) => {
        if (runnable.type === 'test') outcome.failed.push({ title: runnable.fullTitle(), error: err })
        else outcome.failedHooks.push(runnable.fullTitle())
      })
    })
  } finally {
    Object.assign(base, reporterSettings)
    mocha.dispose()
  }
  return outcome
}
