import tests from '@peerkit/interface-compliance-tests/stream-muxer'
import { mplex } from '../src/index.js'

describe('mplex', () => {
  tests({
    async setup () {
      return mplex()
    },
    async teardown () {}
  })
})
