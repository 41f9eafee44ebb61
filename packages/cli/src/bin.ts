#!/usr/bin/env node
import { run } from './commands.js'

let resolveStop!: () => void
const stop = new Promise<void>(resolve => { resolveStop = resolve })
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => { resolveStop() })
}

const code = await run(process.argv.slice(2), {
  line: (value) => { process.stdout.write(JSON.stringify(value) + '\n') }
}, stop)
process.exitCode = code
// Nothing should keep the process alive after stop(); exit explicitly so a misbehaving remote
// cannot keep the command hanging.
setTimeout(() => process.exit(code), 2000).unref()
