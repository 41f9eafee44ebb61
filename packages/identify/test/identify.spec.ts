/**
 * Identify and identify push between real swarms over TCP (Noise + yamux): what is sent, what is
 * stored, pushes, and lying peers (a raw handler writes crafted bytes).
 */
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { generateKeyPair, publicKeyToProtobuf } from '@peerkit/crypto'
import {
  AbortError, InvalidMessageError, InvalidParametersError, InvalidSignatureError, LimitExceededError, NotStartedError, TimeoutError,
  UnexpectedEOFError, UnexpectedPeerError, UnsupportedProtocolError
} from '@peerkit/interfaces'
import { peerIdFromPrivateKey } from '@peerkit/peer-id'
import { PeerRecord, RecordEnvelope, openSignedPeerRecord } from '@peerkit/peer-record'
import { defaultLogger } from '@peerkit/utils'
import { Uint8ArrayList } from 'uint8arraylist'
import {
  DEFAULT_AGENT_VERSION, DEFAULT_MAX_LISTEN_ADDRS, DEFAULT_MAX_MESSAGE_SIZE, IDENTIFY_PROTOCOL, IDENTIFY_PUSH_PROTOCOL,
  IdentifyMessage, LEGACY_MESSAGE_SIZE, VERSION, identify
} from '../src/index.js'
import { answerWith, createNode, delay, honestMessage, lp, sendRaw, uvarint, waitFor } from './utils.js'
import type { IdentifyResult } from '../src/index.js'
import type { TestNode } from './utils.js'
import type { Connection, PrivateKey, RemoteIdentity } from '@peerkit/interfaces'

const decoder = new TextDecoder()

/** The next `peer:identify` event of `node`'s identify service. */
async function nextIdentify (node: TestNode, filter: (r: IdentifyResult) => boolean = () => true): Promise<IdentifyResult> {
  return new Promise(resolve => {
    const listener = (evt: CustomEvent<IdentifyResult>): void => {
      if (!filter(evt.detail)) return
      node.identify!.removeEventListener('peer:identify', listener)
      resolve(evt.detail)
    }
    node.identify!.addEventListener('peer:identify', listener)
  })
}

/** A signed peer record of `key`'s peer (or of `peer`, signed by `key` anyway) as envelope bytes. */
function signedRecord (key: PrivateKey, addrs: string[], seq: bigint, peer = peerIdFromPrivateKey(key)): Uint8Array<ArrayBuffer> {
  const record = new PeerRecord({ peerId: peer, multiaddrs: addrs.map(a => multiaddr(a)), seq })
  return RecordEnvelope.seal(record, key).marshal() as Uint8Array<ArrayBuffer>
}

