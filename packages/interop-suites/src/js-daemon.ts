import './polyfill.js'
import { readFile } from 'node:fs/promises'
import { privateKeyFromProtobuf } from '@libp2p/crypto/keys'
import { createClient } from '@libp2p/daemon-client'
import { createServer } from '@libp2p/daemon-server'
import { identify } from '@libp2p/identify'
import { UnsupportedError } from '@libp2p/interop'
import { mplex } from '@libp2p/mplex'
import { noise } from '@libp2p/noise'
import { ping } from '@libp2p/ping'
import { plaintext } from '@libp2p/plaintext'
import { tcp } from '@libp2p/tcp'
import { tls } from '@libp2p/tls'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import type { Daemon, SpawnOptions } from '@libp2p/interop'
import type { Multiaddr } from '@multiformats/multiaddr'

/**
 * A js-libp2p daemon for the `js` slot of @libp2p/interop: a js-libp2p node (TCP, the requested
 * encrypter and muxer, identify, ping) served by js-libp2p's own daemon server, in this process,
 * as js-libp2p's interop runner does.
 *
 * @throws UnsupportedError for transports other than TCP and for DHT, pubsub and relay (not
 * installed here)
 */
export async function createJsDaemon (options: SpawnOptions): Promise<Daemon & { controlAddr: Multiaddr }> {
  if (options.transport != null && options.transport !== 'tcp') throw new UnsupportedError(`js slot: no ${options.transport} transport installed`)
  if (options.dht === true || options.pubsub === true || options.relay === true) {
    throw new UnsupportedError('js slot: DHT, pubsub and relay are not configured (their suites do not run here)')
  }
  const privateKey = options.key != null ? privateKeyFromProtobuf(await readFile(options.key)) : undefined
  const encrypter = options.encryption === 'tls' ? tls() : options.encryption === 'plaintext' ? plaintext() : noise()
  const muxer = options.muxer === 'mplex' ? mplex() : yamux()
  const node = await createLibp2p({
    privateKey,
    addresses: { listen: options.noListen === true ? [] : ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [encrypter],
    streamMuxers: [muxer],
    services: { identify: identify(), ping: ping() }
  })
  // The daemon server's types name the DHT and pubsub services it can serve; this node has neither.
  const server = createServer(multiaddr('/ip4/127.0.0.1/tcp/0'), node as unknown as Parameters<typeof createServer>[1])
  try {
    await server.start()
  } catch (err) {
    await node.stop()
    throw err
  }
  return {
    controlAddr: server.getMultiaddr(),
    client: createClient(server.getMultiaddr()),
    stop: async () => {
      await server.stop()
      await node.stop()
    }
  }
}
