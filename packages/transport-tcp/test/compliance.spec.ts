import net from 'node:net'
import { multiaddr } from '@multiformats/multiaddr'
import tests from '@peerkit/interface-compliance-tests/transport'
import { tcp } from '../src/index.js'

/** True when the host can bind the IPv6 loopback address (some containers have IPv6 disabled). */
async function hasIPv6Loopback (): Promise<boolean> {
  return new Promise(resolve => {
    const server = net.createServer()
    server.once('error', () => { resolve(false) })
    server.listen({ host: '::1', port: 0, ipv6Only: true }, () => {
      server.close(() => { resolve(true) })
    })
  })
}

const ipv6 = await hasIPv6Loopback()

describe('@peerkit/transport-tcp compliance over 127.0.0.1', () => {
  tests({
    async setup () {
      return {
        transport: tcp({ closeTimeout: 300 }),
        listenAddrs: [multiaddr('/ip4/127.0.0.1/tcp/0')]
      }
    },
    async teardown () {}
  })
})

if (ipv6) {
  describe('@peerkit/transport-tcp compliance over ::1', () => {
    tests({
      async setup () {
        return {
          transport: tcp({ closeTimeout: 300 }),
          dialer: tcp(),
          listenAddrs: [multiaddr('/ip6/::1/tcp/0')]
        }
      },
      async teardown () {}
    })
  })
} else {
  // Reported in the test output; the IPv4 run above still covers the whole suite.
  console.warn('@peerkit/transport-tcp compliance over ::1 NOT RUN: this host cannot bind the IPv6 loopback address ::1')
}
