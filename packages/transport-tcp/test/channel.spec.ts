import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import net from 'node:net'
import { multiaddr } from '@multiformats/multiaddr'
import { StreamStateError } from '@peerkit/interfaces'
import { ByteStream, claimByteChannel } from '@peerkit/utils'
import { Uint8ArrayList } from 'uint8arraylist'
import { adoptSharedRead, sharedReadOption, tcp } from '../src/index.js'
import { delay, socketPair, trackedPairs, waitFor } from './helpers.js'
import type { ByteChannel, ByteChannelReceiver, MultiaddrConnection } from '@peerkit/interfaces'

interface Recorder extends ByteChannelReceiver {
  bytes: () => Buffer
  events: string[]
  errors: Error[]
}

function recorder (): Recorder {
  const parts: Buffer[] = []
  const events: string[] = []
  const errors: Error[] = []
  return {
    bytes: () => Buffer.concat(parts),
    events,
    errors,
    onData: (d) => { parts.push(Buffer.from(d.subarray())) },
    onEnd: () => { events.push('end') },
    onError: (err) => { events.push('error'); errors.push(err) },
    onDrain: () => { events.push('drain') }
  }
}

/** Writes 1 MiB chunks (at most 64) until the channel asks to wait; returns its last answer. */
function writeUntilRefused (channel: ByteChannel): boolean {
  const chunk = Buffer.alloc(1024 * 1024)
  let accepted = true
  for (let i = 0; i < 64 && accepted; i++) accepted = channel.write(chunk)
  return accepted
}

