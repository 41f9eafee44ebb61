import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { StreamResetError } from '@peerkit/interfaces'
import { createNode } from '@peerkit/libp2p'
import { peerIdFromString } from '@peerkit/peer-id'
import { Uint8ArrayList } from 'uint8arraylist'
import { JsPeer } from './js-peer.js'
import type { Stream } from '@peerkit/interfaces'
import type { DefaultServices, MuxerName, Node, SecurityName } from '@peerkit/libp2p'

const ECHO = '/echo/1.0.0'
const SINK = '/test/sink/1.0.0'
const RESET = '/test/reset/1.0.0'
const MIB = 1024 * 1024

function pattern (size: number): Uint8Array {
  const buf = new Uint8Array(size)
  for (let i = 0; i < size; i++) buf[i] = (i * 31 + 7) & 0xff
  return buf
}

/** Byte equality with a short message (index of the first difference) instead of a huge diff. */
function assertBytes (actual: Uint8Array, expected: Uint8Array): void {
  assert.equal(actual.byteLength, expected.byteLength, 'length differs')
  const a = Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength)
  const b = Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength)
  if (a.equals(b)) return
  let i = 0
  while (a[i] === b[i]) i++
  assert.fail(`bytes differ first at offset ${i} of ${a.byteLength}`)
}

/** Sends `data` in 64 KiB chunks, half-closes, and returns everything read back. */
async function exchange (stream: Stream, data: Uint8Array): Promise<Uint8Array> {
  const received = new Uint8ArrayList()
  await Promise.all([
    stream.sink((function * () {
      for (let off = 0; off < data.byteLength; off += 65536) yield data.subarray(off, Math.min(data.byteLength, off + 65536))
    })()),
    (async () => { for await (const chunk of stream.source) received.append(chunk) })()
  ])
  return received.subarray()
}

/** The handlers js peers exercise on our side (the same contract as js-peer/peer.mjs). */
function serveTestProtocols (node: Node<DefaultServices>): void {
  const opts = { maxInboundStreams: 4096, maxOutboundStreams: 4096 }
  node.handle(ECHO, async ({ stream }) => { await stream.sink(stream.source) }, opts)
  node.handle(SINK, async ({ stream }) => {
    let n = 0
    for await (const chunk of stream.source) n += chunk.byteLength
    await stream.sink([new TextEncoder().encode(String(n))])
  }, opts)
  node.handle(RESET, async ({ stream }) => {
    for await (const _ of stream.source) {
      stream.abort(new Error('reset on purpose'))
      return
    }
  }, opts)
}

const securities: SecurityName[] = ['noise', 'plaintext']
const muxers: MuxerName[] = ['yamux', 'mplex']

