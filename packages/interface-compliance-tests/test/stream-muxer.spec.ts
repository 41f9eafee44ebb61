/**
 * Self-test of the stream-muxer suite: it must pass against a correct reference muxer and fail
 * against each deliberately broken variant, so it cannot pass vacuously. Each run happens in a
 * child process with its own mocha instance.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { FLAWS } from './stream-muxer/reference-muxer.js'
import type { RunResults } from './stream-muxer/run-suite.js'

const runner = fileURLToPath(new URL('./stream-muxer/run-suite.js', import.meta.url))

async function runSuite (flaws: string[], bail: boolean): Promise<RunResults> {
  const child = spawn(process.execPath, [runner, flaws.join(','), bail ? '--bail' : ''], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s })
  child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s })
  const code = await new Promise<number | null>(resolve => { child.on('close', resolve) })
  const line = stdout.trim().split('\n').pop() ?? ''
  try {
    return JSON.parse(line) as RunResults
  } catch {
    throw new Error(`suite run [${flaws.join(',')}] printed no results (exit ${code}): ${stderr.slice(-2000)}`)
  }
}

/** Runs `fn` over `items` with at most `limit` at a time. */
async function pool<T, R> (items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length)
  let next = 0
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i])
    }
  }))
  return out
}

describe('stream-muxer suite self-test', function () {
  this.timeout(120_000)

  it('passes against the correct reference muxer', async () => {
    const results = await runSuite([], false)
    assert.deepEqual(results.failed, [], 'the reference muxer passes every test')
    assert.ok(results.total >= 30, `the suite registered ${results.total} tests`)
    assert.equal(results.passed.length, results.total, 'every registered test ran and passed')
  })

  it('fails against every broken variant', async () => {
    const runs = await pool(FLAWS, 5, async flaw => ({ flaw, results: await runSuite([flaw], true) }))
    const passing = runs.filter(r => r.results.failed.length === 0).map(r => r.flaw)
    assert.deepEqual(passing, [], `the suite must fail for each flaw; it passed for: ${passing.join(', ')}`)
    for (const { flaw, results } of runs) {
      assert.ok(results.total >= 30, `[${flaw}] the suite registered ${results.total} tests`)
    }
  })
})