describe('TCP connection byte channel', () => {
  const setup = trackedPairs()

  function claim (conn: MultiaddrConnection): ByteChannel {
    const channel = claimByteChannel(conn)
    assert.ok(channel != null, 'the connection offers a byte channel')
    return channel
  }

  it('delivers what arrived before attach first, then each chunk as it arrives, and the remote FIN', async () => {
    const { conn, peer } = await setup()
    peer.write('early ')
    await delay(20)
    const channel = claim(conn)
    const r = recorder()
    channel.attach(r)
    assert.equal(r.bytes().toString(), 'early ', 'queued bytes are delivered within attach()')
    peer.end('late')
    await waitFor(() => r.events.includes('end'))
    assert.equal(r.bytes().toString(), 'early late')
    assert.deepEqual(r.events, ['end'])
  })

  it('writes Uint8Arrays and lists in order and end() half-closes after flushing', async () => {
    const { conn, peer } = await setup()
    const channel = claim(conn)
    channel.attach(recorder())
    const received: Buffer[] = []
    peer.on('data', (b: Buffer) => received.push(b))
    const ended = new Promise<void>(resolve => peer.once('end', resolve))
    assert.equal(channel.write(Buffer.from('a')), true)
    channel.write(new Uint8ArrayList(Buffer.from('b'), Buffer.from('c')))
    await channel.end()
    await ended
    assert.equal(Buffer.concat(received).toString(), 'abc')
  })

  it('end() resolves once every byte is in the kernel, without waiting for libuv to queue the FIN; with bytes still buffered it waits for them', async () => {
    const { conn, client, peer } = await setup()
    const channel = claim(conn)
    channel.attach(recorder())
    const received: Buffer[] = []
    peer.on('data', (b: Buffer) => received.push(b))
    const ended = new Promise<void>(resolve => peer.once('end', resolve))
    channel.write(Buffer.from('abc'))
    await channel.end()
    assert.equal(client.writableFinished, false, 'end() waited for the shutdown to complete')
    // The FIN still follows what was written.
    await ended
    assert.equal(Buffer.concat(received).toString(), 'abc')

    const slow = await setup()
    slow.peer.pause()
    const blocked = claim(slow.conn)
    blocked.attach(recorder())
    assert.equal(writeUntilRefused(blocked), false, 'the socket asked to wait')
    let done = false
    const ending = blocked.end().then(() => { done = true })
    await delay(50)
    assert.equal(done, false, 'end() resolved while bytes were still in our buffer')
    slow.peer.resume()
    await ending
    assert.equal(slow.client.writableLength, 0)
  })

  it('write(data, release) calls release once, only after the socket has written every byte of data', async () => {
    const { conn, client, peer } = await setup()
    const channel = claim(conn)
    channel.attach(recorder())
    peer.pause()
    // More than the kernel's buffers on both ends take: the socket keeps the rest until the peer reads.
    const big = randomBytes(32 * 1024 * 1024)
    const pieces = [randomBytes(100), randomBytes(5 * 1024 * 1024), randomBytes(1000)]
    const released: string[] = []
    channel.write(big, () => { released.push('big') })
    channel.write(new Uint8ArrayList(...pieces), () => { released.push('list') })
    await delay(50)
    assert.ok(client.writableLength > 0, 'bytes still wait in the socket')
    assert.deepEqual(released, [], 'nothing is released while the socket still holds it')

    const received: Buffer[] = []
    peer.on('data', (b: Buffer) => received.push(b))
    peer.resume()
    await waitFor(() => released.length === 2)
    // In the order of the writes, once each; the peer got every byte.
    assert.deepEqual(released, ['big', 'list'])
    const expected = Buffer.concat([big, ...pieces])
    await waitFor(() => received.reduce((n, b) => n + b.byteLength, 0) >= expected.byteLength)
    assert.ok(Buffer.concat(received).equals(expected))
    await delay(20)
    assert.deepEqual(released, ['big', 'list'])
  })

  it('write(data, release) on a connection destroyed with the bytes unsent: released once, never twice; a write after that is dropped', async () => {
    const { conn, client, peer } = await setup()
    const channel = claim(conn)
    const r = recorder()
    channel.attach(r)
    peer.pause()
    let released = 0
    channel.write(randomBytes(32 * 1024 * 1024), () => { released++ })
    await delay(20)
    assert.equal(released, 0)
    client.destroy()
    await waitFor(() => released === 1)
    let late = 0
    assert.equal(channel.write(randomBytes(8192), () => { late++ }), true, 'dropped, not refused')
    await delay(50)
    assert.equal(released, 1)
    assert.equal(late, 0, 'bytes that were never handed to the socket are simply the writer\'s again')
    assert.equal(r.events.length, 1, 'the receiver heard of the end once')
  })

  it('a claimed connection refuses its duplex: source and sink fail with StreamStateError', async () => {
    const { conn } = await setup()
    claim(conn)
    await assert.rejects(conn.source.next(), StreamStateError)
    await assert.rejects(conn.sink([Uint8Array.of(1)]), StreamStateError)
    assert.equal(claimByteChannel(conn), undefined, 'a channel is claimed once')
  })

  it('is not offered while a read waits on the source', async () => {
    const { conn, peer } = await setup()
    const pending = conn.source.next()
    await delay(5)
    assert.equal(claimByteChannel(conn), undefined)
    peer.write('x')
    const r = await pending
    assert.equal(Buffer.from(r.value as Uint8Array).toString(), 'x')
  })

  it('takes over from a handshake sink waiting for its next chunk, without ending our side', async () => {
    const { conn, peer } = await setup()
    const received: Buffer[] = []
    peer.on('data', (b: Buffer) => received.push(b))
    let peerEnded = false
    peer.on('end', () => { peerEnded = true })
    // A handshake writes through a ByteStream (the sink keeps running, waiting for more) and reads
    // one message; the bytes the peer sent behind it are handed to the channel first.
    const bs = new ByteStream(conn)
    await bs.write(Buffer.from('hello'))
    peer.write('ok+rest')
    assert.equal(Buffer.from((await bs.read(3)).subarray()).toString(), 'ok+')
    const channel = claimByteChannel(bs.unwrap())
    assert.ok(channel != null)
    const r = recorder()
    channel.attach(r)
    assert.equal(r.bytes().toString(), 'rest')
    channel.write(Buffer.from(' world'))
    await waitFor(() => Buffer.concat(received).toString() === 'hello world')
    await delay(20)
    assert.equal(peerEnded, false, 'stopping the handshake sink did not end our side')
    peer.write('!')
    await waitFor(() => r.bytes().toString() === 'rest!')
  })

  it('reports backpressure: write() returns false when the socket buffer is full and onDrain follows', async () => {
    const { conn, peer } = await setup()
    peer.pause()
    const channel = claim(conn)
    const r = recorder()
    channel.attach(r)
    assert.equal(writeUntilRefused(channel), false, 'the socket asked to wait')
    peer.resume()
    await waitFor(() => r.events.includes('drain'), 5_000, 'drain')
  })

  it('a reset by the remote reaches the receiver as onError, once', async () => {
    const { conn, peer } = await setup()
    const channel = claim(conn)
    const r = recorder()
    channel.attach(r)
    peer.resetAndDestroy()
    await waitFor(() => r.events.length > 0)
    await delay(20)
    assert.deepEqual(r.events, ['error'])
    assert.match((r.errors[0] as NodeJS.ErrnoException).code ?? '', /ECONNRESET|EPIPE/)
    // Writes after the failure are dropped, not thrown; end() rejects with the failure.
    assert.equal(channel.write(Buffer.from('late')), true)
    await assert.rejects(channel.end())
  })

  it('abort() reaches the receiver as onError with the abort error', async () => {
    const { conn } = await setup()
    const channel = claim(conn)
    const r = recorder()
    channel.attach(r)
    conn.abort(new Error('local abort'))
    assert.deepEqual(r.events, ['error'])
    assert.equal(r.errors[0].message, 'local abort')
  })

  it('close() while attached ends the receiver and closes the socket', async () => {
    const { conn, peer } = await setup()
    const channel = claim(conn)
    const r = recorder()
    channel.attach(r)
    peer.on('end', () => { peer.end() })
    await conn.close()
    assert.deepEqual(r.events, ['end'])
  })
})

