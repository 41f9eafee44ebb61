import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { InvalidParametersError } from '@peerkit/interfaces'
import { controlAddrToMultiaddr, parseControlAddr } from '../src/index.js'

describe('control addresses', () => {
  it('accept p2pd\'s unix spelling and the percent-encoded one', () => {
    assert.deepEqual(parseControlAddr('/unix/tmp/p2pd.sock'), { type: 'unix', path: '/tmp/p2pd.sock' })
    assert.deepEqual(parseControlAddr('/unix/%2Ftmp%2Fp2pd.sock'), { type: 'unix', path: '/tmp/p2pd.sock' })
    assert.deepEqual(parseControlAddr(multiaddr('/unix/%2Fvar%2Frun%2Fa%20b.sock')), { type: 'unix', path: '/var/run/a b.sock' })
    assert.equal(controlAddrToMultiaddr({ type: 'unix', path: '/tmp/p2pd.sock' }).toString(), '/unix/%2Ftmp%2Fp2pd.sock')
    // The binary form is the same as go-multiaddr's for /unix/tmp/p2pd.sock: the path as one value.
    assert.equal(Buffer.from(controlAddrToMultiaddr(parseControlAddr('/unix/tmp/p2pd.sock')).bytes).toString('hex'), '9003' + '0e' + Buffer.from('/tmp/p2pd.sock').toString('hex'))
  })

  it('accept ip4 and ip6 TCP addresses, from text or bytes', () => {
    assert.deepEqual(parseControlAddr('/ip4/127.0.0.1/tcp/0'), { type: 'tcp', host: '127.0.0.1', port: 0, family: 4 })
    assert.deepEqual(parseControlAddr(multiaddr('/ip6/::1/tcp/5000').bytes), { type: 'tcp', host: '::1', port: 5000, family: 6 })
    assert.equal(controlAddrToMultiaddr({ type: 'tcp', host: '::1', port: 5, family: 6 }).toString(), '/ip6/::1/tcp/5')
  })

  it('refuse everything else with InvalidParametersError', () => {
    for (const bad of ['/dns4/localhost/tcp/1', '/ip4/127.0.0.1/udp/1', '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA', '/unix/', '/unix/%zz', 'not an address', '/ip4/127.0.0.1']) {
      assert.throws(() => parseControlAddr(bad), InvalidParametersError, bad)
    }
    assert.throws(() => parseControlAddr(new Uint8Array([1, 2, 3])), InvalidParametersError)
  })
})