describe('interop with js-libp2p', function () {
  this.timeout(120_000)

  for (const security of securities) {
    for (const muxer of muxers) {
      const expectedEncryption = security === 'noise' ? '/noise' : '/plaintext/2.0.0'
      const expectedMuxer = muxer === 'yamux' ? '/yamux/1.0.0' : '/mplex/6.7.0'

      describe(`${security} + ${muxer}`, () => {
        let js: Awaited<ReturnType<typeof JsPeer.start>>
        let node: Node<DefaultServices>

        before(async () => {
          js = await JsPeer.start(security, muxer)
          node = await createNode({ security: [security], muxers: [muxer] })
          serveTestProtocols(node)
        })

        after(async () => {
          await node?.stop()
          await js?.stop()
        })

        describe('peerkit dials js-libp2p', () => {
          const jsAddr = (): ReturnType<typeof multiaddr> => multiaddr(js.info.addrs[0])

          it('connects with the expected encryption and muxer', async () => {
            const conn = await node.dial(jsAddr())
            assert.equal(conn.remotePeer.toString(), js.info.peerId)
            assert.equal(conn.encryption, expectedEncryption)
            assert.equal(conn.multiplexer, expectedMuxer)
          })

          it('identifies the js peer', async () => {
            const conn = await node.dial(jsAddr())
            const result = await node.services.identify.identify(conn)
            assert.equal(result.peerId.toString(), js.info.peerId)
            assert.match(result.agentVersion ?? '', /^js-libp2p\//)
            assert.ok(result.protocols.includes(ECHO))
            assert.ok(result.protocols.includes('/ipfs/ping/1.0.0'))
            assert.equal(result.signedPeerRecordVerified, true)
            assert.ok(result.listenAddrs.some(a => js.info.addrs[0].startsWith(a.toString())))
          })

          it('is identified by the js peer, with a signed peer record it verified', async () => {
            const r = await js.cmd('identify', { peerId: node.id.toString() })
            assert.match(String(r.agentVersion), /^peerkit\//)
            assert.ok((r.protocols as string[]).includes(ECHO))
            const ours = node.getMultiaddrs().map(a => a.decapsulateCode(421).toString())
            assert.ok(r.signedPeerRecord != null, 'js did not accept our signed peer record')
            assert.deepEqual([...(r.signedPeerRecord as { addresses: string[] }).addresses].sort(), [...ours].sort())
            assert.ok((r.certifiedAddresses as string[]).length > 0)
          })

          it('pings', async () => {
            const rtt = await node.services.ping.ping(peerIdFromString(js.info.peerId))
            assert.ok(rtt > 0 && rtt < 5000, `rtt ${rtt}`)
          })

          it('echoes 1 MiB on a custom protocol', async () => {
            const data = pattern(MIB)
            const stream = await node.openStream(jsAddr(), ECHO)
            assert.equal(stream.protocol, ECHO)
            assertBytes(await exchange(stream, data), data)
          })

          it('runs 100 concurrent streams on one connection', async () => {
            const conn = await node.dial(jsAddr())
            const data = pattern(4096)
            await Promise.all(Array.from({ length: 100 }, async () => {
              const stream = await conn.newStream(ECHO, { maxOutboundStreams: 200 })
              assertBytes(await exchange(stream, data), data)
            }))
            assert.equal(node.getConnections(conn.remotePeer).length, 1)
          })

          it('echoes optimistically selected streams whose data and end are written at once', async () => {
            const conn = await node.dial(jsAddr())
            const data = pattern(4096)
            // Our end of the data waits for js-libp2p's answer: sent together with the proposal,
            // a 3.x listener loses both data and end while its handler is still being set up.
            for (let i = 0; i < 10; i++) {
              const stream = await conn.newStream(ECHO, { negotiateFully: false })
              assertBytes(await exchange(stream, data), data)
            }
          })

          it('half-closes: the js side reads to EOF then answers', async () => {
            const stream = await node.openStream(jsAddr(), SINK)
            const reply = await exchange(stream, pattern(100_000))
            assert.equal(new TextDecoder().decode(reply), '100000')
          })

          it('sees a remote reset as an error', async () => {
            const stream = await node.openStream(jsAddr(), RESET)
            await assert.rejects(exchange(stream, pattern(10 * MIB)), (err: Error) => err instanceof StreamResetError || /reset/i.test(err.message))
            assert.ok(stream.status === 'reset' || stream.status === 'aborted', stream.status)
          })
        })

        describe('js-libp2p dials peerkit', () => {
          const ourAddr = (): string => node.getMultiaddrs()[0].toString()

          it('connects with the expected encryption and muxer', async () => {
            await node.hangUp(peerIdFromString(js.info.peerId))
            // Our close does not wait for the remote's end: let js-libp2p see it before it dials,
            // or it may hand back the connection it has not yet noticed closing.
            for (let i = 0; i < 100; i++) {
              const { connections } = await js.cmd('connections', {}) as unknown as { connections: Array<{ peerId: string }> }
              if (!connections.some(c => c.peerId === node.id.toString())) break
              await new Promise(resolve => setTimeout(resolve, 20))
            }
            const r = await js.cmd('dial', { addr: ourAddr() })
            assert.equal(r.peerId, node.id.toString())
            assert.equal(r.encryption, expectedEncryption)
            assert.equal(r.muxer, expectedMuxer)
            const conns = node.getConnections(peerIdFromString(js.info.peerId))
            assert.equal(conns.length, 1)
            assert.equal(conns[0].direction, 'inbound')
          })

          it('identifies both ways on the inbound connection', async () => {
            const r = await js.cmd('identify', { peerId: node.id.toString() })
            assert.ok(r.signedPeerRecord != null)
            const conn = node.getConnections(peerIdFromString(js.info.peerId))[0]
            const result = await node.services.identify.identify(conn)
            assert.equal(result.peerId.toString(), js.info.peerId)
            assert.equal(result.signedPeerRecordVerified, true)
          })

          it('answers pings', async () => {
            const r = await js.cmd('ping', { addr: ourAddr() })
            assert.ok(Number(r.rtt) >= 0)
          })

          it('echoes 1 MiB', async () => {
            const r = await js.cmd('echo', { addr: ourAddr(), size: MIB })
            assert.equal(r.bytes, MIB)
          })

          it('serves 100 concurrent streams', async () => {
            const r = await js.cmd('streams', { addr: ourAddr(), count: 100, size: 4096 })
            assert.equal(r.streams, 100)
          })

          it('half-closes: we read to EOF then answer', async () => {
            const r = await js.cmd('halfclose', { addr: ourAddr(), size: 100_000 })
            assert.equal(r.counted, 100_000)
          })

          it('our reset reaches the js side as an error', async () => {
            const r = await js.cmd('reset', { addr: ourAddr() })
            assert.ok(typeof r.error === 'string' && r.error.length > 0)
          })
        })
      })
    }
  }
})
