import { noise } from '@peerkit/connection-encrypter-noise'
import { generateKeyPair, publicKeyToProtobuf } from '@peerkit/crypto'
import { yamux } from '@peerkit/muxer-yamux'
import { peerIdFromPrivateKey } from '@peerkit/peer-id'
import { memoryPeerStore } from '@peerkit/peer-store'
import { swarm } from '@peerkit/swarm'
import { tcp } from '@peerkit/transport-tcp'
import { ByteStream, TypedEventEmitter, defaultLogger } from '@peerkit/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { Uint8ArrayList } from 'uint8arraylist'
import { identify } from '../src/index.js'
import type { Identify, IdentifyInit, IdentifyMessage } from '../src/index.js'
import type { IncomingStreamData, PeerId, PrivateKey, Stream } from '@peerkit/interfaces'
import type { MemoryPeerStore } from '@peerkit/peer-store'
import type { DefaultSwarm } from '@peerkit/swarm'

export interface TestNode {
  privateKey: PrivateKey
  peerId: PeerId
  swarm: DefaultSwarm
  peerStore: MemoryPeerStore
  events: TypedEventEmitter<Record<string, unknown>>
  identify?: Identify
  stop(): Promise<void>
}

/**
 * A started swarm (TCP on loopback, Noise, yamux) with a peer store, and the identify service
 * unless `init` is false.
 */
export async function createNode (init: IdentifyInit | false = {}, options: { privateKey?: PrivateKey } = {}): Promise<TestNode> {
  const privateKey = options.privateKey ?? await generateKeyPair('Ed25519')
  const peerId = peerIdFromPrivateKey(privateKey)
  const peerStore = memoryPeerStore()
  const s = swarm({
    peerId,
    peerStore,
    transports: [tcp()],
    connectionEncrypters: [noise()({ privateKey, peerId })],
    streamMuxers: [yamux()]
  })
  s.start()
  await s.listen([multiaddr('/ip4/127.0.0.1/tcp/0')])
  const events = new TypedEventEmitter<Record<string, unknown>>()
  const service = init === false ? undefined : identify(init)({ peerId, privateKey, swarm: s, peerStore, logger: defaultLogger(), events })
  await service?.start()
  return {
    privateKey,
    peerId,
    swarm: s,
    peerStore,
    events,
    identify: service,
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

/** Waits until `check` resolves to true, polling every 5 ms, for at most `ms` milliseconds. */
export async function waitFor (check: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms
  while (!await check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await delay(5)
  }
}

/** A varint length prefix followed by `data`. */
export function lp (data: Uint8Array): Uint8Array {
  return new Uint8ArrayList(uvarint(data.byteLength), data).subarray()
}

/** Unsigned LEB128. */
export function uvarint (value: number): Uint8Array {
  const out: number[] = []
  do {
    let byte = value % 128
    value = Math.floor(value / 128)
    if (value > 0) byte |= 0x80
    out.push(byte)
  } while (value > 0)
  return Uint8Array.from(out)
}

/** An identify message as `node` would honestly send it, with `overrides` applied. */
export function honestMessage (node: TestNode, overrides: Partial<IdentifyMessage> = {}): IdentifyMessage {
  return {
    protocolVersion: 'ipfs/0.1.0',
    agentVersion: 'liar/1.0.0',
    publicKey: publicKeyToProtobuf(node.privateKey.publicKey) as Uint8Array<ArrayBuffer>,
    listenAddrs: node.swarm.getMultiaddrs().map(a => a.decapsulateCode(421).bytes),
    protocols: ['/ipfs/id/1.0.0', '/lie/1.0.0'],
    ...overrides
  }
}

/**
 * Makes `node` answer `protocol` with the given raw bytes (written in one go), then close its
 * write side. Returns the streams it handled.
 */
export function answerWith (node: TestNode, protocol: string, bytes: Uint8Array | (() => Uint8Array)): Stream[] {
  const streams: Stream[] = []
  node.swarm.handle(protocol, async ({ stream }: IncomingStreamData) => {
    streams.push(stream)
    await stream.sink([typeof bytes === 'function' ? bytes() : bytes])
  }, { force: true })
  return streams
}

/** Opens `protocol` to `to` from `from` and writes `bytes`, then closes the stream. */
export async function sendRaw (from: TestNode, to: TestNode, protocol: string, bytes: Uint8Array): Promise<void> {
  const stream = await from.swarm.openStream(to.peerId, protocol)
  const out = new ByteStream(stream)
  await out.write(bytes)
  await stream.close()
}
