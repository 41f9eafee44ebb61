import assert from 'node:assert/strict'
import { createClient } from '@libp2p/daemon-client'
import { ECHO_PROTOCOL } from '../src/index.js'
import { startDaemon } from './fixtures.js'
import type { TestDaemon } from './fixtures.js'
import type { DaemonClient as JsDaemonClient } from '@libp2p/daemon-client'

/** Our daemon server driven by js-libp2p's daemon client (@libp2p/daemon-client). */
describe('DaemonServer with js-libp2p\'s daemon client', function () {
  this.timeout(20_000)
  let a: TestDaemon
  let b: TestDaemon
  let jsA: JsDaemonClient
  let jsB: JsDaemonClient

  before(async () => {
    a = await startDaemon()
    b = await startDaemon({ echo: true })
    jsA = createClient(a.server.getMultiaddr())
    jsB = createClient(b.server.getMultiaddr())
  })

  after(async () => {
    await a?.stop()
    await b?.stop()
  })

  it('identify, connect, listPeers', async () => {
    const idA = await jsA.identify()
    const idB = await jsB.identify()
    assert.equal(idA.peerId.toString(), a.node.id.toString())
    assert.deepEqual(idB.addrs.map(String), b.node.getMultiaddrs().map(m => m.decapsulateCode(421).toString()))
    assert.deepEqual(await jsA.listPeers(), [])
    await jsA.connect(idB.peerId, idB.addrs)
    assert.deepEqual((await jsA.listPeers()).map(String), [idB.peerId.toString()])
  })

  it('openStream to the echo protocol', async () => {
    const idB = await jsB.identify()
    const stream = await jsA.openStream(idB.peerId, ECHO_PROTOCOL)
    const message = new TextEncoder().encode('from the js client')
    // js-libp2p 3 streams emit what arrives as events: iterate before sending. Its TCP
    // connections cannot half-close, so read the echo before closing.
    const reply = (async () => {
      const chunks: Uint8Array[] = []
      let length = 0
      for await (const chunk of stream) {
        chunks.push(chunk.subarray())
        length += chunk.byteLength
        if (length >= message.byteLength) break
      }
      return new TextDecoder().decode(Buffer.concat(chunks))
    })()
    stream.send(message)
    assert.equal(await reply, 'from the js client')
    await stream.close()
  })

  it('registerStreamHandler receives streams opened through our client', async () => {
    const received = new Promise<string>((resolve, reject) => {
      void jsB.registerStreamHandler('/test/js-handler/1.0.0', async (stream) => {
        const chunks: Uint8Array[] = []
        for await (const chunk of stream) chunks.push(chunk.subarray())
        resolve(new TextDecoder().decode(Buffer.concat(chunks)))
        await stream.close()
      }).catch(reject)
    })
    // The js client registers asynchronously: retry until the handler is known.
    let stream
    for (let i = 0; i < 50 && stream == null; i++) {
      stream = await a.client.openStream(b.node.id, '/test/js-handler/1.0.0').catch(async () => { await new Promise(resolve => setTimeout(resolve, 20)) })
    }
    assert.ok(stream != null)
    await stream.sink([new TextEncoder().encode('to the js handler')])
    assert.equal(await received, 'to the js handler')
    await stream.close()
  })

  it('DHT and pubsub calls fail with the daemon\'s message', async () => {
    const idB = await jsB.identify()
    await assert.rejects(jsA.dht.findPeer(idB.peerId), /DHT request FIND_PEER refused: this daemon has no DHT/)
    await assert.rejects(jsA.pubsub.getTopics(), /PUBSUB request GET_TOPICS refused: this daemon has no pubsub/)
  })
})
