/**
 * Runs the connection-encrypter suite in a fresh mocha instance against the reference encrypter
 * built with the flaws given as a JSON array in argv[2] (optionally restricted by the grep pattern
 * in argv[3], with the suite's `promptMs` in argv[4]), and prints the results as one JSON line. Spawned by the suite's self-test.
 */
import Mocha from 'mocha'
import suite from '../../src/connection-encrypter/index.js'
import { referenceEncrypter } from './reference.js'
import type { Flaw } from './reference.js'

/** What a run reports. */
export interface SuiteResults {
  total: number
  passed: string[]
  failed: Array<{ title: string, error: string }>
  pending: string[]
}

const flaws = JSON.parse(process.argv[2] ?? '[]') as Flaw[]
const grep = process.argv[3]
const promptMs = process.argv[4] != null ? Number(process.argv[4]) : undefined

const results: SuiteResults = { total: 0, passed: [], failed: [], pending: [] }

class Collector extends Mocha.reporters.Base {
  constructor (runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options)
    runner.once('start', () => { results.total = runner.total })
    runner.on('pass', (test) => { results.passed.push(test.fullTitle()) })
    runner.on('fail', (test, err: Error) => { results.failed.push({ title: test.fullTitle(), error: `${err.name}: ${err.message}` }) })
    runner.on('pending', (test) => { results.pending.push(test.fullTitle()) })
  }
}

const mocha = new Mocha({ timeout: 30_000, reporter: Collector })
mocha.suite.emit('pre-require', globalThis, 'run-suite', mocha)
describe(`reference encrypter [${flaws.join(', ')}]`, () => {
  suite({
    async setup () { return referenceEncrypter(flaws) },
    async teardown () {}
  }, { promptMs })
})
if (grep != null && grep !== '') mocha.grep(grep)
mocha.run(() => {
  process.stdout.write(JSON.stringify(results) + '\n', () => { process.exit(0) })
})
