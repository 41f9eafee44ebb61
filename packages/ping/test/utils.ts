import { noise } from '@peerkit/connection-encrypter-noise'
import { generateKeyPair } from '@peerkit/crypto'
import { yamux } from '@peerkit/muxer-yamux'
import { peerIdFromPrivateKey } from '@peerkit/peer-id'
import { swarm } from '@peerkit/swarm'
import { ipPortToMultiaddr, tcp } from '@peerkit/transport-tcp'
import { defaultLogger } from '@peerkit/utils'
import { ping } from '../src/index.js'
import type { Ping, PingInit } from '../src/index.js'
import type { PeerId } from '@peerkit/interfaces'
import type { DefaultSwarm } from '@peerkit/swarm'

export interface TestPeer {
  peerId: PeerId
  swarm: DefaultSwarm
  ping?: Ping
  stop(): Promise<void>
}

/** A started swarm (TCP on loopback, Noise, yamux), with the ping service unless `init` is false. */
export async function createPeer (init: PingInit | false = {}): Promise<TestPeer> {
  const privateKey = await generateKeyPair('Ed25519')
  const peerId = peerIdFromPrivateKey(privateKey)
  const s = swarm({
    peerId,
    transports: [tcp()],
    connectionEncrypters: [noise()({ privateKey, peerId })],
    streamMuxers: [yamux()]
  })
  s.start()
  await s.listen([ipPortToMultiaddr('127.0.0.1', 0)])
  const service = init === false ? undefined : ping(init)({ swarm: s, logger: defaultLogger() })
  await service?.start()
  return {
    peerId,
    swarm: s,
    ping: service,
    async stop () {
      await service?.stop()
      await s.stop()
    }
  }
}

/** Resolves after `ms` milliseconds. */
export async function delay (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

/** Waits until `check` returns true, polling every 5 ms, for at most `ms` milliseconds. */
export async function waitFor (check: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await delay(5)
  }
}
