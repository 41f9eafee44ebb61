import { parseArgs } from 'node:util'
import { multiaddr } from '@multiformats/multiaddr'
import { InvalidParametersError } from '@peerkit/interfaces'
import { runDaemon } from '@peerkit/daemon'
import { createNode } from '@peerkit/libp2p'
import { Uint8ArrayList } from 'uint8arraylist'
import { ECHO_PROTOCOL, echoHandler } from './echo.js'
import type { CreateNodeConfig, MuxerName, SecurityName } from '@peerkit/libp2p'
import type { Multiaddr } from '@multiformats/multiaddr'

/** Where commands write their JSON lines; replaceable for tests. */
export interface Output {
  line(value: unknown): void
  /** A plain text line on stdout (`peerkit daemon` prints p2pd's lines). Default: process.stdout. */
  text?(line: string): void
  /** A plain text line on stderr. Default: process.stderr. */
  errorText?(line: string): void
}

const common = {
  muxer: { type: 'string', multiple: true },
  security: { type: 'string', multiple: true },
  timeout: { type: 'string' }
} as const

export const USAGE = `usage: peerkit <command> [options]

commands:
  listen [--listen MA]... [--echo]     run a node until SIGINT/SIGTERM; prints {"peerId","addrs"}
  id MA                                dial MA and print what identify learned
  ping MA [--count N]                  ping MA, one line per round trip
  echo MA TEXT                         send TEXT on ${ECHO_PROTOCOL}, half-close, print the reply
  daemon [-flag...]                    a p2pd-compatible daemon (p2pd's flags; see peerkit daemon -h)

options for every command but daemon:
  --muxer yamux|mplex          stream muxer(s) to offer, in order (default: yamux, mplex)
  --security noise|plaintext   encrypter(s) to offer, in order (default: noise)
  --timeout MS                 deadline for the dial and the exchange (default 10000)

Each command prints JSON lines; on failure it prints {"error":...} and exits non-zero.
Logs: DEBUG=peerkit:* peerkit ...`

function nodeConfig (values: { muxer?: string[], security?: string[] }): CreateNodeConfig {
  const muxers = (values.muxer ?? ['yamux', 'mplex']).flatMap(m => m.split(','))
  const security = (values.security ?? ['noise']).flatMap(s => s.split(','))
  for (const m of muxers) if (m !== 'yamux' && m !== 'mplex') throw new InvalidParametersError(`Unknown muxer "${m}" (use yamux or mplex)`)
  for (const s of security) if (s !== 'noise' && s !== 'plaintext') throw new InvalidParametersError(`Unknown security "${s}" (use noise or plaintext)`)
  return { muxers: muxers as MuxerName[], security: security as SecurityName[] }
}

function parseTimeout (value?: string): number {
  if (value == null) return 10_000
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0) throw new InvalidParametersError(`Invalid --timeout ${value}`)
  return n
}

function parseTarget (value: string | undefined): Multiaddr {
  if (value == null) throw new InvalidParametersError('Missing the multiaddr to dial')
  try {
    return multiaddr(value)
  } catch (err) {
    throw new InvalidParametersError(`Invalid multiaddr ${value}: ${(err as Error).message}`)
  }
}

/** `peerkit listen`: runs until `stop` resolves (SIGINT/SIGTERM in the binary). */
export async function listen (args: string[], out: Output, stop: Promise<void>): Promise<void> {
  const { values } = parseArgs({ args, options: { ...common, listen: { type: 'string', multiple: true }, echo: { type: 'boolean' } }, allowPositionals: false })
  const node = await createNode({ ...nodeConfig(values), listen: values.listen ?? ['/ip4/127.0.0.1/tcp/0'] })
  try {
    if (values.echo === true) node.handle(ECHO_PROTOCOL, echoHandler, { maxInboundStreams: 1024 })
    out.line({ peerId: node.id.toString(), addrs: node.getMultiaddrs().map(a => a.toString()) })
    await stop
  } finally {
    await node.stop()
  }
}

