import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { NetTransport, closeLeakedServers } from './transport/net-transport.js'
import { runTransportSuite } from './transport/run-suite.js'
import type { TestSetup } from '../src/index.js'
import type { TransportTestFixture } from '../src/transport/index.js'
import type { Faults } from './transport/net-transport.js'

function fixture (faults: Faults, eventTimeout: number): TestSetup<TransportTestFixture> {
  return {
    async setup () {
      return { transport: new NetTransport(faults), listenAddrs: [multiaddr('/ip4/127.0.0.1/tcp/0')], eventTimeout }
    },
    async teardown () {
      await closeLeakedServers()
    }
  }
}

function escape (text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

interface BrokenCase {
  fault: keyof Faults
  /** What the broken transport does wrong. */
  does: string
  /** Titles (or unique parts of them) of tests that must fail. */
  failing: string[]
}

const BROKEN: BrokenCase[] = [
  {
    fault: 'dropLastChunk',
    does: 'drops the last chunk a sink is given',
    failing: [
      'exchanges data in both directions and describes both ends',
      'transfers several MiB in each direction at once',
      'delivers many small writes in order',
      'supports half-close'
    ]
  },
  {
    fault: 'noConnectionEvent',
    does: 'never fires the connection event',
    failing: ['fires one connection event per inbound connection', 'exchanges data in both directions']
  },
  {
    fault: 'unboundedRead',
    does: 'queues everything received without backpressure',
    failing: ['holds the outbound writer back', 'holds the inbound writer back']
  },
  {
    fault: 'untypedDialErrors',
    does: 'rejects failed dials with untyped errors',
    failing: ['where nothing listens with a TransportDialError naming the address']
  },
  {
    fault: 'ignoreCloseConnections',
    does: 'ignores closeConnections when its listener closes',
    failing: ['with closeConnections closes the connections it accepted', 'with closeConnections finishes even when the remote neither reads nor closes']
  },
  {
    fault: 'gracefulAbort',
    does: 'only half-closes on abort()',
    failing: ['abort() fails pending reads and writes with the given error']
  },
  {
    fault: 'unboundedClose',
    does: 'waits forever in close() for an unresponsive remote',
    failing: ['close() resolves in bounded time when the remote neither reads nor closes']
  },
  {
    fault: 'ignoreAbortSignal',
    does: 'ignores the dial AbortSignal',
    failing: ['signal is already aborted with an AbortError', 'aborted while in flight with an AbortError']
  },
  {
    fault: 'leakListenerHandle',
    does: 'keeps listening after its listener is closed',
    failing: ['without closeConnections stops accepting', 'releases every socket, handle and timer']
  },
  {
    fault: 'reuseChannelBuffer',
    does: 'reuses the buffer behind the chunks its byte channel hands out',
    failing: ['a byte channel, where offered, hands a receiver that keeps its chunks bytes of its own']
  },
  {
    fault: 'noHalfClose',
    does: 'ends its own side when the remote half-closes',
    failing: ['supports half-close']
  }
]

describe('transport compliance suite self-test', function () {
  after(async () => {
    await closeLeakedServers()
  })

  it('passes every test for a correct transport', async function () {
    const outcome = await runTransportSuite(fixture({}, 5_000))
    assert.deepEqual(outcome.failed.map(f => `${f.title}: ${f.error.message}`), [])
    assert.deepEqual(outcome.failedHooks, [])
    assert.ok(outcome.total >= 25, `only ${outcome.total} tests ran`)
    assert.equal(outcome.passed.length, outcome.total)
    // Every title a broken case expects to fail exists and passes here.
    for (const c of BROKEN) {
      for (const title of c.failing) {
        assert.ok(outcome.passed.some(t => t.includes(title)), `no passing test matches "${title}"`)
      }
    }
  })

  for (const c of BROKEN) {
    it(`fails for a transport that ${c.does}`, async function () {
      const outcome = await runTransportSuite(fixture({ [c.fault]: true }, 1_000), new RegExp(c.failing.map(escape).join('|')))
      assert.ok(outcome.total >= c.failing.length, `only ${outcome.total} tests were selected`)
      for (const title of c.failing) {
        const failure = outcome.failed.find(f => f.title.includes(title))
        assert.ok(failure != null, `"${title}" passed against a transport that ${c.does} (passed: ${outcome.passed.join('; ')})`)
      }
    })
  }
})
