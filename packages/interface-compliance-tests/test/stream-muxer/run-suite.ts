/**
 * Child-process entry of the stream-muxer self-test: runs the suite in its own mocha instance
 * against the reference muxer with the flaws named (comma-separated) in argv[2], and prints one JSON
 * line with the results. With `--bail` as argv[3] it stops at the first failure.
 */
import Mocha from 'mocha'
import streamMuxerTests from '../../src/stream-muxer/index.js'
import { referenceMuxer } from './reference-muxer.js'
import type { Flaw } from './reference-muxer.js'

/** The results a run prints. */
export interface RunResults {
  total: number
  passed: string[]
  failed: Array<{ title: string, error: string }>
}

const flaws = (process.argv[2] ?? '').split(',').filter(f => f !== '') as Flaw[]
const bail = process.argv[3] === '--bail'
const results: RunResults = { total: 0, passed: [], failed: [] }

class ResultCollector extends Mocha.reporters.Base {
  constructor (runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options)
    runner.once('start', () => { results.total = runner.total })
    runner.on('pass', test => { results.passed.push(test.fullTitle()) })
    runner.on('fail', (test, err: Error) => { results.failed.push({ title: test.fullTitle(), error: `${err.name}: ${err.message}` }) })
  }
}

const mocha = new Mocha({ timeout: 30_000, bail, reporter: ResultCollector as unknown as Mocha.ReporterConstructor })
mocha.suite.emit('pre-require', globalThis, 'stream-muxer-self-test', mocha)
describe(`reference muxer [${flaws.join(', ')}]`, () => {
  streamMuxerTests({
    async setup () { return referenceMuxer(flaws) },
    async teardown () {}
  })
})
mocha.run(() => {
  // A flawed muxer may leave timers or sockets behind: report, then exit regardless.
  process.stdout.write(`${JSON.stringify(results)}\n`, () => { process.exit(0) })
})
