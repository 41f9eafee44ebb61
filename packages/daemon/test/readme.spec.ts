import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)

describe('README', function () {
  this.timeout(30_000)

  it('runs the example as written', async () => {
    const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8')
    const match = /```js\n([\s\S]*?)```/.exec(readme)
    assert.ok(match != null, 'README has a js example')
    // Inside the package, so `@peerkit/daemon` resolves to this package.
    const dir = mkdtempSync(join(fileURLToPath(new URL('../../', import.meta.url)), '.example-'))
    try {
      const file = join(dir, 'example.mjs')
      writeFileSync(file, match[1])
      const { stdout } = await run(process.execPath, [file], { timeout: 20_000 })
      assert.equal(stdout, 'hello\n')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
