import assert from 'node:assert/strict'
import { createCipheriv } from 'node:crypto'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createConnection } from 'node:net'
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { HIGH_OTHER_LOAD, HIGH_STEAL, SEALED_CEILING_KEY, WorkerProcess, compare, pinnedCpu, startAll, stopAll, configFor, machineInfo, nodeRuntime, parseCpuTicks, quiesce, decodeSize, encodeSize, markdownTable, readCpuTicks, runBenchmarks, stealBetween, summarize, writeResults, otherLoadBetween, parseOwnTicks, readCpu, readOwnTicks, acquireRunLock, BenchBusyError, retryWorkerFailures, runGroups, WorkerError } from '../src/index.js'
import { processCounters } from '../src/workers/meter.js'
import type { BenchResults, CpuShares, Pair, ResultRecord, Stats } from '../src/index.js'
import type { UsageResult } from '../src/protocol.js'

/** A child that burns `ms` of CPU, then writes the CPU time it used (µs, a plain number: no `console.log`, which colours numbers under FORCE_COLOR) and exits. */
function burner (ms: number): { child: ReturnType<typeof spawn>, usedUs: Promise<number> } {
  const child = spawn(process.execPath, ['-e', `const t = Date.now(); while (Date.now() - t < ${ms}); const u = process.cpuUsage(); process.stdout.write(String(u.user + u.system))`], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout?.on('data', (d: Buffer) => { out += d.toString() })
  // 'close', not 'exit': the output may still be on its way when the process has exited.
  const usedUs = once(child, 'close').then(() => Number(out.trim()))
  return { child, usedUs }
}

function assertStats (s: Stats | undefined, what: string, runs: number): void {
  assert.ok(s != null, `${what}: missing`)
  assert.equal(s.runs.length, runs, `${what}: ${s.runs.length} runs instead of ${runs}`)
  for (const v of [s.median, s.min, s.max, ...s.runs]) assert.ok(Number.isFinite(v), `${what}: ${v} is not finite`)
  assert.ok(s.min <= s.median && s.median <= s.max, `${what}: min ${s.min} median ${s.median} max ${s.max}`)
}

/** A run's CPU shares (steal, other load): present, between 0 and 1, one for each group run. */
function assertShares (shares: CpuShares | undefined, groups: readonly string[]): void {
  assert.ok(shares != null)
  assert.ok(shares.run >= 0 && shares.run <= 1, `run: ${shares.run}`)
  assert.deepEqual(Object.keys(shares.groups).sort(), [...groups].sort())
  for (const f of Object.values(shares.groups)) assert.ok(f >= 0 && f <= 1, `group: ${f}`)
}

function assertComparison (r: ResultRecord, runs: number, positive = true): void {
  assertStats(r.peerkit, `${r.id} peerkit`, runs)
  assertStats(r.js, `${r.id} js`, runs)
  if (positive) {
    assert.ok(r.peerkit!.median > 0 && r.js!.median > 0, `${r.id}: non-positive median`)
    assert.ok(r.ratio != null && Math.abs(r.ratio - r.peerkit!.median / r.js!.median) < 1e-9, `${r.id}: ratio ${r.ratio}`)
  }
}

describe('bench harness', function () {
  this.timeout(120_000)

  describe('statistics and records', () => {
    it('summarizes runs into median, min and max', () => {
      assert.deepEqual(summarize([3, 1, 2]), { median: 2, min: 1, max: 3, runs: [3, 1, 2] })
      assert.equal(summarize([4, 1, 2, 3]).median, 2.5)
      assert.throws(() => summarize([]), RangeError)
      assert.throws(() => summarize([1, Number.NaN]), RangeError)
    })

    it('lets a pair settle between runs without forcing a garbage collection in either process', async () => {
      // A forced collection before a run makes V8 size the heap for what survived it, and the run
      // then pays several times as many mark-compacts: the harness must not do that.
      const calls: Array<{ role: string, cmd: string, args?: Record<string, unknown> }> = []
      const worker = (role: string): WorkerProcess => ({
        cmd: async (cmd: string, args?: Record<string, unknown>) => { calls.push({ role, cmd, args }); return {} }
      }) as unknown as WorkerProcess
      await quiesce({ server: worker('server'), client: worker('client') } satisfies Pair)
      assert.deepEqual(calls.map(c => c.role).sort(), ['client', 'server'])
      for (const c of calls) assert.notEqual(c.args?.gc, true, `${c.role}: ${c.cmd} ${JSON.stringify(c.args)}`)
    })

    it('computes the peerkit/js ratio and checks the target in the right direction', () => {
      const up = compare({ id: 'a', group: 'throughput', title: 'a', unit: 'MiB/s', better: 'higher' }, { peerkit: [300, 310, 290], js: [100, 100, 120] }, 2.5)
      assert.equal(up.ratio, 3)
      assert.ok(Math.abs((up.pairedRatio ?? 0) - 3) < 1e-9, `paired ${up.pairedRatio}`)
      assert.equal(up.met, true)
      assert.equal(up.target, '>= 2.5')
      const down = compare({ id: 'b', group: 'connections', title: 'b', unit: 'ms', better: 'lower' }, { peerkit: [10], js: [20] }, 0.25)
      assert.equal(down.ratio, 0.5)
      assert.equal(down.met, false)
      const noise = compare({ id: 'c', group: 'memory', title: 'c', unit: 'KiB', better: 'lower' }, { peerkit: [5], js: [-3] }, 0.25)
      assert.equal(noise.ratio, undefined)
      assert.equal(noise.met, undefined)
      assert.match(noise.note ?? '', /not computed/)
    })

    it('encodes sizes as 8 big-endian bytes and rejects other lengths', () => {
      assert.equal(decodeSize(encodeSize(256 * 1024 * 1024)), 256 * 1024 * 1024)
      assert.deepEqual([...encodeSize(258)], [0, 0, 0, 0, 0, 0, 1, 2])
      assert.throws(() => decodeSize(new Uint8Array(7)), RangeError)
    })
  })

  describe('workers', () => {
    it('reports a failed command as an error naming the worker, and stops cleanly', async () => {
      const w = await WorkerProcess.start('peerkit', 'client')
      try {
        await assert.rejects(w.cmd('no-such-command'), /peerkit client worker: .*unknown command no-such-command/)
        await assert.rejects(w.cmd('push', { addr: 'not an address', bytes: 1 }), /peerkit client worker/)
      } finally {
        await w.stop()
      }
      await assert.rejects(w.cmd('usage'), /has exited/)
    })

    it('counts the collections, GC pauses and page faults of its process', async () => {
      const before = await processCounters()
      // Young garbage: far more than a young generation holds, so scavenges must run.
      let kept = 0
      for (let round = 0; round < 50; round++) {
        const objects = Array.from({ length: 50_000 }, (_, i) => ({ i, s: `x${i}` }))
        kept += objects.length
      }
      assert.equal(kept, 2_500_000)
      // A full collection, forced.
      setFlagsFromString('--expose-gc')
      const gc = runInNewContext('gc') as () => void
      gc()
      // Fresh memory written page by page: each 4 KiB page faults in.
      const fresh = Buffer.allocUnsafeSlow(32 * 1024 * 1024).fill(1)
      assert.equal(fresh[fresh.length - 1], 1)
      const after = await processCounters()
      assert.ok(after.scavenges > before.scavenges, `scavenges ${before.scavenges} → ${after.scavenges}`)
      assert.ok(after.markCompacts > before.markCompacts, `mark-compacts ${before.markCompacts} → ${after.markCompacts}`)
      assert.ok(after.gcPauseMs > before.gcPauseMs, `GC pauses ${before.gcPauseMs} → ${after.gcPauseMs} ms`)
      assert.ok(after.pageFaults - before.pageFaults >= 4096, `page faults ${before.pageFaults} → ${after.pageFaults}`)
    })

    it('reports the counters of both implementations\' workers in `usage`', async () => {
      for (const impl of ['peerkit', 'js'] as const) {
        const w = await WorkerProcess.start(impl, 'client')
        try {
          const { counters: before } = await w.cmd<UsageResult>('usage', { gc: true })
          const { counters } = await w.cmd<UsageResult>('usage', { gc: false })
          for (const key of ['scavenges', 'markCompacts', 'gcPauseMs', 'pageFaults'] as const) {
            assert.ok(Number.isFinite(counters[key]) && counters[key] >= 0, `${impl}: ${key} ${counters[key]}`)
          }
          // The two forced collections of `gc: true` come after its counters were read, so the next
          // reading counts them; the faults of loading the worker were counted from the start.
          assert.ok(counters.markCompacts - before.markCompacts >= 2, `${impl}: mark-compacts ${before.markCompacts} → ${counters.markCompacts}`)
          assert.ok(counters.gcPauseMs > before.gcPauseMs, `${impl}: GC pauses ${before.gcPauseMs} → ${counters.gcPauseMs} ms`)
          assert.ok(before.pageFaults > 0, `${impl}: no page faults`)
        } finally {
          await w.stop()
        }
      }
    })

    it('starts workers with the extra Node.js flags it is given', async () => {
      // A flag node refuses makes the worker fail to start, naming it: the flags reach the process.
      await assert.rejects(WorkerProcess.start('net', 'server', { nodeFlags: ['--no-such-node-flag'] }),
        /net server worker: exited before ready; stderr: .*--no-such-node-flag/)
      const w = await WorkerProcess.start('net', 'server', { nodeFlags: ['--initial-old-space-size=64'] })
      try {
        assert.match(w.addr, /^\/ip4\/127\.0\.0\.1\/tcp\/\d+$/)
      } finally {
        await w.stop()
      }
    })

    it('starts workers on the Node.js binary it is given, and reads that binary\'s release', async () => {
      // A wrapper that notes its arguments, then runs this process's Node: a worker started through
      // it leaves its script's path in the note, so the binary was the one given.
      const dir = mkdtempSync(join(tmpdir(), 'peerkit-bench-node-'))
      try {
        const note = join(dir, 'args')
        const wrapper = join(dir, 'node')
        writeFileSync(wrapper, `#!/bin/sh\nprintf '%s\\n' "$*" >> '${note}'\nexec '${process.execPath}' "$@"\n`)
        chmodSync(wrapper, 0o755)
        assert.deepEqual(nodeRuntime(wrapper), { path: wrapper, version: process.version, v8: process.versions.v8 })
        const w = await WorkerProcess.start('net', 'server', { execPath: wrapper, nodeFlags: ['--initial-old-space-size=64'] })
        try {
          assert.match(w.addr, /^\/ip4\/127\.0\.0\.1\/tcp\/\d+$/)
        } finally {
          await w.stop()
        }
        const calls = readFileSync(note, 'utf8').trim().split('\n')
        assert.ok(calls.some(c => c.includes('--initial-old-space-size=64') && /workers\/net\.js --role server/.test(c)), `wrapper calls: ${calls.join(' | ')}`)
        // A binary that fails, or answers but not as Node.js does, is refused by name.
        assert.throws(() => nodeRuntime('/bin/false'), (e: Error) => e instanceof TypeError && /^\/bin\/false does not run as Node\.js/.test(e.message))
        const echo = join(dir, 'echo')
        writeFileSync(echo, '#!/bin/sh\necho hello\n')
        chmodSync(echo, 0o755)
        assert.throws(() => nodeRuntime(echo), (e: Error) => e instanceof TypeError && e.message === `${echo} does not answer like Node.js: "hello"`)
        assert.throws(() => nodeRuntime(join(dir, 'missing')), /does not run as Node\.js/)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })

    it('pins every thread of a worker to the CPU its role gets', async () => {
      /** The CPUs each thread of a process may run on, from /proc. */
      const affinity = (pid: number): string[] => readdirSync(`/proc/${pid}/task`).map(tid =>
        /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'))?.[1] ?? 'unknown')
      assert.equal(pinnedCpu('same', 'client'), 0)
      assert.equal(pinnedCpu('split', 'server'), 0)
      assert.equal(pinnedCpu('split', 'client'), 1)
      const workers = await startAll([['net', 'server', { pin: 'split' }], ['net', 'client', { pin: 'split' }], ['net', 'client', {}]])
      try {
        const [serverCpus, clientCpus, freeCpus] = workers.map(w => affinity(w.pid ?? -1))
        // V8 and libuv start threads of their own; each inherits the affinity taskset set.
        assert.ok(serverCpus.length > 1 && clientCpus.length > 1, `threads: ${serverCpus.length}, ${clientCpus.length}`)
        assert.deepEqual(new Set(serverCpus), new Set(['0']))
        assert.deepEqual(new Set(clientCpus), new Set(['1']))
        // Unpinned, the worker keeps this process's affinity.
        assert.deepEqual(new Set(freeCpus), new Set(affinity(process.pid)))
        // Pinned workers still do their work: the client pushes to the server.
        const [server, client] = workers
        const r = await client.cmd<{ bytes: number }>('push', { addr: server.addr, bytes: 1 << 20 })
        assert.equal(r.bytes, 1 << 20)
      } finally {
        await stopAll(workers)
      }
    })

    it('decrypts and authenticates every message of the sealed-loopback ceiling, and refuses a forged one', async () => {
      const w = await WorkerProcess.start('net', 'server')
      try {
        const [, host, port] = /^\/ip4\/([^/]+)\/tcp\/(\d+)$/.exec(w.sealedAddr) ?? []
        const send = async (frames: Buffer[]): Promise<Buffer | Error> => {
          const socket = createConnection({ host, port: Number(port) })
          await once(socket, 'connect')
          const reply: Buffer[] = []
          socket.on('data', (d: Buffer) => { reply.push(d) })
          // The server resets a connection it refuses, possibly while we still write.
          socket.on('error', () => {})
          const closed = new Promise<boolean>(resolve => { socket.once('close', resolve) })
          // Split at odd places, so prefixes, ciphertexts and tags straddle reads.
          const all = Buffer.concat(frames)
          for (let at = 0; at < all.byteLength && !socket.destroyed; at += 7001) {
            socket.write(all.subarray(at, at + 7001))
            await new Promise(resolve => setTimeout(resolve, 1))
          }
          socket.end()
          const hadError = await closed
          return hadError || reply.length === 0 ? new Error('closed without a count') : Buffer.concat(reply)
        }
        const seal = (n: number, plaintext: Buffer): Buffer => {
          const nonce = Buffer.alloc(12)
          nonce.writeUInt32LE(n, 4)
          const c = createCipheriv('chacha20-poly1305', SEALED_CEILING_KEY, nonce, { authTagLength: 16 })
          const body = Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()])
          const header = Buffer.alloc(2)
          header.writeUInt16BE(body.byteLength, 0)
          return Buffer.concat([header, body])
        }
        const a = Buffer.alloc(65519, 1)
        const b = Buffer.alloc(10, 2)
        const good = await send([seal(0, a), seal(1, b)])
        assert.ok(good instanceof Buffer, String(good))
        assert.equal(decodeSize(good), a.byteLength + b.byteLength)
        const forged = seal(1, b)
        forged[forged.byteLength - 1] ^= 1
        assert.ok(await send([seal(0, a), forged]) instanceof Error, 'a forged tag was counted')
        assert.ok(await send([seal(1, b)]) instanceof Error, 'a message under the wrong nonce was counted')
        assert.ok(await send([seal(0, a).subarray(0, 1000)]) instanceof Error, 'a truncated message was counted')
      } finally {
        await w.stop()
      }
    })
  })

  describe('a measurement whose workers failed', () => {
    it('is made once more after a worker error, and the second result counts', async () => {
      const retries: string[] = []
      let calls = 0
      const value = await retryWorkerFailures(2, async () => {
        calls++
        if (calls === 1) throw new WorkerError('js', 'client', 'EncryptionFailedError: timed out')
        return 42
      }, (err, failed) => { retries.push(`${failed}: ${err.message}`) })
      assert.equal(value, 42)
      assert.equal(calls, 2)
      assert.deepEqual(retries, ['1: js client worker: EncryptionFailedError: timed out'])
    })

    it('gives up after the last attempt, with the last error', async () => {
      let calls = 0
      await assert.rejects(retryWorkerFailures(2, async () => {
        calls++
        throw new WorkerError('peerkit', 'server', `failure ${calls}`)
      }, () => {}), { name: 'WorkerError', message: 'peerkit server worker: failure 2' })
      assert.equal(calls, 2)
    })

    it('does not retry other errors: they are the harness\'s own bugs or a wrong figure', async () => {
      let calls = 0
      await assert.rejects(retryWorkerFailures(3, async () => {
        calls++
        throw new Error('the js server lost connections while idle')
      }, () => { assert.fail('no retry expected') }), /lost connections/)
      assert.equal(calls, 1)
    })
  })

  describe('a group that fails', () => {
    it('is logged and recorded with its error, the groups after it still run, and each group ends with a CPU reading', async () => {
      const ran: string[] = []
      const lines: string[] = []
      const { ends, failedGroups } = await runGroups(['throughput', 'connections', 'memory', 'ceilings'], async group => {
        ran.push(group)
        if (group === 'connections') throw new WorkerError('js', 'client', 'EncryptionFailedError: timed out')
        if (group === 'memory') throw 'not an Error'
      }, line => { lines.push(line) })
      assert.deepEqual(ran, ['throughput', 'connections', 'memory', 'ceilings'])
      assert.deepEqual(failedGroups, [
        { group: 'connections', error: 'WorkerError: js client worker: EncryptionFailedError: timed out' },
        { group: 'memory', error: 'not an Error' }
      ])
      assert.deepEqual(ends.map(([g]) => g), ran)
      for (const [, reading] of ends) assert.ok(reading != null)
      assert.ok(lines.some(l => l.startsWith('connections failed, its rows are missing: WorkerError')), lines.join('\n'))
    })
  })

  describe('steal time', () => {
    it('reads the aggregate cpu line of /proc/stat and the share stolen between two readings', () => {
      const at = (user: number, idle: number, steal: number): string =>
        `cpu  ${user} 0 100 ${idle} 5 0 3 ${steal} 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\nintr 1 2 3\n`
      const before = parseCpuTicks(at(1000, 5000, 100))
      assert.deepEqual(before, { total: 1000 + 100 + 5000 + 5 + 3 + 100, steal: 100, busy: 1000 + 100 + 3 })
      const after = parseCpuTicks(at(1300, 5400, 400))
      // 1,000 ticks passed, 300 of them stolen.
      assert.equal(stealBetween(before, after), 0.3)
      assert.equal(stealBetween(before, before), undefined, 'no time passed')
      assert.equal(stealBetween(undefined, after), undefined)
      // Kernels before 2.6.11 have no steal column; anything else without a cpu line is refused.
      assert.deepEqual(parseCpuTicks('cpu  10 0 5 85\n'), { total: 100, steal: 0, busy: 15 })
      assert.equal(parseCpuTicks('intr 1 2 3\n'), undefined)
      assert.equal(parseCpuTicks('cpu  a b c d\n'), undefined)
      assert.equal(readCpuTicks('/nonexistent/stat'), undefined)
    })
  })

  describe('one run at a time', () => {
    let dir: string
    beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'peerkit-bench-lock-')) })
    afterEach(() => { rmSync(dir, { recursive: true, force: true }) })

    /** A process that exits at once: its pid names no live process afterwards. */
    async function deadPid (): Promise<number> {
      const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
      await once(child, 'exit')
      return child.pid!
    }

    it('takes the lock, refuses it while a live process holds it, and gives it back', () => {
      const path = join(dir, 'lock')
      const release = acquireRunLock(path)
      assert.equal(readFileSync(path, 'utf8'), `${process.pid}\n`)
      assert.throws(() => acquireRunLock(path), (err: Error) => {
        assert.ok(err instanceof BenchBusyError)
        assert.equal(err.pid, process.pid)
        assert.equal(err.path, path)
        assert.match(err.message, new RegExp(`another benchmark run \\(pid ${process.pid}\\)`))
        return true
      })
      release()
      assert.equal(existsSync(path), false)
      release()
      const again = acquireRunLock(path)
      again()
    })

    it('takes over a lock left by a process that is gone, or naming none, and leaves a lock it no longer holds', async () => {
      const path = join(dir, 'lock')
      writeFileSync(path, `${await deadPid()}\n`)
      const release = acquireRunLock(path)
      assert.equal(readFileSync(path, 'utf8'), `${process.pid}\n`)
      // Someone else's lock now (the file was replaced): our release leaves it alone.
      writeFileSync(path, `${process.ppid}\n`)
      release()
      assert.equal(readFileSync(path, 'utf8'), `${process.ppid}\n`)
      writeFileSync(path, 'not a pid\n')
      acquireRunLock(path)()
      assert.equal(existsSync(path), false)
    })

    it('the CLI refuses to start while another run holds the lock, runs once it is free, and warns of a busy machine before it starts', async function () {
      this.timeout(120_000)
      const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'run.js')
      const run = async (): Promise<{ code: number | null, stdout: string, stderr: string }> => {
        // The CLI keeps its lock in the temporary directory, here one of this test's own.
        const child = spawn(process.execPath, [cli, '--smoke', '--only', 'ceilings', '--no-save'], { env: { ...process.env, TMPDIR: dir }, stdio: ['ignore', 'pipe', 'pipe'] })
        let stdout = ''
        let stderr = ''
        child.stdout?.on('data', (d: Buffer) => { stdout += d.toString() })
        child.stderr?.on('data', (d: Buffer) => { stderr += d.toString() })
        const [code] = await once(child, 'exit') as [number | null]
        return { code, stdout, stderr }
      }
      const release = acquireRunLock(join(dir, 'peerkit-bench.lock'))
      const refused = await run()
      assert.equal(refused.code, 3)
      assert.match(refused.stderr, new RegExp(`another benchmark run \\(pid ${process.pid}\\) is in progress`))
      release()
      const ran = await run()
      assert.equal(ran.code, 0, ran.stderr)
      assert.equal(existsSync(join(dir, 'peerkit-bench.lock')), false, 'the CLI gave its lock back')
      if (readOwnTicks() == null || readCpuTicks() == null) return
      // One spinning process per CPU, outside the CLI's processes: it warns before it starts.
      const burners = Array.from({ length: availableParallelism() }, () => burner(2500))
      try {
        const loaded = await run()
        assert.equal(loaded.code, 0, loaded.stderr)
        assert.match(loaded.stdout, /^warning: other processes are using \d+ % of the CPU before the run starts/m)
      } finally {
        for (const b of burners) b.child.kill()
        await Promise.all(burners.map(async b => b.usedUs))
      }
    })
  })

  describe("other processes' load", () => {
    it('reads utime + stime + cutime + cstime of /proc/<pid>/stat, counting fields after the name', () => {
      // The name may hold spaces and parentheses.
      const line = '4242 (node (a) b) S 1 4242 4242 0 -1 4194304 100 0 0 0 120 30 7 3 20 0 11 0 555 1000 200\n'
      assert.equal(parseOwnTicks(line), 120 + 30 + 7 + 3)
      assert.equal(parseOwnTicks('4242 node S 1'), undefined, 'no name in parentheses')
      assert.equal(parseOwnTicks('4242 (node) S 1 2 3'), undefined, 'too few fields')
      assert.equal(parseOwnTicks('4242 (node) S 1 4242 4242 0 -1 4194304 100 0 0 0 x 30 7 3'), undefined, 'not a number')
      assert.equal(readOwnTicks('/nonexistent/stat'), undefined)
    })

    it('is the machine\'s task time less the run\'s own, as a share of all CPU time, never below 0', () => {
      const at = (busy: number, total: number, own: number) => ({ machine: { busy, total, steal: 0 }, own })
      assert.equal(otherLoadBetween(at(100, 1000, 50), at(700, 2000, 350)), (600 - 300) / 1000)
      assert.equal(otherLoadBetween(at(100, 1000, 50), at(200, 2000, 300)), 0, 'own time counted by another clock: clamped')
      assert.equal(otherLoadBetween(at(100, 1000, 50), at(100, 1000, 50)), undefined, 'no time passed')
      assert.equal(otherLoadBetween({ machine: undefined, own: 1 }, at(1, 2, 3)), undefined)
      assert.equal(otherLoadBetween(at(1, 2, 3), { machine: at(1, 3, 3).machine, own: undefined }), undefined)
    })

    it('counts a process outside the run as other load, and a reaped child as the run\'s own', async function () {
      this.timeout(20_000)
      if (readOwnTicks() == null || readCpuTicks() == null) {
        // Not Linux: nothing to read, so no share either.
        assert.equal(otherLoadBetween(readCpu(), readCpu()), undefined)
        return
      }
      const start = readCpu()
      const { child, usedUs } = burner(800)
      await new Promise(resolve => setTimeout(resolve, 600))
      // The child runs but is not reaped: its time is not yet the run's own.
      const running = readCpu()
      const other = otherLoadBetween(start, running)
      assert.ok(other != null && other > 0.1, `a busy child read as ${String(other)} of the CPU`)
      const used = await usedUs
      assert.equal(child.exitCode, 0)
      assert.ok(Number.isFinite(used) && used > 0, `the child reported ${used} µs`)
      const reaped = readCpu()
      const ticksPerUs = 100 / 1e6 // USER_HZ is 100 on Linux
      const ownGrowth = reaped.own! - start.own!
      assert.ok(ownGrowth >= used * ticksPerUs - 3, `own ticks grew by ${ownGrowth}, the child used ${used} µs`)
    })
  })

  describe('a smoke run of every group, both implementations end to end', () => {
    let res: BenchResults
    let dir: string

    before(async () => {
      res = await runBenchmarks(configFor('smoke'))
      dir = mkdtempSync(join(tmpdir(), 'peerkit-bench-'))
    })

    after(() => {
      if (dir != null) rmSync(dir, { recursive: true, force: true })
    })

    it('describes the run and the machine', () => {
      assert.equal(res.version, 1)
      assert.equal(res.mode, 'smoke')
      assert.ok(!Number.isNaN(Date.parse(res.date)))
      assert.ok(res.machine.cpus > 0)
      assert.match(res.versions.libp2p, /^\d+\.\d+\.\d+/)
    })

    it('records and prints the allocator settings the workers inherit, and nothing else of the environment', () => {
      const machine = machineInfo({ MALLOC_TRIM_THRESHOLD_: '67108864', GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=131072', HOME: '/root', MALLOC: 'not one' })
      assert.deepEqual(machine.allocatorEnv, { GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=131072', MALLOC_TRIM_THRESHOLD_: '67108864' })
      assert.match(markdownTable({ ...res, machine }),
        /^allocator environment of every worker \(both implementations\): GLIBC_TUNABLES=glibc\.malloc\.mmap_threshold=131072 MALLOC_TRIM_THRESHOLD_=67108864$/m)
      const plain = machineInfo({ HOME: '/root' })
      assert.equal(plain.allocatorEnv, undefined)
      assert.doesNotMatch(markdownTable({ ...res, machine: plain }), /allocator environment/)
    })

    it('records the host\'s steal time of the run and of each group, and warns of a loaded group', () => {
      if (readCpuTicks() == null) {
        // Not Linux: nothing to read, nothing recorded or printed.
        assert.equal(res.steal, undefined)
        assert.doesNotMatch(markdownTable(res), /steal time/)
        return
      }
      assertShares(res.steal, res.config.groups)
      const quiet = { run: 0.012, groups: { throughput: 0.02, streams: 0.004 } }
      const table = markdownTable({ ...res, steal: quiet, otherLoad: { run: 0, groups: {} } })
      assert.match(table, /^host steal time \(CPU time the hypervisor gave other guests, from \/proc\/stat\): 1\.2 % of the run \(throughput 2\.0 %, streams 0\.4 %\)$/m)
      assert.doesNotMatch(table, /^warning:/m)
      const loaded = markdownTable({ ...res, steal: { run: 0.3, groups: { throughput: 0.05, streams: HIGH_STEAL + 0.01, memory: 0.74 } } })
      assert.match(loaded, /^warning: the host took more than 10\.0 % of the CPU during streams, memory; /m)
    })

    it('records other processes\' share of the CPU for the run and each group, and warns of a busy group', () => {
      if (readOwnTicks() == null || readCpuTicks() == null) {
        assert.equal(res.otherLoad, undefined)
        assert.doesNotMatch(markdownTable(res), /other processes/)
        return
      }
      assertShares(res.otherLoad, res.config.groups)
      const quiet = markdownTable({ ...res, steal: { run: 0, groups: {} }, otherLoad: { run: 0.021, groups: { throughput: 0.03, memory: 0.001 } } })
      assert.match(quiet, /^other processes' CPU time \(this machine's, outside the run's own processes, from \/proc\): 2\.1 % of the run \(throughput 3\.0 %, memory 0\.1 %\)$/m)
      assert.doesNotMatch(quiet, /^warning:/m)
      const busy = markdownTable({ ...res, steal: { run: 0, groups: {} }, otherLoad: { run: 0.4, groups: { throughput: HIGH_OTHER_LOAD + 0.01, streams: 0.02, ceilings: 0.5 } } })
      assert.match(busy, /^warning: other processes used more than 10\.0 % of the CPU during throughput, ceilings /m)
    })

    it('names the Node.js of the workers in the table when it is not the harness\'s', () => {
      assert.equal(res.machine.v8, process.versions.v8)
      assert.equal(res.machine.workerNode, undefined)
      assert.doesNotMatch(markdownTable(res), /every worker \(both implementations\) ran on/)
      const machine = { ...res.machine, workerNode: { path: '/opt/node-26/bin/node', version: 'v26.10.0', v8: '14.6.202.34-node.34' } }
      const table = markdownTable({ ...res, machine })
      assert.match(table, new RegExp(`^machine: .*, Node\\.js ${process.version.replace(/\./g, '\\.')} \\(V8 `, 'm'))
      assert.match(table, /^every worker \(both implementations\) ran on Node\.js v26\.10\.0 \(V8 14\.6\.202\.34-node\.34\), \/opt\/node-26\/bin\/node$/m)
    })

    it('names how the workers were pinned, when they were', () => {
      assert.equal(res.config.pin, undefined)
      assert.doesNotMatch(markdownTable(res), /workers pinned/)
      assert.match(markdownTable({ ...res, config: { ...res.config, pin: 'same' } }),
        /^workers pinned \(both implementations\): every worker on CPU 0 \(not the default\)$/m)
      assert.match(markdownTable({ ...res, config: { ...res.config, pin: 'split' } }),
        /^workers pinned \(both implementations\): servers on CPU 0, clients on CPU 1 \(not the default\)$/m)
    })

    it('measures throughput and CPU per GiB of both implementations', () => {
      for (const id of ['throughput.noise+yamux.push', 'throughput.noise+yamux.pull', 'cpu.noise+yamux.sender', 'cpu.noise+yamux.receiver']) {
        const r = res.results.find(r => r.id === id)
        assert.ok(r != null, `${id} missing`)
        // CPU per GiB is measured in both directions: one sample from each push and each pull
        assertComparison(r, id.startsWith('cpu.') ? 2 : 1)
      }
      const push = res.results.find(r => r.id === 'throughput.noise+yamux.push')!
      // The same transfers with the peerkit reader freeing its chunks (ownedChunks), as rows of their own.
      for (const id of ['throughput.noise+yamux+owned.push', 'throughput.noise+yamux+owned.pull', 'cpu.noise+yamux+owned.receiver']) {
        const r = res.results.find(r => r.id === id)
        assert.ok(r != null, `${id} missing`)
        assertComparison(r, id.startsWith('cpu.') ? 2 : 1)
        assert.match(r.title, /noise\+yamux, peerkit reader frees its chunks/)
      }
      assert.equal(push.unit, 'MiB/s')
      assert.equal(push.target, '>= 2.5')
      assert.equal(typeof push.met, 'boolean')
    })

    it('counts collections, GC pauses and page faults per GiB on each side of a transfer', () => {
      for (const kind of ['gc-pause', 'gc-full', 'gc-young', 'page-faults']) {
        for (const side of ['sender', 'receiver']) {
          const id = `${kind}.noise+yamux.${side}`
          const r = res.results.find(r => r.id === id)
          assert.ok(r != null, `${id} missing`)
          // One sample from the push and one from the pull; a count may be zero in so short a run.
          assertComparison(r, 2, false)
          for (const v of [...r.peerkit!.runs, ...r.js!.runs]) assert.ok(v >= 0, `${id}: ${v}`)
          assert.equal(r.better, 'lower')
          assert.equal(r.target, undefined)
          if (r.ratio == null) assert.match(r.note ?? '', /^ratio not computed: a median is zero \(no /)
        }
      }
    })

    it('measures connection setup, time to first stream and stream rates', () => {
      for (const id of ['connections.sequential', 'connections.first-stream', 'streams.sequential', 'streams.concurrent',
        'connections.cpu.client', 'connections.cpu.server', 'streams.cpu.sequential.client', 'streams.cpu.sequential.server',
        'streams.cpu.concurrent.client', 'streams.cpu.concurrent.server']) {
        const r = res.results.find(r => r.id === id)
        assert.ok(r != null, `${id} missing`)
        assertComparison(r, 1)
      }
      assert.equal(res.results.find(r => r.id === 'connections.first-stream')!.better, 'lower')
      // The warm-up's first block: one run per implementation, reported without a target.
      const cold = res.results.find(r => r.id === 'connections.cold')
      assert.ok(cold != null, 'connections.cold missing')
      assertComparison(cold, 1)
      assert.equal(cold.better, 'higher')
      assert.equal(cold.target, undefined)
      assert.match(res.results.find(r => r.id === 'connections.sequential')!.title, /after 6 warm-up dials/)
      // The streams' warm-up pass: one sequential run per implementation, also without a target.
      const coldStreams = res.results.find(r => r.id === 'streams.cold')
      assert.ok(coldStreams != null, 'streams.cold missing')
      assertComparison(coldStreams, 1)
      assert.equal(coldStreams.target, undefined)
      assert.match(res.results.find(r => r.id === 'streams.sequential')!.title, /after 10 warm-up streams/)
      for (const id of ['connections.cpu.client', 'streams.cpu.sequential.server']) {
        assert.equal(res.results.find(r => r.id === id)!.better, 'lower')
      }
    })

    it('measures memory per idle connection (values may be noise at this size, but are finite)', () => {
      for (const id of ['memory.4.rss', 'memory.4.heap']) {
        const r = res.results.find(r => r.id === id)
        assert.ok(r != null, `${id} missing`)
        assertComparison(r, 1, false)
      }
    })

    it('measures the ceilings and our share of the lower one', () => {
      for (const id of ['ceiling.net', 'ceiling.chacha20-poly1305.encrypt', 'ceiling.chacha20-poly1305.decrypt']) {
        const r = res.results.find(r => r.id === id)
        assert.ok(r != null, `${id} missing`)
        assertStats(r.reference, id, 1)
        assert.ok(r.reference!.median > 0)
      }
      for (const id of ['ceiling.fraction.push', 'ceiling.fraction.owned.push']) {
        const f = res.results.find(r => r.id === id)
        assert.ok(f != null, `${id} missing`)
        assertComparison(f, 1)
        assert.equal(f.target, '>= 0.6 (peerkit)')
      }
    })

    it('measures Noise transport messages over a plain socket, and our share of that', () => {
      const sealed = res.results.find(r => r.id === 'ceiling.sealed')
      assert.ok(sealed != null, 'ceiling.sealed missing')
      assertStats(sealed.reference, 'ceiling.sealed', 1)
      for (const id of ['ceiling.sealed.cpu.sender', 'ceiling.sealed.cpu.receiver']) {
        const r = res.results.find(r => r.id === id)
        assert.ok(r != null, `${id} missing`)
        assertStats(r.reference, id, 1)
        assert.ok(r.reference!.median > 0, `${id}: ${r.reference!.median}`)
      }
      for (const [owned, combo] of [['', 'noise+yamux'], ['.owned', 'noise+yamux+owned']]) {
        for (const dir of ['push', 'pull']) {
          const f = res.results.find(r => r.id === `ceiling.sealed-fraction${owned}.${dir}`)
          const tp = res.results.find(r => r.id === `throughput.${combo}.${dir}`)
          assert.ok(f != null && tp != null, `ceiling.sealed-fraction${owned}.${dir} missing`)
          assertComparison(f, 1)
          assert.ok(Math.abs(f.peerkit!.median - tp.peerkit!.median / sealed.reference!.median) < 1e-9)
          assert.equal(f.target, undefined)
        }
      }
      // The target (2.5x js-libp2p) against the same loop, from each js-libp2p run.
      for (const dir of ['push', 'pull']) {
        const t = res.results.find(r => r.id === `ceiling.sealed-target.${dir}`)
        const tp = res.results.find(r => r.id === `throughput.noise+yamux.${dir}`)
        assert.ok(t != null && tp != null, `ceiling.sealed-target.${dir} missing`)
        assertStats(t.js, t.id, tp.js!.runs.length)
        assert.equal(t.peerkit, undefined)
        assert.equal(t.ratio, undefined)
        assert.ok(Math.abs(t.js!.median - 2.5 * tp.js!.median / sealed.reference!.median) < 1e-9, `${t.id}: ${t.js!.median}`)
        assert.match(t.title, /^noise\+yamux (push|pull) throughput target \(2\.5x js-libp2p\) as a multiple of the sealed-loopback ceiling \(\d+ MiB\/s; above 1: /)
        assert.match(markdownTable(res), new RegExp(`^\\| noise\\+yamux ${dir} throughput target .*\\| multiple ↓ \\| — \\| [0-9.]+ `, 'm'))
      }
    })

    it('names the groups that failed under the table and in the json; a run without failures names none', () => {
      assert.equal(res.failedGroups, undefined)
      assert.doesNotMatch(markdownTable(res), /not measured/)
      const failed: BenchResults = { ...res, failedGroups: [{ group: 'memory', error: 'WorkerError: js client worker: timed out\nat somewhere' }] }
      assert.match(markdownTable(failed), /\n\*\*not measured: the memory group failed\*\*, its rows are missing: WorkerError: js client worker: timed out\n$/)
      const out = mkdtempSync(join(tmpdir(), 'peerkit-bench-failed-'))
      try {
        const back = JSON.parse(readFileSync(writeResults(failed, out), 'utf8')) as BenchResults
        assert.deepEqual(back.failedGroups, failed.failedGroups)
      } finally {
        rmSync(out, { recursive: true, force: true })
      }
    })

    it('writes the json and the markdown table, without overwriting an earlier run', () => {
      const first = writeResults(res, dir)
      const second = writeResults(res, dir)
      assert.notEqual(first, second)
      assert.equal(readdirSync(dir).filter(f => f.endsWith('.md')).length, 2)
      const back = JSON.parse(readFileSync(first, 'utf8')) as BenchResults
      assert.deepEqual(back.results.map(r => r.id), res.results.map(r => r.id))
      const table = markdownTable(res)
      assert.equal(table.split('\n').filter(l => l.startsWith('| ') && !l.startsWith('| benchmark') && !l.startsWith('| ---')).length, res.results.length)
      assert.match(table, /\| throughput noise\+yamux, push \(client → server\) \| MiB\/s ↑ \| [\d.]+ \| [\d.]+ \| [\d.]+x \|/)
    })
  })
})
