import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { ChildProcess } from 'node:child_process'

export interface JsPeerReady {
  peerId: string
  addrs: string[]
}

export type Reply = Record<string, unknown> & { ok: boolean, error?: string }

/** A js-libp2p node in its own process (js-peer/peer.mjs), driven by JSON-line commands. */
export class JsPeer {
  readonly process: ChildProcess
  readonly ready: Promise<JsPeerReady>
  readonly #waiters = new Map<number, (reply: Reply) => void>()
  #nextId = 0
  stderr = ''

  private constructor (args: string[]) {
    const script = fileURLToPath(new URL('../../js-peer/peer.mjs', import.meta.url))
    this.process = spawn(process.execPath, [script, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
    this.process.stderr?.on('data', (d: Buffer) => { this.stderr = (this.stderr + d.toString()).slice(-4000) })
    const lines = createInterface({ input: this.process.stdout! })
    let resolveReady!: (r: JsPeerReady) => void
    let rejectReady!: (err: Error) => void
    this.ready = new Promise((resolve, reject) => { resolveReady = resolve; rejectReady = reject })
    this.ready.catch(() => {})
    lines.on('line', (line) => {
      let msg: Reply & { id?: number, ready?: boolean }
      try {
        msg = JSON.parse(line)
      } catch {
        return
      }
      if (msg.ready === true) resolveReady(msg as unknown as JsPeerReady)
      else if (msg.id != null) {
        const w = this.#waiters.get(msg.id)
        this.#waiters.delete(msg.id)
        w?.(msg)
      }
    })
    this.process.once('exit', (code) => {
      rejectReady(new Error(`js peer exited with ${code}: ${this.stderr}`))
      for (const w of this.#waiters.values()) w({ ok: false, error: `js peer exited with ${code}` })
      this.#waiters.clear()
    })
  }

  static async start (security: string, muxer: string): Promise<JsPeer & { info: JsPeerReady }> {
    const peer = new JsPeer(['--security', security, '--muxer', muxer])
    const info = await peer.ready
    return Object.assign(peer, { info })
  }

  /** Sends a command; rejects when the js side reports a failure. */
  async cmd (cmd: string, args: Record<string, unknown> = {}, timeoutMs = 30_000): Promise<Reply> {
    const id = ++this.#nextId
    const reply = new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(id)
        reject(new Error(`js peer command ${cmd} timed out`))
      }, timeoutMs)
      this.#waiters.set(id, (r) => { clearTimeout(timer); resolve(r) })
    })
    this.process.stdin!.write(JSON.stringify({ id, cmd, ...args }) + '\n')
    const r = await reply
    if (!r.ok) throw new Error(`js peer: ${cmd} failed: ${r.error}`)
    return r
  }

  async stop (): Promise<void> {
    if (this.process.exitCode != null) return
    const exited = once(this.process, 'exit')
    this.process.stdin!.end()
    const timer = setTimeout(() => { this.process.kill('SIGKILL') }, 5000)
    await exited
    clearTimeout(timer)
  }
}
