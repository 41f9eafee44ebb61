import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createClient } from 'redis'
import { LISTENER_ADDR_KEY, readPingConfig } from '../src/ping-contract.js'
import { startRedis } from '../src/redis-server.js'
import type { PingResult } from '../src/ping-contract.js'
import type { LocalRedis } from '../src/redis-server.js'

const APPS = {
  peerkit: fileURLToPath(new URL('../src/ping-app.js', import.meta.url)),
  js: fileURLToPath(new URL('../src/js-ping-app.js', import.meta.url))
}
type Impl = keyof typeof APPS

interface Exit { code: number | null, stdout: string, stderr: string }

function run (impl: Impl, env: Record<string, string>): { done: Promise<Exit>, kill(signal: NodeJS.Signals): void } {
  const proc = spawn(process.execPath, [APPS[impl]], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  proc.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s })
  proc.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s })
  const done = new Promise<Exit>(resolve => {
    proc.once('exit', (code) => { resolve({ code, stdout, stderr }) })
  })
  return { done, kill: (signal) => { proc.kill(signal) } }
}

async function within<T> (promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    return await Promise.race([promise, new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => { reject(new Error(`${what} did not finish within ${ms} ms`)) }, ms)
    })])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * The libp2p test-plans transport-interop ping contract, run locally: a redis-server on a free
 * loopback port, then for every combination a listener and a dialer process (ours and js-libp2p's
 * apps), as the test-plans runner would start them in containers.
 */
describe('transport-interop ping (test-plans contract), peerkit <-> js-libp2p', function () {
  this.timeout(60_000)
  let redis: LocalRedis

  before(async () => { redis = await startRedis() })
  after(async () => { await redis?.stop() })

  it('reads the contract\'s environment', () => {
    const c = readPingConfig({ transport: 'tcp', security: 'noise', muxer: 'yamux', is_dialer: 'true' })
    assert.deepEqual(c, { transport: 'tcp', security: 'noise', muxer: 'yamux', isDialer: true, ip: '0.0.0.0', redisAddr: 'redis:6379', timeoutSeconds: 180 })
    assert.equal(readPingConfig({ transport: 'tcp', security: 'noise', muxer: 'yamux', is_dialer: 'false', test_timeout_secs: '5' }).timeoutSeconds, 5)
    assert.equal(readPingConfig({ transport: 'quic-v1', is_dialer: 'false' }).security, undefined)
    assert.throws(() => readPingConfig({ transport: 'tcp', is_dialer: 'true' }), /security and muxer are required/)
    assert.throws(() => readPingConfig({ transport: 'tcp', security: 'noise', muxer: 'yamux', is_dialer: 'yes' }), /is_dialer/)
  })

  for (const security of ['noise', 'plaintext', 'tls']) {
    for (const muxer of ['yamux', 'mplex']) {
      for (const [dialer, listener] of [['peerkit', 'js'], ['js', 'peerkit']] as Array<[Impl, Impl]>) {
        it(`tcp/${security}/${muxer}: ${dialer} dials ${listener}`, async () => {
          const db = createClient({ url: `redis://${redis.addr}` })
          await db.connect()
          try {
            await db.del(LISTENER_ADDR_KEY)
          } finally {
            db.destroy()
          }
          const env = { transport: 'tcp', security, muxer, ip: '127.0.0.1', redis_addr: redis.addr, test_timeout_seconds: '30' }
          const l = run(listener, { ...env, is_dialer: 'false' })
          const d = run(dialer, { ...env, is_dialer: 'true' })
          let dialed: Exit
          try {
            dialed = await within(d.done, 40_000, `the ${dialer} dialer`)
          } finally {
            l.kill('SIGTERM')
          }
          const listened = await within(l.done, 10_000, `the ${listener} listener`)
          assert.equal(dialed.code, 0, `dialer failed: ${dialed.stderr}`)
          assert.equal(listened.code, 0, `listener failed: ${listened.stderr}`)
          // Only the result goes to stdout, as one JSON line.
          const lines = dialed.stdout.split('\n').filter(l => l.trim() !== '')
          assert.equal(lines.length, 1, dialed.stdout)
          const result = JSON.parse(lines[0]) as PingResult
          assert.deepEqual(Object.keys(result).sort(), ['handshakePlusOneRTTMillis', 'pingRTTMilllis'])
          // >= 0: js-libp2p measures ping with Date.now(), so a fast loopback echo can report 0 ms.
          assert.ok(result.pingRTTMilllis >= 0 && Number.isFinite(result.pingRTTMilllis))
          assert.ok(result.handshakePlusOneRTTMillis >= result.pingRTTMilllis)
        })
      }
    }
  }
})
