import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type { ChildProcess } from 'node:child_process'

const BIN = fileURLToPath(new URL('../src/bin.js', import.meta.url))
const exec = promisify(execFile)

interface Result { code: number, lines: Array<Record<string, unknown>> }

async function peerkit (...args: string[]): Promise<Result> {
  try {
    const { stdout } = await exec(process.execPath, [BIN, ...args], { timeout: 30_000 })
    return { code: 0, lines: parse(stdout) }
  } catch (err) {
    const e = err as { code?: number, stdout?: string }
    return { code: typeof e.code === 'number' ? e.code : -1, lines: parse(e.stdout ?? '') }
  }
}

function parse (stdout: string): Array<Record<string, unknown>> {
  return stdout.split('\n').filter(l => l.trim() !== '').map(l => JSON.parse(l))
}

async function startListener (...args: string[]): Promise<{ proc: ChildProcess, info: { peerId: string, addrs: string[] } }> {
  const proc = spawn(process.execPath, [BIN, 'listen', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  const rl = createInterface({ input: proc.stdout! })
  const [line] = await once(rl, 'line') as [string]
  return { proc, info: JSON.parse(line) }
}

async function stopListener (proc: ChildProcess): Promise<number | null> {
  const exited = once(proc, 'exit')
  proc.kill('SIGTERM')
  const [code] = await exited as [number | null]
  return code
}

describe('peerkit command', function () {
  this.timeout(60_000)

  for (const [muxer, security] of [['yamux', 'noise'], ['mplex', 'plaintext']]) {
    describe(`--muxer ${muxer} --security ${security}`, () => {
      let listener: Awaited<ReturnType<typeof startListener>>
      const flags = ['--muxer', muxer, '--security', security]

      before(async () => { listener = await startListener('--echo', ...flags) })
      after(async () => {
        assert.equal(await stopListener(listener.proc), 0, 'listen exits cleanly on SIGTERM')
      })

      it('listen prints its PeerId and addresses with /p2p', () => {
        assert.match(listener.info.peerId, /^12D3KooW/)
        assert.ok(listener.info.addrs.length > 0)
        for (const a of listener.info.addrs) assert.ok(a.endsWith(`/p2p/${listener.info.peerId}`))
      })

      it('id prints what identify learned', async () => {
        const r = await peerkit('id', listener.info.addrs[0], ...flags)
        assert.equal(r.code, 0)
        const info = r.lines[0]
        assert.equal(info.peerId, listener.info.peerId)
        assert.match(String(info.agentVersion), /^peerkit\//)
        assert.equal(info.protocolVersion, 'ipfs/0.1.0')
        assert.ok((info.protocols as string[]).includes('/echo/1.0.0'))
        assert.ok((info.protocols as string[]).includes('/ipfs/ping/1.0.0'))
        assert.ok((info.listenAddrs as string[]).length > 0)
        assert.match(String(info.observedAddr), /^\/ip4\/127\.0\.0\.1\/tcp\/\d+/)
        assert.equal(info.signedPeerRecordVerified, true)
      })

      it('ping --count 3 prints one line per round trip', async () => {
        const r = await peerkit('ping', listener.info.addrs[0], '--count', '3', ...flags)
        assert.equal(r.code, 0)
        assert.equal(r.lines.length, 3)
        r.lines.forEach((l, i) => {
          assert.equal(l.seq, i + 1)
          assert.ok(typeof l.rttMs === 'number' && l.rttMs > 0)
        })
      })

      it('echo sends TEXT and prints the reply', async () => {
        const r = await peerkit('echo', listener.info.addrs[0], 'hello peerkit', ...flags)
        assert.equal(r.code, 0)
        assert.deepEqual(r.lines, [{ reply: 'hello peerkit' }])
      })
    })
  }

  it('fails with a one-line error and a non-zero exit code', async () => {
    const bad = await peerkit('ping', 'not-a-multiaddr')
    assert.equal(bad.code, 1)
    assert.equal(bad.lines.length, 1)
    assert.match(String(bad.lines[0].error), /^InvalidParametersError: Invalid multiaddr/)

    const refused = await peerkit('ping', '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA', '--timeout', '3000')
    assert.equal(refused.code, 1)
    assert.equal(refused.lines[0].code, 'ERR_DIAL_FAILED')
    assert.match(String(refused.lines[0].error), /ECONNREFUSED/)

    const unknown = await peerkit('frobnicate')
    assert.equal(unknown.code, 1)
    assert.match(String(unknown.lines[0].error), /Unknown command/)

    const muxer = await peerkit('id', '/ip4/127.0.0.1/tcp/1', '--muxer', 'spdy')
    assert.equal(muxer.code, 1)
    assert.match(String(muxer.lines[0].error), /Unknown muxer "spdy"/)
  })

  it('a muxer mismatch is reported as a failed dial', async () => {
    const l = await startListener('--muxer', 'mplex')
    try {
      const r = await peerkit('ping', l.info.addrs[0], '--muxer', 'yamux')
      assert.equal(r.code, 1)
      assert.equal(r.lines[0].code, 'ERR_DIAL_FAILED')
    } finally {
      await stopListener(l.proc)
    }
  })
})