const PATTERN_BYTES = 768 * 1024

/** Bytes unique to connection `id`, so that a chunk delivered to the wrong connection shows. */
function pattern (id: number): Buffer {
  const buf = Buffer.alloc(PATTERN_BYTES)
  for (let i = 0; i < buf.byteLength; i++) buf[i] = (i * 7 + id * 31 + (i >> 11)) & 0xff
  return buf
}

/**
 * Everything `conn` receives, read in one of three ways (`kind`): 0, through `source` by a reader
 * that lags behind, so chunks wait while later reads arrive; 1, through the byte channel by a
 * receiver that keeps what it is given as is (it must get chunks of its own); 2, through the byte
 * channel by a receiver that declares transient data and copies it within the call. `greeting`,
 * if given, is written first.
 */
async function receive (conn: MultiaddrConnection, kind: number, greeting?: Uint8Array): Promise<Buffer> {
  if (kind === 0) {
    if (greeting != null) void conn.sink([greeting])
    const parts: Uint8Array[] = []
    for await (const chunk of conn.source) {
      parts.push(chunk.subarray())
      if (parts.length % 5 === 0) await delay(2)
    }
    return Buffer.concat(parts)
  }
  const channel = claimByteChannel(conn)
  assert.ok(channel != null)
  const kept: Uint8Array[] = []
  let done!: () => void
  const ended = new Promise<void>(resolve => { done = resolve })
  const receiver: ByteChannelReceiver = kind === 1
    ? { onData: (d) => { kept.push(d.subarray()) }, onEnd: () => { done() }, onError: () => { done() }, onDrain: () => {} }
    : { transientData: true, onData: (d) => { kept.push(Uint8Array.from(d.subarray())) }, onEnd: () => { done() }, onError: () => { done() }, onDrain: () => {} }
  channel.attach(receiver)
  if (greeting != null) channel.write(greeting)
  await ended
  return Buffer.concat(kept)
}

