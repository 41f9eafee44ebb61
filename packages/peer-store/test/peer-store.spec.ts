import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { generateKeyPair } from '@peerkit/crypto'
import { InvalidParametersError, NotFoundError } from '@peerkit/interfaces'
import { peerIdFromPrivateKey } from '@peerkit/peer-id'
import { memoryPeerStore } from '../src/index.js'
import type { PeerId } from '@peerkit/interfaces'

async function newPeerId (): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

describe('MemoryPeerStore', () => {
  it('throws NotFoundError for unknown peers', async () => {
    const store = memoryPeerStore()
    await assert.rejects(store.get(await newPeerId()), NotFoundError)
  })

  it('merges addresses and protocols, and records the key of identity ids', async () => {
    const store = memoryPeerStore()
    const id = await newPeerId()
    await store.merge(id, { multiaddrs: [multiaddr('/ip4/1.2.3.4/tcp/1')], protocols: ['/b', '/a'] })
    await store.merge(id, { multiaddrs: [multiaddr('/ip4/1.2.3.4/tcp/1'), multiaddr('/ip4/1.2.3.4/tcp/2')], protocols: ['/c'] })
    const peer = await store.get(id)
    assert.deepEqual(peer.addresses.map(a => a.multiaddr.toString()), ['/ip4/1.2.3.4/tcp/1', '/ip4/1.2.3.4/tcp/2'])
    assert.deepEqual(peer.protocols, ['/a', '/b', '/c'])
    assert.ok(peer.publicKey?.equals(id.publicKey))
  })

  it('patch replaces the fields given', async () => {
    const store = memoryPeerStore()
    const id = await newPeerId()
    await store.merge(id, { protocols: ['/a', '/b'], multiaddrs: [multiaddr('/ip4/1.2.3.4/tcp/1')] })
    const peer = await store.patch(id, { protocols: ['/z'] })
    assert.deepEqual(peer.protocols, ['/z'])
    assert.equal(peer.addresses.length, 1)
  })

  it('refuses a public key that does not match the PeerId', async () => {
    const store = memoryPeerStore()
    const id = await newPeerId()
    const other = await generateKeyPair('Ed25519')
    await assert.rejects(store.merge(id, { publicKey: other.publicKey }), InvalidParametersError)
  })

  it('expires addresses after their ttl', async () => {
    const store = memoryPeerStore()
    const id = await newPeerId()
    await store.merge(id, { multiaddrs: [multiaddr('/ip4/1.2.3.4/tcp/1')], ttl: 20 })
    assert.equal((await store.get(id)).addresses.length, 1)
    await new Promise(resolve => setTimeout(resolve, 40))
    assert.equal((await store.get(id)).addresses.length, 0)
  })

  it('marks certified addresses and keeps the flag when merged again uncertified', async () => {
    const store = memoryPeerStore()
    const id = await newPeerId()
    const ma = multiaddr('/ip4/1.2.3.4/tcp/1')
    await store.merge(id, { addresses: [{ multiaddr: ma, isCertified: true }] })
    await store.merge(id, { multiaddrs: [ma] })
    assert.equal((await store.get(id)).addresses[0].isCertified, true)
  })

  it('bounds addresses per peer, keeping certified ones', async () => {
    const store = memoryPeerStore({ maxAddressesPerPeer: 3 })
    const id = await newPeerId()
    await store.merge(id, { addresses: [{ multiaddr: multiaddr('/ip4/9.9.9.9/tcp/1'), isCertified: true }] })
    await store.merge(id, { multiaddrs: Array.from({ length: 10 }, (_, i) => multiaddr(`/ip4/1.1.1.1/tcp/${i + 1}`)) })
    const peer = await store.get(id)
    assert.equal(peer.addresses.length, 3)
    assert.ok(peer.addresses.some(a => a.isCertified))
  })

  it('bounds protocols and metadata', async () => {
    const store = memoryPeerStore({ maxProtocolsPerPeer: 2, maxMetadataEntries: 1, maxMetadataValueSize: 4 })
    const id = await newPeerId()
    const peer = await store.merge(id, {
      protocols: ['/1', '/2', '/3'],
      metadata: { a: new Uint8Array(4), b: new Uint8Array(1), big: new Uint8Array(5) }
    })
    assert.equal(peer.protocols.length, 2)
    assert.equal(peer.metadata.size, 1)
    assert.ok(peer.metadata.has('a'))
  })

  it('evicts the stalest unprotected peer past maxPeers', async () => {
    const ids = await Promise.all(Array.from({ length: 4 }, newPeerId))
    const store = memoryPeerStore({ maxPeers: 3, isProtected: (p) => p.equals(ids[0]) })
    const removed: string[] = []
    store.addEventListener('peer:remove', (evt) => { removed.push(evt.detail.id.toString()) })
    for (const id of ids) await store.merge(id, { protocols: ['/x'] })
    assert.equal(store.size, 3)
    assert.deepEqual(removed, [ids[1].toString()])
    assert.equal(await store.has(ids[0]), true)
  })

  it('returns copies that cannot change the store', async () => {
    const store = memoryPeerStore()
    const id = await newPeerId()
    const peer = await store.merge(id, { protocols: ['/a'] })
    peer.protocols.push('/mutated')
    assert.deepEqual((await store.get(id)).protocols, ['/a'])
  })

  it('filters addresses and emits updates', async () => {
    const store = memoryPeerStore({ filterAddress: (_p, ma) => !ma.toString().includes('/tcp/666') })
    const id = await newPeerId()
    let updates = 0
    store.addEventListener('peer:update', () => { updates++ })
    const peer = await store.merge(id, { multiaddrs: [multiaddr('/ip4/1.2.3.4/tcp/666'), multiaddr('/ip4/1.2.3.4/tcp/7')] })
    assert.deepEqual(peer.addresses.map(a => a.multiaddr.toString()), ['/ip4/1.2.3.4/tcp/7'])
    assert.equal(updates, 1)
    await store.delete(id)
    assert.equal(await store.has(id), false)
  })
})
