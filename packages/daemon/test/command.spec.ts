import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { generateKeyPair, privateKeyToProtobuf } from '@peerkit/crypto'
import { createNode } from '@peerkit/libp2p'
import { peerIdFromPrivateKey } from '@peerkit/peer-id'
import { DaemonClient, EXIT_FAILURE, EXIT_UNSUPPORTED, EXIT_USAGE, runDaemon } from '../src/index.js'
import type { PrivateKey } from '@peerkit/interfaces'

interface Running {
  stdout: string[]
  stderr: string[]
  /** Resolves with the control address once the daemon printed its lines. */
  ready: Promise<string>
  /** Stops the daemon (as SIGTERM does) and resolves with its exit code. */
  stop(): Promise<number>
  /** The exit code, for runs that end by themselves. */
  exit: Promise<number>
}

function start (args: string[]): Running {
  const stdout: string[] = []
  const stderr: string[] = []
  let resolveStop!: () => void
  let resolveReady!: (addr: string) => void
  const ready = new Promise<string>(resolve => { resolveReady = resolve })
  const exit = runDaemon(args, {
    stdout: (line) => {
      stdout.push(line)
      const m = /^Control socket: (.+)$/.exec(line)
      if (m != null) resolveReady(m[1])
    },
    stderr: (line) => { stderr.push(line) }
  }, new Promise<void>(resolve => { resolveStop = resolve }))
  return {
    stdout,
    stderr,
    ready: Promise.race([ready, exit.then(code => { throw new Error(`exited with ${code}: ${stderr.join(' ')}`) })]),
    exit,
    stop: async () => {
      resolveStop()
      return exit
    }
  }
}

/** The legacy 96-byte Ed25519 key file: `private(32) | public(32) | public(32)`. */
function legacyEd25519 (key: PrivateKey): Uint8Array {
  const raw = key.raw // seed | public
  const data = new Uint8Array(96)
  data.set(raw, 0)
  data.set(raw.subarray(32), 64)
  return Uint8Array.from([0x08, 0x01, 0x12, 96, ...data])
}

