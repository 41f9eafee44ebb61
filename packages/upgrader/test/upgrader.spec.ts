import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { noise } from '@peerkit/connection-encrypter-noise'
import { plaintext } from '@peerkit/connection-encrypter-plaintext'
import { generateKeyPair } from '@peerkit/crypto'
import { LimitExceededError, TimeoutError, UnexpectedPeerError, UnsupportedProtocolError } from '@peerkit/interfaces'
import { handle as mssHandle } from '@peerkit/multistream-select'
import { mplex } from '@peerkit/muxer-mplex'
import { yamux } from '@peerkit/muxer-yamux'
import { peerIdFromPrivateKey } from '@peerkit/peer-id'
import { tcp } from '@peerkit/transport-tcp'
import { Uint8ArrayList } from 'uint8arraylist'
import { Upgrader } from '../src/index.js'
import type { UpgraderInit } from '../src/index.js'
import type { Connection, ConnectionEncrypterFactory, MultiaddrConnection, PeerId, PrivateKey, Registrar, SecureStream, Stream, StreamHandler, StreamHandlerRecord, StreamMuxer, StreamMuxerFactory, Listener } from '@peerkit/interfaces'

interface Identity { privateKey: PrivateKey, peerId: PeerId }

async function identity (): Promise<Identity> {
  const privateKey = await generateKeyPair('Ed25519')
  return { privateKey, peerId: peerIdFromPrivateKey(privateKey) }
}

function registrar (handlers: Record<string, StreamHandler>, maxInboundStreams = 32): Pick<Registrar, 'getProtocols' | 'getHandler'> {
  return {
    getProtocols: () => Object.keys(handlers),
    getHandler: (protocol: string): StreamHandlerRecord => {
      const handler = handlers[protocol]
      if (handler == null) throw new UnsupportedProtocolError([protocol])
      return { handler, options: { maxInboundStreams, maxOutboundStreams: 64 } }
    }
  }
}

