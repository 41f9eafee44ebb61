import { fork } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { ReadyMessage, Role, WorkerRequest, WorkerResponse } from './protocol.js'
import type { ChildProcess } from 'node:child_process'

/** The implementations a worker can run: the two under test, and raw Node.js for the ceilings. */
export type Impl = 'peerkit' | 'js' | 'net'

/** Connection encryption under test. */
export type Security = 'noise' | 'plaintext'

/** Stream muxer under test. */
export type Muxer = 'yamux' | 'mplex'

/** Options of `WorkerProcess.start`. */
export interface WorkerOptions {
  security?: Security
  muxer?: Muxer
  /** Milliseconds to wait for the worker's `ready` message. Default 30 000. */
  startTimeout?: number
  /** V8 old-space limit of the worker, MiB. Default 4096. */
  maxOldSpaceMiB?: number
  /**
   * peerkit workers only: identify's `connectionOpenDelay` in ms (default: the library's). The
   * js-libp2p worker always runs js-libp2p's default (identify at once).
   */
  identifyDelay?: number
  /**
   * peerkit workers only: the muxers hand out chunks of their own (`ownedChunks`) and the reader
   * of a transfer frees each chunk once it has counted it (`freeChunk`). js-libp2p has no such
   * option; its worker runs as always.
   */
  ownedChunks?: boolean
  /** peerkit workers only: Noise's `crypto` backend (default: the library's). */
  noiseCrypto?: 'node' | 'libsodium'
  /** Extra Node.js/V8 flags of the worker process (both implementations alike). */
  nodeFlags?: string[]
  /** The Node.js binary the worker runs on (both implementations alike). Default: this process's. */
  execPath?: string
  /**
   * Pins the worker process, every thread of it, to a CPU (Linux, through `taskset`): `same` puts
   * every worker on CPU 0, `split` servers on CPU 0 and clients on CPU 1. Default: none, the
   * scheduler's choice.
   */
  pin?: Pin
}

/** How workers are pinned to CPUs (see `WorkerOptions.pin`). */
export type Pin = 'same' | 'split'

/** Where `taskset` (util-linux) is looked for. */
const TASKSET = '/usr/bin/taskset'

/** The CPU a worker of `role` is pinned to under `pin`. */
export function pinnedCpu (pin: Pin, role: Role): number {
  return pin === 'split' && role === 'client' ? 1 : 0
}

let nextWorker = 0

/** Most bytes of a worker's stderr kept for error messages. */
const STDERR_TAIL = 4096

/** Path of the worker script of an implementation. */
export function workerPath (impl: Impl): string {
  switch (impl) {
    case 'peerkit': return fileURLToPath(new URL('./workers/peerkit.js', import.meta.url))
    case 'net': return fileURLToPath(new URL('./workers/net.js', import.meta.url))
    case 'js': return fileURLToPath(new URL('../../workers/js.mjs', import.meta.url))
    default: throw new TypeError(`unknown implementation ${String(impl)}`)
  }
}

/** Thrown when a worker fails a command, times out, or dies. */
export class WorkerError extends Error {
  override name = 'WorkerError'
  constructor (readonly impl: Impl, readonly role: Role, message: string) {
    super(`${impl} ${role} worker: ${message}`)
  }
}

/**
 * A benchmark worker in its own process, spoken to over the IPC channel: one request at a time or
 * several concurrently, each with a timeout. `stop()` asks it to shut down and kills it if it does
 * not exit in time.
 */
export class WorkerProcess {
  readonly ready: ReadyMessage
  readonly #child: ChildProcess
  readonly #pending = new Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void, timer: NodeJS.Timeout }>()
  #nextId = 1
  #stderr = ''
  #exited = false
  readonly #exit: Promise<void>

  private constructor (readonly impl: Impl, readonly role: Role, child: ChildProcess, ready: ReadyMessage, stderr: string, exit: Promise<void>) {
    this.#child = child
    this.ready = ready
    this.#stderr = stderr
    this.#exit = exit
    child.stderr?.on('data', (d: Buffer) => { this.#appendStderr(d) })
    child.on('message', (raw) => {
      const msg = raw as WorkerResponse
      const p = this.#pending.get(msg.id)
      if (p == null) return
      this.#pending.delete(msg.id)
      clearTimeout(p.timer)
      if (msg.ok) p.resolve(msg.result)
      else p.reject(new WorkerError(impl, role, msg.error ?? 'command failed'))
    })
    void exit.then(() => {
      this.#exited = true
      for (const [id, p] of this.#pending) {
        this.#pending.delete(id)
        clearTimeout(p.timer)
        p.reject(new WorkerError(impl, role, `exited during a command${this.#tail()}`))
      }
    })
  }

  #appendStderr (d: Buffer): void {
    this.#stderr = (this.#stderr + d.toString()).slice(-STDERR_TAIL)
  }

  #tail (): string {
    return this.#stderr.trim() === '' ? '' : `; stderr: ${this.#stderr.trim()}`
  }

