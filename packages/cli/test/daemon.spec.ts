import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { access, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DaemonClient } from '@peerkit/daemon'

const BIN = fileURLToPath(new URL('../src/bin.js', import.meta.url))

interface Exit { code: number | null, stdout: string, stderr: string }

async function runToExit (...args: string[]): Promise<Exit> {
  const proc = spawn(process.execPath, [BIN, 'daemon', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  proc.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s })
  proc.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s })
  const [code] = await once(proc, 'exit') as [number | null]
  return { code, stdout, stderr }
}

describe('peerkit daemon', function () {
  this.timeout(30_000)
  let dir: string

  before(async () => { dir = await mkdtemp(join(tmpdir(), 'peerkit-cli-daemon-')) })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('prints p2pd\'s ready lines, serves the control protocol, and exits 0 on SIGTERM', async () => {
    const socket = join(dir, 'p2pd.sock')
    const proc = spawn(process.execPath, [BIN, 'daemon', `-listen=/unix${socket}`, '-hostAddrs=/ip4/127.0.0.1/tcp/0'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    proc.stdout.setEncoding('utf8')
    await new Promise<void>((resolve, reject) => {
      proc.stdout.on('data', (s: string) => {
        stdout += s
        if (/Peer Addrs:\n.+\n/.test(stdout)) resolve()
      })
      proc.once('exit', (code) => { reject(new Error(`exited with ${String(code)}`)) })
    })
    const [control, id, addrsHeader, addr] = stdout.split('\n')
    assert.equal(control, `Control socket: /unix/${encodeURIComponent(socket)}`)
    assert.match(id, /^Peer ID: 12D3KooW\w+$/)
    assert.equal(addrsHeader, 'Peer Addrs:')
    assert.match(addr, /^\/ip4\/127\.0\.0\.1\/tcp\/\d+$/)
    const identified = await new DaemonClient(control.slice('Control socket: '.length)).identify()
    assert.equal(`Peer ID: ${identified.peerId.toString()}`, id)
    assert.deepEqual(identified.addrs.map(String), [addr])

    const exited = once(proc, 'exit')
    proc.kill('SIGTERM')
    const [code] = await exited as [number | null]
    assert.equal(code, 0)
    await assert.rejects(access(socket), /ENOENT/, 'the control socket file is removed')
  })

  it('exits 78 for p2pd features peerkit lacks, 2 for a bad command line, 0 for -h', async () => {
    const dht = await runToExit('-listen=/ip4/127.0.0.1/tcp/0', '-dht')
    assert.equal(dht.code, 78)
    assert.match(dht.stderr, /-dht is not supported: peerkit has no Kademlia DHT yet/)
    assert.equal(dht.stdout, '')

    const bad = await runToExit('-nope')
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /flag provided but not defined: -nope/)

    const help = await runToExit('-h')
    assert.equal(help.code, 0)
    assert.match(help.stdout, /^usage: peerkit daemon \[flags\]/)
    assert.match(help.stdout, /-dhtServer\n.*NOT SUPPORTED/)
  })
})
