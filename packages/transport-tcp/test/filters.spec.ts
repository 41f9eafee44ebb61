import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { transportSymbol } from '@peerkit/interfaces'
import { ipPortToMultiaddr, parseTCPAddress, tcp } from '../src/index.js'

const PEER = 'QmcgpsyWgH8Y8ajJz1Cu72KnS5uo2Aa2LpzU7kinSupNKC'

describe('address handling', () => {
  const transport = tcp()

  it('identifies itself as a transport', () => {
    assert.equal(transport[transportSymbol], true)
    assert.equal(transport.tag, '@peerkit/transport-tcp')
  })

  const plain = [
    '/ip4/127.0.0.1/tcp/4001',
    '/ip6/::1/tcp/4001',
    '/ip6zone/eth0/ip6/fe80::1/tcp/4001',
    '/dns4/example.com/tcp/443',
    '/dns6/example.com/tcp/443',
    '/dns/example.com/tcp/443',
    `/ip4/127.0.0.1/tcp/4001/p2p/${PEER}`,
    `/dns4/example.com/tcp/443/p2p/${PEER}`
  ]
  const wildcard = ['/ip4/0.0.0.0/tcp/4001', '/ip6/::/tcp/4001', '/ip4/127.0.0.1/tcp/0', `/ip4/0.0.0.0/tcp/0/p2p/${PEER}`]
  const other = [
    '/ip4/127.0.0.1/tcp/4001/ws',
    '/ip4/127.0.0.1/tcp/4001/wss',
    '/ip4/127.0.0.1/tcp/4001/tls/ws',
    '/dns4/example.com/tcp/443/tls',
    '/ip4/127.0.0.1/udp/4001',
    '/ip4/127.0.0.1/udp/4001/quic-v1',
    '/ip4/127.0.0.1',
    '/ip4/127.0.0.1/tcp/4001/p2p-circuit',
    `/ip4/127.0.0.1/tcp/4001/p2p/${PEER}/p2p-circuit/p2p/${PEER}`,
    `/p2p/${PEER}`,
    '/dnsaddr/example.com',
    '/unix/tmp%2Fsocket',
    '/ip6zone/eth0/ip4/127.0.0.1/tcp/1',
    '/memory/test'
  ]

  it('listenFilter keeps exactly the plain TCP addresses', () => {
    const all = [...plain, ...wildcard, ...other].map(s => multiaddr(s))
    assert.deepEqual(transport.listenFilter(all).map(String), [...plain, ...wildcard])
  })

  it('dialFilter also drops wildcard hosts and port 0', () => {
    const all = [...plain, ...wildcard, ...other].map(s => multiaddr(s))
    assert.deepEqual(transport.dialFilter(all).map(String), plain)
  })

  it('parses addresses into host, port, family and peer id', () => {
    assert.deepEqual(parseTCPAddress(multiaddr('/ip4/198.51.100.1/tcp/80')), { host: '198.51.100.1', port: 80, family: 4, dns: false })
    assert.deepEqual(parseTCPAddress(multiaddr('/ip6zone/eth0/ip6/fe80::1/tcp/1')), { host: 'fe80::1%eth0', port: 1, family: 6, dns: false })
    assert.deepEqual(parseTCPAddress(multiaddr(`/dns/example.com/tcp/443/p2p/${PEER}`)), { host: 'example.com', port: 443, family: 0, dns: true, peerId: PEER })
    assert.deepEqual(parseTCPAddress(multiaddr('/dns6/example.com/tcp/443')), { host: 'example.com', port: 443, family: 6, dns: true })
    assert.equal(parseTCPAddress(multiaddr('/ip4/198.51.100.1/tcp/80/ws')), undefined)
  })

  it('turns socket addresses into multiaddrs', () => {
    assert.equal(ipPortToMultiaddr('127.0.0.1', 1).toString(), '/ip4/127.0.0.1/tcp/1')
    assert.equal(ipPortToMultiaddr('::ffff:127.0.0.1', 2).toString(), '/ip4/127.0.0.1/tcp/2', 'IPv4-mapped IPv6')
    assert.equal(ipPortToMultiaddr('::1', 3).toString(), '/ip6/::1/tcp/3')
    assert.equal(ipPortToMultiaddr('fe80::1%eth0', 4).toString(), '/ip6zone/eth0/ip6/fe80::1/tcp/4')
    assert.equal(ipPortToMultiaddr('127.0.0.1', 5, PEER).toString(), `/ip4/127.0.0.1/tcp/5/p2p/${PEER}`)
    // Built from components, yet byte-for-byte the parsed address
    for (const [ip, text] of [['10.1.2.3', '/ip4/10.1.2.3/tcp/4001'], ['2001:db8::5', '/ip6/2001:db8::5/tcp/4001']]) {
      assert.deepEqual(ipPortToMultiaddr(ip, 4001).bytes, multiaddr(text).bytes)
      assert.ok(ipPortToMultiaddr(ip, 4001).equals(multiaddr(text)))
    }
    assert.throws(() => ipPortToMultiaddr('not-an-ip', 1), TypeError)
    assert.throws(() => ipPortToMultiaddr('fe80::1%a/b', 1), TypeError)
  })

  it('rejects out-of-range options with InvalidParametersError', () => {
    for (const init of [{ maxConnections: 0 }, { backlog: -1 }, { dialTimeout: -5 }, { maxConnections: 1.5 }]) {
      assert.throws(() => tcp(init), { name: 'InvalidParametersError' }, JSON.stringify(init))
    }
    assert.throws(() => tcp().createListener({ maxConnections: 0 }), { name: 'InvalidParametersError' })
  })
})
