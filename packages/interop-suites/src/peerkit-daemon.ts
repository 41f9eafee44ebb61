import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createClient } from '@libp2p/daemon-client'
import { UnsupportedError } from '@libp2p/interop'
import { multiaddr } from '@multiformats/multiaddr'
import type { Daemon, SpawnOptions } from '@libp2p/interop'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { ChildProcess } from 'node:child_process'

/** The `peerkit` command (the CLI package's bin). */
export const PEERKIT_BIN = fileURLToPath(new URL('./bin.js', import.meta.resolve('@peerkit/cli')))

/** Exit code of `peerkit daemon` for a p2pd feature peerkit does not support. */
export const EXIT_UNSUPPORTED = 78

/**
 * The command line p2pd gets from js-libp2p's interop runner for these options, which `peerkit
 * daemon` takes unchanged.
 */
export function daemonArgs (options: SpawnOptions): string[] {
  const args = ['-listen=/ip4/127.0.0.1/tcp/0']
  if (options.noListen === true) {
    args.push('-noListenAddrs')
  } else if (options.transport == null || options.transport === 'tcp') {
    args.push('-hostAddrs=/ip4/127.0.0.1/tcp/0')
  } else if (options.transport === 'webtransport') {
    args.push('-hostAddrs=/ip4/127.0.0.1/udp/0/quic-v1/webtransport')
  } else if (options.transport === 'webrtc-direct') {
    args.push('-hostAddrs=/ip4/127.0.0.1/udp/0/webrtc-direct')
  } else {
    throw new UnsupportedError(`unknown transport ${String(options.transport)}`)
  }
  if (options.encryption != null) args.push(`-${options.encryption}=true`)
  if (options.dht === true) args.push('-dhtServer')
  if (options.relay === true) args.push('-relay')
  if (options.pubsub === true) args.push('-pubsub')
  if (options.pubsubRouter != null) args.push(`-pubsubRouter=${options.pubsubRouter}`)
  if (options.key != null) args.push(`-id=${options.key}`)
  args.push(`-muxer=${options.muxer === 'mplex' ? 'mplex' : 'yamux'}`)
  return args
}

/** A running `peerkit daemon` child process. */
export interface PeerkitDaemonProcess {
  /** The child process. */
  proc: ChildProcess
  /** From the `Control socket:` line. */
  controlAddr: Multiaddr
  /** From the `Peer ID:` line. */
  peerId: string
  /** The lines after `Peer Addrs:`. */
  addrs: string[]
  /** Sends SIGTERM and resolves with the exit code (SIGKILL after `timeoutMs`, then rejects). */
  stop(timeoutMs?: number): Promise<number | null>
}

/** Raised when `peerkit daemon` exits before it is ready. */
export class DaemonExitError extends Error {
  /** The daemon's exit code (null when killed by a signal). */
  readonly exitCode: number | null
  /** What it printed on stderr (at most 64 KiB). */
  readonly stderr: string
  constructor (exitCode: number | null, stderr: string) {
    super(`peerkit daemon exited with code ${String(exitCode)} before printing its control socket: ${stderr.trim()}`)
    this.name = 'DaemonExitError'
    this.exitCode = exitCode
    this.stderr = stderr
  }
}

/**
 * Starts `peerkit daemon` with `args` and waits for the lines p2pd prints (`Control socket:`,
 * `Peer ID:`, `Peer Addrs:` and the addresses).
 *
 * @throws DaemonExitError when it exits first (code 78: unsupported configuration)
 */
export async function startPeerkitDaemon (args: string[], timeoutMs = 15_000): Promise<PeerkitDaemonProcess> {
  const proc = spawn(process.execPath, [PEERKIT_BIN, 'daemon', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  proc.stderr.setEncoding('utf8').on('data', (s: string) => { if (stderr.length < 64 * 1024) stderr += s })
  const exited = new Promise<number | null>(resolve => { proc.once('exit', (code) => { resolve(code) }) })
  const ready = new Promise<{ controlAddr: Multiaddr, peerId: string, addrs: string[] }>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL')
      reject(new Error(`peerkit daemon did not start within ${timeoutMs} ms: ${stderr.trim()}`))
    }, timeoutMs)
    proc.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s
      // Ready once the address list is complete: the line after "Peer Addrs:" that is empty or
      // the end of the first write burst. p2pd prints all of it at once.
      const control = /^Control socket: (.+)$/m.exec(stdout)
      const id = /^Peer ID: (.+)$/m.exec(stdout)
      const addrsAt = stdout.indexOf('Peer Addrs:\n')
      if (control != null && id != null && addrsAt !== -1) {
        clearTimeout(timer)
        const addrs = stdout.slice(addrsAt + 'Peer Addrs:\n'.length).split('\n').filter(l => l.trim() !== '')
        resolve({ controlAddr: multiaddr(control[1].trim()), peerId: id[1].trim(), addrs })
      }
    })
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new DaemonExitError(code, stderr))
    })
  })
  const info = await ready
  return {
    proc,
    ...info,
    stop: async (stopTimeoutMs = 5000) => {
      if (proc.exitCode != null || proc.signalCode != null) return proc.exitCode
      proc.kill('SIGTERM')
      let timer: ReturnType<typeof setTimeout> | undefined
      const killed = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => {
          proc.kill('SIGKILL')
          reject(new Error(`peerkit daemon did not exit within ${stopTimeoutMs} ms of SIGTERM`))
        }, stopTimeoutMs)
      })
      try {
        return await Promise.race([exited, killed])
      } finally {
        clearTimeout(timer)
      }
    }
  }
}

/**
 * Our daemon in the non-js slot of @libp2p/interop: `peerkit daemon` in a child process, started
 * with the command line js-libp2p's runner gives p2pd, driven through js-libp2p's daemon client.
 *
 * @throws UnsupportedError when the daemon exits with 78 (a feature peerkit does not have)
 */
export async function createPeerkitDaemon (options: SpawnOptions): Promise<Daemon> {
  let daemon: PeerkitDaemonProcess
  try {
    daemon = await startPeerkitDaemon(daemonArgs(options))
  } catch (err) {
    if (err instanceof DaemonExitError && err.exitCode === EXIT_UNSUPPORTED) throw new UnsupportedError(err.stderr.trim())
    throw err
  }
  return {
    client: createClient(daemon.controlAddr),
    stop: async () => {
      const code = await daemon.stop()
      if (code !== 0) throw new Error(`peerkit daemon exited with code ${String(code)} on SIGTERM`)
    }
  }
}
