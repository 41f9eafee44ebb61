import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { Uint8ArrayList } from 'uint8arraylist'
import { toMultiaddrConnection } from '../src/index.js'
import { delay, socketPair, trackedPairs, waitFor } from './helpers.js'
import type { MultiaddrConnection } from '@peerkit/interfaces'
import type net from 'node:net'

const REMOTE = multiaddr('/ip4/127.0.0.1/tcp/1')

function bytes (chunk: Uint8Array | Uint8ArrayList): Uint8Array {
  return chunk instanceof Uint8Array ? chunk : chunk.subarray()
}

async function readAll (conn: MultiaddrConnection): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const chunk of conn.source) parts.push(bytes(chunk))
  return Buffer.concat(parts)
}

/** Collects what the plain peer socket receives until it sees our FIN. */
async function peerReceives (peer: net.Socket): Promise<Buffer> {
  const parts: Buffer[] = []
  peer.on('data', (b: Buffer) => parts.push(b))
  await new Promise<void>(resolve => peer.once('end', resolve))
  return Buffer.concat(parts)
}

describe('toMultiaddrConnection', () => {
  const pair = trackedPairs()
  const { conns, peers } = pair

  it('validates its options', async () => {
    const { client, server } = await socketPair()
    for (const bad of [{ closeTimeout: -1 }, { inactivityTimeout: Number.NaN }, { maxReadBufferBytes: 0 }, { keepAliveInitialDelay: -5 }]) {
      assert.throws(() => toMultiaddrConnection(client, { remoteAddr: REMOTE, direction: 'outbound', ...bad }), { name: 'InvalidParametersError' }, JSON.stringify(bad))
    }
    client.destroy()
    server.destroy()
    await delay(5)
    assert.throws(() => toMultiaddrConnection(client, { remoteAddr: REMOTE, direction: 'outbound' }), { name: 'ConnectionClosedError' })
  })

  it('applies noDelay and keep-alive (defaults: on, 60 s initial delay)', async () => {
    const calls: unknown[][] = []
    const { client, server } = await socketPair()
    peers.push(server)
    client.setNoDelay = ((v: boolean) => { calls.push(['noDelay', v]); return client }) as typeof client.setNoDelay
    client.setKeepAlive = ((v: boolean, d: number) => { calls.push(['keepAlive', v, d]); return client }) as typeof client.setKeepAlive
    conns.push(toMultiaddrConnection(client, { remoteAddr: REMOTE, direction: 'outbound' }))
    assert.deepEqual(calls, [['noDelay', true], ['keepAlive', true, 60_000]])
    calls.length = 0
    const other = await socketPair()
    peers.push(other.server)
    other.client.setNoDelay = client.setNoDelay
    other.client.setKeepAlive = client.setKeepAlive
    conns.push(toMultiaddrConnection(other.client, { remoteAddr: REMOTE, direction: 'inbound', noDelay: false, keepAlive: false, keepAliveInitialDelay: 5 }))
    assert.deepEqual(calls, [['noDelay', false], ['keepAlive', false, 5]])
  })

  it('writes the parts of a Uint8ArrayList as they are, in one corked batch', async () => {
    const { conn, client, peer } = await pair()
    const written: Uint8Array[] = []
    let corks = 0
    const write = client.write.bind(client)
    const cork = client.cork.bind(client)
    client.write = ((chunk: Uint8Array) => { written.push(chunk); return write(chunk) }) as typeof client.write
    client.cork = () => { corks++; cork() }
    const parts = [Uint8Array.of(1, 2), Uint8Array.of(3), Uint8Array.of(4, 5, 6)]
    const received = peerReceives(peer)
    await conn.sink([new Uint8ArrayList(...parts), Uint8Array.of(7)])
    assert.equal(written.length, 4)
    for (let i = 0; i < parts.length; i++) assert.equal(written[i], parts[i], `part ${i} was copied`)
    assert.equal(corks, 1)
    assert.deepEqual([...await received], [1, 2, 3, 4, 5, 6, 7])
  })

  it('pauses the socket while more than maxReadBufferBytes wait unread and resumes as they are read', async () => {
    const limit = 16 * 1024
    const { conn, client, peer } = await pair({ maxReadBufferBytes: limit })
    const payload = Buffer.alloc(4 * 1024 * 1024, 0xab)
    peer.end(payload)
    await waitFor(() => client.isPaused(), 2_000, 'the socket pausing')
    // While nobody reads, the socket stays paused and the peer cannot finish writing.
    await delay(50)
    assert.equal(client.isPaused(), true)
    assert.ok(peer.writableLength > 0, 'the peer got rid of everything although we read nothing')
    const got = await readAll(conn)
    assert.equal(got.byteLength, payload.byteLength)
    assert.ok(got.every(b => b === 0xab))
  })

  it('delivers everything with a one-byte read buffer', async () => {
    const { conn, peer } = await pair({ maxReadBufferBytes: 1 })
    const payload = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251))
    peer.end(payload)
    assert.ok((await readAll(conn)).equals(payload))
  })

  it('aborts an idle connection after inactivityTimeout with a TimeoutError', async () => {
    const { conn, peer } = await pair({ inactivityTimeout: 80 })
    const peerClosed = new Promise<NodeJS.ErrnoException | undefined>(resolve => {
      peer.once('error', resolve)
      peer.once('close', () => { resolve(undefined) })
    })
    const started = Date.now()
    await assert.rejects(readAll(conn), (err: Error & { timeoutMs?: number }) => {
      assert.equal(err.name, 'TimeoutError')
      assert.equal(err.timeoutMs, 80)
      return true
    })
    assert.ok(Date.now() - started >= 70)
    assert.notEqual(conn.timeline.close, undefined)
    const peerErr = await peerClosed
    assert.equal(peerErr?.code, 'ECONNRESET', 'the peer sees a reset')
  })

  it('keeps a connection with traffic alive past inactivityTimeout', async () => {
    const { conn, peer } = await pair({ inactivityTimeout: 100 })
    const reading = readAll(conn)
    for (let i = 0; i < 6; i++) {
      peer.write(Uint8Array.of(i))
      await delay(40)
    }
    peer.end()
    assert.deepEqual([...await reading], [0, 1, 2, 3, 4, 5])
  })

  it('destroys the socket after closeTimeout when the remote never reads', async () => {
    const { conn, client, peer } = await pair({ closeTimeout: 150 })
    peer.pause()
    let pulled = 0
    const sink = conn.sink((function * () {
      while (true) {
        pulled += 65536
        yield new Uint8Array(65536)
      }
    })())
    await waitFor(() => pulled > 0)
    await delay(50)
    const started = Date.now()
    await conn.close()
    const took = Date.now() - started
    assert.ok(took >= 140 && took < 1_000, `close took ${took}ms`)
    assert.equal(client.destroyed, true)
    await sink
    assert.notEqual(conn.timeline.close, undefined)
  })

  it('close({ waitForRemote: false }) resolves once our FIN is out; the socket closes when the remote ends, and close() waits for that', async () => {
    const { conn, client, peer } = await pair({ closeTimeout: 10_000 })
    const received = peerReceives(peer)
    void conn.sink([Uint8Array.of(1, 2, 3)]).catch(() => {})
    const started = Date.now()
    await conn.close({ waitForRemote: false })
    assert.ok(Date.now() - started < 5_000, `close({ waitForRemote: false }) took ${Date.now() - started}ms`)
    // Everything we wrote and our FIN reach the remote, which has not ended its side yet.
    assert.deepEqual([...await received], [1, 2, 3])
    assert.equal(client.writableFinished, true)
    assert.equal(client.destroyed, false, 'the socket waits for the remote to end its side')
    assert.equal(conn.timeline.close, undefined)
    // Data the remote still sends is taken and dropped, not refused with a reset.
    const peerError = new Promise<Error | undefined>(resolve => {
      peer.once('error', resolve)
      peer.once('close', () => { resolve(undefined) })
    })
    peer.write(new Uint8Array(100_000))
    let fullyClosed = false
    const full = conn.close().then(() => { fullyClosed = true })
    await delay(30)
    assert.equal(fullyClosed, false, 'close() without the option resolved before the remote ended its side')
    peer.end()
    await full
    assert.equal(client.destroyed, true)
    assert.notEqual(conn.timeline.close, undefined)
    assert.equal(await peerError, undefined, 'the remote saw an error instead of a clean end')
  })

  it('close({ waitForRemote: false }) does not wait for libuv to queue the FIN once every byte is in the kernel', async () => {
    const { conn, client, peer } = await pair({ closeTimeout: 10_000 })
    const received = peerReceives(peer)
    // The sink writes (the kernel takes the bytes at once) and ends our side before it returns.
    const sunk = conn.sink([Uint8Array.of(1, 2, 3)])
    await conn.close({ waitForRemote: false })
    assert.equal(client.writableLength, 0)
    assert.equal(client.writableFinished, false, 'close({ waitForRemote: false }) waited for the shutdown to complete')
    // The FIN still follows what was written.
    assert.deepEqual([...await received], [1, 2, 3])
    await sunk
  })

  it('close({ waitForRemote: false }) is bounded by closeTimeout when our bytes cannot leave', async () => {
    const { conn, client, peer } = await pair({ closeTimeout: 150 })
    peer.pause()
    let pulled = 0
    void conn.sink((function * () {
      while (true) {
        pulled += 65536
        yield new Uint8Array(65536)
      }
    })()).catch(() => {})
    await waitFor(() => pulled > 0)
    await delay(50)
    const started = Date.now()
    await conn.close({ waitForRemote: false })
    const took = Date.now() - started
    assert.ok(took >= 140 && took < 1_000, `close took ${took}ms`)
    assert.equal(client.destroyed, true)
  })

  it('close() rejects with AbortError and resets the connection when its signal aborts', async () => {
    const { conn, client, peer } = await pair({ closeTimeout: 60_000 })
    peer.pause()
    void conn.sink((function * () { while (true) yield new Uint8Array(65536) })()).catch(() => {})
    await delay(30)
    const controller = new AbortController()
    const closing = conn.close({ signal: controller.signal })
    controller.abort()
    await assert.rejects(closing, { name: 'AbortError' })
    assert.equal(client.destroyed, true)
    assert.notEqual(conn.timeline.close, undefined)
  })

  it('refuses a second sink and non-byte chunks', async () => {
    const { conn, peer } = await pair()
    const received = peerReceives(peer)
    await conn.sink([Uint8Array.of(1)])
    await assert.rejects(conn.sink([Uint8Array.of(2)]), { name: 'StreamStateError' })
    assert.deepEqual([...await received], [1])

    const other = await pair()
    const peerErr = new Promise<NodeJS.ErrnoException>(resolve => other.peer.once('error', resolve))
    other.peer.resume()
    await assert.rejects(other.conn.sink(['not bytes' as unknown as Uint8Array]), { name: 'InvalidParametersError' })
    assert.equal((await peerErr).code, 'ECONNRESET')
  })

  it('aborts the connection when the sink source throws', async () => {
    const { conn, peer } = await pair()
    const peerErr = new Promise<NodeJS.ErrnoException>(resolve => peer.once('error', resolve))
    peer.resume()
    const boom = new Error('source failed')
    const reading = readAll(conn)
    await assert.rejects(conn.sink((async function * () {
      yield Uint8Array.of(1)
      // Let the write complete first: some network stacks turn a reset with a write still in
      // flight into a plain FIN.
      await delay(20)
      throw boom
    })()), err => err === boom)
    await assert.rejects(reading, err => err === boom)
    assert.equal((await peerErr).code, 'ECONNRESET', 'the remote sees a reset, not a clean end')
  })

  it('surfaces a reset by the remote as the socket error', async () => {
    const { conn, peer } = await pair()
    const reading = readAll(conn)
    peer.resetAndDestroy()
    await assert.rejects(reading, (err: NodeJS.ErrnoException) => err.code === 'ECONNRESET')
    await waitFor(() => conn.timeline.close != null)
  })

  it('keeps draining after the reader stops early, so the connection still closes', async () => {
    const { conn, client, peer } = await pair()
    peer.write(Buffer.alloc(1024))
    for await (const chunk of conn.source) {
      assert.ok(bytes(chunk).byteLength > 0)
      break
    }
    // The peer keeps sending into the void, then ends; we end our side too.
    peer.write(Buffer.alloc(512 * 1024))
    peer.end()
    peer.resume()
    await conn.sink([])
    await waitFor(() => client.destroyed, 2_000, 'the socket closing')
    assert.notEqual(conn.timeline.close, undefined)
    const again = await conn.source.next()
    assert.equal(again.done, true)
  })

  it('ends an active reader quietly when a local close has to destroy the socket', async () => {
    const { conn, peer } = await pair({ closeTimeout: 50 })
    const reading = readAll(conn)
    peer.write(Uint8Array.of(1, 2))
    await delay(20)
    await conn.close()
    assert.deepEqual([...await reading], [1, 2])
  })

  it('settles source, sink and timeline exactly once whichever way it ends', async () => {
    // Remote ends, then we end: a clean close without calling close().
    const a = await pair()
    const readA = readAll(a.conn)
    a.peer.end(Uint8Array.of(9))
    await a.conn.sink([Uint8Array.of(8)])
    assert.deepEqual([...await readA], [9])
    await waitFor(() => a.conn.timeline.close != null)
    const closedAt = a.conn.timeline.close
    await a.conn.close()
    a.conn.abort(new Error('late'))
    assert.equal(a.conn.timeline.close, closedAt)

    // Abort while a close is in progress: close resolves, nothing throws twice.
    const b = await pair({ closeTimeout: 60_000 })
    const readB = readAll(b.conn).catch((err: Error) => err)
    const closing = b.conn.close()
    const err = new Error('abort during close')
    b.conn.abort(err)
    await closing
    assert.equal(await readB, err)
  })
})