describe('dialled connections reading into the shared buffer', () => {
  /** A server that reads one id byte per connection, then sends that connection's pattern in pieces and ends. */
  async function patternServer (): Promise<{ server: net.Server, addr: ReturnType<typeof multiaddr> }> {
    const server = net.createServer({ allowHalfOpen: true }, socket => {
      socket.on('error', () => {})
      socket.once('data', (first: Buffer) => {
        const data = pattern(first[0])
        void (async () => {
          for (let off = 0; off < data.byteLength; off += 7000) {
            if (!socket.write(data.subarray(off, off + 7000))) await new Promise(resolve => socket.once('drain', resolve))
            if (off % 70_000 === 0) await delay(1)
          }
          socket.end()
        })()
      })
    })
    await new Promise<void>(resolve => server.listen({ host: '127.0.0.1', port: 0 }, resolve))
    return { server, addr: multiaddr(`/ip4/127.0.0.1/tcp/${(server.address() as net.AddressInfo).port}`) }
  }

  it('gives every connection its own bytes: slow readers of the source, channels that keep chunks, channels that take transient data', async function () {
    this.timeout(20_000)
    const { server, addr } = await patternServer()
    const transport = tcp()
    try {
      const conns = await Promise.all(Array.from({ length: 6 }, async () => transport.dial(addr)))
      const all = await Promise.all(conns.map(async (conn, id) => receive(conn, id % 3, Buffer.from([id]))))
      all.forEach((bytes, id) => { assert.ok(bytes.equals(pattern(id)), `connection ${id} got its own ${PATTERN_BYTES} bytes`) })
      await Promise.all(conns.map(async c => { c.abort(new Error('done')) }))
    } finally {
      server.close()
    }
  })
  /**
   * Dials a server that writes `data` at once, and ends, while its event loop is busy (so the
   * kernel queues a backlog), and hands every chunk read to `onData` of a channel receiver with
   * the given `transientData`, until the end of the stream.
   */
  async function readBacklog (data: Uint8Array, transientData: boolean, onData: (d: Uint8Array | Uint8ArrayList) => void): Promise<void> {
    const server = net.createServer({ allowHalfOpen: true }, socket => {
      socket.on('error', () => {})
      socket.write(data)
      // Keep the event loop busy while the kernel queues the bytes for the reader.
      const until = Date.now() + 50
      while (Date.now() < until) { /* busy */ }
      socket.end()
    })
    await new Promise<void>(resolve => server.listen({ host: '127.0.0.1', port: 0 }, resolve))
    try {
      const conn = await tcp().dial(multiaddr(`/ip4/127.0.0.1/tcp/${(server.address() as net.AddressInfo).port}`))
      const channel = claimByteChannel(conn)
      assert.ok(channel != null)
      await new Promise<void>((resolve, reject) => {
        channel.attach({ transientData, onData, onEnd: resolve, onError: reject, onDrain: () => {} })
      })
      conn.abort(new Error('done'))
    } finally {
      server.close()
    }
  }

  it('reads a backlog in reads larger than the 64 KiB Node reads into by default', async function () {
    this.timeout(10_000)
    const backlog = 1024 * 1024
    const reads: number[] = []
    await readBacklog(Buffer.alloc(backlog, 7), true, (d) => { reads.push(d.byteLength) })
    assert.equal(reads.reduce((a, b) => a + b, 0), backlog)
    const largest = Math.max(...reads)
    assert.ok(largest > 64 * 1024, `a read larger than 64 KiB (largest ${largest} of ${reads.length} reads)`)
    assert.ok(largest <= sharedReadOption().buffer.byteLength, 'no read larger than the shared buffer')
  })

  it('hands a receiver that keeps its data copies of at most 64 KiB, each in a buffer of its own', async function () {
    this.timeout(10_000)
    const sent = pattern(5)
    const kept: Uint8Array[] = []
    await readBacklog(sent, false, (d) => { assert.ok(d instanceof Uint8Array, 'a contiguous chunk'); kept.push(d) })
    // Read after the last chunk arrived: a chunk that were a view of the shared buffer would
    // have been overwritten by the reads after it.
    assert.ok(Buffer.concat(kept).equals(sent), `all ${sent.byteLength} bytes, intact, in ${kept.length} chunks`)
    assert.ok(kept.length > sent.byteLength / (64 * 1024), `${kept.length} chunks`)
    for (const chunk of kept) {
      assert.ok(chunk.byteLength <= 64 * 1024, `a chunk of ${chunk.byteLength} bytes`)
      assert.notEqual(chunk.buffer, sharedReadOption().buffer.buffer, 'a chunk in the shared buffer')
      if (chunk.byteLength >= 4096) assert.equal(chunk.buffer.byteLength, chunk.byteLength, 'a long chunk has a buffer of its own')
    }
  })
})

