/**
 * @packageDocumentation
 *
 * The stream-muxer compliance suite. Its default export registers mocha tests for a
 * `StreamMuxerFactory`:
 *
 * ```ts
 * import tests from '@peerkit/interface-compliance-tests/stream-muxer'
 * import { yamux } from '@peerkit/muxer-yamux'
 *
 * describe('yamux', () => {
 *   tests({ async setup () { return yamux() }, async teardown () {} })
 * })
 * ```
 *
 * `setup()` is called before every test and must return a factory; the suite creates two muxers
 * with it (a dialer, `direction: 'outbound'`, and a listener) and pipes them to each other over a
 * test connection: in memory (batched, with a bounded buffer like a socket's), in memory re-cut into
 * small random pieces, over real TCP on 127.0.0.1, and over an in-memory byte channel (a muxer
 * that offers `[attachByteChannel]` is attached to it, as the upgrader does; any other is piped). `teardown()` runs after every test, after
 * the suite has aborted both muxers and closed the connection.
 *
 * What it checks: data in both directions, large and many small writes, hundreds of concurrent
 * streams, half-close, closeRead, resets reaching readers and held writers, backpressure (a reader
 * that does not read bounds what the writer gets through, without stalling other streams), graceful
 * and bounded `close()`, `abort()`, the connection dying, the remote closing, `onIncomingStream` and
 * `onStreamEnd` called once per stream, `streams` emptied, and no timer left once closed.
 *
 * It assumes the stream semantics of `@peerkit/interfaces` (and of `AbstractStream`): a remote
 * reset fails reads and writes with `StreamResetError`, a local `abort(err)` fails them with `err`.
 */
import { closeTests } from './close-tests.js'
import { dataTests } from './data-tests.js'
import { flowControlTests } from './flow-control-tests.js'
import { resourceTests } from './resource-tests.js'
import { streamTests } from './stream-tests.js'
import type { TestSetup } from '../index.js'
import type { StreamMuxerFactory } from '@peerkit/interfaces'

export { memoryConnectionPair, tcpConnectionPair, channelConnectionPair, byteChannelPair, connectionPair, ChannelConnection } from './duplex.js'
export type { TestConnection, TransportKind, MemoryPairOptions, ByteChannelEnd } from './duplex.js'
export { createMuxerPair, callbackProblems } from './harness.js'
export { feedThroughReusedBuffer, readFreeingChunks } from './owned-chunks.js'
export type { MuxerPair, MuxerSide } from './harness.js'

/** Registers the stream-muxer compliance tests for the factory `setup` returns. */
export default function streamMuxerTests (setup: TestSetup<StreamMuxerFactory>): void {
  describe('stream-muxer compliance', () => {
    streamTests(setup)
    for (const kind of ['memory', 'fragmenting', 'tcp', 'channel'] as const) dataTests(setup, kind)
    flowControlTests(setup)
    closeTests(setup, 'memory')
    closeTests(setup, 'tcp')
    closeTests(setup, 'channel')
    resourceTests(setup)
  })
}
