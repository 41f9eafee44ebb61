import '../src/polyfill.js'
import assert from 'node:assert/strict'
import { DaemonClient, DaemonResponseError } from '@peerkit/daemon'
import { createJsDaemon } from '../src/js-daemon.js'
import { daemonArgs, startPeerkitDaemon } from '../src/peerkit-daemon.js'
import type { PeerkitDaemonProcess } from '../src/peerkit-daemon.js'
import type { Daemon } from '@libp2p/interop'
import type { Multiaddr } from '@multiformats/multiaddr'

/** Reads `length` bytes of text from `source` (fewer if it ends first). */
async function readText (source: AsyncIterable<Uint8Array>, length: number): Promise<string> {
  const chunks: Uint8Array[] = []
  let n = 0
  for await (const chunk of source) {
    chunks.push(chunk)
    n += chunk.byteLength
    if (n >= length) break
  }
  return new TextDecoder().decode(Buffer.concat(chunks))
}

/** Yields `chunks`, then holds the write side open until `done` settles. */
async function * untilDone (chunks: Uint8Array[], done: Promise<unknown>): AsyncGenerator<Uint8Array> {
  yield * chunks
  await done.catch(() => {})
}

/** peerkit's DaemonClient driving js-libp2p's daemon (@libp2p/daemon-server), and ours. */
describe('DaemonClient against js-libp2p\'s daemon server', function () {
  this.timeout(30_000)
  let js: Daemon & { controlAddr: Multiaddr }
  let ours: PeerkitDaemonProcess
  let jsClient: DaemonClient
  let ourClient: DaemonClient

  before(async () => {
    js = await createJsDaemon({ type: 'js', encryption: 'noise', muxer: 'yamux' })
    ours = await startPeerkitDaemon(daemonArgs({ type: 'go', encryption: 'noise', muxer: 'yamux' }))
    jsClient = new DaemonClient(js.controlAddr)
    ourClient = new DaemonClient(ours.controlAddr)
  })

  after(async () => {
    await jsClient?.close()
    await ourClient?.close()
    await js?.stop()
    assert.equal(await ours?.stop(), 0)
  })

  it('identify, connect and listPeers', async () => {
    const jsId = await jsClient.identify()
    const ourId = await ourClient.identify()
    assert.equal(ourId.peerId.toString(), ours.peerId)
    assert.ok(jsId.addrs.length > 0)
    await ourClient.connect(jsId.peerId, jsId.addrs)
    assert.deepEqual((await ourClient.listPeers()).map(p => p.id.toString()), [jsId.peerId.toString()])
    assert.ok((await jsClient.listPeers()).some(p => p.id.equals(ourId.peerId)))
  })

  // js-libp2p's daemon cannot half-close its sockets (an end of input closes the whole stream), so
  // these exchanges keep the write side open until the reply has arrived.
  it('registerStreamHandler on the js daemon, openStream from ours', async () => {
    const message = 'hello js daemon'
    const got = new Promise<string>((resolve, reject) => {
      void jsClient.registerStreamHandler('/test/client/1.0.0', async (stream) => {
        const text = await readText(stream.source, message.length)
        resolve(`${stream.info.protocol} from ${stream.info.peer.toString()}: ${text}`)
        await stream.sink([new TextEncoder().encode('ack')])
      }).catch(reject)
    })
    const jsId = await jsClient.identify()
    let stream
    for (let i = 0; i < 50 && stream == null; i++) {
      stream = await ourClient.openStream(jsId.peerId, '/test/client/1.0.0').catch(async () => { await new Promise(resolve => setTimeout(resolve, 20)) })
    }
    assert.ok(stream != null)
    assert.equal(stream.info.protocol, '/test/client/1.0.0')
    const reply = readText(stream.source, 3)
    void stream.sink(untilDone([new TextEncoder().encode(message)], reply))
    assert.equal(await got, `/test/client/1.0.0 from ${ours.peerId}: ${message}`)
    assert.equal(await reply, 'ack')
    stream.abort(new Error('done'))
  })

  it('openStream on the js daemon to a handler of ours', async () => {
    await ourClient.registerStreamHandler('/test/client/2.0.0', async (stream) => { await stream.sink(stream.source) })
    const stream = await jsClient.openStream((await ourClient.identify()).peerId, '/test/client/2.0.0')
    const reply = readText(stream.source, 'round trip'.length)
    void stream.sink(untilDone([new TextEncoder().encode('round trip')], reply))
    assert.equal(await reply, 'round trip')
    stream.abort(new Error('done'))
  })

  it('reports the js daemon\'s ERROR answers as DaemonResponseError', async () => {
    // js-libp2p's daemon has no DISCONNECT.
    await assert.rejects(jsClient.disconnect((await ourClient.identify()).peerId),
      (err: Error) => err instanceof DaemonResponseError && err.requestType === 'DISCONNECT' && /ERR_INVALID_REQUEST_TYPE/.test(err.daemonMessage))
    // And no DHT here.
    const response = await jsClient.request({ type: 'DHT' as never, dht: { type: 'GET_VALUE' as never, key: new Uint8Array([1]) } })
    assert.equal(response.type, 'ERROR')
    assert.match(response.error?.msg ?? '', /DHT not configured/)
  })
})
