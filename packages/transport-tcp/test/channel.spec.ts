import assert from 'node:assert/strict'
import net from 'node:net'
import { multiaddr } from '@multiformats/multiaddr'
import { StreamStateError } from '@peerkit/interfaces'
import { ByteStream, claimByteChannel } from '@peerkit/utils'
import { Uint8ArrayList } from 'uint8arraylist'
import { tcp } from '../src/index.js'
import { delay, trackedPairs, waitFor } from './helpers.js'
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
    const chunk = Buffer.alloc(1024 * 1024)
    let accepted = true
    for (let i = 0; i < 64 && accepted; i++) accepted = channel.write(chunk)
    assert.equal(accepted, false, 'the socket asked to wait')
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

describe('dialled connections reading into the shared buffer', () => {
  const PATTERN_BYTES = 768 * 1024

  function pattern (id: number): Buffer {
    const buf = Buffer.alloc(PATTERN_BYTES)
    for (let i = 0; i < buf.byteLength; i++) buf[i] = (i * 7 + id * 31 + (i >> 11)) & 0xff
    return buf
  }

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
      const received = conns.map(async (conn, id): Promise<Buffer> => {
        if (id % 3 === 0) {
          // The queue: a reader that lags behind, so chunks wait while later reads arrive.
          void conn.sink([Buffer.from([id])])
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
        const receiver: ByteChannelReceiver = id % 3 === 1
          // Keeps what it is given as is: must get chunks of its own.
          ? { onData: (d) => { kept.push(d.subarray()) }, onEnd: () => { done() }, onError: () => { done() }, onDrain: () => {} }
          // Declares transient data and copies it within the call.
          : { transientData: true, onData: (d) => { kept.push(Uint8Array.from(d.subarray())) }, onEnd: () => { done() }, onError: () => { done() }, onDrain: () => {} }
        channel.attach(receiver)
        channel.write(Buffer.from([id]))
        await ended
        return Buffer.concat(kept)
      })
      const all = await Promise.all(received)
      all.forEach((bytes, id) => { assert.ok(bytes.equals(pattern(id)), `connection ${id} got its own ${PATTERN_BYTES} bytes`) })
      await Promise.all(conns.map(async c => { c.abort(new Error('done')) }))
    } finally {
      server.close()
    }
  })
})