describe('identify', () => {
  const nodes: TestNode[] = []
  async function node (...args: Parameters<typeof createNode>): Promise<TestNode> {
    const n = await createNode(...args)
    nodes.push(n)
    return n
  }

  afterEach(async () => {
    await Promise.all(nodes.splice(0).map(async n => n.stop()))
  })

  describe('exchange', () => {
    it('identifies every new connection, on both sides, and fills the peer store', async () => {
      const a = await node()
      const b = await node()
      const aLearned = nextIdentify(a)
      const bLearned = nextIdentify(b)
      await a.swarm.dial(b.swarm.getMultiaddrs()[0])
      const [ofB, ofA] = await Promise.all([aLearned, bLearned])
      assert.ok(ofB.peerId.equals(b.peerId))
      assert.ok(ofA.peerId.equals(a.peerId))

      const stored = await a.peerStore.get(b.peerId)
      assert.deepEqual(stored.protocols, [IDENTIFY_PROTOCOL, IDENTIFY_PUSH_PROTOCOL])
      assert.ok(stored.publicKey?.equals(b.privateKey.publicKey))
      assert.match(VERSION, /^\d+\.\d+\.\d+/)
      assert.equal(decoder.decode(stored.metadata.get('AgentVersion')), `peerkit/${VERSION}`)
      assert.equal(decoder.decode(stored.metadata.get('ProtocolVersion')), 'ipfs/0.1.0')
      const listen = b.swarm.getMultiaddrs()[0].decapsulateCode(421).toString()
      assert.deepEqual(stored.addresses.filter(x => x.isCertified).map(x => x.multiaddr.toString()), [listen])
      assert.ok(stored.peerRecordEnvelope != null)
      assert.equal(openSignedPeerRecord(stored.peerRecordEnvelope, { expectedPeer: b.peerId }).record.multiaddrs[0].toString(), listen)

      // The listener learned about the dialer through the inbound connection, the same way.
      const storedA = await b.peerStore.get(a.peerId)
      assert.deepEqual(storedA.protocols, [IDENTIFY_PROTOCOL, IDENTIFY_PUSH_PROTOCOL])
      assert.ok(storedA.addresses.some(x => x.isCertified && x.multiaddr.toString() === a.swarm.getMultiaddrs()[0].decapsulateCode(421).toString()))
    })

    it('identifies a new connection only after connectionOpenDelay; one closed sooner is never identified', async () => {
      const a = await node({ connectionOpenDelay: 200 })
      const b = await node({ connectionOpenDelay: 200 })
      let identified = 0
      a.identify!.addEventListener('peer:identify', () => { identified++ })
      b.identify!.addEventListener('peer:identify', () => { identified++ })
      const short = await a.swarm.dial(b.swarm.getMultiaddrs()[0])
      await delay(20)
      assert.equal(short.streams.length, 0, 'no identify stream yet')
      await short.close()
      await delay(300)
      assert.equal(identified, 0, 'a connection closed before the delay is not identified')

      const started = Date.now()
      const learned = nextIdentify(a)
      await a.swarm.dial(b.swarm.getMultiaddrs()[0])
      const result = await learned
      assert.ok(result.peerId.equals(b.peerId))
      assert.ok(Date.now() - started >= 150, 'identified after the delay')
    })

    it('with connectionOpenDelay 0 a new connection is identified at once', async () => {
      const a = await node({ connectionOpenDelay: 0 })
      const b = await node({ connectionOpenDelay: 0 })
      const learned = nextIdentify(a)
      const conn = await a.swarm.dial(b.swarm.getMultiaddrs()[0])
      assert.equal(conn.streams.length, 1, 'the identify stream opened with the connection')
      assert.ok((await learned).peerId.equals(b.peerId))
    })

    it('identify(connection) returns what the peer said, including how it sees us', async () => {
      const a = await node({ runOnConnectionOpen: false })
      const b = await node({ agentVersion: 'test-agent/9', protocolVersion: '/test/1.0.0' })
      b.swarm.handle('/echo/1.0.0', async ({ stream }) => { await stream.sink(stream.source) })
      const connection = await a.swarm.dial(b.swarm.getMultiaddrs()[0])
      const result = await a.identify!.identify(connection)
      assert.ok(result.peerId.equals(b.peerId))
      assert.equal(result.connection, connection)
      assert.equal(result.push, false)
      assert.equal(result.agentVersion, 'test-agent/9')
      assert.equal(result.protocolVersion, '/test/1.0.0')
      assert.ok(result.publicKey?.equals(b.privateKey.publicKey))
      assert.deepEqual(result.protocols, ['/echo/1.0.0', IDENTIFY_PROTOCOL, IDENTIFY_PUSH_PROTOCOL])
      assert.deepEqual(result.listenAddrs.map(String), b.swarm.getMultiaddrs().map(x => x.decapsulateCode(421).toString()))
      assert.equal(result.signedPeerRecordVerified, true)
      assert.equal(result.signedPeerRecordError, undefined)
      assert.deepEqual(result.signedPeerRecord?.addresses.map(String), result.listenAddrs.map(String))
      // The observed address is our end of the connection as B sees it.
      const seenByB = b.swarm.getConnections(a.peerId)[0].remoteAddr.decapsulateCode(421)
      assert.equal(result.observedAddr?.toString(), seenByB.toString())
      assert.ok(a.swarm.getObservedAddrs().some(o => o.multiaddr.toString() === seenByB.toString() && o.reporters === 1))
      // The exchange is over on both ends.
      await waitFor(() => connection.streams.length === 0)
    })

    it('uses the default versions and dispatches peer:identify on the node events too', async () => {
      const a = await node({ runOnConnectionOpen: false })
      const b = await node()
      const onNode = new Promise<IdentifyResult>(resolve => {
        a.events.addEventListener('peer:identify', (evt) => { resolve((evt as CustomEvent<IdentifyResult>).detail) }, { once: true })
      })
      const result = await a.identify!.identify(await a.swarm.dial(b.swarm.getMultiaddrs()[0]))
      assert.equal(result.agentVersion, DEFAULT_AGENT_VERSION)
      assert.equal(result.protocolVersion, 'ipfs/0.1.0')
      assert.equal(await onNode, result)
    })

    it('tells the connection what the peer announced, so that it can select listed protocols optimistically', async () => {
      const a = await node({ runOnConnectionOpen: false })
      const b = await node()
      b.swarm.handle('/echo/1.0.0', async ({ stream }) => { await stream.sink(stream.source) })
      const connection = await a.swarm.dial(b.swarm.getMultiaddrs()[0])
      const told: RemoteIdentity[] = []
      const original = connection.setRemoteIdentity
      assert.ok(original != null)
      connection.setRemoteIdentity = (identity) => { told.push(identity); original.call(connection, identity) }
      await a.identify!.identify(connection)
      assert.equal(told.length, 1)
      assert.deepEqual(told[0].protocols, ['/echo/1.0.0', IDENTIFY_PROTOCOL, IDENTIFY_PUSH_PROTOCOL])
      assert.equal(told[0].agentVersion, DEFAULT_AGENT_VERSION)
      // A peerkit peer: the listed protocol is selected optimistically, data and close in one go.
      const stream = await connection.newStream('/echo/1.0.0')
      const [, echoed] = await Promise.all([stream.sink([new Uint8Array([1, 2, 3])]), (async () => {
        const all = new Uint8ArrayList()
        for await (const chunk of stream.source) all.append(chunk)
        return all.subarray()
      })()])
      assert.deepEqual([...echoed], [1, 2, 3])
    })

    it('concurrent identify calls on one connection share one exchange', async () => {
      const a = await node({ runOnConnectionOpen: false })
      const b = await node()
      const connection = await a.swarm.dial(b.swarm.getMultiaddrs()[0])
      const [x, y] = await Promise.all([a.identify!.identify(connection), a.identify!.identify(connection)])
      assert.equal(x, y)
      // The automatic identify and a manual one do not trip the one-stream limit either.
      const c = await node()
      const conn2 = await c.swarm.dial(b.swarm.getMultiaddrs()[0])
      assert.ok((await c.identify!.identify(conn2)).peerId.equals(b.peerId))
    })

    it('seals its peer record once per set of addresses, with a growing seq', async () => {
      const a = await node({ runOnConnectionOpen: false })
      const b = await node()
      const connection = await a.swarm.dial(b.swarm.getMultiaddrs()[0])
      const first = await a.identify!.identify(connection)
      const envelope1 = (await a.peerStore.get(b.peerId)).peerRecordEnvelope
      const second = await a.identify!.identify(connection)
      const envelope2 = (await a.peerStore.get(b.peerId)).peerRecordEnvelope
      assert.equal(first.signedPeerRecord?.seq, second.signedPeerRecord?.seq)
      assert.deepEqual(envelope1, envelope2)
      await b.swarm.listen([multiaddr('/ip4/127.0.0.1/tcp/0')])
      const third = await a.identify!.identify(connection)
      assert.ok(third.signedPeerRecord!.seq > first.signedPeerRecord!.seq)
      assert.equal(third.signedPeerRecord?.addresses.length, 2)
      const stored = await a.peerStore.get(b.peerId)
      assert.equal(stored.addresses.filter(x => x.isCertified).length, 2)
    })

    it('sends a large message in two parts, the signed record last, and reads them back', async () => {
      const a = await node({ runOnConnectionOpen: false })
      const b = await node()
      const protocols = Array.from({ length: 80 }, (_, i) => `/a/rather/long/protocol/name/number/${String(i).padStart(3, '0')}/1.0.0`)
      for (const p of protocols) b.swarm.handle(p, () => {})
      // Capture what goes over the wire by asking with a raw stream.
      const stream = await a.swarm.openStream(b.swarm.getMultiaddrs()[0], IDENTIFY_PROTOCOL)
      const chunks: Uint8Array[] = []
      for await (const chunk of stream.source) chunks.push(chunk.subarray())
      await stream.close()
      const wire = Uint8Array.from(chunks.flatMap(c => [...c]))
      const parts: Uint8Array[] = []
      for (let at = 0; at < wire.length;) {
        let length = 0
        let shift = 0
        let byte: number
        do {
          byte = wire[at++]
          length += (byte & 0x7f) * 2 ** shift
          shift += 7
        } while ((byte & 0x80) !== 0)
        parts.push(wire.subarray(at, at + length))
        at += length
      }
      assert.equal(parts.length, 2)
      assert.ok(parts[0].byteLength > LEGACY_MESSAGE_SIZE - 500)
      const head = IdentifyMessage.decode(parts[0])
      const tail = IdentifyMessage.decode(parts[1])
      assert.equal(head.signedPeerRecord, undefined)
      assert.equal(head.protocols.length, protocols.length + 2)
      assert.ok(tail.signedPeerRecord != null)
      assert.deepEqual(tail.protocols, [])
      // And our reader merges them.
      const result = await a.identify!.identify(a.swarm.getConnections(b.peerId)[0])
      assert.equal(result.protocols.length, protocols.length + 2)
      assert.equal(result.signedPeerRecordVerified, true)
    })
  })

  describe('push', () => {
    it('pushes new protocols to identified peers, which replace what they knew', async () => {
      const a = await node({ pushDebounce: 10 })
      const b = await node({ pushDebounce: 10 })
      const identified = nextIdentify(a)
      await a.swarm.dial(b.swarm.getMultiaddrs()[0])
      await identified
      await waitFor(async () => (await b.peerStore.get(a.peerId)).protocols.includes(IDENTIFY_PUSH_PROTOCOL))

      const pushed = nextIdentify(a, r => r.push && r.protocols.includes('/new/1.0.0'))
      b.swarm.handle('/new/1.0.0', () => {})
      const result = await pushed
      assert.ok(result.peerId.equals(b.peerId))
      assert.deepEqual((await a.peerStore.get(b.peerId)).protocols, [IDENTIFY_PROTOCOL, IDENTIFY_PUSH_PROTOCOL, '/new/1.0.0'])

      const removed = nextIdentify(a, r => r.push && !r.protocols.includes('/new/1.0.0'))
      b.swarm.unhandle('/new/1.0.0')
      await removed
      assert.deepEqual((await a.peerStore.get(b.peerId)).protocols, [IDENTIFY_PROTOCOL, IDENTIFY_PUSH_PROTOCOL])
    })

    it('pushes new addresses with a newer signed record', async () => {
      const a = await node({ pushDebounce: 10 })
      const b = await node({ pushDebounce: 10 })
      const identified = nextIdentify(a)
      await a.swarm.dial(b.swarm.getMultiaddrs()[0])
      const first = await identified
      await waitFor(async () => (await b.peerStore.get(a.peerId)).protocols.includes(IDENTIFY_PUSH_PROTOCOL))
      const pushed = nextIdentify(a, r => r.push)
      await b.swarm.listen([multiaddr('/ip4/127.0.0.1/tcp/0')])
      const result = await pushed
      assert.equal(result.signedPeerRecordVerified, true)
      assert.ok(result.signedPeerRecord!.seq > first.signedPeerRecord!.seq)
      const certified = (await a.peerStore.get(b.peerId)).addresses.filter(x => x.isCertified).map(x => x.multiaddr.toString()).sort()
      assert.deepEqual(certified, b.swarm.getMultiaddrs().map(x => x.decapsulateCode(421).toString()).sort())
    })

    it('coalesces changes within pushDebounce into one push', async () => {
      const a = await node({ pushDebounce: 50 })
      const b = await node({ pushDebounce: 50 })
      const identified = nextIdentify(a)
      await a.swarm.dial(b.swarm.getMultiaddrs()[0])
      await identified
      await waitFor(async () => (await b.peerStore.get(a.peerId)).protocols.includes(IDENTIFY_PUSH_PROTOCOL))
      let pushes = 0
      a.identify!.addEventListener('peer:identify', (evt) => { if (evt.detail.push) pushes++ })
      const pushed = nextIdentify(a, r => r.push)
      for (let i = 0; i < 5; i++) b.swarm.handle(`/p/${i}`, () => {})
      const result = await pushed
      assert.equal(result.protocols.filter(p => p.startsWith('/p/')).length, 5)
      await delay(120)
      assert.equal(pushes, 1)
    })

    it('accepts a push over a raw stream and ignores one that lies about the key', async () => {
      const a = await node()
      const liar = await node(false)
      const mallory = await generateKeyPair('Ed25519')
      await liar.swarm.dial(a.swarm.getMultiaddrs()[0])
      const lie = honestMessage(liar, { protocols: ['/forged/1.0.0'], publicKey: publicKeyToProtobuf(mallory.publicKey) as Uint8Array<ArrayBuffer> })
      await sendRaw(liar, a, IDENTIFY_PUSH_PROTOCOL, lp(IdentifyMessage.encode(lie)))
      const accepted = nextIdentify(a, r => r.push)
      await sendRaw(liar, a, IDENTIFY_PUSH_PROTOCOL, lp(IdentifyMessage.encode(honestMessage(liar, { protocols: ['/honest/1.0.0'] }))))
      await accepted
      const stored = await a.peerStore.get(liar.peerId)
      assert.deepEqual(stored.protocols, ['/honest/1.0.0'])
      assert.equal(a.swarm.getConnections(liar.peerId)[0].status, 'open')
    })

    it('stores multi-byte agent and protocol versions exactly, both as views of one buffer', async () => {
      const a = await node()
      const liar = await node(false)
      await liar.swarm.dial(a.swarm.getMultiaddrs()[0])
      const pushed = nextIdentify(a, r => r.push)
      const agentVersion = 'agent/ünïcødé/日本/🚀'
      const protocolVersion = 'ipfs/0.1.0 ✓'
      await sendRaw(liar, a, IDENTIFY_PUSH_PROTOCOL, lp(IdentifyMessage.encode(honestMessage(liar, { agentVersion, protocolVersion }))))
      await pushed
      const stored = await a.peerStore.get(liar.peerId)
      const agent = stored.metadata.get('AgentVersion')
      const proto = stored.metadata.get('ProtocolVersion')
      assert.ok(agent != null && proto != null)
      assert.deepEqual(agent, new TextEncoder().encode(agentVersion))
      assert.deepEqual(proto, new TextEncoder().encode(protocolVersion))
      assert.equal(agent.buffer, proto.buffer)
      assert.equal(agent.buffer.byteLength, agent.byteLength + proto.byteLength)
    })

    it('answers with the observed address without caching encoded bytes on the connection\'s address', async () => {
      const a = await node()
      const b = await node()
      const aLearned = nextIdentify(a)
      const bLearned = nextIdentify(b)
      await a.swarm.dial(b.swarm.getMultiaddrs()[0])
      const [ofB] = await Promise.all([aLearned, bLearned])
      // b answered a's identify over its inbound connection and told a the address it saw.
      const inbound = b.swarm.getConnections(a.peerId)[0]
      assert.equal(ofB.observedAddr?.toString(), inbound.remoteAddr.toString())
      assert.match(inbound.remoteAddr.toString(), /^\/ip4\/127\.0\.0\.1\/tcp\/\d+$/)
      // Encoding it left the components of the connection's own address as they were.
      assert.deepEqual(inbound.remoteAddr.getComponents().map(c => c.bytes), [undefined, undefined])
    })

    it('a push with only some fields leaves the others as they were', async () => {
      const a = await node()
      const liar = await node(false)
      await liar.swarm.dial(a.swarm.getMultiaddrs()[0])
      const full = nextIdentify(a, r => r.push)
      await sendRaw(liar, a, IDENTIFY_PUSH_PROTOCOL, lp(IdentifyMessage.encode(honestMessage(liar))))
      await full
      const partial = nextIdentify(a, r => r.push)
      await sendRaw(liar, a, IDENTIFY_PUSH_PROTOCOL, lp(IdentifyMessage.encode({ listenAddrs: [], protocols: [], agentVersion: 'liar/2.0.0' })))
      await partial
      const stored = await a.peerStore.get(liar.peerId)
      assert.deepEqual(stored.protocols, ['/ipfs/id/1.0.0', '/lie/1.0.0'])
      assert.equal(decoder.decode(stored.metadata.get('AgentVersion')), 'liar/2.0.0')
      assert.equal(decoder.decode(stored.metadata.get('ProtocolVersion')), 'ipfs/0.1.0')
    })
  })

  describe('lying and broken peers', () => {
    let a: TestNode
    let liar: TestNode
    let connection: Connection

    /** The one test that waits for the timeout uses a short one; the others must fail on their own. */
    const SHORT_TIMEOUT = 300

    beforeEach(async () => {
      // A timeout far above any answer's time, so that a loaded machine cannot turn the error a
      // test expects into a TimeoutError.
      a = await node({ runOnConnectionOpen: false, timeout: 10_000 })
      liar = await node(false)
      connection = await a.swarm.dial(liar.swarm.getMultiaddrs()[0])
    })

    /** The connection still works and a later honest answer is accepted. */
    async function stillWorks (on: TestNode = a, conn: Connection = connection): Promise<void> {
      await waitFor(() => conn.streams.length === 0)
      assert.equal(conn.status, 'open')
      answerWith(liar, IDENTIFY_PROTOCOL, lp(IdentifyMessage.encode(honestMessage(liar))))
      const result = await on.identify!.identify(conn)
      assert.deepEqual(result.protocols, ['/ipfs/id/1.0.0', '/lie/1.0.0'])
    }

    async function notStored (): Promise<void> {
      const peer = await a.peerStore.get(liar.peerId).catch(() => undefined)
      assert.ok(peer == null || (peer.protocols.length === 0 && peer.metadata.size === 0 && peer.peerRecordEnvelope == null))
    }

    it('bytes that are not protobuf: InvalidMessageError', async () => {
      answerWith(liar, IDENTIFY_PROTOCOL, lp(Uint8Array.of(0x0a, 0xff, 0xff, 0xff, 0x0f)))
      await assert.rejects(a.identify!.identify(connection), InvalidMessageError)
      await notStored()
      await stillWorks()
    })

    it('a message over maxMessageSize: LimitExceededError before it is read', async () => {
      const streams = answerWith(liar, IDENTIFY_PROTOCOL, () => Uint8Array.from([...uvarint(DEFAULT_MAX_MESSAGE_SIZE + 1), ...new Uint8Array(DEFAULT_MAX_MESSAGE_SIZE + 1)]))
      await assert.rejects(a.identify!.identify(connection), (err: Error) => {
        return err instanceof LimitExceededError && err.limit === 'maxMessageSize' && err.max === DEFAULT_MAX_MESSAGE_SIZE && err.value === DEFAULT_MAX_MESSAGE_SIZE + 1
      })
      await waitFor(() => streams[0].status !== 'open')
      await notStored()
      await stillWorks()
    })

    it('an endless length prefix: InvalidMessageError', async () => {
      answerWith(liar, IDENTIFY_PROTOCOL, new Uint8Array(64).fill(0xff))
      await assert.rejects(a.identify!.identify(connection), InvalidMessageError)
      await stillWorks()
    })

    it('a public key of another peer: UnexpectedPeerError, nothing stored', async () => {
      const mallory = await generateKeyPair('Ed25519')
      answerWith(liar, IDENTIFY_PROTOCOL, lp(IdentifyMessage.encode(honestMessage(liar, { publicKey: publicKeyToProtobuf(mallory.publicKey) as Uint8Array<ArrayBuffer> }))))
      await assert.rejects(a.identify!.identify(connection), (err: Error) => {
        return err instanceof UnexpectedPeerError && err.expected === liar.peerId.toString() && err.actual === mallory.publicKey.toString()
      })
      await notStored()
      await stillWorks()
    })

    it('a public key that does not decode: InvalidMessageError', async () => {
      answerWith(liar, IDENTIFY_PROTOCOL, lp(IdentifyMessage.encode(honestMessage(liar, { publicKey: Uint8Array.of(8, 1, 18, 3, 1, 2, 3) }))))
      await assert.rejects(a.identify!.identify(connection), InvalidMessageError)
      await notStored()
    })

    it('a signed record of another key is ignored: addresses stored uncertified, record not kept', async () => {
      const mallory = await generateKeyPair('Ed25519')
      const forged = signedRecord(mallory, ['/ip4/203.0.113.7/tcp/1'], 5n)
      answerWith(liar, IDENTIFY_PROTOCOL, lp(IdentifyMessage.encode(honestMessage(liar, { signedPeerRecord: forged }))))
      const result = await a.identify!.identify(connection)
      assert.equal(result.signedPeerRecordVerified, false)
      assert.ok(result.signedPeerRecordError instanceof UnexpectedPeerError)
      const stored = await a.peerStore.get(liar.peerId)
      assert.equal(stored.peerRecordEnvelope, undefined)
      assert.ok(stored.addresses.length > 0)
      assert.ok(stored.addresses.every(x => !x.isCertified))
      assert.ok(!stored.addresses.some(x => x.multiaddr.toString().includes('203.0.113.7')))
    })

    it('a record naming the peer but signed by another key is ignored', async () => {
      const mallory = await generateKeyPair('Ed25519')
      const forged = signedRecord(mallory, ['/ip4/203.0.113.7/tcp/1'], 5n, liar.peerId)
      answerWith(liar, IDENTIFY_PROTOCOL, lp(IdentifyMessage.encode(honestMessage(liar, { signedPeerRecord: forged }))))
      const result = await a.identify!.identify(connection)
      assert.equal(result.signedPeerRecordVerified, false)
      assert.ok(result.signedPeerRecordError instanceof UnexpectedPeerError)
      assert.ok((await a.peerStore.get(liar.peerId)).addresses.every(x => !x.isCertified))
    })

    it('a record with a bad signature is ignored', async () => {
      const record = signedRecord(liar.privateKey, ['/ip4/203.0.113.7/tcp/1'], 5n)
      record[record.byteLength - 1] ^= 0x01
      answerWith(liar, IDENTIFY_PROTOCOL, lp(IdentifyMessage.encode(honestMessage(liar, { signedPeerRecord: record }))))
      const result = await a.identify!.identify(connection)
      assert.equal(result.signedPeerRecordVerified, false)
      assert.ok(result.signedPeerRecordError instanceof InvalidSignatureError)
      assert.equal((await a.peerStore.get(liar.peerId)).peerRecordEnvelope, undefined)
    })

    it('a record verified before (cached) is accepted again; from another peer it is still refused', async () => {
      const record = signedRecord(liar.privateKey, ['/ip4/203.0.113.7/tcp/1'], 7n)
      answerWith(liar, IDENTIFY_PROTOCOL, lp(IdentifyMessage.encode(honestMessage(liar, { signedPeerRecord: record }))))
      assert.equal((await a.identify!.identify(connection)).signedPeerRecordVerified, true)
      // The same bytes again: served from the verified-record cache, same result.
      const again = await a.identify!.identify(connection)
      assert.equal(again.signedPeerRecordVerified, true)
      assert.equal(again.signedPeerRecord?.seq, 7n)
      assert.deepEqual(again.signedPeerRecord?.addresses.map(String), ['/ip4/203.0.113.7/tcp/1'])
      // Those verified bytes sent by a different peer: the cache is keyed by peer, so they are
      // checked again and refused.
      const other = await node(false)
      const otherConnection = await a.swarm.dial(other.swarm.getMultiaddrs()[0])
      answerWith(other, IDENTIFY_PROTOCOL, lp(IdentifyMessage.encode(honestMessage(other, { signedPeerRecord: record }))))
      const replayed = await a.identify!.identify(otherConnection)
      assert.equal(replayed.signedPeerRecordVerified, false)
      assert.ok(replayed.signedPeerRecordError instanceof UnexpectedPeerError)
    })

    it('with verifiedRecordCacheSize 0 every record is verified, and stale ones still refused', async () => {
      const b = await node({ runOnConnectionOpen: false, timeout: 10_000, verifiedRecordCacheSize: 0 })
      const conn = await b.swarm.dial(liar.swarm.getMultiaddrs()[0])
      const newer = signedRecord(liar.privateKey, ['/ip4/203.0.113.7/tcp/1'], 10n)
      answerWith(liar, IDENTIFY_PROTOCOL, lp(IdentifyMessage.encode(honestMessage(liar, { signedPeerRecord: newer }))))
      assert.equal((await b.identify!.identify(conn)).signedPeerRecordVerified, true)
      assert.equal((await b.identify!.identify(conn)).signedPeerRecordVerified, true)
      const older = signedRecord(liar.privateKey, ['/ip4/203.0.113.8/tcp/1'], 9n)
      answerWith(liar, IDENTIFY_PROTOCOL, lp(IdentifyMessage.encode(honestMessage(liar, { signedPeerRecord: older }))))
      const result = await b.identify!.identify(conn)
      assert.equal(result.signedPeerRecordVerified, false)
      assert.ok(result.signedPeerRecordError instanceof InvalidMessageError)
    })

    it('a record older than the stored one is ignored', async () => {
      const newer = signedRecord(liar.privateKey, ['/ip4/203.0.113.7/tcp/1'], 10n)
      answerWith(liar, IDENTIFY_PROTOCOL, lp(IdentifyMessage.encode(honestMessage(liar, { signedPeerRecord: newer }))))
      assert.equal((await a.identify!.identify(connection)).signedPeerRecordVerified, true)
      const older = signedRecord(liar.privateKey, ['/ip4/203.0.113.8/tcp/1'], 9n)
      answerWith(liar, IDENTIFY_PROTOCOL, lp(IdentifyMessage.encode(honestMessage(liar, { signedPeerRecord: older }))))
      const result = await a.identify!.identify(connection)
      assert.equal(result.signedPeerRecordVerified, false)
      assert.ok(result.signedPeerRecordError instanceof InvalidMessageError)
      const stored = await a.peerStore.get(liar.peerId)
      assert.deepEqual(Uint8Array.from(stored.peerRecordEnvelope!), newer)
      assert.ok(!stored.addresses.some(x => x.isCertified && x.multiaddr.toString().includes('203.0.113.8')))
    })

    it(`more than maxListenAddrs (${DEFAULT_MAX_LISTEN_ADDRS}) listen addresses: LimitExceededError, nothing stored`, async () => {
      const listenAddrs = Array.from({ length: DEFAULT_MAX_LISTEN_ADDRS + 1 }, (_, i) => multiaddr(`/ip4/10.0.0.1/tcp/${i + 1}`).bytes)
      answerWith(liar, IDENTIFY_PROTOCOL, lp(IdentifyMessage.encode(honestMessage(liar, { listenAddrs }))))
      await assert.rejects(a.identify!.identify(connection), (err: Error) => {
        return err instanceof LimitExceededError && err.limit === 'maxListenAddrs' && err.max === DEFAULT_MAX_LISTEN_ADDRS
      })
      await notStored()
      await stillWorks()
    })

    it('more than maxListenAddrs over several parts: LimitExceededError', async () => {
      const half = Array.from({ length: 70 }, (_, i) => multiaddr(`/ip4/10.0.0.1/tcp/${i + 1}`).bytes)
      const part = lp(IdentifyMessage.encode({ listenAddrs: half, protocols: [] }))
      answerWith(liar, IDENTIFY_PROTOCOL, Uint8Array.from([...part, ...part]))
      await assert.rejects(a.identify!.identify(connection), (err: Error) => err instanceof LimitExceededError && err.limit === 'maxListenAddrs')
    })

    it('more than maxProtocols protocols: LimitExceededError', async () => {
      const strict = await node({ runOnConnectionOpen: false, maxProtocols: 3 })
      const conn = await strict.swarm.dial(liar.swarm.getMultiaddrs()[0])
      answerWith(liar, IDENTIFY_PROTOCOL, lp(IdentifyMessage.encode(honestMessage(liar, { protocols: ['/a', '/b', '/c', '/d'] }))))
      await assert.rejects(strict.identify!.identify(conn), (err: Error) => err instanceof LimitExceededError && err.limit === 'maxProtocols' && err.max === 3)
      answerWith(liar, IDENTIFY_PROTOCOL, lp(IdentifyMessage.encode(honestMessage(liar, { protocols: ['/a', '/b', '/c'] }))))
      assert.deepEqual((await strict.identify!.identify(conn)).protocols, ['/a', '/b', '/c'])
    })

    it('more than maxMessages parts: LimitExceededError', async () => {
      const part = lp(IdentifyMessage.encode({ listenAddrs: [], protocols: ['/p'] }))
      answerWith(liar, IDENTIFY_PROTOCOL, Uint8Array.from(Array.from({ length: 11 }, () => [...part]).flat()))
      await assert.rejects(a.identify!.identify(connection), (err: Error) => err instanceof LimitExceededError && err.limit === 'maxMessages')
      await stillWorks()
    })

    it('a peer that closes without answering: UnexpectedEOFError', async () => {
      answerWith(liar, IDENTIFY_PROTOCOL, new Uint8Array(0))
      await assert.rejects(a.identify!.identify(connection), UnexpectedEOFError)
      await stillWorks()
    })

    it('a truncated message: UnexpectedEOFError', async () => {
      const whole = lp(IdentifyMessage.encode(honestMessage(liar)))
      answerWith(liar, IDENTIFY_PROTOCOL, whole.subarray(0, whole.byteLength - 10))
      await assert.rejects(a.identify!.identify(connection), UnexpectedEOFError)
      await notStored()
      await stillWorks()
    })

    it('a peer that never answers: TimeoutError after `timeout`, the stream aborted', async () => {
      const impatient = await node({ runOnConnectionOpen: false, timeout: SHORT_TIMEOUT })
      const conn = await impatient.swarm.dial(liar.swarm.getMultiaddrs()[0])
      const held: Array<{ status: string }> = []
      liar.swarm.handle(IDENTIFY_PROTOCOL, ({ stream }) => { held.push(stream) }, { force: true })
      const start = Date.now()
      await assert.rejects(impatient.identify!.identify(conn), (err: Error) => err instanceof TimeoutError && err.timeoutMs === SHORT_TIMEOUT)
      assert.ok(Date.now() - start >= SHORT_TIMEOUT - 10)
      await waitFor(() => held.length === 1 && held[0].status !== 'open')
      await stillWorks(impatient, conn)
    })

    it('a peer that does not speak identify: UnsupportedProtocolError', async () => {
      liar.swarm.unhandle(IDENTIFY_PROTOCOL)
      await assert.rejects(a.identify!.identify(connection), UnsupportedProtocolError)
    })

    it('skips listen addresses that do not parse, and an empty observed address', async () => {
      const listenAddrs = [Uint8Array.of(0xff, 0xff), new Uint8Array(0), multiaddr('/ip4/192.0.2.9/tcp/9').bytes, Uint8Array.of(4, 1)]
      answerWith(liar, IDENTIFY_PROTOCOL, lp(IdentifyMessage.encode(honestMessage(liar, { listenAddrs, observedAddr: new Uint8Array(0) }))))
      const result = await a.identify!.identify(connection)
      assert.deepEqual(result.listenAddrs.map(String), ['/ip4/192.0.2.9/tcp/9'])
      assert.equal(result.observedAddr, undefined)
    })

    it('drops empty and over-long protocol ids, and duplicates', async () => {
      answerWith(liar, IDENTIFY_PROTOCOL, lp(IdentifyMessage.encode(honestMessage(liar, { protocols: ['', '/ok', '/ok', `/${'x'.repeat(2000)}`] }))))
      assert.deepEqual((await a.identify!.identify(connection)).protocols, ['/ok'])
    })
  })

  describe('lifecycle', () => {
    it('refuses out-of-range options', async () => {
      const a = await node(false)
      const components = { peerId: a.peerId, privateKey: a.privateKey, swarm: a.swarm, peerStore: a.peerStore, logger: defaultLogger() }
      for (const init of [{ timeout: 0 }, { maxMessageSize: -1 }, { maxMessages: 1.5 }, { maxListenAddrs: Number.NaN }, { pushDebounce: -5 }, { maxPushConcurrency: 0 }, { verifiedRecordCacheSize: -1 }, { connectionOpenDelay: -1 }]) {
        assert.throws(() => identify(init)(components), InvalidParametersError, JSON.stringify(init))
      }
    })

    it('stop() aborts identifies in flight and unregisters the protocols', async () => {
      const a = await node({ runOnConnectionOpen: false, timeout: 10_000 })
      const silent = await node(false)
      silent.swarm.handle(IDENTIFY_PROTOCOL, () => {})
      const connection = await a.swarm.dial(silent.swarm.getMultiaddrs()[0])
      const pending = a.identify!.identify(connection)
      await delay(20)
      const start = Date.now()
      await a.identify!.stop()
      await assert.rejects(pending, AbortError)
      assert.ok(Date.now() - start < 5000, 'stopped well before the 10 s timeout')
      assert.ok(!a.swarm.getProtocols().includes(IDENTIFY_PROTOCOL))
      assert.ok(!a.swarm.getProtocols().includes(IDENTIFY_PUSH_PROTOCOL))
      await assert.rejects(a.identify!.identify(connection), NotStartedError)
      // Restartable.
      await a.identify!.start()
      assert.ok(a.swarm.getProtocols().includes(IDENTIFY_PROTOCOL))
    })

    it('a caller\'s signal ends its wait without cancelling the shared exchange', async () => {
      const a = await node({ runOnConnectionOpen: false })
      const b = await node()
      const connection = await a.swarm.dial(b.swarm.getMultiaddrs()[0])
      const controller = new AbortController()
      controller.abort()
      await assert.rejects(a.identify!.identify(connection, { signal: controller.signal }), AbortError)
      assert.ok((await a.identify!.identify(connection)).peerId.equals(b.peerId))
    })
  })
})
