import tests from '@peerkit/interface-compliance-tests/stream-muxer'
import { yamux } from '../src/index.js'

describe('yamux compliance', () => {
  tests({
    async setup () { return yamux() },
    async teardown () {}
  })
})
