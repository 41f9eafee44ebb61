import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { multiaddr } from '@multiformats/multiaddr'
import { generateKeyPair } from '@peerkit/crypto'
import { Endpoint, TimerTracker, memoryWirePair, settle, within } from '@peerkit/interface-compliance-tests/connection-encrypter'
import { peerIdFromPrivateKey } from '@peerkit/peer-id'
import { tcp } from '@peerkit/transport-tcp'
import { Uint8ArrayList } from 'uint8arraylist'
import { DEFAULT_HANDSHAKE_TIMEOUT_MS, InvalidCertificateError, LIBP2P_ALPN, TLS_PROTOCOL_ID, generateCertificate, tls } from '../src/index.js'
import { alpnMuxers, selectAlpn } from '../src/handshake.js'
import { buildAuthority, buildCertificate } from './fixtures/certificates.js'
import { rogueClient, rogueServer } from './fixtures/rogue.js'
import type { CertificateProblem, TLSInit } from '../src/index.js'
import type { KeyType, MultiaddrConnection, PeerId, PrivateKey, SecureConnectionOptions, SecuredConnection, SecureStream, Source } from '@peerkit/interfaces'

type Chunk = Uint8Array | Uint8ArrayList

interface Identity { privateKey: PrivateKey, peerId: PeerId }

const YAMUX = '/yamux/1.0.0'
const MPLEX = '/mplex/6.7.0'
const MIB = 1024 * 1024

async function makeIdentity (type: KeyType): Promise<Identity> {
  const privateKey = await generateKeyPair(type)
  return { privateKey, peerId: peerIdFromPrivateKey(privateKey) }
}

/** `total` random bytes cut into chunks of varied sizes up to `max`, plus their digest. */
function payload (total: number, max: number): { chunks: Uint8Array[], digest: string } {
  const data = randomBytes(total)
  const chunks: Uint8Array[] = []
  for (let offset = 0, i = 0; offset < total; i++) {
    const size = Math.min(total - offset, 1 + ((i * 7919 + 13) % max))
    chunks.push(data.subarray(offset, offset + size))
    offset += size
  }
  return { chunks, digest: createHash('sha256').update(data).digest('hex') }
}

/** Reads `source` to its end; returns the byte count and digest. */
async function drain (source: AsyncIterable<Chunk>): Promise<{ bytes: number, digest: string }> {
  const hash = createHash('sha256')
  let bytes = 0
  for await (const chunk of source) {
    if (chunk instanceof Uint8Array) hash.update(chunk)
    else for (const piece of chunk) hash.update(piece)
    bytes += chunk.byteLength
  }
  return { bytes, digest: hash.digest('hex') }
}

/** Sends `total` bytes each way at the same time and checks both arrive intact. */
async function exchange (a: SecureStream, b: SecureStream, total: number): Promise<void> {
  const up = payload(total, 100 * 1024)
  const down = payload(total + 17, 64 * 1024)
  const [, , atB, atA] = await Promise.all([a.sink(up.chunks), b.sink(down.chunks), drain(b.source), drain(a.source)])
  assert.equal(atB.bytes, total)
  assert.equal(atB.digest, up.digest)
  assert.equal(atA.bytes, total + 17)
  assert.equal(atA.digest, down.digest)
}

/** Fails unless `promise` rejects with InvalidCertificateError for `reason`. */
async function rejectsCertificate (promise: Promise<unknown>, reason: CertificateProblem): Promise<void> {
  const result = await within(settle(promise), 5000, 'the handshake')
  assert.equal(result.ok, false, 'the handshake succeeded')
  const error = (result as { error: unknown }).error
  assert.ok(error instanceof InvalidCertificateError, `expected InvalidCertificateError(${reason}), got ${String(error)}`)
  assert.equal(error.reason, reason, error.message)
}

/** Number of live resources of the given kinds (sockets, servers). */
async function activeResources (...kinds: string[]): Promise<number> {
  for (let i = 0; i < 3; i++) await new Promise<void>(resolve => { setImmediate(resolve) })
  return process.getActiveResourcesInfo().filter(kind => kinds.includes(kind)).length
}