describe('peerkit daemon command (runDaemon)', function () {
  this.timeout(30_000)
  let dir: string

  before(async () => { dir = await mkdtemp(join(tmpdir(), 'peerkit-daemon-')) })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  const keys: Array<[string, () => Promise<{ key: PrivateKey, file: Uint8Array }>]> = [
    ['Ed25519', async () => { const key = await generateKeyPair('Ed25519'); return { key, file: privateKeyToProtobuf(key) } }],
    ['Ed25519 (legacy 96-byte form)', async () => { const key = await generateKeyPair('Ed25519'); return { key, file: legacyEd25519(key) } }],
    ['secp256k1', async () => { const key = await generateKeyPair('secp256k1'); return { key, file: privateKeyToProtobuf(key) } }],
    ['RSA', async () => { const key = await generateKeyPair('RSA', 2048); return { key, file: privateKeyToProtobuf(key) } }],
    ['ECDSA', async () => { const key = await generateKeyPair('ECDSA', 'P-256'); return { key, file: privateKeyToProtobuf(key) } }]
  ]
  for (const [name, make] of keys) {
    it(`runs with a ${name} identity from -id, and signs with it`, async () => {
      const { key, file } = await make()
      const path = join(dir, `${name.replace(/\W/g, '_')}.key`)
      await writeFile(path, file)
      const daemon = start(['-listen=/ip4/127.0.0.1/tcp/0', '-hostAddrs=/ip4/127.0.0.1/tcp/0', `-id=${path}`])
      const control = await daemon.ready
      const expected = peerIdFromPrivateKey(key)
      try {
        assert.equal(daemon.stdout[1], `Peer ID: ${expected.toString()}`)
        const id = await new DaemonClient(control).identify()
        assert.ok(id.peerId.equals(expected))
        // A peer that dials it checks the handshake signature and the signed peer record.
        const peer = await createNode({ listen: [] })
        try {
          const conn = await peer.dial(id.addrs[0].encapsulate(`/p2p/${expected.toString()}`))
          const result = await peer.services.identify.identify(conn)
          assert.ok(result.peerId.equals(expected))
          assert.equal(result.signedPeerRecordVerified, true)
        } finally {
          await peer.stop()
        }
      } finally {
        assert.equal(await daemon.stop(), 0)
      }
    })
  }

  it('prints p2pd\'s lines: control socket, peer id, peer addresses', async () => {
    const socket = join(dir, 'p2pd.sock')
    const daemon = start([`-listen=/unix${socket}`, '-hostAddrs=/ip4/127.0.0.1/tcp/0,/ip4/127.0.0.1/tcp/0'])
    const control = await daemon.ready
    try {
      assert.equal(control, `/unix/${encodeURIComponent(socket)}`)
      assert.match(daemon.stdout[1], /^Peer ID: 12D3KooW\w+$/)
      assert.equal(daemon.stdout[2], 'Peer Addrs:')
      assert.equal(daemon.stdout.length, 5)
      for (const line of daemon.stdout.slice(3)) assert.match(line, /^\/ip4\/127\.0\.0\.1\/tcp\/\d+$/)
      // The unix control socket works with p2pd's spelling of the address too.
      const id = await new DaemonClient(`/unix${socket}`).identify()
      assert.equal(`Peer ID: ${id.peerId.toString()}`, daemon.stdout[1])
    } finally {
      assert.equal(await daemon.stop(), 0)
    }
  })

  it('-q prints nothing; -noListenAddrs listens nowhere', async () => {
    const socket = join(dir, 'quiet.sock')
    const daemon = start([`-listen=/unix${socket}`, '-q', '-noListenAddrs'])
    try {
      const client = new DaemonClient(`/unix${socket}`)
      // No ready line to wait for: poll the control socket.
      let id
      for (let i = 0; i < 100 && id == null; i++) {
        id = await client.identify().catch(async () => { await new Promise(resolve => setTimeout(resolve, 20)) })
      }
      assert.ok(id != null)
      assert.deepEqual(id.addrs, [])
      assert.deepEqual(daemon.stdout, [])
    } finally {
      assert.equal(await daemon.stop(), 0)
    }
  })

  it('offers only the encrypters the flags leave on', async () => {
    const daemon = start(['-listen=/ip4/127.0.0.1/tcp/0', '-hostAddrs=/ip4/127.0.0.1/tcp/0', '-noise=false', '-tls=false', '-plaintext'])
    const control = await daemon.ready
    try {
      const id = await new DaemonClient(control).identify()
      const target = id.addrs[0].encapsulate(`/p2p/${id.peerId.toString()}`)
      const noise = await createNode({ listen: [], security: ['noise'] })
      const plain = await createNode({ listen: [], security: ['plaintext'] })
      try {
        await assert.rejects(noise.dial(target), /DialError|failed/)
        const conn = await plain.dial(target)
        assert.equal(conn.encryption, '/plaintext/2.0.0')
      } finally {
        await noise.stop()
        await plain.stop()
      }
    } finally {
      assert.equal(await daemon.stop(), 0)
    }
  })

  it('exits 78 for p2pd features peerkit does not have, naming the flag', async () => {
    for (const args of [['-dht'], ['-dhtServer'], ['-pubsub'], ['-relay'], ['-connManager'], ['-muxer=quic'], ['-hostAddrs=/ip4/127.0.0.1/udp/0/quic-v1'], ['-hostAddrs=/ip4/127.0.0.1/tcp/0/ws']]) {
      const run = start(['-listen=/ip4/127.0.0.1/tcp/0', ...args])
      assert.equal(await run.exit, EXIT_UNSUPPORTED, args.join(' '))
      assert.match(run.stderr.join('\n'), /not supported|only the TCP transport/)
      assert.deepEqual(run.stdout, [])
    }
  })

  it('exits 2 for a malformed command line, 1 for a failure at start, 0 for -h', async () => {
    const usage = start(['-bogus'])
    assert.equal(await usage.exit, EXIT_USAGE)
    assert.match(usage.stderr[0], /flag provided but not defined: -bogus/)

    const missing = start(['-listen=/ip4/127.0.0.1/tcp/0', `-id=${join(dir, 'missing.key')}`])
    assert.equal(await missing.exit, EXIT_FAILURE)
    assert.match(missing.stderr[0], /cannot load the identity .*missing\.key: .*ENOENT/)

    const garbage = join(dir, 'garbage.key')
    await writeFile(garbage, new Uint8Array([1, 2, 3, 4]))
    const bad = start(['-listen=/ip4/127.0.0.1/tcp/0', `-id=${garbage}`])
    assert.equal(await bad.exit, EXIT_FAILURE)
    assert.match(bad.stderr[0], /cannot load the identity/)

    const socket = join(dir, 'busy.sock')
    const first = start([`-listen=/unix${socket}`, '-noListenAddrs'])
    await first.ready
    try {
      const second = start([`-listen=/unix${socket}`, '-noListenAddrs'])
      assert.equal(await second.exit, EXIT_FAILURE)
      assert.match(second.stderr[0], /Another process is serving the control socket/)
    } finally {
      assert.equal(await first.stop(), 0)
    }

    const help = start(['-h'])
    assert.equal(await help.exit, 0)
    assert.match(help.stdout[0], /^usage: peerkit daemon \[flags\]/)
    assert.match(help.stdout[0], /-hostAddrs string/)
  })

  it('replaces a stale unix socket file left by a dead daemon', async () => {
    const socket = join(dir, 'stale.sock')
    // A process that listens on the path and is killed: the file stays, nobody answers.
    const proc = spawn(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(socket)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] })
    await once(proc.stdout, 'data')
    const exited = once(proc, 'exit')
    proc.kill('SIGKILL')
    await exited
    assert.ok((await stat(socket)).isSocket())
    const daemon = start([`-listen=/unix${socket}`, '-noListenAddrs'])
    await daemon.ready
    assert.ok((await new DaemonClient(`/unix${socket}`).identify()).addrs.length === 0)
    assert.equal(await daemon.stop(), 0)
    await assert.rejects(stat(socket), /ENOENT/)
  })

  it('listens on the addresses given, and announces -announceAddrs', async () => {
    const daemon = start(['-listen=/ip4/127.0.0.1/tcp/0', '-hostAddrs=/ip4/127.0.0.1/tcp/0', '-announceAddrs=/ip4/203.0.113.7/tcp/4001'])
    const control = await daemon.ready
    try {
      const id = await new DaemonClient(control).identify()
      assert.deepEqual(id.addrs.map(String), ['/ip4/203.0.113.7/tcp/4001'])
      assert.equal(multiaddr(daemon.stdout[3]).toString(), '/ip4/203.0.113.7/tcp/4001')
    } finally {
      assert.equal(await daemon.stop(), 0)
    }
  })
})
