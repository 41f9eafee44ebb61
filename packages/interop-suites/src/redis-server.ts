import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ChildProcess } from 'node:child_process'

/** A redis-server process on a loopback port, for the ping matrix. */
export interface LocalRedis {
  /** Its TCP port on 127.0.0.1. */
  port: number
  /** `127.0.0.1:<port>`, as the contract's `redis_addr`. */
  addr: string
  /** Stops it (SIGTERM, then SIGKILL after 5 s) and removes its directory. */
  stop(): Promise<void>
}

/** True when a `redis-server` binary is on PATH. */
export function hasRedisServer (): boolean {
  const r = spawnSync('redis-server', ['--version'], { stdio: 'ignore' })
  return r.status === 0
}

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const address = server.address()
  const port = typeof address === 'object' && address != null ? address.port : 0
  await new Promise<void>(resolve => { server.close(() => { resolve() }) })
  return port
}

/**
 * Starts `redis-server` on a free loopback port with persistence off and its working directory in
 * a temporary directory (removed at `stop()`). Waits until it accepts connections.
 */
export async function startRedis (timeoutMs = 10_000): Promise<LocalRedis> {
  if (!hasRedisServer()) {
    throw new Error('redis-server is not installed: run packages/interop-suites/scripts/setup.sh (apt-get install redis-server)')
  }
  const dir = await mkdtemp(join(tmpdir(), 'peerkit-redis-'))
  const port = await freePort()
  const proc: ChildProcess = spawn('redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'
  ], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const exited = once(proc, 'exit')
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`redis-server did not start within ${timeoutMs} ms: ${output}`)) }, timeoutMs)
      proc.stdout?.setEncoding('utf8').on('data', (s: string) => {
        output += s
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer)
          resolve()
        }
      })
      proc.stderr?.setEncoding('utf8').on('data', (s: string) => { output += s })
      void exited.then(() => {
        clearTimeout(timer)
        reject(new Error(`redis-server exited: ${output}`))
      })
    })
  } catch (err) {
    proc.kill('SIGKILL')
    await rm(dir, { recursive: true, force: true })
    throw err
  }
  return {
    port,
    addr: `127.0.0.1:${port}`,
    stop: async () => {
      if (proc.exitCode == null && proc.signalCode == null) {
        proc.kill('SIGTERM')
        const timer = setTimeout(() => proc.kill('SIGKILL'), 5000)
        await exited
        clearTimeout(timer)
      }
      await rm(dir, { recursive: true, force: true })
    }
  }
}
