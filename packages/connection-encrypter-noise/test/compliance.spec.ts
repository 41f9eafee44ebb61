import tests from '@peerkit/interface-compliance-tests/connection-encrypter'
import { noise } from '../src/index.js'

describe('noise: connection-encrypter compliance', () => {
  tests({
    async setup () {
      return noise()
    },
    async teardown () {}
  })
})
