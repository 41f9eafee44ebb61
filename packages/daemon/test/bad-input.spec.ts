import assert from 'node:assert/strict'
import { once } from 'node:events'
import { connect } from 'node:net'
import { ECHO_PROTOCOL } from '../src/index.js'
import { Request, Response } from '../src/pb/control.js'
import { collect, eventually, lp, rawConnection, readResponse, request, startDaemon, waitClosed } from './fixtures.js'
import type { TestDaemon } from './fixtures.js'

/**
 * Whatever one control client sends, the daemon answers it with ERROR or closes that connection,
 * and goes on serving every other client and every libp2p connection.
 */
describe('DaemonServer under bad input', function () {
  this.timeout(20_000)
  let a: TestDaemon
  let b: TestDaemon

  before(async () => {
    a = await startDaemon({ maxMessageSize: 64 * 1024 })
    b = await startDaemon({ echo: true })
    await a.client.connect(b.node.id, (await b.client.identify()).addrs)
  })

  afterEach(async () => {
    // The daemon still serves a fresh client, and the libp2p connection survived.
    const id = await a.client.identify()
    assert.ok(id.peerId.equals(a.node.id))
    const peers = await a.client.listPeers()
    assert.ok(peers.some(p => p.id.equals(b.node.id)), 'the libp2p connection to b is still open')
  })

  after(async () => {
    await a?.stop()
    await b?.stop()
  })

  it('serves several requests in a row on one connection', async () => {
    const { socket, channel } = await rawConnection(a.server)
    for (const type of [Request.Type.IDENTIFY, Request.Type.LIST_PEERS, Request.Type.IDENTIFY]) {
      await channel.writeFrame(request({ type }))
      const response = await readResponse(channel)
      assert.notEqual(response, 'closed')
      assert.equal((response as Response).type, Response.Type.OK)
    }
    socket.end()
    await waitClosed(socket)
  })

  it('answers ERROR to a frame that is not a protobuf Request, and keeps the connection', async () => {
    const { socket, channel } = await rawConnection(a.server)
    await channel.writeFrame(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f, 0x12]))
    const bad = await readResponse(channel)
    assert.notEqual(bad, 'closed')
    assert.equal((bad as Response).type, Response.Type.ERROR)
    assert.match((bad as Response).error?.msg ?? '', /Malformed request/)
    await channel.writeFrame(request({ type: Request.Type.IDENTIFY }))
    assert.equal((await readResponse(channel) as Response).type, Response.Type.OK)
    socket.destroy()
  })

  it('answers ERROR to requests without a type, with an unknown type, or missing their fields', async () => {
    const { socket, channel } = await rawConnection(a.server)
    const cases: Array<[Uint8Array, RegExp]> = [
      [new Uint8Array(0), /type field is missing/],
      [new Uint8Array([0x08, 42]), /Malformed request: Invalid enum value/],
      [request({ type: Request.Type.CONNECT }), /connect field is missing/],
      [request({ type: Request.Type.CONNECT, connect: { addrs: [] } }), /Missing ConnectRequest.peer/],
      [request({ type: Request.Type.CONNECT, connect: { peer: new Uint8Array([1, 2, 3]), addrs: [] } }), /ConnectRequest.peer is not a multihash/],
      [request({ type: Request.Type.CONNECT, connect: { peer: b.node.id.toMultihash().bytes, addrs: [new Uint8Array([0xde, 0xad])] } }), /ConnectRequest.addrs\[0\] is not a valid multiaddr/],
      [request({ type: Request.Type.STREAM_OPEN, streamOpen: { peer: b.node.id.toMultihash().bytes, proto: [] } }), /no protocol given/],
      [request({ type: Request.Type.STREAM_HANDLER, streamHandler: { addr: new Uint8Array([4, 127, 0, 0, 1, 0x91, 0x02, 0, 80]), proto: [] } }), /no protocol given/],
      [request({ type: Request.Type.STREAM_HANDLER, streamHandler: { addr: new Uint8Array([4, 127, 0, 0, 1, 0x91, 0x02, 0, 80]), proto: ['/x/1.0.0'] } }), /cannot be dialled/],
      [request({ type: Request.Type.DISCONNECT, disconnect: {} }), /Missing DisconnectRequest.peer/],
      [request({ type: Request.Type.PEERSTORE }), /peerStore field is missing/]
    ]
    for (const [message, expected] of cases) {
      await channel.writeFrame(message)
      const response = await readResponse(channel)
      assert.notEqual(response, 'closed', `connection closed after ${expected.source}`)
      assert.equal((response as Response).type, Response.Type.ERROR)
      assert.match((response as Response).error?.msg ?? '', expected)
    }
    socket.destroy()
  })

  it('refuses lists longer than maxListLength', async () => {
    const { socket, channel } = await rawConnection(a.server)
    const addrs = Array.from({ length: 65 }, () => b.node.getMultiaddrs()[0].decapsulateCode(421).bytes)
    await channel.writeFrame(request({ type: Request.Type.CONNECT, connect: { peer: b.node.id.toMultihash().bytes, addrs } }))
    const response = await readResponse(channel)
    assert.equal((response as Response).type, Response.Type.ERROR)
    assert.match((response as Response).error?.msg ?? '', /too many elements/)
    socket.destroy()
  })

  it('answers ERROR to an oversized request before reading it, then closes', async () => {
    const { socket, channel } = await rawConnection(a.server)
    // Announce 5 MiB and send only the prefix: the daemon must not wait for (or buffer) the body.
    socket.write(new Uint8Array([0x80, 0x80, 0xc0, 0x02]))
    const response = await readResponse(channel)
    assert.equal((response as Response).type, Response.Type.ERROR)
    assert.match((response as Response).error?.msg ?? '', /maxMessageSize exceeded for control message: 5242880 > 65536/)
    await waitClosed(socket)
  })

  it('answers ERROR to a length prefix longer than 9 bytes, then closes', async () => {
    const { socket, channel } = await rawConnection(a.server)
    socket.write(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80]))
    const response = await readResponse(channel)
    assert.equal((response as Response).type, Response.Type.ERROR)
    assert.match((response as Response).error?.msg ?? '', /Length prefix longer than 9 bytes/)
    await waitClosed(socket)
  })

  it('closes a connection that ends inside a length prefix or a message', async () => {
    for (const bytes of [new Uint8Array([0x85]), new Uint8Array([10, 0x08, 0x00])]) {
      const { socket, channel } = await rawConnection(a.server)
      socket.end(bytes)
      const response = await readResponse(channel)
      // An ERROR if the daemon could still write it, then the end of the connection.
      if (response !== 'closed') {
        assert.equal(response.type, Response.Type.ERROR)
        assert.match(response.error?.msg ?? '', /ended (inside a length prefix|after 2 of 10 message bytes)/)
      }
      await waitClosed(socket)
    }
  })

  it('copes with a client that disconnects mid-request and mid-stream', async () => {
    // Mid-request: half a frame, then a reset.
    const half = await rawConnection(a.server)
    half.socket.write(lp(request({ type: Request.Type.IDENTIFY })).subarray(0, 1))
    half.socket.resetAndDestroy()

    // Mid-stream: the echo stream to b is reset, not left open.
    const { socket, channel } = await rawConnection(a.server)
    await channel.writeFrame(request({ type: Request.Type.STREAM_OPEN, streamOpen: { peer: b.node.id.toMultihash().bytes, proto: [ECHO_PROTOCOL] } }))
    const ok = await readResponse(channel)
    assert.equal((ok as Response).type, Response.Type.OK)
    socket.write(new Uint8Array(100_000))
    const conn = a.node.getConnections(b.node.id)[0]
    await eventually(() => conn.streams.some(s => s.protocol === ECHO_PROTOCOL), 5000, 'the echo stream')
    socket.resetAndDestroy()
    await eventually(() => !conn.streams.some(s => s.protocol === ECHO_PROTOCOL), 5000, 'the echo stream to end')
    assert.equal(conn.status, 'open')
    await eventually(() => a.server.controlConnections === 0, 5000, 'the control connections to be released')

    // A new stream on the same libp2p connection still works.
    const stream = await a.client.openStream(b.node.id, ECHO_PROTOCOL)
    const [, reply] = await Promise.all([stream.sink([new TextEncoder().encode('still here')]), collect(stream.source)])
    assert.equal(new TextDecoder().decode(reply), 'still here')
  })

  it('closes idle control connections after idleTimeout', async () => {
    const d = await startDaemon({ idleTimeout: 150 })
    try {
      const { socket } = await rawConnection(d.server)
      const started = Date.now()
      await waitClosed(socket, 3000)
      assert.ok(Date.now() - started >= 100)
      assert.ok((await d.client.identify()).peerId.equals(d.node.id))
    } finally {
      await d.stop()
    }
  })

  it('cuts off a client that sends requests but never reads the answers', async () => {
    const d = await startDaemon({ idleTimeout: 300 })
    try {
      const addr = d.server.getMultiaddr().getComponents()
      const socket = connect({ host: addr[0].value, port: Number(addr[1].value) })
      socket.on('error', () => {})
      await once(socket, 'connect')
      // 60 000 DHT requests in one write: their ERROR answers (7 MB) cannot all be buffered.
      const one = lp(request({ type: Request.Type.DHT }))
      const many = new Uint8Array(one.byteLength * 60_000)
      for (let i = 0; i < 60_000; i++) many.set(one, i * one.byteLength)
      socket.write(many)
      await eventually(() => d.server.controlConnections === 1, 5000, 'the connection to be served')
      await eventually(() => d.server.controlConnections === 0, 10_000, 'the daemon to give up on the client')
      socket.destroy()
      assert.ok((await d.client.identify()).peerId.equals(d.node.id))
    } finally {
      await d.stop()
    }
  })

  it('answers ERROR to connections past maxControlConnections, and serves again once they are released', async () => {
    const d = await startDaemon({ maxControlConnections: 2 })
    try {
      const held = [await rawConnection(d.server), await rawConnection(d.server)]
      await eventually(() => d.server.controlConnections === 2, 5000, 'two control connections')
      const extra = await rawConnection(d.server)
      const response = await readResponse(extra.channel)
      assert.equal((response as Response).type, Response.Type.ERROR)
      assert.match((response as Response).error?.msg ?? '', /maxControlConnections exceeded for daemon: 2/)
      await waitClosed(extra.socket)
      // The held ones still work.
      await held[0].channel.writeFrame(request({ type: Request.Type.IDENTIFY }))
      assert.equal((await readResponse(held[0].channel) as Response).type, Response.Type.OK)
      for (const h of held) h.socket.destroy()
      await eventually(() => d.server.controlConnections === 0, 5000, 'the connections to be released')
      assert.ok((await d.client.identify()).peerId.equals(d.node.id))
    } finally {
      await d.stop()
    }
  })
})