/** `peerkit id MA`. */
export async function id (args: string[], out: Output): Promise<void> {
  const { values, positionals } = parseArgs({ args, options: common, allowPositionals: true })
  const target = parseTarget(positionals[0])
  const signal = AbortSignal.timeout(parseTimeout(values.timeout))
  const node = await createNode({ ...nodeConfig(values), listen: [] })
  try {
    const connection = await node.dial(target, { signal })
    const result = await node.services.identify.identify(connection, { signal })
    out.line({
      peerId: result.peerId.toString(),
      agentVersion: result.agentVersion,
      protocolVersion: result.protocolVersion,
      protocols: result.protocols,
      listenAddrs: result.listenAddrs.map(a => a.toString()),
      observedAddr: result.observedAddr?.toString(),
      signedPeerRecordVerified: result.signedPeerRecordVerified
    })
  } finally {
    await node.stop()
  }
}

/** `peerkit ping MA [--count N]`. */
export async function ping (args: string[], out: Output): Promise<void> {
  const { values, positionals } = parseArgs({ args, options: { ...common, count: { type: 'string' } }, allowPositionals: true })
  const target = parseTarget(positionals[0])
  const count = Number(values.count ?? '1')
  if (!Number.isInteger(count) || count < 1 || count > 100_000) throw new InvalidParametersError(`Invalid --count ${values.count}`)
  const signal = AbortSignal.timeout(parseTimeout(values.timeout) * Math.max(1, Math.ceil(count / 10)))
  const node = await createNode({ ...nodeConfig(values), listen: [] })
  try {
    const connection = await node.dial(target, { signal })
    let seq = 0
    for await (const rttMs of node.services.ping.pingMany(connection.remotePeer, count, { signal })) {
      out.line({ seq: ++seq, peerId: connection.remotePeer.toString(), rttMs: Math.round(rttMs * 1000) / 1000 })
    }
  } finally {
    await node.stop()
  }
}

/** `peerkit echo MA TEXT`. */
export async function echo (args: string[], out: Output): Promise<void> {
  const { values, positionals } = parseArgs({ args, options: common, allowPositionals: true })
  const target = parseTarget(positionals[0])
  const text = positionals[1]
  if (text == null) throw new InvalidParametersError('Missing the TEXT to echo')
  const signal = AbortSignal.timeout(parseTimeout(values.timeout))
  const node = await createNode({ ...nodeConfig(values), listen: [] })
  try {
    const stream = await node.openStream(target, ECHO_PROTOCOL, { signal })
    const reply = new Uint8ArrayList()
    await Promise.all([
      stream.sink([new TextEncoder().encode(text)]),
      (async () => { for await (const chunk of stream.source) reply.append(chunk) })()
    ])
    out.line({ reply: new TextDecoder().decode(reply.subarray()) })
  } finally {
    await node.stop()
  }
}

/**
 * `peerkit daemon [flags]`: the p2pd-compatible daemon of `@peerkit/daemon`, with p2pd's flags and
 * output (plain text, not JSON), until `stop` resolves. Returns its exit code (78 for a p2pd
 * feature peerkit does not support).
 */
export async function daemon (args: string[], out: Output, stop: Promise<void>): Promise<number> {
  return runDaemon(args, {
    stdout: out.text ?? ((line) => { process.stdout.write(line + '\n') }),
    stderr: out.errorText ?? ((line) => { process.stderr.write(line + '\n') })
  }, stop)
}

/** Runs a command line; returns the exit code. */
export async function run (argv: string[], out: Output, stop: Promise<void>): Promise<number> {
  const [command, ...rest] = argv
  try {
    switch (command) {
      case 'listen': await listen(rest, out, stop); return 0
      case 'id': await id(rest, out); return 0
      case 'ping': await ping(rest, out); return 0
      case 'echo': await echo(rest, out); return 0
      case 'daemon': return await daemon(rest, out, stop)
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE + '\n')
        return command === undefined ? 2 : 0
      default:
        throw new InvalidParametersError(`Unknown command "${command}"`)
    }
  } catch (err) {
    const e = err as Error & { code?: string }
    out.line({ error: `${e.name}: ${e.message.split('\n').join(' | ')}`, code: e.code })
    return 1
  }
}
