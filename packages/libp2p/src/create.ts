import { multiaddr } from '@multiformats/multiaddr'
import { noise } from '@peerkit/connection-encrypter-noise'
import { plaintext } from '@peerkit/connection-encrypter-plaintext'
import { generateKeyPair } from '@peerkit/crypto'
import { identify } from '@peerkit/identify'
import { InvalidParametersError } from '@peerkit/interfaces'
import { mplex } from '@peerkit/muxer-mplex'
import { yamux } from '@peerkit/muxer-yamux'
import { ping } from '@peerkit/ping'
import { swarm } from '@peerkit/swarm'
import { tcp } from '@peerkit/transport-tcp'
import { Node } from './node.js'
import type { NoiseInit } from '@peerkit/connection-encrypter-noise'
import type { IdentifyInit, Identify } from '@peerkit/identify'
import type { ConnectionEncrypter, PrivateKey, StreamMuxerFactory } from '@peerkit/interfaces'
import type { MplexInit } from '@peerkit/muxer-mplex'
import type { YamuxInit } from '@peerkit/muxer-yamux'
import type { PingInit, Ping } from '@peerkit/ping'
import type { SwarmInit } from '@peerkit/swarm'
import type { TCPInit } from '@peerkit/transport-tcp'
import type { Multiaddr } from '@multiformats/multiaddr'

export type SecurityName = 'noise' | 'plaintext'
export type MuxerName = 'yamux' | 'mplex'

export interface CreateNodeConfig {
  /** Our identity; default: a new Ed25519 key. */
  privateKey?: PrivateKey
  /** Addresses to listen on. Default `['/ip4/127.0.0.1/tcp/0']`; `[]` listens nowhere (dial only). */
  listen?: Array<string | Multiaddr>
  /** Encrypters in order of preference. Default `['noise']`. */
  security?: SecurityName[]
  /** Noise options (e.g. `{ crypto: 'libsodium' }`, see `NoiseInit`). */
  noise?: NoiseInit
  /** Stream muxers in order of preference. Default `['yamux', 'mplex']`. */
  muxers?: MuxerName[]
  /** TCP transport options. */
  tcp?: TCPInit
  /** yamux options. */
  yamux?: YamuxInit
  /** mplex options. */
  mplex?: MplexInit
  /** Swarm limits and timeouts (see `SwarmInit`). */
  swarm?: Omit<Partial<SwarmInit>, 'peerId' | 'connectionEncrypters' | 'streamMuxers' | 'peerStore'>
  /** identify options; `false` disables identify. */
  identify?: IdentifyInit | false
  /** ping options; `false` disables ping. */
  ping?: PingInit | false
  /** Start the node before returning. Default true. */
  start?: boolean
}

export interface DefaultServices extends Record<string, unknown> {
  identify: Identify
  ping: Ping
}

/**
 * Builds a working node with defaults: TCP, Noise, yamux then mplex, identify and ping, listening
 * on a free loopback port, started.
 *
 * @example
 * ```ts
 * const node = await createNode()
 * console.log(node.id.toString(), node.getMultiaddrs().map(String))
 * await node.stop()
 * ```
 */
export async function createNode (config: CreateNodeConfig = {}): Promise<Node<DefaultServices>> {
  const privateKey = config.privateKey ?? await generateKeyPair('Ed25519')
  const node = new Node({ privateKey })
  const components = { privateKey, peerId: node.id }

  const encrypters: ConnectionEncrypter[] = (config.security ?? ['noise']).map(name => {
    if (name === 'noise') return noise(config.noise)(components)
    if (name === 'plaintext') return plaintext()(components)
    throw new InvalidParametersError(`Unknown security ${String(name)}`)
  })
  const muxers: StreamMuxerFactory[] = (config.muxers ?? ['yamux', 'mplex']).map(name => {
    if (name === 'yamux') return yamux(config.yamux)
    if (name === 'mplex') return mplex(config.mplex)
    throw new InvalidParametersError(`Unknown muxer ${String(name)}`)
  })
  if (encrypters.length === 0) throw new InvalidParametersError('At least one security protocol is required')
  if (muxers.length === 0) throw new InvalidParametersError('At least one muxer is required')

  node.addSwarm(c => swarm({
    ...config.swarm,
    peerId: c.peerId,
    peerStore: c.peerStore,
    transports: [tcp(config.tcp), ...(config.swarm?.transports ?? [])],
    connectionEncrypters: encrypters,
    streamMuxers: muxers
  }))
  let withServices = node as Node<Record<string, unknown>>
  if (config.identify !== false) withServices = withServices.addService('identify', identify(config.identify ?? {}))
  if (config.ping !== false) withServices = withServices.addService('ping', ping(config.ping ?? {}))

  const typed = withServices as unknown as Node<DefaultServices>
  if (config.start !== false) {
    await typed.start()
    const listen = (config.listen ?? ['/ip4/127.0.0.1/tcp/0']).map(a => typeof a === 'string' ? multiaddr(a) : a)
    try {
      if (listen.length > 0) await typed.listen(listen)
    } catch (err) {
      await typed.stop().catch(() => {})
      throw err
    }
  }
  return typed
}
