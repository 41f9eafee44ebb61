import { noise } from '@peerkit/connection-encrypter-noise'
import { plaintext } from '@peerkit/connection-encrypter-plaintext'
import { tls } from '@peerkit/connection-encrypter-tls'
import { generateKeyPair } from '@peerkit/crypto'
import { identify } from '@peerkit/identify'
import { InvalidParametersError } from '@peerkit/interfaces'
import { Node } from '@peerkit/libp2p'
import { mplex } from '@peerkit/muxer-mplex'
import { yamux } from '@peerkit/muxer-yamux'
import { ping } from '@peerkit/ping'
import { swarm } from '@peerkit/swarm'
import { tcp } from '@peerkit/transport-tcp'
import { UnsupportedConfigurationError } from './errors.js'
import type { Identify } from '@peerkit/identify'
import type { ConnectionEncrypter, PrivateKey, StreamMuxerFactory } from '@peerkit/interfaces'
import type { Ping } from '@peerkit/ping'
import type { Multiaddr } from '@multiformats/multiaddr'

/** Channel security protocols a daemon node can offer. */
export type DaemonSecurity = 'noise' | 'tls' | 'plaintext'
/** Stream muxers a daemon node can offer. */
export type DaemonMuxer = 'yamux' | 'mplex'

/** The services of a daemon node. */
export interface DaemonServices extends Record<string, unknown> {
  /** The identify service (`/ipfs/id/1.0.0` and push). */
  identify: Identify
  /** The ping service (`/ipfs/ping/1.0.0`). */
  ping: Ping
}

export interface DaemonNodeConfig {
  /** Our identity; default a new Ed25519 key. */
  privateKey?: PrivateKey
  /** Addresses to listen on (TCP only); empty for a node that only dials. */
  listen: Multiaddr[]
  /** Addresses to announce instead of the listen addresses. */
  announce?: Multiaddr[]
  /** Channel security protocols, in order of preference (at least one). */
  security: DaemonSecurity[]
  /** Stream muxers, in order of preference (at least one). */
  muxers: DaemonMuxer[]
  /** identify's agent version. Default `peerkit-daemon/<identify's default>`. */
  agentVersion?: string
}

/**
 * Builds (and starts, listening on `config.listen`) the node a daemon serves: TCP, the chosen
 * encrypters and muxers, identify and ping.
 *
 * @throws UnsupportedConfigurationError for a listen address no transport of ours accepts (QUIC,
 * WebTransport, WebRTC, WebSockets...)
 * @throws InvalidParametersError for an empty security or muxer list
 */
export async function createDaemonNode (config: DaemonNodeConfig): Promise<Node<DaemonServices>> {
  if (config.security.length === 0) throw new InvalidParametersError('At least one channel security protocol must be enabled')
  if (config.muxers.length === 0) throw new InvalidParametersError('At least one stream muxer must be enabled')
  const transport = tcp()
  const unsupported = config.listen.filter(a => transport.listenFilter([a]).length === 0)
  if (unsupported.length > 0) {
    throw new UnsupportedConfigurationError('-hostAddrs', `Cannot listen on ${unsupported.map(String).join(', ')}: peerkit's daemon has only the TCP transport`)
  }
  const privateKey = config.privateKey ?? await generateKeyPair('Ed25519')
  const node = new Node({ privateKey })
  const components = { privateKey, peerId: node.id }
  const encrypters: ConnectionEncrypter[] = []
  for (const name of config.security) {
    if (name === 'noise') encrypters.push(noise()(components))
    else if (name === 'plaintext') encrypters.push(plaintext()(components))
    else if (name === 'tls') encrypters.push(tls()(components))
    else {
      throw new InvalidParametersError(`Unknown security protocol ${String(name)}`)
    }
  }
  const muxers: StreamMuxerFactory[] = config.muxers.map(name => {
    if (name === 'yamux') return yamux()
    if (name === 'mplex') return mplex()
    throw new InvalidParametersError(`Unknown stream muxer ${String(name)}`)
  })
  const built = node
    .addSwarm(c => swarm({
      peerId: c.peerId,
      peerStore: c.peerStore,
      transports: [transport],
      connectionEncrypters: encrypters,
      streamMuxers: muxers,
      announceAddrs: config.announce != null && config.announce.length > 0 ? config.announce : undefined
    }))
    .addService('identify', identify({ agentVersion: config.agentVersion }))
    .addService('ping', ping())
  await built.start()
  try {
    if (config.listen.length > 0) await built.listen(config.listen)
  } catch (err) {
    await built.stop().catch(() => {})
    throw err
  }
  return built as unknown as Node<DaemonServices>
}
