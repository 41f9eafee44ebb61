import tests from '@peerkit/interface-compliance-tests/connection-encrypter'
import { plaintext } from '../src/index.js'

describe('plaintext: connection-encrypter compliance', () => {
  tests({
    async setup () { return plaintext() },
    async teardown () {}
  })
})
