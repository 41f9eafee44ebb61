import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { generateKeyPair } from '@peerkit/crypto'
import { peerIdFromPrivateKey } from '@peerkit/peer-id'
import { createPeer, stopAll } from './fixtures.js'

describe('addresses of this node', () => {
  afterEach(stopAll)

  it('getMultiaddrs announces announceAddrs instead of the listen addresses, each naming us once', async () => {
    const { swarm, peerId } = await createPeer({
      init: { announceAddrs: [multiaddr('/dns4/example.com/tcp/4001'), multiaddr('/ip4/1.2.3.4/tcp/4001')] }
    })
    assert.deepEqual(swarm.getMultiaddrs().map(String), [
      `/dns4/example.com/tcp/4001/p2p/${peerId.toString()}`,
      `/ip4/1.2.3.4/tcp/4001/p2p/${peerId.toString()}`
    ])
    const privateKey = await generateKeyPair('Ed25519')
    const own = peerIdFromPrivateKey(privateKey).toString()
    const named = await createPeer({ privateKey, init: { announceAddrs: [multiaddr(`/ip4/1.2.3.4/tcp/1/p2p/${own}`)] } })
    assert.deepEqual(named.swarm.getMultiaddrs().map(String), [`/ip4/1.2.3.4/tcp/1/p2p/${own}`], '/p2p/ is not added twice')
  })

  it('counts distinct reporters of observed addresses, most reported first', async () => {
    const { swarm } = await createPeer({ listen: false })
    const r1 = (await createPeer({ listen: false })).peerId
    const r2 = (await createPeer({ listen: false })).peerId
    swarm.addObservedAddr(multiaddr('/ip4/1.1.1.1/tcp/1'), r1)
    swarm.addObservedAddr(multiaddr('/ip4/2.2.2.2/tcp/1'), r1)
    swarm.addObservedAddr(multiaddr('/ip4/2.2.2.2/tcp/1'), r2)
    swarm.addObservedAddr(multiaddr('/ip4/2.2.2.2/tcp/1'), r2)
    swarm.addObservedAddr(multiaddr('/ip4/3.3.3.3/tcp/1'))
    assert.deepEqual(swarm.getObservedAddrs().map(o => [o.multiaddr.toString(), o.reporters]), [
      ['/ip4/2.2.2.2/tcp/1', 2],
      ['/ip4/1.1.1.1/tcp/1', 1],
      ['/ip4/3.3.3.3/tcp/1', 0]
    ])
  })

  it('keeps at most maxObservedAddrs, forgetting the least reported', async () => {
    const { swarm } = await createPeer({ listen: false, init: { maxObservedAddrs: 4 } })
    const reporter = (await createPeer({ listen: false })).peerId
    swarm.addObservedAddr(multiaddr('/ip4/9.9.9.9/tcp/1'), reporter)
    for (let i = 0; i < 50; i++) swarm.addObservedAddr(multiaddr(`/ip4/10.0.0.${i}/tcp/1`))
    const observed = swarm.getObservedAddrs()
    assert.equal(observed.length, 4)
    assert.equal(observed[0].multiaddr.toString(), '/ip4/9.9.9.9/tcp/1', 'the reported address survives')
    await swarm.stop()
    assert.deepEqual(swarm.getObservedAddrs(), [], 'forgotten at stop')
  })
})
