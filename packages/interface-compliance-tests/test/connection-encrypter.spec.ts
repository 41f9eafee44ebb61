import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import suite from '../src/connection-encrypter/index.js'
import { referenceEncrypter } from './connection-encrypter/reference.js'
import type { Flaw } from './connection-encrypter/reference.js'
import type { SuiteResults } from './connection-encrypter/run-suite.js'

const RUNNER = fileURLToPath(new URL('./connection-encrypter/run-suite.js', import.meta.url))

/** Runs the suite in a separate process against the reference built with `flaws`. */
async function runSuite (flaws: Flaw[], grep = '', promptMs?: number): Promise<SuiteResults> {
  const args = [RUNNER, JSON.stringify(flaws), grep, ...(promptMs != null ? [String(promptMs)] : [])]
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err != null) {
        reject(new Error(`the suite run failed: ${err.message}\n${stderr}`))
        return
      }
      const line = stdout.trim().split('\n').pop() ?? ''
      try {
        resolve(JSON.parse(line) as SuiteResults)
      } catch {
        reject(new Error(`unreadable suite results: ${stdout}\n${stderr}`))
      }
    })
  })
}

const WIRE_TITLES = ['in-memory', 'TCP']
const FLAWED_PROMPT_MS = 400

interface FlawCase {
  flaw: Flaw
  /** What the flawed encrypter does, for the test title. */
  does: string
  /** Restricts the run to the tests concerned, to keep it short. */
  grep: string
  /** Title fragments of tests that must fail, on every wire unless `wires` says otherwise. */
  mustFail: string[]
  wires?: string[]
}

const CASES: FlawCase[] = [
  { flaw: 'ignores-expected-peer', does: 'does not check the expected PeerId', grep: 'UnexpectedPeerError', mustFail: ['the dialer rejects a listener that is not the expected peer', 'a listener given an expected PeerId rejects another dialer'] },
  { flaw: 'wrong-error-for-unexpected-peer', does: 'reports an unexpected peer with HandshakeError', grep: 'UnexpectedPeerError', mustFail: ['the dialer rejects a listener that is not the expected peer', 'a listener given an expected PeerId rejects another dialer'] },
  // Coalescing is forced deterministically on the in-memory wire; over TCP it depends on the kernel.
  { flaw: 'drops-coalesced-bytes', does: 'loses bytes that arrive with the last handshake message', grep: 'same chunk', mustFail: ['same chunk as the dialer\'s last handshake bytes', 'same chunk as the listener\'s last handshake bytes'], wires: ['in-memory'] },
  { flaw: 'ignores-abort', does: 'ignores the abort signal', grep: 'signal', mustFail: ['the dialer rejects with AbortError soon after', 'the listener rejects with AbortError soon after', 'the dialer rejects at once with an already aborted signal', 'the listener rejects at once with an already aborted signal'] },
  { flaw: 'leaks-timer', does: 'leaves a timer behind', grep: 'learn each other|leaves no timer', mustFail: ['both sides learn each other', 'leaves no timer behind'] },
  { flaw: 'hangs-on-eof', does: 'hangs when the stream ends mid-handshake', grep: 'before answering|without answering|truncated', mustFail: ['the dialer rejects when the remote closes the connection before answering', 'the listener rejects when the remote half-closes without answering', 'the dialer rejects a truncated handshake message', 'the listener rejects a truncated handshake message'] },
  { flaw: 'reports-itself', does: 'reports its own PeerId as the remote one', grep: 'learn each other', mustFail: ['both sides learn each other'] },
  { flaw: 'never-half-closes', does: 'never ends the raw sink', grep: 'half-close:', mustFail: ['the dialer ends its writes', 'the listener ends its writes'] },
  { flaw: 'corrupts-large-transfers', does: 'corrupts a byte past the first MiB', grep: 'several MiB', mustFail: ['carries several MiB each way'] },
  { flaw: 'drops-a-small-write', does: 'loses one write in a thousand', grep: 'many small writes', mustFail: ['keeps the order of many small writes'] }
]

describe('connection-encrypter suite', () => {
  describe('run directly against a correct reference encrypter', () => {
    suite({
      async setup () { return referenceEncrypter() },
      async teardown () {}
    })
  })

  describe('self-test', function () {
    this.timeout(180_000)
    const runs = new Map<string, Promise<SuiteResults>>()

    before(() => {
      // All runs at once, each in its own process; every test below awaits its own.
      runs.set('correct', runSuite([]))
      // A flawed encrypter often hangs where it should fail: a shorter hang threshold keeps these runs
      // quick (a correct one settles within milliseconds).
      for (const c of CASES) runs.set(c.flaw, runSuite([c.flaw], c.grep, FLAWED_PROMPT_MS))
      for (const run of runs.values()) run.catch(() => {})
    })

    it('passes every test, none skipped, for a correct encrypter', async () => {
      const results = await runs.get('correct')!
      assert.deepEqual(results.failed, [], 'a correct encrypter should pass')
      assert.deepEqual(results.pending, [])
      assert.ok(results.total >= 50, `the suite registered only ${results.total} tests`)
      assert.equal(results.passed.length, results.total)
      for (const wire of WIRE_TITLES) {
        assert.ok(results.passed.some(t => t.includes(wire)), `no test ran over ${wire}`)
      }
    })

    for (const c of CASES) {
      it(`fails for an encrypter that ${c.does}`, async () => {
        const results = await runs.get(c.flaw)!
        assert.ok(results.total > 0, `the grep ${c.grep} selected no test`)
        const failed = results.failed.map(f => f.title)
        for (const fragment of c.mustFail) {
          for (const wire of c.wires ?? WIRE_TITLES) {
            assert.ok(
              failed.some(t => t.includes(fragment) && t.includes(wire)),
              `expected "${fragment}" over ${wire} to fail; failures: ${JSON.stringify(results.failed, null, 1)}; passes: ${JSON.stringify(results.passed, null, 1)}`
            )
          }
        }
      })
    }
  })
})
