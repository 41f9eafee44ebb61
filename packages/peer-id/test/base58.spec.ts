import { strict as assert } from 'node:assert'
import { randomBytes } from 'node:crypto'
import { base58btc } from 'multiformats/bases/base58'
import { base58btcEncode } from '../src/base58.js'

describe('base58btcEncode', () => {
  it('matches the reference encoder on known vectors', () => {
    assert.equal(base58btcEncode(new Uint8Array()), '')
    assert.equal(base58btcEncode(new Uint8Array([0])), '1')
    assert.equal(base58btcEncode(new Uint8Array([0, 0, 1])), '112')
    assert.equal(base58btcEncode(new TextEncoder().encode('Hello World!')), '2NEpo7TZRRrLZSi2U')
    assert.equal(base58btcEncode(new Uint8Array([0xff, 0xff])), 'LUv')
  })

  it('agrees with multiformats on random inputs, leading zeros included', () => {
    for (let i = 0; i < 2000; i++) {
      const bytes = randomBytes(i % 50)
      if (i % 7 === 0 && bytes.length > 2) { bytes[0] = 0; bytes[1] = 0 }
      assert.equal(base58btcEncode(bytes), base58btc.baseEncode(bytes), `input ${bytes.toString('hex')}`)
    }
  })
})
