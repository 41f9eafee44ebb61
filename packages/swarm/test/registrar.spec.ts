import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { InvalidParametersError, UnsupportedProtocolError } from '@peerkit/interfaces'
import { DEFAULT_HANDLER_MAX_INBOUND_STREAMS, DEFAULT_HANDLER_MAX_OUTBOUND_STREAMS, ProtocolRegistrar } from '../src/index.js'
import { createPeer, nextEvent, stopAll } from './fixtures.js'
import type { SelfUpdate } from '@peerkit/interfaces'

const noop = (): void => {}

describe('ProtocolRegistrar', () => {
  it('registers, lists (sorted) and removes handlers', () => {
    const r = new ProtocolRegistrar()
    const h1 = (): void => {}
    const h2 = (): void => {}
    r.handle('/b/1.0.0', h1)
    r.handle('/a/1.0.0', h2, { maxInboundStreams: 3, maxOutboundStreams: 4 })
    assert.deepEqual(r.getProtocols(), ['/a/1.0.0', '/b/1.0.0'])
    assert.equal(r.getHandler('/b/1.0.0').handler, h1)
    assert.deepEqual(r.getHandler('/b/1.0.0').options, {
      maxInboundStreams: DEFAULT_HANDLER_MAX_INBOUND_STREAMS,
      maxOutboundStreams: DEFAULT_HANDLER_MAX_OUTBOUND_STREAMS
    })
    assert.deepEqual(r.getHandler('/a/1.0.0').options, { maxInboundStreams: 3, maxOutboundStreams: 4 })
    r.unhandle('/b/1.0.0')
    assert.deepEqual(r.getProtocols(), ['/a/1.0.0'])
  })

  it('getProtocols follows every change and hands out a copy the caller may change', () => {
    const r = new ProtocolRegistrar()
    r.handle('/c/1.0.0', noop)
    const first = r.getProtocols()
    first.push('/mine')
    first.sort().reverse()
    assert.deepEqual(r.getProtocols(), ['/c/1.0.0'], 'a changed copy does not change the table')
    r.handle('/a/1.0.0', noop)
    assert.deepEqual(r.getProtocols(), ['/a/1.0.0', '/c/1.0.0'], 'a new handler appears, in order')
    r.handle('/a/1.0.0', noop, { force: true })
    assert.deepEqual(r.getProtocols(), ['/a/1.0.0', '/c/1.0.0'], 'a replaced handler is listed once')
    r.unhandle('/c/1.0.0')
    assert.deepEqual(r.getProtocols(), ['/a/1.0.0'], 'a removed handler disappears')
    r.unhandle('/nope/1.0.0')
    assert.deepEqual(r.getProtocols(), ['/a/1.0.0'])
  })

  it('getHandler of an unknown protocol throws UnsupportedProtocolError naming it', () => {
    const r = new ProtocolRegistrar()
    assert.throws(() => r.getHandler('/nope/1.0.0'), (err: Error) => {
      assert.ok(err instanceof UnsupportedProtocolError)
      assert.deepEqual(err.protocols, ['/nope/1.0.0'])
      return true
    })
  })

  it('findHandler returns the record, or undefined without throwing', () => {
    const r = new ProtocolRegistrar()
    const h = (): void => {}
    r.handle('/a/1.0.0', h, { maxOutboundStreams: 7 })
    assert.equal(r.findHandler('/a/1.0.0')?.handler, h)
    assert.equal(r.findHandler('/a/1.0.0')?.options.maxOutboundStreams, 7)
    assert.equal(r.findHandler('/nope/1.0.0'), undefined)
    r.unhandle('/a/1.0.0')
    assert.equal(r.findHandler('/a/1.0.0'), undefined)
  })

  it('refuses a second handler for a protocol unless forced', () => {
    const r = new ProtocolRegistrar()
    const first = (): void => {}
    const second = (): void => {}
    r.handle('/p/1.0.0', first)
    assert.throws(() => { r.handle('/p/1.0.0', second) }, InvalidParametersError)
    assert.equal(r.getHandler('/p/1.0.0').handler, first, 'the first handler is kept')
    r.handle('/p/1.0.0', second, { force: true, maxInboundStreams: 7 })
    assert.equal(r.getHandler('/p/1.0.0').handler, second)
    assert.equal(r.getHandler('/p/1.0.0').options.maxInboundStreams, 7)
  })

  it('refuses invalid protocol ids, handlers and limits', () => {
    const r = new ProtocolRegistrar()
    for (const bad of ['', 'a\nb', 'x'.repeat(1001), 42 as unknown as string, undefined as unknown as string]) {
      assert.throws(() => { r.handle(bad, noop) }, InvalidParametersError, `protocol ${JSON.stringify(bad)}`)
    }
    assert.throws(() => { r.handle('/p', 'nope' as unknown as () => void) }, InvalidParametersError)
    for (const v of [-1, 1.5, NaN, Infinity]) {
      assert.throws(() => { r.handle('/p', noop, { maxInboundStreams: v }) }, InvalidParametersError, `maxInboundStreams ${v}`)
      assert.throws(() => { r.handle('/p', noop, { maxOutboundStreams: v }) }, InvalidParametersError, `maxOutboundStreams ${v}`)
    }
    assert.deepEqual(r.getProtocols(), [], 'nothing was registered')
    r.handle('x'.repeat(1000), noop)
    assert.equal(r.getProtocols().length, 1, 'the longest allowed id is accepted')
  })

  it('calls onChange on each change only', () => {
    let changes = 0
    const r = new ProtocolRegistrar(() => { changes++ })
    r.handle('/a', noop)
    assert.equal(changes, 1)
    assert.throws(() => { r.handle('/a', noop) })
    assert.equal(changes, 1, 'a refused registration is no change')
    r.handle('/a', noop, { force: true })
    assert.equal(changes, 2)
    r.unhandle('/missing')
    assert.equal(changes, 2, 'removing an unknown protocol is no change')
    r.unhandle('/a')
    assert.equal(changes, 3)
  })
})

describe('swarm registrar', () => {
  afterEach(stopAll)

  it('handle/unhandle/getProtocols/getHandler go through the swarm and fire self:update', async () => {
    const { swarm, addr } = await createPeer()
    const added = nextEvent<SelfUpdate>(swarm, 'self:update')
    swarm.handle('/x/1.0.0', noop, { maxOutboundStreams: 2 })
    const update = await added
    assert.deepEqual(update.protocols, ['/x/1.0.0'])
    assert.deepEqual(update.addresses.map(a => a.toString()), [addr.toString()], 'the update carries our addresses')
    assert.deepEqual(swarm.getProtocols(), ['/x/1.0.0'])
    assert.equal(swarm.getHandler('/x/1.0.0').options.maxOutboundStreams, 2)
    assert.throws(() => { swarm.handle('/x/1.0.0', noop) }, InvalidParametersError)

    const removed = nextEvent<SelfUpdate>(swarm, 'self:update')
    swarm.unhandle('/x/1.0.0')
    assert.deepEqual((await removed).protocols, [])
    assert.throws(() => swarm.getHandler('/x/1.0.0'), UnsupportedProtocolError)
  })

  it('fires self:update when it starts listening', async () => {
    const { swarm } = await createPeer({ listen: false })
    const update = nextEvent<SelfUpdate>(swarm, 'self:update')
    await swarm.listen([multiaddr('/ip4/127.0.0.1/tcp/0')])
    const { addresses } = await update
    assert.equal(addresses.length, 1)
    assert.match(addresses[0].toString(), new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${swarm.peerId.toString()}$`))
  })
})
