/**
 * Builds a dialer/listener pair of muxers over a test connection and records everything the suite
 * checks: the streams handed to `onIncomingStream` and `onStreamEnd`, and how the muxers' `sink`
 * and `source` ended.
 */
import { attachByteChannel } from '@peerkit/interfaces'
import { ChannelConnection, connectionPair } from './duplex.js'
import { sleep, track } from './utils.js'
import type { TestConnection, TransportKind } from './duplex.js'
import type { Settled } from './utils.js'
import type { TestSetup } from '../index.js'
import type { ByteChannelMuxer, Stream, StreamMuxer, StreamMuxerFactory } from '@peerkit/interfaces'

/** One side of a muxer pair. */
export interface MuxerSide {
  readonly name: 'dialer' | 'listener'
  readonly muxer: StreamMuxer
  readonly connection: TestConnection
  /** Streams passed to `onIncomingStream`, in order. */
  readonly incoming: Stream[]
  /** Streams passed to `onStreamEnd`, in order (a stream twice here is a bug). */
  readonly ended: Stream[]
  /** What to do with incoming streams; the default leaves them alone. */
  onStream: (stream: Stream) => void
  /** `muxer.sink(connection.source)`; on a byte channel, what `events.onInputEnd` reported. */
  readonly sink: Settled<void>
  /**
   * `connection.sink(muxer.source)`: settles once the muxer's source has ended; on a byte channel,
   * what `events.onOutputEnd` reported.
   */
  readonly output: Settled<void>
  /** True when the muxer runs on the connection's byte channel (`[attachByteChannel]`). */
  readonly onChannel: boolean
  /** Byte channel events the muxer reported more than once (a bug: each end is reported once). */
  readonly repeatedReports: string[]
}

/** A connected pair of muxers. */
export interface MuxerPair {
  readonly kind: TransportKind
  readonly factory: StreamMuxerFactory
  readonly dialer: MuxerSide
  readonly listener: MuxerSide
  /** Aborts both muxers, closes the connection and waits (briefly) for everything to settle. */
  teardown(): Promise<void>
}

function createSide (name: 'dialer' | 'listener', factory: StreamMuxerFactory, connection: TestConnection): MuxerSide {
  const incoming: Stream[] = []
  const ended: Stream[] = []
  const side: { onStream: (stream: Stream) => void } = { onStream: () => {} }
  const muxer = factory.createStreamMuxer({
    direction: name === 'dialer' ? 'outbound' : 'inbound',
    onIncomingStream: (stream) => {
      incoming.push(stream)
      side.onStream(stream)
    },
    onStreamEnd: (stream) => { ended.push(stream) }
  })
  const attach = (muxer as Partial<ByteChannelMuxer>)[attachByteChannel]
  if (connection instanceof ChannelConnection && typeof attach === 'function') {
    const repeatedReports: string[] = []
    const input = reported('onInputEnd', repeatedReports)
    const out = reported('onOutputEnd', repeatedReports)
    // As the upgrader does: a run that ends with an error takes the connection down with it.
    const onEnd = (report: (err?: Error) => void) => (err?: Error): void => {
      report(err)
      if (err != null) connection.close()
    }
    attach.call(muxer, connection.channel, { onInputEnd: onEnd(input.report), onOutputEnd: onEnd(out.report) })
    return Object.assign(side, { name, muxer, connection, incoming, ended, sink: track(input.promise), output: track(out.promise), onChannel: true, repeatedReports })
  }
  // Called detached, as it-pipe does: `sink` must not depend on `this`.
  const muxerSink = muxer.sink
  const sink = track(Promise.resolve().then(async () => { await muxerSink(connection.source) }))
  const output = track(Promise.resolve().then(async () => { await connection.sink(muxer.source) }))
  return Object.assign(side, { name, muxer, connection, incoming, ended, sink, output, onChannel: false, repeatedReports: [] })
}

/**
 * A promise settled by the first call of `report(err?)`; a later call is a bug in the muxer (each
 * of a byte channel run's two ends is reported once) and is recorded in `repeats` for
 * `callbackProblems`.
 */
function reported (what: string, repeats: string[]): { promise: Promise<void>, report: (err?: Error) => void } {
  let settle!: (err?: Error) => void
  const promise = new Promise<void>((resolve, reject) => { settle = (err) => { if (err != null) reject(err); else resolve() } })
  let calls = 0
  return {
    promise,
    report: (err?: Error) => {
      calls++
      if (calls === 1) settle(err)
      else repeats.push(what)
    }
  }
}

/**
 * Creates a muxer pair over a connection of the given kind, with the factory `setup.setup()`
 * returns (one factory serves both sides). The caller runs `setup.teardown()`.
 */
export async function createMuxerPair (setup: TestSetup<StreamMuxerFactory>, kind: TransportKind = 'memory'): Promise<MuxerPair> {
  const factory = await setup.setup()
  const [a, b] = await connectionPair(kind)
  const dialer = createSide('dialer', factory, a)
  const listener = createSide('listener', factory, b)
  return {
    kind,
    factory,
    dialer,
    listener,
    async teardown () {
      for (const side of [dialer, listener]) {
        try {
          side.muxer.abort(new Error('test teardown'))
        } catch {
          // abort must not throw; the suite checks that elsewhere
        }
      }
      a.close()
      b.close()
      const deadline = Date.now() + 1000
      while (Date.now() < deadline && ![dialer.sink, dialer.output, listener.sink, listener.output].every(s => s.done)) {
        await sleep(5)
      }
    }
  }
}

/** Opens a stream from `side`, awaiting `newStream` whether it returns a stream or a promise. */
export async function openStream (side: MuxerSide): Promise<Stream> {
  return side.muxer.newStream()
}

/** Names the problems with a side's callback records (duplicates, wrong directions); empty if none. */
export function callbackProblems (side: MuxerSide): string[] {
  const problems: string[] = []
  for (const what of side.repeatedReports) problems.push(`${side.name}: ${what} reported more than once`)
  if (new Set(side.ended).size !== side.ended.length) problems.push(`${side.name}: onStreamEnd called more than once for a stream`)
  if (new Set(side.incoming).size !== side.incoming.length) problems.push(`${side.name}: onIncomingStream called more than once for a stream`)
  for (const s of side.incoming) {
    if (s.direction !== 'inbound') problems.push(`${side.name}: onIncomingStream got a stream with direction ${s.direction}`)
  }
  return problems
}
