import assert from 'node:assert/strict'
import { StreamStateError } from '@peerkit/interfaces'
import { ByteStream, claimByteChannel } from '@peerkit/utils'
import { Uint8ArrayList } from 'uint8arraylist'
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