describe('tls', function () {
  this.timeout(30_000)
  const ids = new Map<KeyType, Identity>()
  let ed25519b: Identity
  const open: Endpoint[] = []

  before(async () => {
    for (const type of ['Ed25519', 'secp256k1', 'RSA', 'ECDSA'] as KeyType[]) ids.set(type, await makeIdentity(type))
    ed25519b = await makeIdentity('Ed25519')
  })

  const id = (type: KeyType): Identity => ids.get(type)!

  /** A connected in-memory pair of endpoints, closed after the test. */
  function pair (): [Endpoint, Endpoint] {
    const [a, b] = memoryWirePair()
    const ends: [Endpoint, Endpoint] = [new Endpoint(a), new Endpoint(b)]
    open.push(...ends)
    return ends
  }

  afterEach(async () => {
    const ends = open.splice(0)
    for (const end of ends) end.destroy()
    await Promise.all(ends.map(async end => end.closed))
  })

  async function secure (dialer: Identity, listener: Identity, options: {
    dialerInit?: TLSInit, listenerInit?: TLSInit, outbound?: SecureConnectionOptions, inbound?: SecureConnectionOptions
  } = {}): Promise<[SecuredConnection, SecuredConnection]> {
    const [a, b] = pair()
    return within(Promise.all([
      tls(options.dialerInit)(dialer).secureOutbound(a.conn, { remotePeer: listener.peerId, ...options.outbound }),
      tls(options.listenerInit)(listener).secureInbound(b.conn, options.inbound)
    ]), 10_000, 'the handshake')
  }

  describe('factory', () => {
    it('has the /tls/1.0.0 protocol id and a 10 s default handshake timeout', () => {
      assert.equal(tls()(id('Ed25519')).protocol, '/tls/1.0.0')
      assert.equal(TLS_PROTOCOL_ID, '/tls/1.0.0')
      assert.equal(DEFAULT_HANDSHAKE_TIMEOUT_MS, 10_000)
    })

    it('refuses bad options and a missing identity with InvalidParametersError', () => {
      for (const init of [{ handshakeTimeout: 0 }, { handshakeTimeout: -1 }, { handshakeTimeout: Number.NaN }, { highWaterMark: 0 }, { highWaterMark: 1.5 }]) {
        assert.throws(() => tls(init)(id('Ed25519')), { name: 'InvalidParametersError' }, JSON.stringify(init))
      }
      assert.throws(() => tls()({} as unknown as Identity), { name: 'InvalidParametersError' })
      assert.doesNotThrow(() => tls({ handshakeTimeout: Infinity })(id('Ed25519')))
    })
  })

  describe('round trips in memory', () => {
    const pairs: Array<[KeyType, KeyType]> = [['Ed25519', 'secp256k1'], ['secp256k1', 'RSA'], ['RSA', 'ECDSA'], ['ECDSA', 'Ed25519']]
    for (const [dialerType, listenerType] of pairs) {
      it(`authenticates both peers and carries 3 MiB both ways (${dialerType} dialer, ${listenerType} listener)`, async () => {
        const [outbound, inbound] = await secure(id(dialerType), id(listenerType))
        assert.equal(outbound.remotePeer.toString(), id(listenerType).peerId.toString())
        assert.equal(inbound.remotePeer.toString(), id(dialerType).peerId.toString())
        assert.ok(outbound.remotePeer.publicKey?.equals(id(listenerType).privateKey.publicKey))
        assert.ok(inbound.remotePeer.publicKey?.equals(id(dialerType).privateKey.publicKey))
        await exchange(outbound.conn, inbound.conn, 3 * MIB)
      })
    }

    it('closes gracefully: each side\'s end of writing ends the other\'s source and half-closes the raw connection', async () => {
      const [a, b] = pair()
      const [outbound, inbound] = await Promise.all([
        tls()(id('Ed25519')).secureOutbound(a.conn, { remotePeer: ed25519b.peerId }),
        tls()(ed25519b).secureInbound(b.conn)
      ])
      // The dialer finishes first; the listener still answers after that.
      await outbound.conn.sink([new TextEncoder().encode('request')])
      const request = await drain(inbound.conn.source)
      assert.equal(request.bytes, 7)
      assert.equal(b.rawSource.ended, true, 'the dialer\'s raw connection was not half-closed')
      assert.equal(a.rawSource.ended, false)
      await Promise.all([inbound.conn.sink([new TextEncoder().encode('reply')]), drain(outbound.conn.source)])
      await new Promise<void>(resolve => { setImmediate(resolve) })
      assert.equal(a.rawSource.ended, true, 'the listener\'s raw connection was not half-closed')
      await assert.rejects(outbound.conn.sink([new Uint8Array(1)]), { name: 'StreamStateError' })
    })

    it('carries many small writes given as lists', async () => {
      const [outbound, inbound] = await secure(id('Ed25519'), ed25519b)
      const lists = Array.from({ length: 2000 }, (_, i) => new Uint8ArrayList(randomBytes(1 + (i % 40)), randomBytes(3)))
      const expected = createHash('sha256')
      for (const list of lists) for (const buf of list) expected.update(buf)
      const [, received] = await Promise.all([outbound.conn.sink(lists), drain(inbound.conn.source), inbound.conn.sink([])])
      assert.equal(received.digest, expected.digest('hex'))
    })

    it('bounds what a fast writer queues while the reader does not read (backpressure)', async () => {
      const [outbound, inbound] = await secure(id('Ed25519'), ed25519b)
      let produced = 0
      const block = randomBytes(64 * 1024)
      const writing = outbound.conn.sink((function * () {
        for (let i = 0; i < 1024; i++) { // 64 MiB if nothing pushed back
          produced += block.byteLength
          yield block
        }
      })())
      writing.catch(() => {})
      await new Promise(resolve => setTimeout(resolve, 200))
      // Four 256 KiB queues (two of ours, the wire's, the reader's) and node's small buffers.
      assert.ok(produced < 2 * MIB, `the writer got ${produced} bytes out while nobody read`)
      const stalledAt = produced
      const received = await drain(inbound.conn.source)
      await writing
      assert.ok(stalledAt < produced)
      assert.equal(received.bytes, 64 * MIB)
    })

    it('presents one certificate per encrypter instance, and another for another instance', async () => {
      const cert = await buildCertificate({ identity: ed25519b.privateKey })
      /** The fingerprint of the certificate `encrypter` presents to a server. */
      const presented = async (encrypter: ReturnType<ReturnType<typeof tls>>): Promise<string> => {
        const [a, b] = pair()
        const server = rogueServer(b.conn, { cert })
        const dialing = settle(encrypter.secureOutbound(a.conn, { remotePeer: ed25519b.peerId }))
        await server.secure
        const fingerprint = server.socket.getPeerX509Certificate()?.fingerprint256
        assert.ok(fingerprint != null, 'no client certificate')
        assert.equal((await dialing).ok, true)
        server.socket.destroy()
        return fingerprint
      }
      const dialer = tls()(id('Ed25519'))
      const first = await presented(dialer)
      assert.equal(await presented(dialer), first)
      assert.equal(await presented(dialer), first)
      assert.notEqual(await presented(tls()(id('Ed25519'))), first)
    })

    it('speaks TLS 1.3, sends no SNI and offers the muxers then "libp2p" through ALPN', async () => {
      const [a, b] = pair()
      let offered: string[] = []
      let sni: string | false = 'unset'
      const cert = await buildCertificate({ identity: ed25519b.privateKey })
      const rogue = rogueServer(b.conn, {
        cert,
        onAlpn: (protocols, servername) => {
          offered = protocols
          sni = servername
          return LIBP2P_ALPN
        }
      })
      const result = await tls()(id('Ed25519')).secureOutbound(a.conn, { remotePeer: ed25519b.peerId, streamMuxers: [YAMUX, MPLEX] })
      await rogue.secure
      assert.deepEqual(offered, [YAMUX, MPLEX, LIBP2P_ALPN])
      assert.equal(sni, false)
      assert.equal(rogue.socket.getProtocol(), 'TLSv1.3')
      assert.equal(result.streamMuxer, undefined, '"libp2p" chosen: no early muxer')
      rogue.socket.destroy()
    })
  })

  describe('round trips over TCP (@peerkit/transport-tcp)', () => {
    async function tcpConnections (): Promise<{ outbound: MultiaddrConnection, inbound: MultiaddrConnection, close: () => Promise<void> }> {
      const transport = tcp()
      const listener = transport.createListener()
      const accepted = new Promise<MultiaddrConnection>(resolve => {
        listener.addEventListener('connection', (evt) => { resolve((evt as CustomEvent<MultiaddrConnection>).detail) }, { once: true })
      })
      await listener.listen(multiaddr('/ip4/127.0.0.1/tcp/0'))
      const outbound = await transport.dial(listener.getAddrs()[0])
      const inbound = await accepted
      return {
        outbound,
        inbound,
        close: async () => {
          outbound.abort(new Error('test over'))
          inbound.abort(new Error('test over'))
          await listener.close({ closeConnections: true })
        }
      }
    }

    for (const type of ['Ed25519', 'secp256k1', 'RSA', 'ECDSA'] as KeyType[]) {
      it(`carries 8 MiB both ways, early muxer agreed (${type} dialer)`, async () => {
        const conns = await tcpConnections()
        try {
          const [outbound, inbound] = await Promise.all([
            tls()(id(type)).secureOutbound(conns.outbound as unknown as SecureStream, { remotePeer: ed25519b.peerId, streamMuxers: [YAMUX] }),
            tls()(ed25519b).secureInbound(conns.inbound as unknown as SecureStream, { streamMuxers: [YAMUX] })
          ])
          assert.equal(outbound.streamMuxer, YAMUX)
          assert.equal(inbound.streamMuxer, YAMUX)
          assert.equal(inbound.remotePeer.toString(), id(type).peerId.toString())
          await exchange(outbound.conn, inbound.conn, 8 * MIB)
        } finally {
          await conns.close()
        }
      })
    }

    it('a failed handshake leaves the sockets to the caller, who closes them without leaks', async () => {
      const timers = new TimerTracker()
      timers.start()
      try {
        const before = await activeResources('TCPSocketWrap', 'TCPServerWrap')
        const conns = await tcpConnections()
        const results = await Promise.allSettled([
          tls()(id('Ed25519')).secureOutbound(conns.outbound as unknown as SecureStream, { remotePeer: id('RSA').peerId }),
          tls({ handshakeTimeout: 500 })(ed25519b).secureInbound(conns.inbound as unknown as SecureStream)
        ])
        assert.equal(results[0].status, 'rejected')
        assert.equal((results[0] as PromiseRejectedResult).reason.name, 'UnexpectedPeerError')
        // The dialer's conn is still the caller's: it was not closed by the encrypter.
        assert.equal(conns.outbound.timeline.close, undefined)
        await conns.close()
        assert.equal(await activeResources('TCPSocketWrap', 'TCPServerWrap'), before, 'sockets left behind')
        assert.deepEqual(await timers.pending(), [], 'timers left behind')
      } finally {
        timers.stop()
      }
    })
  })

  describe('early muxer negotiation through ALPN', () => {
    const cases: Array<{ title: string, dialer?: string[], listener?: string[], expected?: string }> = [
      { title: 'agreement: the first of the dialer\'s muxers that the listener supports', dialer: [YAMUX, MPLEX], listener: [MPLEX, YAMUX], expected: YAMUX },
      { title: 'skips dialer muxers the listener does not support', dialer: ['/other/1.0.0', MPLEX], listener: [YAMUX, MPLEX], expected: MPLEX },
      { title: 'no overlap: "libp2p" is chosen and the muxer is negotiated afterwards', dialer: [YAMUX], listener: [MPLEX] },
      { title: 'the dialer offers nothing', dialer: [], listener: [YAMUX] },
      { title: 'the listener offers nothing', dialer: [YAMUX], listener: [] },
      { title: 'neither offers anything', dialer: undefined, listener: undefined }
    ]
    for (const c of cases) {
      it(c.title, async () => {
        const [outbound, inbound] = await secure(id('Ed25519'), ed25519b, {
          outbound: { streamMuxers: c.dialer }, inbound: { streamMuxers: c.listener }
        })
        assert.equal(outbound.streamMuxer, c.expected)
        assert.equal(inbound.streamMuxer, c.expected)
        await exchange(outbound.conn, inbound.conn, 1000)
      })
    }

    it('the listener aborts the handshake when the client offers nothing it supports and not "libp2p"', async () => {
      const [a, b] = pair()
      const cert = await buildCertificate({ identity: id('Ed25519').privateKey })
      const rogue = rogueClient(a.conn, { cert, ALPNProtocols: ['/unknown/1.0.0'] })
      const result = await within(settle(tls()(ed25519b).secureInbound(b.conn, { streamMuxers: [YAMUX] })), 5000, 'the handshake')
      assert.equal(result.ok, false)
      const error = (result as { error: Error }).error
      assert.equal(error.name, 'HandshakeError')
      assert.match(String((error.cause as Error)?.message), /no application protocol|NO_APPLICATION_PROTOCOL/i)
      await assert.rejects(rogue.secure)
    })

    it('selectAlpn follows the client\'s order, falls back to "libp2p", else refuses', () => {
      assert.equal(selectAlpn([MPLEX, YAMUX, LIBP2P_ALPN], [YAMUX, MPLEX]), MPLEX)
      assert.equal(selectAlpn(['/x', LIBP2P_ALPN], [YAMUX]), LIBP2P_ALPN)
      assert.equal(selectAlpn([LIBP2P_ALPN], []), LIBP2P_ALPN)
      assert.equal(selectAlpn(['/x'], [YAMUX]), undefined)
      assert.equal(selectAlpn([], [YAMUX]), undefined)
    })

    it('only offers muxer ids that fit an ALPN token, once each, never "libp2p"', () => {
      const long = `/${'x'.repeat(255)}`
      assert.deepEqual(alpnMuxers([YAMUX, long, '', LIBP2P_ALPN, YAMUX, MPLEX]), [YAMUX, MPLEX])
      assert.deepEqual(alpnMuxers(undefined), [])
    })
  })

  describe('bad input', () => {
    it('a listener certificate without the libp2p extension: InvalidCertificateError(missing-extension)', async () => {
      const [a, b] = pair()
      const rogue = rogueServer(b.conn, { cert: await buildCertificate({ identity: ed25519b.privateKey, extension: 'missing' }) })
      await rejectsCertificate(tls()(id('Ed25519')).secureOutbound(a.conn, { remotePeer: ed25519b.peerId }), 'missing-extension')
      rogue.socket.destroy()
    })

    it('a dialer certificate with a bad extension signature: InvalidCertificateError(invalid-extension-signature)', async () => {
      const [a, b] = pair()
      const cert = await buildCertificate({ identity: id('Ed25519').privateKey, extensionSigner: id('secp256k1').privateKey })
      const rogue = rogueClient(a.conn, { cert })
      await rejectsCertificate(tls()(ed25519b).secureInbound(b.conn), 'invalid-extension-signature')
      rogue.socket.destroy()
    })

    it('an expired certificate, on either side: InvalidCertificateError(expired)', async () => {
      const expired = await buildCertificate({
        identity: ed25519b.privateKey, notBefore: new Date('2000-01-01T00:00:00Z'), notAfter: new Date('2001-01-01T00:00:00Z')
      })
      const [a, b] = pair()
      const server = rogueServer(b.conn, { cert: expired })
      await rejectsCertificate(tls()(id('Ed25519')).secureOutbound(a.conn), 'expired')
      server.socket.destroy()
      const [c, d] = pair()
      const client = rogueClient(c.conn, { cert: expired })
      await rejectsCertificate(tls()(id('Ed25519')).secureInbound(d.conn), 'expired')
      client.socket.destroy()
    })

    it('a chain of two certificates, from either side: InvalidCertificateError(chain)', async () => {
      const authority = await buildAuthority()
      const leaf = await buildCertificate({ identity: ed25519b.privateKey, issuer: authority })
      const chain = { pem: `${leaf.pem}\n${authority.pem}`, keyPem: leaf.keyPem }
      const [a, b] = pair()
      const server = rogueServer(b.conn, { cert: chain })
      await rejectsCertificate(tls()(id('Ed25519')).secureOutbound(a.conn), 'chain')
      server.socket.destroy()
      const [c, d] = pair()
      const client = rogueClient(c.conn, { cert: chain })
      await rejectsCertificate(tls()(id('Ed25519')).secureInbound(d.conn), 'chain')
      client.socket.destroy()
    })

    it('a valid self-signed certificate followed by an unrelated one: InvalidCertificateError(chain)', async () => {
      const authority = await buildAuthority()
      const own = await buildCertificate({ identity: ed25519b.privateKey })
      const [a, b] = pair()
      const server = rogueServer(b.conn, { cert: { pem: `${own.pem}\n${authority.pem}`, keyPem: own.keyPem } })
      await rejectsCertificate(tls()(id('Ed25519')).secureOutbound(a.conn), 'chain')
      server.socket.destroy()
    })

    it('a dialer presenting no certificate: the listener aborts the handshake', async () => {
      const [a, b] = pair()
      const client = rogueClient(a.conn, {})
      const result = await within(settle(tls()(ed25519b).secureInbound(b.conn)), 5000, 'the handshake')
      assert.equal(result.ok, false)
      assert.equal((result as { error: Error }).error.name, 'HandshakeError')
      client.socket.destroy()
    })

    it('a peer that only speaks TLS 1.2: HandshakeError, in both roles', async () => {
      const cert = await buildCertificate({ identity: ed25519b.privateKey })
      const [a, b] = pair()
      const client = rogueClient(a.conn, { cert, maxVersion: 'TLSv1.2' })
      const inbound = await within(settle(tls()(id('Ed25519')).secureInbound(b.conn)), 5000, 'the handshake')
      assert.equal(inbound.ok, false)
      assert.equal((inbound as { error: Error }).error.name, 'HandshakeError')
      client.socket.destroy()
      const [c, d] = pair()
      const server = rogueServer(d.conn, { cert, maxVersion: 'TLSv1.2' })
      const outbound = await within(settle(tls()(id('Ed25519')).secureOutbound(c.conn)), 5000, 'the handshake')
      assert.equal(outbound.ok, false)
      assert.equal((outbound as { error: Error }).error.name, 'HandshakeError')
      server.socket.destroy()
    })

    for (const [dialerType, listenerType] of [['RSA', 'ECDSA'], ['ECDSA', 'secp256k1']] as Array<[KeyType, KeyType]>) {
      it(`a key that does not match the expected peer: UnexpectedPeerError naming both (${listenerType} listener)`, async () => {
        const [a, b] = pair()
        const [outbound, inbound] = await Promise.all([
          settle(tls()(id(dialerType)).secureOutbound(a.conn, { remotePeer: ed25519b.peerId })),
          settle(tls({ handshakeTimeout: 1000 })(id(listenerType)).secureInbound(b.conn))
        ])
        assert.equal(outbound.ok, false)
        const error = (outbound as { error: Error & { expected?: string, actual?: string } }).error
        assert.equal(error.name, 'UnexpectedPeerError')
        assert.equal(error.expected, ed25519b.peerId.toString())
        assert.equal(error.actual, id(listenerType).peerId.toString())
        // The listener saw a valid dialer; the connection is the caller's to close.
        if (inbound.ok) assert.equal(inbound.value.remotePeer.toString(), id(dialerType).peerId.toString())
      })
    }

    it('garbage instead of a ClientHello: HandshakeError caused by the TLS error', async () => {
      const [a, b] = pair()
      const handshaking = settle(tls()(ed25519b).secureInbound(b.conn))
      await a.rawWrite(new TextEncoder().encode('GET / HTTP/1.1\r\nHost: example.com\r\n\r\n'))
      const result = await within(handshaking, 5000, 'the handshake')
      assert.equal(result.ok, false)
      const error = (result as { error: Error }).error
      assert.equal(error.name, 'HandshakeError')
      assert.ok(error.cause instanceof Error)
      assert.match(String((error.cause as { code?: string }).code), /^ERR_SSL_/)
    })

    it('a peer stalling mid-handshake: TimeoutError after handshakeTimeout, nothing left behind', async () => {
      await Promise.resolve()
      const timers = new TimerTracker()
      timers.start()
      try {
        // A dialer's ClientHello is captured, and half of it handed to a listener by a remote that
        // then neither writes nor closes.
        const [c, d] = pair()
        c.hold()
        const dialing = settle(tls({ handshakeTimeout: 400 })(id('Ed25519')).secureOutbound(c.conn))
        assert.ok(await c.waitWritten(1, 5000), 'the dialer sent no ClientHello')
        const hello = c.peekHeld()
        const started = Date.now()
        const listening = settle(tls({ handshakeTimeout: 150 })(ed25519b).secureInbound(d.conn))
        await c.rawWrite(hello.subarray(0, Math.floor(hello.byteLength / 2)))
        const result = await within(listening, 2000, 'the stalled handshake')
        assert.equal(result.ok, false)
        const error = (result as { error: Error & { timeoutMs?: number } }).error
        assert.equal(error.name, 'TimeoutError')
        assert.equal(error.timeoutMs, 150)
        assert.ok(Date.now() - started >= 140)
        // The dialer, whose listener went silent, times out too.
        const dialed = await within(dialing, 4000, 'the dialer')
        assert.equal(dialed.ok, false)
        assert.equal((dialed as { error: Error }).error.name, 'TimeoutError')
        for (const end of [c, d]) end.destroy()
        assert.deepEqual(await timers.pending(), [], 'timers left behind')
      } finally {
        timers.stop()
      }
    })

    it('a tampered record after the handshake: the reader fails with DecryptionError', async () => {
      const [a, b] = pair()
      let armed = false
      // The dialer's raw sink flips one byte of the first chunk written once armed.
      const tampering: SecureStream = {
        source: a.conn.source,
        sink: async (source: Source<Chunk>) => {
          await a.conn.sink((async function * () {
            for await (const chunk of source) {
              if (armed) {
                armed = false
                const bytes = chunk instanceof Uint8Array ? Uint8Array.from(chunk) : chunk.slice()
                bytes[bytes.byteLength - 3] ^= 0x40
                yield bytes
              } else {
                yield chunk
              }
            }
          })())
        }
      }
      const [outbound, inbound] = await Promise.all([
        tls()(id('Ed25519')).secureOutbound(tampering, { remotePeer: ed25519b.peerId }),
        tls()(ed25519b).secureInbound(b.conn)
      ])
      // Let the listener's session tickets and the dialer's last flight settle, then tamper.
      await new Promise(resolve => setTimeout(resolve, 20))
      armed = true
      const writing = outbound.conn.sink([new TextEncoder().encode('this record will not authenticate')])
      writing.catch(() => {})
      await assert.rejects(within(drain(inbound.conn.source), 5000, 'reading'), { name: 'DecryptionError' })
    })

    it('an already aborted signal fails at once, without touching the connection', async () => {
      const [a] = pair()
      await assert.rejects(tls()(id('Ed25519')).secureOutbound(a.conn, { signal: AbortSignal.abort() }), { name: 'AbortError' })
      assert.equal(a.written, 0)
    })

    it('a failed certificate does not release the data that came with it', async () => {
      const [a, b] = pair()
      const cert = await buildCertificate({ identity: id('Ed25519').privateKey, extension: 'missing' })
      const client = rogueClient(a.conn, { cert })
      const handshaking = settle(tls()(ed25519b).secureInbound(b.conn))
      await client.secure
      client.socket.write('early data that must never be delivered')
      const result = await within(handshaking, 5000, 'the handshake')
      assert.equal(result.ok, false)
      assert.equal(((result as { error: InvalidCertificateError }).error).reason, 'missing-extension')
      client.socket.destroy()
    })
  })

  describe('after the handshake', () => {
    it('the raw connection dying underneath ends both secured sources and fails later writes', async () => {
      const [a, b] = pair()
      const [outbound, inbound] = await Promise.all([
        tls()(id('Ed25519')).secureOutbound(a.conn, { remotePeer: ed25519b.peerId }),
        tls()(ed25519b).secureInbound(b.conn)
      ])
      a.destroy()
      const [atDialer, atListener] = await Promise.all([
        within(settle(drain(outbound.conn.source)), 2000, 'the dialer\'s source'),
        within(settle(drain(inbound.conn.source)), 2000, 'the listener\'s source')
      ])
      // The side whose connection failed sees an error; the other sees the end of the stream.
      assert.equal(atDialer.ok, false)
      assert.equal((atDialer as { error: Error }).error.name, 'ConnectionClosedError')
      assert.equal(atListener.ok, true)
      await assert.rejects(within(outbound.conn.sink([new Uint8Array(10)]), 2000, 'writing'), { name: 'ConnectionClosedError' })
    })

    it('the sink refuses anything but bytes with InvalidParametersError', async () => {
      const [outbound] = await secure(id('Ed25519'), ed25519b)
      await assert.rejects(outbound.conn.sink(['text' as unknown as Uint8Array]), { name: 'InvalidParametersError' })
    })
  })

  describe('generated certificates in a handshake', () => {
    it('a certificate made by generateCertificate authenticates a rogue server as its identity', async () => {
      const generated = await generateCertificate(ed25519b.privateKey)
      const [a, b] = pair()
      const server = rogueServer(b.conn, { cert: { pem: generated.certificatePem, keyPem: generated.privateKeyPem } })
      const result = await tls()(id('Ed25519')).secureOutbound(a.conn, { remotePeer: ed25519b.peerId })
      assert.equal(result.remotePeer.toString(), ed25519b.peerId.toString())
      server.socket.destroy()
    })
  })
})