describe('accepted connections reading into the shared buffer', () => {
  /** Sends one id byte then that id's pattern in pieces, from a plain socket, and ends. */
  async function sendPattern (port: number, id: number): Promise<net.Socket> {
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true })
    socket.on('error', () => {})
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
    const data = Buffer.concat([Buffer.from([id]), pattern(id)])
    void (async () => {
      for (let off = 0; off < data.byteLength; off += 9000) {
        if (!socket.write(data.subarray(off, off + 9000))) await new Promise(resolve => socket.once('drain', resolve))
        if (off % 90_000 === 0) await delay(1)
      }
      socket.end()
    })()
    return socket
  }

  it('gives every accepted connection its own bytes, however it is read', async function () {
    this.timeout(20_000)
    const listener = tcp().createListener({})
    const accepted: Array<Promise<{ id: number, bytes: Buffer }>> = []
    listener.addEventListener('connection', (evt) => {
      const conn = (evt as CustomEvent<MultiaddrConnection>).detail
      accepted.push((async () => {
        const kind = accepted.length % 3
        const bytes = await receive(conn, kind)
        return { id: bytes[0], bytes: bytes.subarray(1) }
      })())
    })
    await listener.listen(multiaddr('/ip4/127.0.0.1/tcp/0'))
    const port = Number(listener.getAddrs()[0].getComponents()[1].value)
    const clients: net.Socket[] = []
    try {
      for (let id = 0; id < 6; id++) clients.push(await sendPattern(port, id))
      await waitFor(() => accepted.length === 6, 5_000, 'six accepted connections')
      const results = await Promise.all(accepted)
      assert.deepEqual(results.map(r => r.id).sort(), [0, 1, 2, 3, 4, 5])
      for (const { id, bytes } of results) assert.ok(bytes.equals(pattern(id)), `connection ${id} got its own ${PATTERN_BYTES} bytes`)
    } finally {
      clients.forEach(c => c.destroy())
      await listener.close({ closeConnections: true })
    }
  })

  /** The distinct ArrayBuffers a transient receiver was handed over the connections of `init`. */
  async function readBuffers (init: { sharedReadBuffer?: boolean }): Promise<{ reads: number, buffers: Set<ArrayBufferLike> }> {
    const transport = tcp(init)
    const listener = transport.createListener({})
    const buffers = new Set<ArrayBufferLike>()
    let reads = 0
    const ends: Array<Promise<void>> = []
    listener.addEventListener('connection', (evt) => {
      const channel = claimByteChannel((evt as CustomEvent<MultiaddrConnection>).detail)
      assert.ok(channel != null)
      ends.push(new Promise<void>(resolve => {
        channel.attach({ transientData: true, onData: (d) => { reads++; buffers.add(d.subarray().buffer) }, onEnd: resolve, onError: () => { resolve() }, onDrain: () => {} })
      }))
    })
    await listener.listen(multiaddr('/ip4/127.0.0.1/tcp/0'))
    const port = Number(listener.getAddrs()[0].getComponents()[1].value)
    try {
      const clients = await Promise.all([0, 1].map(async id => sendPattern(port, id)))
      await waitFor(() => ends.length === 2, 5_000, 'two accepted connections')
      await Promise.all(ends)
      clients.forEach(c => c.destroy())
    } finally {
      await listener.close({ closeConnections: true })
    }
    return { reads, buffers }
  }

  it('reads every accepted socket into the one shared buffer, and into buffers of their own with sharedReadBuffer: false', async function () {
    this.timeout(20_000)
    const shared = await readBuffers({})
    assert.ok(shared.reads > 4, `several reads (${shared.reads})`)
    assert.deepEqual([...shared.buffers], [sharedReadOption().buffer.buffer], 'all reads of both connections went to the shared buffer')
    const own = await readBuffers({ sharedReadBuffer: false })
    assert.ok(own.reads > 4, `several reads (${own.reads})`)
    assert.ok(!own.buffers.has(sharedReadOption().buffer.buffer), 'no read went to the shared buffer')
    assert.ok(own.buffers.size > 1, 'reads got buffers of their own')
  })

  it('adoptSharedRead leaves alone a socket that already reads into a buffer of its caller, or was read from', async () => {
    const { client, server } = await socketPair()
    try {
      const mine = net.connect({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port, onread: { buffer: Buffer.alloc(16), callback: () => true } })
      mine.on('error', () => {})
      assert.equal(adoptSharedRead(mine), false, 'a socket made with onread keeps its own buffer')
      mine.destroy()
      client.write('x')
      await new Promise(resolve => server.once('data', resolve))
      assert.equal(adoptSharedRead(server), false, 'a socket that was read from is not changed under its reader')
      const fresh = await socketPair()
      fresh.server.destroy()
      assert.equal(adoptSharedRead(fresh.server), false, 'nor is a destroyed one')
      fresh.client.destroy()
    } finally {
      client.destroy()
      server.destroy()
    }
  })
})