  /** Starts a worker and waits until it is ready. */
  static async start (impl: Impl, role: Role, options: WorkerOptions = {}): Promise<WorkerProcess> {
    const args = ['--role', role, '--security', options.security ?? 'noise', '--muxer', options.muxer ?? 'yamux']
    if (impl === 'peerkit' && options.identifyDelay != null) args.push('--identify-delay', String(options.identifyDelay))
    if (impl === 'peerkit' && options.noiseCrypto != null) args.push('--noise-crypto', options.noiseCrypto)
    if (impl === 'peerkit' && options.ownedChunks === true) args.push('--owned-chunks', 'true')
    const execArgv = ['--expose-gc', `--max-old-space-size=${options.maxOldSpaceMiB ?? 4096}`, ...(options.nodeFlags ?? [])]
    // `--cpu-prof DIR` of the CLI: every worker writes a V8 CPU profile there when it exits.
    const profileDir = process.env.PEERKIT_BENCH_CPU_PROF
    if (profileDir != null && profileDir !== '') execArgv.push('--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${impl}-${role}-${process.pid}-${Date.now()}-${nextWorker++}.cpuprofile`)
    if (options.pin != null && !existsSync(TASKSET)) throw new WorkerError(impl, role, `pinning to a CPU needs ${TASKSET} (util-linux)`)
    const node = options.execPath ?? process.execPath
    // Pinned from its first instruction: `taskset` sets the affinity and runs node, whose threads
    // inherit it. Everything else (the IPC channel, stdio) passes through the exec unchanged.
    const launch = options.pin == null
      ? { execPath: node, execArgv }
      : { execPath: TASKSET, execArgv: ['--cpu-list', String(pinnedCpu(options.pin, role)), node, ...execArgv] }
    const child = fork(workerPath(impl), args, {
      ...launch,
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...process.env, DEBUG: '' }
    })
    let stderr = ''
    const onData = (d: Buffer): void => { stderr = (stderr + d.toString()).slice(-STDERR_TAIL) }
    child.stderr?.on('data', onData)
    const exit = new Promise<void>(resolve => { child.once('exit', () => { resolve() }) })
    const timeout = options.startTimeout ?? 30_000
    try {
      const ready = await new Promise<ReadyMessage>((resolve, reject) => {
        const timer = setTimeout(() => { reject(new WorkerError(impl, role, `not ready within ${timeout} ms`)) }, timeout)
        child.once('message', (msg) => {
          clearTimeout(timer)
          const m = msg as ReadyMessage
          if (m?.type === 'ready') resolve(m)
          else reject(new WorkerError(impl, role, `sent ${JSON.stringify(msg)} before ready`))
        })
        void exit.then(() => {
          clearTimeout(timer)
          reject(new WorkerError(impl, role, `exited before ready${stderr.trim() === '' ? '' : `; stderr: ${stderr.trim()}`}`))
        })
      })
      child.stderr?.off('data', onData)
      return new WorkerProcess(impl, role, child, ready, stderr, exit)
    } catch (err) {
      child.kill('SIGKILL')
      throw err
    }
  }

  /** The worker's process id. */
  get pid (): number | undefined {
    return this.#child.pid
  }

  /** The address a server worker listens on. */
  get addr (): string {
    if (this.ready.addr == null) throw new WorkerError(this.impl, this.role, 'has no listen address')
    return this.ready.addr
  }

  /** The ceiling server's listener for encrypted pushes (`net` workers only). */
  get sealedAddr (): string {
    if (this.ready.sealedAddr == null) throw new WorkerError(this.impl, this.role, 'has no sealed-push listen address')
    return this.ready.sealedAddr
  }

  /** Sends a command and waits for its answer (rejects after `timeoutMs`, default 10 minutes). */
  async cmd<T> (cmd: string, args: Record<string, unknown> = {}, timeoutMs = 600_000): Promise<T> {
    if (this.#exited) throw new WorkerError(this.impl, this.role, `has exited${this.#tail()}`)
    const id = this.#nextId++
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id)
        reject(new WorkerError(this.impl, this.role, `${cmd} timed out after ${timeoutMs} ms`))
      }, timeoutMs)
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer })
      const req: WorkerRequest = { id, cmd, args }
      this.#child.send(req, (err) => {
        if (err == null) return
        const p = this.#pending.get(id)
        if (p == null) return
        this.#pending.delete(id)
        clearTimeout(p.timer)
        reject(new WorkerError(this.impl, this.role, `could not send ${cmd}: ${err.message}`))
      })
    })
  }

  /** Asks the worker to stop; kills it when it has not exited within `timeoutMs`. Never throws. */
  async stop (timeoutMs = 10_000): Promise<void> {
    if (this.#exited) return
    await this.cmd('stop', {}, timeoutMs).catch(() => {})
    let timer: NodeJS.Timeout | undefined
    const killed = new Promise<void>(resolve => {
      timer = setTimeout(() => {
        this.#child.kill('SIGKILL')
        resolve()
      }, 2_000)
    })
    await Promise.race([this.#exit, killed])
    clearTimeout(timer)
    await this.#exit
  }
}

/** Starts several workers, stopping those that started when one fails. */
export async function startAll (specs: Array<[Impl, Role, WorkerOptions?]>): Promise<WorkerProcess[]> {
  const settled = await Promise.allSettled(specs.map(async ([impl, role, options]) => WorkerProcess.start(impl, role, options)))
  const started = settled.flatMap(s => s.status === 'fulfilled' ? [s.value] : [])
  const failed = settled.find(s => s.status === 'rejected')
  if (failed != null) {
    await stopAll(started)
    throw (failed as PromiseRejectedResult).reason
  }
  return started
}

/** Stops workers concurrently; never throws. */
export async function stopAll (workers: Array<WorkerProcess | undefined>): Promise<void> {
  await Promise.all(workers.map(async w => { await w?.stop() }))
}
