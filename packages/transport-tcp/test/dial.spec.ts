import assert from 'node:assert/strict'
import net from 'node:net'
import { multiaddr } from '@multiformats/multiaddr'
import { TimeoutError } from '@peerkit/interfaces'
import { DEFAULT_DIAL_TIMEOUT, tcp } from '../src/index.js'
import { HangingServer, assertNoLeaks, delay, resources } from './helpers.js'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { MultiaddrConnection } from '@peerkit/interfaces'

/** A port on 127.0.0.1 where nothing listens (bound, then released). */
async function closedPort (): Promise<Multiaddr> {
  const server = net.createServer()
  await new Promise<void>(resolve => server.listen({ host: '127.0.0.1', port: 0 }, resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise<void>(resolve => server.close(() => { resolve() }))
  return multiaddr(`/ip4/127.0.0.1/tcp/${port}`)
}

describe('dial', () => {
  let baseline: Map<string, number>

  before(async () => {
    await delay(1)
    baseline = resources()
  })

  after(async () => {
    await assertNoLeaks(baseline)
  })

  it('maps a refused connection to a TransportDialError naming the address and the OS code', async () => {
    const addr = await closedPort()
    await assert.rejects(tcp().dial(addr), (err: Error & { code?: string, address?: string, cause?: NodeJS.ErrnoException }) => {
      assert.equal(err.name, 'TransportDialError')
      assert.equal(err.code, 'ERR_TRANSPORT_DIAL')
      assert.equal(err.address, addr.toString())
      assert.match(err.message, /ECONNREFUSED/)
      assert.ok(err.message.includes(addr.toString()))
      assert.equal(err.cause?.code, 'ECONNREFUSED')
      return true
    })
  })

  it('rejects addresses it cannot dial with InvalidParametersError, before touching the network', async () => {
    const transport = tcp()
    for (const s of ['/ip4/127.0.0.1/tcp/0', '/ip4/0.0.0.0/tcp/4001', '/ip6/::/tcp/4001', '/ip4/127.0.0.1/udp/4001', '/ip4/127.0.0.1/tcp/4001/ws']) {
      await assert.rejects(transport.dial(multiaddr(s)), { name: 'InvalidParametersError' }, s)
    }
  })

  it('dials a /dns4 name and reports both addresses', async () => {
    const transport = tcp()
    const listener = transport.createListener()
    const accepted: MultiaddrConnection[] = []
    listener.addEventListener('connection', evt => { accepted.push(evt.detail) })
    await listener.listen(multiaddr('/ip4/127.0.0.1/tcp/0'))
    const port = listener.getAddrs()[0].getComponents()[1].value
    const target = multiaddr(`/dns4/localhost/tcp/${port}`)
    const conn = await transport.dial(target)
    assert.equal(conn.remoteAddr.toString(), target.toString(), 'remoteAddr is the address dialled')
    assert.match(conn.localAddr?.toString() ?? '', /^\/ip4\/127\.0\.0\.1\/tcp\/\d+$/)
    assert.equal(conn.direction, 'outbound')
    conn.abort(new Error('done'))
    await listener.close({ closeConnections: true })
  })

  describe('against a server that never completes the handshake', () => {
    let server: HangingServer

    before(async () => {
      server = await HangingServer.start()
      await server.fill()
    })

    after(async () => {
      await server.stop()
    })

    it('times out with a TimeoutError after the configured dial timeout', async () => {
      const transport = tcp({ dialTimeout: 150 })
      const started = Date.now()
      await assert.rejects(transport.dial(server.addr), (err: TimeoutError) => {
        assert.equal(err.name, 'TimeoutError')
        assert.equal(err.timeoutMs, 150)
        assert.ok(err.message.includes(server.addr.toString()))
        return true
      })
      const elapsed = Date.now() - started
      assert.ok(elapsed >= 140 && elapsed < DEFAULT_DIAL_TIMEOUT / 2, `took ${elapsed}ms`)
    })

    it('lets options.timeout override the transport default', async () => {
      const transport = tcp({ dialTimeout: 60_000 })
      await assert.rejects(transport.dial(server.addr, { timeout: 100 }), { name: 'TimeoutError', timeoutMs: 100 })
    })

    it('aborts an in-flight dial through its signal with an AbortError naming the address', async () => {
      const controller = new AbortController()
      const dial = tcp().dial(server.addr, { signal: controller.signal })
      setTimeout(() => { controller.abort() }, 50)
      await assert.rejects(dial, (err: Error) => {
        assert.equal(err.name, 'AbortError')
        assert.ok(err.message.includes(server.addr.toString()))
        return true
      })
    })

    it('rejects with the signal reason when it is a typed error', async () => {
      const reason = new TimeoutError('caller deadline', 10)
      await assert.rejects(tcp().dial(server.addr, { signal: AbortSignal.abort(reason) }), err => err === reason)
      const controller = new AbortController()
      const dial = tcp().dial(server.addr, { signal: controller.signal })
      setTimeout(() => { controller.abort(reason) }, 20)
      await assert.rejects(dial, err => err === reason)
    })

    it('leaves no socket or timer behind after timeouts and aborts', async () => {
      await delay(1)
      const before = resources()
      const transport = tcp({ dialTimeout: 50 })
      await Promise.all(Array.from({ length: 5 }, async () => assert.rejects(transport.dial(server.addr), { name: 'TimeoutError' })))
      const controller = new AbortController()
      const dials = Array.from({ length: 5 }, async () => assert.rejects(transport.dial(server.addr, { signal: controller.signal }), { name: 'AbortError' }))
      controller.abort()
      await Promise.all(dials)
      await assertNoLeaks(before)
    })
  })
})
