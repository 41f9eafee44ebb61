// The subset of aegir's `aegir/chai` that @libp2p/interop uses: chai's expect/assert, plus an
// `equalBytes` assertion for Uint8Arrays (and anything with a `subarray()`).
import * as chai from 'chai'

chai.use((c, utils) => {
  c.Assertion.addMethod('equalBytes', function (expected) {
    const toBytes = (v) => (v != null && typeof v.subarray === 'function' ? v.subarray() : v)
    const actual = toBytes(utils.flag(this, 'object'))
    const wanted = toBytes(expected)
    const same = actual instanceof Uint8Array && wanted instanceof Uint8Array &&
      actual.byteLength === wanted.byteLength && actual.every((b, i) => b === wanted[i])
    this.assert(same, 'expected #{this} to equal bytes #{exp}', 'expected #{this} not to equal bytes #{exp}', wanted, actual)
  })
})

export const expect = chai.expect
export const assert = chai.assert
export { chai }
