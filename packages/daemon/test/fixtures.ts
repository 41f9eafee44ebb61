import { connect } from 'node:net'
import { multiaddr } from '@multiformats/multiaddr'
import { logger } from '@peerkit/utils'
import * as varint from 'uint8-varint'
import { SocketChannel } from '../src/channel.js'
import { parseControlAddr } from '../src/control-addr.js'
import { DaemonClient, DaemonServer, createDaemonNode } from '../src/index.js'
import { Request, Response } from '../src/pb/control.js'
import type { DaemonNodeConfig, DaemonServerInit, DaemonServices } from '../src/index.js'
import type { Node } from '@peerkit/libp2p'
import type { Socket } from 'node:net'

export interface TestDaemon {
  node: Node<DaemonServices>
  server: DaemonServer
  client: DaemonClient
  stop(): Promise<void>
}

/** A node listening on loopback with a daemon server on a loopback TCP control port. */
export async function startDaemon (init: Partial<DaemonServerInit> = {}, config: Partial<DaemonNodeConfig> = {}): Promise<TestDaemon> {
  const node = await createDaemonNode({ listen: [multiaddr('/ip4/127.0.0.1/tcp/0')], security: ['noise'], muxers: ['yamux'], ...config })
  const server = new DaemonServer(node, { listen: '/ip4/127.0.0.1/tcp/0', ...init })
  await server.start()
  const client = new DaemonClient(server.getMultiaddr())
  return {
    node,
    server,
    client,
    stop: async () => {
      await client.close()
      await server.stop()
      await node.stop()
    }
  }
}

/** A raw socket to a daemon's control address, wrapped for frame reads. */
export async function rawConnection (server: DaemonServer): Promise<{ socket: Socket, channel: SocketChannel }> {
  const addr = parseControlAddr(server.getMultiaddr())
  if (addr.type !== 'tcp') throw new Error('tcp control address expected')
  const socket = connect({ host: addr.host, port: addr.port, allowHalfOpen: true })
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  const channel = new SocketChannel(socket, { log: logger('peerkit:daemon:test') })
  return { socket, channel }
}

/** `body` with its varint length prefix. */
export function lp (body: Uint8Array): Uint8Array {
  const prefix = varint.encode(body.byteLength)
  const out = new Uint8Array(prefix.byteLength + body.byteLength)
  out.set(prefix)
  out.set(body, prefix.byteLength)
  return out
}

/** The next response on a raw connection, or `'closed'` when the daemon ended or dropped it. */
export async function readResponse (channel: SocketChannel, timeoutMs = 5000): Promise<Response | 'closed'> {
  try {
    const frame = await channel.readFrame({ signal: AbortSignal.timeout(timeoutMs) })
    return frame == null ? 'closed' : Response.decode(frame)
  } catch (err) {
    if ((err as Error).name === 'TimeoutError') throw err
    return 'closed'
  }
}

/** Resolves once the socket is closed by the other side (or fails). */
export async function waitClosed (socket: Socket, timeoutMs = 5000): Promise<void> {
  if (socket.destroyed || socket.readableEnded) return
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`socket still open after ${timeoutMs} ms`)) }, timeoutMs)
    const done = (): void => { clearTimeout(timer); resolve() }
    socket.once('end', done)
    socket.once('close', done)
    socket.resume()
  })
}

/** An encoded request. */
export function request (req: Request): Uint8Array {
  return Request.encode(req)
}

/** Collects a source into one buffer. */
export async function collect (source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  for await (const chunk of source) chunks.push(chunk)
  return Buffer.concat(chunks)
}

/** Polls `fn` until it returns true (every 20 ms, at most `timeoutMs`). */
export async function eventually (fn: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!await fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}