async function until (condition: () => boolean, ms = 3_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms}ms`)
    await new Promise(resolve => setTimeout(resolve, 5))
  }
}

const echo: StreamHandler = async ({ stream }) => { await stream.sink(stream.source) }

function pattern (size: number): Uint8Array {
  const buf = new Uint8Array(size)
  for (let i = 0; i < size; i++) buf[i] = (i * 13 + 5) & 0xff
  return buf
}

/** A listener whose accepted raw connections are handed to `onConnection`. */
async function listen (onConnection: (maConn: MultiaddrConnection) => void): Promise<{ listener: Listener, addr: ReturnType<typeof multiaddr> }> {
  const listener = tcp().createListener()
  listener.addEventListener('connection', (evt) => { onConnection(evt.detail) })
  await listener.listen(multiaddr('/ip4/127.0.0.1/tcp/0'))
  return { listener, addr: listener.getAddrs()[0] }
}

/**
 * A listener without an upgrader: multistream-select and Noise as `identity`, then the secured
 * duplex goes to `use` (a bare muxer, or nothing at all).
 */
async function listenBare (identity: Identity, use: (secured: SecureStream) => Promise<void>): Promise<{ listener: Listener, addr: ReturnType<typeof multiaddr> }> {
  return listen(maConn => {
    void (async () => {
      const { stream } = await mssHandle(maConn as SecureStream, ['/noise'])
      const secured = await noise()(identity).secureInbound(stream, { streamMuxers: ['/yamux/1.0.0'] })
      await use(secured.conn)
    })().catch(() => { maConn.abort(new Error('bare listener failed')) })
  })
}

/**
 * A bare Noise listener (as `identity`) whose remote side reads everything but keeps its own side open
 * until `endRemote()`: a peer that does not answer our FIN with its own.
 */
async function listenHalfOpen (identity: Identity): Promise<{ listener: Listener, addr: ReturnType<typeof multiaddr>, endRemote: () => void, received: Uint8Array[], remoteRaw: MultiaddrConnection[] }> {
  const ends: Array<() => void> = []
  const received: Uint8Array[] = []
  const remoteRaw: MultiaddrConnection[] = []
  const { listener, addr } = await listen(maConn => {
    remoteRaw.push(maConn)
    void (async () => {
      const { stream } = await mssHandle(maConn as SecureStream, ['/noise'])
      const secured = await noise()(identity).secureInbound(stream, { streamMuxers: ['/yamux/1.0.0'] })
      void secured.conn.sink((async function * () {
        await new Promise<void>(resolve => { ends.push(resolve) })
        yield * []
      })()).catch(() => {})
      for await (const chunk of secured.conn.source) received.push(chunk.subarray())
    })().catch(() => { maConn.abort(new Error('bare listener failed')) })
  })
  return { listener, addr, endRemote: () => { for (const end of ends.splice(0)) end() }, received, remoteRaw }
}

async function exchange (conn: Connection, protocol: string, data: Uint8Array): Promise<Uint8Array> {
  const stream = await conn.newStream(protocol)
  const out = new Uint8ArrayList()
  await Promise.all([
    stream.sink((function * () {
      for (let off = 0; off < data.byteLength; off += 65536) yield data.subarray(off, off + 65536)
    })()),
    (async () => { for await (const c of stream.source) out.append(c) })()
  ])
  return out.subarray()
}

const encrypters: Record<string, ConnectionEncrypterFactory> = { noise: noise(), plaintext: plaintext() }
const muxers: Record<string, () => StreamMuxerFactory> = { yamux: () => yamux(), mplex: () => mplex() }

describe('Upgrader over real TCP', function () {
  this.timeout(30_000)
  let a: Identity
  let b: Identity

  before(async () => {
    a = await identity()
    b = await identity()
  })

  /**
   * Connects a client upgrader (Noise as `a`, `mux`, plus `clientInit`) to an echo server (Noise
   * as `b`); `use` gets the client's connection, which is closed after it, then the listener.
   */
  async function withEchoConnection (clientInit: Partial<UpgraderInit>, use: (conn: Connection) => Promise<void>, mux: () => StreamMuxerFactory = () => yamux()): Promise<void> {
    const server = new Upgrader({ connectionEncrypters: [noise()(b)], streamMuxers: [mux()], registrar: registrar({ '/echo/1.0.0': echo }) })
    const { listener, addr } = await listen(maConn => { server.upgradeInbound(maConn).catch(() => {}) })
    const client = new Upgrader({ connectionEncrypters: [noise()(a)], streamMuxers: [mux()], ...clientInit })
    try {
      const conn = await client.upgradeOutbound(await tcp().dial(addr), { remotePeer: b.peerId })
      await use(conn)
      await conn.close()
    } finally {
      await listener.close({ closeConnections: true })
    }
  }

  for (const [encName, enc] of Object.entries(encrypters)) {
    for (const [muxName, mux] of Object.entries(muxers)) {
      it(`${encName} x ${muxName}: both sides authenticate and exchange data both ways`, async () => {
        const inbound: Promise<Connection>[] = []
        const serverUpgrader = new Upgrader({ connectionEncrypters: [enc(b)], streamMuxers: [mux()], registrar: registrar({ '/echo/1.0.0': echo }) })
        const { listener, addr } = await listen(maConn => { inbound.push(serverUpgrader.upgradeInbound(maConn)) })
        const clientUpgrader = new Upgrader({ connectionEncrypters: [enc(a)], streamMuxers: [mux()], registrar: registrar({ '/echo/1.0.0': echo }) })
        const conn = await clientUpgrader.upgradeOutbound(await tcp().dial(addr), { remotePeer: b.peerId })
        try {
          const serverConn = await inbound[0]
          assert.ok(conn.remotePeer.equals(b.peerId))
          assert.ok(serverConn.remotePeer.equals(a.peerId))
          assert.equal(conn.encryption, enc(a).protocol)
          assert.equal(conn.multiplexer, mux().protocol)
          const data = pattern(3 * 1024 * 1024 + 17)
          assert.ok(Buffer.from(await exchange(conn, '/echo/1.0.0', data)).equals(data))
          // and the other way: the listener opens a stream to the dialer
          assert.ok(Buffer.from(await exchange(serverConn, '/echo/1.0.0', data.subarray(0, 100_000))).equals(data.subarray(0, 100_000)))
          await conn.close()
          assert.equal(conn.status, 'closed')
        } finally {
          await listener.close({ closeConnections: true })
        }
      })
    }
  }

  it('agrees on the muxer inside the Noise handshake when both sides offer one', async () => {
    const inbound: Promise<Connection>[] = []
    const server = new Upgrader({ connectionEncrypters: [noise()(b)], streamMuxers: [mplex(), yamux()], registrar: registrar({ '/echo/1.0.0': echo }) })
    const { listener, addr } = await listen(maConn => { inbound.push(server.upgradeInbound(maConn)) })
    const client = new Upgrader({ connectionEncrypters: [noise()(a)], streamMuxers: [yamux(), mplex()] })
    try {
      const conn = await client.upgradeOutbound(await tcp().dial(addr), { remotePeer: b.peerId })
      // The initiator's preference wins (inlined muxer negotiation).
      assert.equal(conn.multiplexer, '/yamux/1.0.0')
      assert.equal((await inbound[0]).multiplexer, '/yamux/1.0.0')
      await conn.close()
    } finally {
      await listener.close({ closeConnections: true })
    }
  })

  /** Noise without early muxer negotiation, so the muxer is agreed by multistream-select afterwards. */
  function noiseWithoutEarlyMuxer (id: Identity): ReturnType<ReturnType<typeof noise>> {
    const inner = noise()(id)
    return {
      protocol: inner.protocol,
      secureOutbound: async (conn, options) => inner.secureOutbound(conn, { ...options, streamMuxers: [] }),
      secureInbound: async (conn, options) => inner.secureInbound(conn, { ...options, streamMuxers: [] })
    }
  }

  for (const early of [true, false]) {
    it(`Noise + yamux run over the byte channel (muxer agreed ${early ? 'in the handshake' : 'by multistream-select'}), early data included`, async () => {
      const inbound: Array<{ maConn: MultiaddrConnection, conn: Promise<Connection> }> = []
      const serverEnc = early ? noise()(b) : noiseWithoutEarlyMuxer(b)
      const server = new Upgrader({ connectionEncrypters: [serverEnc], streamMuxers: [yamux()], registrar: registrar({ '/echo/1.0.0': echo }) })
      const { listener, addr } = await listen(maConn => { inbound.push({ maConn, conn: server.upgradeInbound(maConn) }) })
      const client = new Upgrader({ connectionEncrypters: [early ? noise()(a) : noiseWithoutEarlyMuxer(a)], streamMuxers: [yamux()], registrar: registrar({ '/echo/1.0.0': echo }) })
      try {
        const maConn = await tcp().dial(addr)
        const conn = await client.upgradeOutbound(maConn, { remotePeer: b.peerId })
        // A stream at once: its frames follow the last handshake message closely, often in the
        // same read on the listener, which must replay them into the channel.
        const data = pattern(1024 * 1024 + 3)
        assert.ok(Buffer.from(await exchange(conn, '/echo/1.0.0', data)).equals(data))
        const serverConn = await inbound[0].conn
        assert.ok(Buffer.from(await exchange(serverConn, '/echo/1.0.0', data.subarray(0, 1000))).equals(data.subarray(0, 1000)))
        // Both raw connections were handed to their channels: their duplexes are spent.
        await assert.rejects(maConn.source.next(), /byte channel/)
        await assert.rejects(inbound[0].maConn.source.next(), /byte channel/)
        await conn.close()
        assert.equal(conn.status, 'closed')
        await until(() => serverConn.status === 'closed')
      } finally {
        await listener.close({ closeConnections: true })
      }
    })
  }

  for (const [muxName, mux] of Object.entries(muxers)) {
    it(`${muxName}: selects streams optimistically, with an early close, for protocols a trusted remote listed, and fully otherwise`, async () => {
      await withEchoConnection({ optimisticAgents: agent => agent.startsWith('trusted/') }, async (conn) => {
        assert.ok(conn.setRemoteIdentity != null)
        // The remote listed a protocol it has no handler for, so how the stream was selected shows:
        // fully, newStream itself fails; optimistically, it resolves and the first read fails.
        const listed = ['/echo/1.0.0', '/missing/1.0.0']
        await assert.rejects(conn.newStream('/missing/1.0.0'), UnsupportedProtocolError)
        conn.setRemoteIdentity({ protocols: listed, agentVersion: 'other/1.0.0' })
        await assert.rejects(conn.newStream('/missing/1.0.0'), UnsupportedProtocolError)
        conn.setRemoteIdentity({ protocols: listed, agentVersion: 'trusted/1.0.0' })
        const optimistic = await conn.newStream('/missing/1.0.0')
        await assert.rejects(optimistic.source[Symbol.asyncIterator]().next(), UnsupportedProtocolError)
        optimistic.abort(new Error('refused'))
        // Not listed, or asked for explicitly: negotiated fully.
        await assert.rejects(conn.newStream('/unlisted/1.0.0'), UnsupportedProtocolError)
        await assert.rejects(conn.newStream('/missing/1.0.0', { negotiateFully: true }), UnsupportedProtocolError)
        // A push without an agent keeps the trust; new protocols replace the old.
        conn.setRemoteIdentity({ protocols: ['/echo/1.0.0'] })
        await assert.rejects(conn.newStream('/missing/1.0.0'), UnsupportedProtocolError)
        // Data and close leave with the proposal; the listener gets all of it, many times over.
        for (let i = 0; i < 50; i++) {
          const data = pattern(100 + i)
          assert.ok(Buffer.from(await exchange(conn, '/echo/1.0.0', data)).equals(data))
        }
        // An agent that is not trusted turns it off again.
        conn.setRemoteIdentity({ agentVersion: 'other/2.0.0' })
        conn.setRemoteIdentity({ protocols: listed })
        await assert.rejects(conn.newStream('/missing/1.0.0'), UnsupportedProtocolError)
      }, mux)
    })
  }

  it('never selects optimistically on its own with optimisticAgents: false', async () => {
    await withEchoConnection({ optimisticAgents: false }, async (conn) => {
      conn.setRemoteIdentity?.({ protocols: ['/missing/1.0.0'], agentVersion: 'peerkit/1.0.0' })
      await assert.rejects(conn.newStream('/missing/1.0.0'), UnsupportedProtocolError)
    })
  })

  it('fails with UnexpectedPeerError and aborts the socket when the remote is not the expected peer', async () => {
    const c = await identity()
    const inbound: Promise<Connection>[] = []
    const server = new Upgrader({ connectionEncrypters: [noise()(b)], streamMuxers: [yamux()] })
    const { listener, addr } = await listen(maConn => { inbound.push(server.upgradeInbound(maConn)) })
    const client = new Upgrader({ connectionEncrypters: [noise()(a)], streamMuxers: [yamux()] })
    try {
      const maConn = await tcp().dial(addr)
      await assert.rejects(client.upgradeOutbound(maConn, { remotePeer: c.peerId }), (err: Error) => err instanceof UnexpectedPeerError && err.expected === c.peerId.toString())
      assert.ok(maConn.timeline.close != null)
      await assert.rejects(inbound[0])
    } finally {
      await listener.close({ closeConnections: true })
    }
  })

  it('fails with UnsupportedProtocolError when no encrypter is in common', async () => {
    const inbound: Promise<Connection>[] = []
    const server = new Upgrader({ connectionEncrypters: [plaintext()(b)], streamMuxers: [yamux()] })
    const { listener, addr } = await listen(maConn => {
      const upgrading = server.upgradeInbound(maConn)
      upgrading.catch(() => {}) // asserted below, after the client's failure
      inbound.push(upgrading)
    })
    const client = new Upgrader({ connectionEncrypters: [noise()(a)], streamMuxers: [yamux()] })
    try {
      await assert.rejects(client.upgradeOutbound(await tcp().dial(addr)), UnsupportedProtocolError)
      await assert.rejects(inbound[0])
    } finally {
      await listener.close({ closeConnections: true })
    }
  })

  it('resets inbound streams past maxInboundStreams and keeps serving the others', async () => {
    const inbound: Promise<Connection>[] = []
    let release!: () => void
    const held = new Promise<void>(resolve => { release = resolve })
    const hold: StreamHandler = async ({ stream }) => { await held; await stream.sink(stream.source) }
    const server = new Upgrader({ connectionEncrypters: [noise()(b)], streamMuxers: [yamux()], registrar: registrar({ '/hold/1.0.0': hold }, 2) })
    const { listener, addr } = await listen(maConn => { inbound.push(server.upgradeInbound(maConn)) })
    const client = new Upgrader({ connectionEncrypters: [noise()(a)], streamMuxers: [yamux()] })
    try {
      const conn = await client.upgradeOutbound(await tcp().dial(addr))
      const streams = await Promise.all([1, 2, 3].map(async () => conn.newStream('/hold/1.0.0')))
      const results = await Promise.allSettled(streams.map(async s => {
        const out = new Uint8ArrayList()
        const reading = (async () => { for await (const c of s.source) out.append(c) })()
        await s.sink([Uint8Array.of(1, 2, 3)])
        release()
        await reading
        return out.byteLength
      }))
      assert.equal(results.filter(r => r.status === 'fulfilled' && r.value === 3).length, 2)
      assert.equal(results.filter(r => r.status === 'rejected').length, 1)
      assert.equal((await exchange(conn, '/hold/1.0.0', Uint8Array.of(9))).byteLength, 1)
      await conn.close()
    } finally {
      await listener.close({ closeConnections: true })
    }
  })

  it('refuses newStream past maxOutboundStreams', async () => {
    await withEchoConnection({}, async (conn) => {
      const first = await conn.newStream('/echo/1.0.0', { maxOutboundStreams: 1 })
      await assert.rejects(conn.newStream('/echo/1.0.0', { maxOutboundStreams: 1 }), LimitExceededError)
      await first.close()
    })
  })

  it('takes outbound stream limits from findHandler when the registrar has it, and never calls getHandler for them', async () => {
    const looked: string[] = []
    const registrarWithFind = {
      getProtocols: () => [],
      getHandler: () => { throw new Error('getHandler must not be used when findHandler exists') },
      findHandler: (protocol: string) => {
        looked.push(protocol)
        return protocol === '/echo/1.0.0' ? { handler: echo, options: { maxInboundStreams: 1, maxOutboundStreams: 1 } } : undefined
      }
    }
    await withEchoConnection({ registrar: registrarWithFind }, async (conn) => {
      const first = await conn.newStream('/echo/1.0.0')
      await assert.rejects(conn.newStream('/echo/1.0.0'), LimitExceededError)
      assert.ok(looked.includes('/echo/1.0.0'))
      await first.close()
    })
  })

  it('the caller\'s signal bounds newStream while yamux waits for unacknowledged streams', async () => {
    // A bare listener: Noise, then it reads and discards everything, so no SYN is ever acknowledged.
    const { listener, addr } = await listenBare(b, async (secured) => {
      for await (const _ of secured.source) { /* discard */ }
    })
    const client = new Upgrader({ connectionEncrypters: [noise()(a)], streamMuxers: [yamux({ maxAckBacklog: 1 })] })
    try {
      const conn = await client.upgradeOutbound(await tcp().dial(addr))
      // The first stream's SYN is never acknowledged; its negotiation is left pending.
      const first = conn.newStream('/echo/1.0.0', { signal: AbortSignal.timeout(5_000) })
      first.catch(() => {})
      await new Promise(resolve => setTimeout(resolve, 20))
      const controller = new AbortController()
      const second = conn.newStream('/echo/1.0.0', { signal: controller.signal })
      await new Promise(resolve => setTimeout(resolve, 50))
      assert.equal(conn.streams.length, 1, 'the second stream waits for the backlog')
      controller.abort(new Error('caller gave up'))
      await assert.rejects(second, /caller gave up/)
      assert.equal(conn.streams.length, 1, 'and was never opened')
      conn.abort(new Error('done'))
      await assert.rejects(first)
    } finally {
      await listener.close({ closeConnections: true })
    }
  })

  it('an outbound stream the remote never answers fails with TimeoutError after outboundStreamNegotiationTimeout', async () => {
    // A bare listener: Noise and yamux, but inbound streams are left alone (never negotiated).
    const ignored: Stream[] = []
    const muxers: StreamMuxer[] = []
    const { listener, addr } = await listenBare(b, async (secured) => {
      const muxer = yamux().createStreamMuxer({ direction: 'inbound', onIncomingStream: (s) => { ignored.push(s) } })
      muxers.push(muxer)
      void muxer.sink(secured.source).catch(() => {})
      void secured.sink(muxer.source).catch(() => {})
    })
    const client = new Upgrader({ connectionEncrypters: [noise()(a)], streamMuxers: [yamux()], outboundStreamNegotiationTimeout: 150 })
    try {
      const conn = await client.upgradeOutbound(await tcp().dial(addr))
      const started = Date.now()
      await assert.rejects(conn.newStream('/echo/1.0.0'), TimeoutError)
      assert.ok(Date.now() - started >= 100, 'failed by the deadline, not at once')
      assert.equal(ignored.length, 1)
      assert.equal(conn.streams.length, 0, 'the stream was aborted')
      await conn.close()
    } finally {
      for (const m of muxers) m.abort(new Error('done'))
      await listener.close({ closeConnections: true })
    }
  })

  it('close() lets the muxer\'s GoAway reach the remote before closing the socket', async () => {
    const muxers: Array<ReturnType<ReturnType<typeof yamux>['createStreamMuxer']>> = []
    const ended: Array<Promise<void>> = []
    const { listener, addr } = await listen(maConn => {
      void (async () => {
        const { stream } = await mssHandle(maConn as SecureStream, ['/noise'])
        const secured = await noise()(b).secureInbound(stream, { streamMuxers: ['/yamux/1.0.0'] })
        const muxer = yamux().createStreamMuxer({ direction: 'inbound' })
        muxers.push(muxer)
        ended.push(muxer.sink(secured.conn.source).catch(() => {}))
        void secured.conn.sink(muxer.source).catch(() => {})
      })().catch(() => { maConn.abort(new Error('bare listener failed')) })
    })
    const client = new Upgrader({ connectionEncrypters: [noise()(a)], streamMuxers: [yamux()] })
    try {
      const conn = await client.upgradeOutbound(await tcp().dial(addr))
      await conn.close()
      assert.equal(conn.status, 'closed')
      // close() does not wait for the remote, which may still be setting its muxer up.
      await until(() => ended.length > 0)
      await ended[0]
      assert.equal((muxers[0] as unknown as { remoteGoAway?: number }).remoteGoAway, 0, 'GoAway (normal termination) received')
    } finally {
      for (const m of muxers) m.abort(new Error('done'))
      await listener.close({ closeConnections: true })
    }
  })

  it('close() resolves once our side is done; the socket is released when the remote ends its side, and whenReleased() waits for it', async () => {
    // The remote reads everything but keeps its side open until told to end it.
    const { listener, addr, endRemote, received, remoteRaw } = await listenHalfOpen(b)
    const client = new Upgrader({ connectionEncrypters: [noise()(a)], streamMuxers: [yamux()] })
    try {
      const raw = await tcp({ closeTimeout: 5_000 }).dial(addr)
      const conn = await client.upgradeOutbound(raw)
      const started = Date.now()
      await conn.close()
      assert.ok(Date.now() - started < 2_500, `close() took ${Date.now() - started} ms: it waited for the remote`)
      assert.equal(conn.status, 'closed')
      assert.equal(raw.timeline.close, undefined, 'the socket is still open, waiting for the remote to end its side')
      let released = false
      const whenReleased = client.whenReleased().then(() => { released = true })
      // Our GoAway and FIN reached the remote: its source ended.
      await until(() => remoteRaw[0]?.timeline.close === undefined && received.length > 0)
      await new Promise(resolve => setTimeout(resolve, 50))
      assert.equal(released, false, 'whenReleased() resolved before the socket closed')
      endRemote()
      await whenReleased
      assert.notEqual(raw.timeline.close, undefined, 'the socket is closed once the remote ended its side')
      await until(() => remoteRaw[0].timeline.close !== undefined)
    } finally {
      endRemote()
      await listener.close({ closeConnections: true })
    }
  })

  it('whenReleased({ signal }) cuts short the wait for a remote that does not end its side: the sockets are aborted', async () => {
    const { listener, addr, endRemote } = await listenHalfOpen(b)
    const client = new Upgrader({ connectionEncrypters: [noise()(a)], streamMuxers: [yamux()] })
    try {
      const raws = await Promise.all([0, 1].map(async () => tcp({ closeTimeout: 10_000 }).dial(addr)))
      const conns = await Promise.all(raws.map(async raw => client.upgradeOutbound(raw)))
      await Promise.all(conns.map(async conn => { await conn.close() }))
      assert.ok(raws.every(raw => raw.timeline.close === undefined), 'the sockets wait for the remote to end its side')
      const started = Date.now()
      await client.whenReleased({ signal: AbortSignal.timeout(100) })
      const took = Date.now() - started
      assert.ok(took >= 90 && took < 2_000, `whenReleased() took ${took} ms: it should end at the signal, not the 10 s close timeout`)
      assert.ok(raws.every(raw => raw.timeline.close !== undefined), 'the sockets are closed')
      // Already aborted: returns at once, with nothing left.
      await client.whenReleased({ signal: AbortSignal.abort() })
    } finally {
      endRemote()
      await listener.close({ closeConnections: true })
    }
  })

  it('closes the connection when the remote goes away, aborting its streams', async () => {
    const inbound: Promise<Connection>[] = []
    const closed: Connection[] = []
    const server = new Upgrader({ connectionEncrypters: [noise()(b)], streamMuxers: [yamux()], registrar: registrar({ '/echo/1.0.0': echo }) })
    const { listener, addr } = await listen(maConn => { inbound.push(server.upgradeInbound(maConn)) })
    const client = new Upgrader({ connectionEncrypters: [noise()(a)], streamMuxers: [yamux()], onConnectionClose: (c) => { closed.push(c) } })
    try {
      const conn = await client.upgradeOutbound(await tcp().dial(addr))
      const stream = await conn.newStream('/echo/1.0.0')
      const reading = (async () => { for await (const _ of stream.source) { /* drain */ } })()
      ;(await inbound[0]).abort(new Error('remote died'))
      await assert.rejects(reading)
      for (let i = 0; i < 100 && conn.status !== 'closed'; i++) await new Promise(resolve => setTimeout(resolve, 10))
      assert.equal(conn.status, 'closed')
      assert.deepEqual(closed, [conn])
    } finally {
      await listener.close({ closeConnections: true })
    }
  })
})
