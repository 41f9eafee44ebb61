import tests from '@peerkit/interface-compliance-tests/connection-encrypter'
import { tls } from '../src/index.js'

describe('tls: connection-encrypter compliance', () => {
  tests({
    async setup () {
      return tls()
    },
    async teardown () {}
  })
})
