import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { generateKeyPair } from '@peerkit/crypto'
import { peerIdFromPrivateKey } from '@peerkit/peer-id'
import { peerIdStringOf, rankAddresses } from '../src/index.js'
import type { Address, PeerId } from '@peerkit/interfaces'

async function newPeerId (): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

function addr (s: string, isCertified = false): Address {
  return { multiaddr: multiaddr(s), isCertified }
}

function order (addresses: Address[]): string[] {
  return rankAddresses(addresses).map(a => `${a.multiaddr.toString()}${a.isCertified ? ' (certified)' : ''}`)
}

describe('rankAddresses', () => {
  it('puts direct addresses before relayed ones', async () => {
    const relay = (await newPeerId()).toString()
    const ranked = order([
      addr(`/ip4/1.2.3.4/tcp/1/p2p/${relay}/p2p-circuit`),
      addr('/ip4/10.0.0.1/tcp/2'),
      addr('/ip4/5.6.7.8/tcp/3')
    ])
    assert.deepEqual(ranked, ['/ip4/5.6.7.8/tcp/3', '/ip4/10.0.0.1/tcp/2', `/ip4/1.2.3.4/tcp/1/p2p/${relay}/p2p-circuit`])
  })

  it('puts certified addresses before uncertified ones, even private before public', () => {
    assert.deepEqual(order([
      addr('/ip4/5.6.7.8/tcp/1'),
      addr('/ip4/192.168.1.1/tcp/2', true),
      addr('/ip4/8.8.8.8/tcp/3', true)
    ]), ['/ip4/8.8.8.8/tcp/3 (certified)', '/ip4/192.168.1.1/tcp/2 (certified)', '/ip4/5.6.7.8/tcp/1'])
  })

  it('puts public before private, loopback and link-local addresses', () => {
    const privates = [
      '/ip4/127.0.0.1/tcp/1', '/ip4/10.1.2.3/tcp/1', '/ip4/172.16.0.1/tcp/1', '/ip4/172.31.255.1/tcp/1',
      '/ip4/192.168.0.1/tcp/1', '/ip4/169.254.1.1/tcp/1', '/ip6/::1/tcp/1', '/ip6/fd00::1/tcp/1', '/ip6/fc12:3456::1/tcp/1', '/ip6/fe80::1/tcp/1', '/ip6/febf::1/tcp/1'
    ]
    const publics = ['/ip4/172.32.0.1/tcp/1', '/ip4/11.0.0.1/tcp/1', '/ip6/2001:db8::1/tcp/1', '/dns4/example.com/tcp/1']
    const ranked = order([...privates, ...publics].map(s => addr(s)))
    assert.deepEqual(ranked, [...publics, ...privates])
  })

  it('judges only IP addresses private: host names and public IPv6 that look like private prefixes are public', () => {
    assert.deepEqual(order([addr('/ip4/10.0.0.1/tcp/1'), addr('/dns4/fdroid.example/tcp/1'), addr('/dns4/10.example/tcp/1'), addr('/ip6/fd::1/tcp/1')]),
      ['/dns4/fdroid.example/tcp/1', '/dns4/10.example/tcp/1', '/ip6/fd::1/tcp/1', '/ip4/10.0.0.1/tcp/1'])
  })

  it('is stable: equal ranks keep the given order', () => {
    const given = ['/ip4/9.9.9.9/tcp/1', '/ip4/1.1.1.1/tcp/1', '/ip4/5.5.5.5/tcp/1', '/ip4/3.3.3.3/tcp/1']
    assert.deepEqual(order(given.map(s => addr(s))), given)
    assert.deepEqual(order([...given].reverse().map(s => addr(s))), [...given].reverse())
  })

  it('removes duplicates, keeping the first occurrence', () => {
    assert.deepEqual(order([addr('/ip4/1.1.1.1/tcp/1', true), addr('/ip4/2.2.2.2/tcp/1'), addr('/ip4/1.1.1.1/tcp/1')]),
      ['/ip4/1.1.1.1/tcp/1 (certified)', '/ip4/2.2.2.2/tcp/1'])
  })

  it('does not modify its input', () => {
    const input = [addr('/ip4/10.0.0.1/tcp/1'), addr('/ip4/1.1.1.1/tcp/1')]
    const copy = input.map(a => a.multiaddr.toString())
    rankAddresses(input)
    assert.deepEqual(input.map(a => a.multiaddr.toString()), copy)
    assert.deepEqual(rankAddresses([]), [])
  })
})

describe('peerIdStringOf', () => {
  it('returns the last /p2p/ component', async () => {
    const id = (await newPeerId()).toString()
    assert.equal(peerIdStringOf(multiaddr(`/ip4/1.2.3.4/tcp/1/p2p/${id}`)), id)
    assert.equal(peerIdStringOf(multiaddr('/ip4/1.2.3.4/tcp/1')), undefined)
  })

  it('returns the target of a relayed address, not the relay', async () => {
    const relay = (await newPeerId()).toString()
    const target = (await newPeerId()).toString()
    assert.equal(peerIdStringOf(multiaddr(`/ip4/1.2.3.4/tcp/1/p2p/${relay}/p2p-circuit/p2p/${target}`)), target)
    assert.equal(peerIdStringOf(multiaddr(`/ip4/1.2.3.4/tcp/1/p2p/${relay}/p2p-circuit`)), undefined, 'a relay address without target names nobody')
  })
})
