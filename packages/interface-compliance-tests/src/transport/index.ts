/**
 * @packageDocumentation
 *
 * Compliance suite for {@link Transport} implementations: listening, dialling, the raw
 * `MultiaddrConnection` (data in both directions, half-close, close, abort, backpressure), dial
 * errors and resource release. It uses nothing but the interfaces, so any transport can run it.
 *
 * @example
 * ```ts
 * import tests from '@peerkit/interface-compliance-tests/transport'
 * import { multiaddr } from '@multiformats/multiaddr'
 * import { tcp } from '@peerkit/transport-tcp'
 *
 * describe('tcp', () => {
 *   tests({
 *     async setup () {
 *       return { transport: tcp(), listenAddrs: [multiaddr('/ip4/127.0.0.1/tcp/0')] }
 *     },
 *     async teardown () {}
 *   })
 * })
 * ```
 */
import assert from 'node:assert/strict'
import { claimByteChannel } from '@peerkit/utils'
import { Uint8ArrayList } from 'uint8arraylist'
import { activeResources, delay, firstDifference, patterned, readAll, resourceGrowth, slices, track, waitFor, withTimeout } from './utils.js'
import type { TestSetup } from '../index.js'
import type { Chunk, ReadResult } from './utils.js'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { DialTransportOptions, Listener, MultiaddrConnection, Transport } from '@peerkit/interfaces'

/**
 * What the transport suite needs. `setup()` is called before every test and `teardown()` after it;
 * the suite itself closes every listener and aborts every connection it created before calling
 * `teardown()`.
 */
export interface TransportTestFixture {
  /** The transport under test; the suite creates its listeners with it (and dials with it unless `dialer` is set). */
  transport: Transport
  /**
   * Addresses to listen on, e.g. `/ip4/127.0.0.1/tcp/0`. Most tests listen on the first one; the
   * "reports usable addresses" test listens on each. Each test listens afresh, so addresses must
   * be reusable (port 0, or a transport that frees the address on `close()`).
   */
  listenAddrs: Multiaddr[]
  /** A transport to dial with, when dialling needs a different instance. Defaults to `transport`. */
  dialer?: Transport
  /**
   * An address where nothing listens, whose dial is refused promptly. When omitted the suite
   * listens on `listenAddrs[0]`, closes the listener and dials the address it had reported.
   */
  unreachableAddr?: Multiaddr
  /**
   * How long (ms) the suite waits for something that must happen (an event, a close, a refused
   * dial) before failing. Must exceed the transport's close timeout.
   *
   * @default 5000
   */
  eventTimeout?: number
}

/** Bytes each way in the large-payload test. */
const LARGE_PAYLOAD = 8 * 1024 * 1024
/** Writes in the many-small-writes test. */
const SMALL_WRITES = 20_000
/** Bytes a writer offers to a reader that does not read. */
const BACKPRESSURE_OFFERED = 64 * 1024 * 1024
/**
 * Bytes the writer may get rid of while the reader does not read: socket buffers on both ends and
 * the transport's bounded read queue must fit well under this; an unbounded queue does not.
 */
const BACKPRESSURE_BOUND = 32 * 1024 * 1024
/** Size of the chunks the backpressure writer offers. */
const CHUNK = 64 * 1024

interface ListenerEventCounts {
  listening: number
  connection: number
  close: number
  error: number
}

/** A listener created by the suite, with its accepted connections and event counts. */
interface ListenerHandle {
  listener: Listener
  /** Addresses reported after `listen()`. */
  addrs: Multiaddr[]
  /** Dialable address of the listener (the first reported one). */
  addr: Multiaddr
  accepted: MultiaddrConnection[]
  events: ListenerEventCounts
  /** Resolves with the next accepted connection not yet returned. */
  nextConnection(): Promise<MultiaddrConnection>
}

interface Pair {
  outbound: MultiaddrConnection
  inbound: MultiaddrConnection
  handle: ListenerHandle
}

class Harness {
  readonly fixture: TransportTestFixture
  readonly timeout: number
  readonly #listeners = new Set<Listener>()
  readonly #conns = new Set<MultiaddrConnection>()

  constructor (fixture: TransportTestFixture) {
    assert.ok(fixture.transport != null, 'fixture.transport is required')
    assert.ok(Array.isArray(fixture.listenAddrs) && fixture.listenAddrs.length > 0, 'fixture.listenAddrs must hold at least one address')
    this.fixture = fixture
    this.timeout = fixture.eventTimeout ?? 5_000
  }

  get dialer (): Transport {
    return this.fixture.dialer ?? this.fixture.transport
  }

  /** Creates a listener (not listening yet) that records its events and accepted connections. */
  createListener (): Omit<ListenerHandle, 'addrs' | 'addr'> & { listen(ma?: Multiaddr): Promise<ListenerHandle> } {
    const listener = this.fixture.transport.createListener()
    this.#listeners.add(listener)
    const accepted: MultiaddrConnection[] = []
    const events: ListenerEventCounts = { listening: 0, connection: 0, close: 0, error: 0 }
    let served = 0
    const waiters = new Set<() => void>()
    listener.addEventListener('listening', () => { events.listening++ })
    listener.addEventListener('close', () => { events.close++ })
    listener.addEventListener('error', () => { events.error++ })
    listener.addEventListener('connection', (evt: CustomEvent<MultiaddrConnection>) => {
      events.connection++
      this.#conns.add(evt.detail)
      accepted.push(evt.detail)
      for (const wake of [...waiters]) wake()
    })
    const nextConnection = async (): Promise<MultiaddrConnection> => {
      const index = served++
      let check: (() => void) | undefined
      const available = new Promise<void>(resolve => {
        check = () => {
          if (accepted.length > index) resolve()
        }
        waiters.add(check)
        check()
      })
      try {
        await withTimeout(available, this.timeout, `The listener's connection event #${index + 1}`)
      } finally {
        if (check != null) waiters.delete(check)
      }
      return accepted[index]
    }
    const handle = { listener, accepted, events, nextConnection }
    return {
      ...handle,
      listen: async (ma = this.fixture.listenAddrs[0]): Promise<ListenerHandle> => {
        await withTimeout(listener.listen(ma), this.timeout, `listen(${ma.toString()})`)
        await waitFor(() => events.listening > 0, this.timeout, `The listening event for ${ma.toString()}`)
        const addrs = listener.getAddrs()
        assert.ok(addrs.length > 0, `getAddrs() is empty after listening on ${ma.toString()}`)
        const dialable = this.dialer.dialFilter(addrs)
        assert.ok(dialable.length > 0, `None of the reported addresses is dialable: ${addrs.map(a => a.toString()).join(', ')}`)
        return { ...handle, addrs, addr: dialable[0] }
      }
    }
  }

  async listen (ma?: Multiaddr): Promise<ListenerHandle> {
    return this.createListener().listen(ma)
  }

  async dial (ma: Multiaddr, options?: DialTransportOptions): Promise<MultiaddrConnection> {
    const conn = await withTimeout(this.dialer.dial(ma, options), this.timeout, `dial(${ma.toString()})`)
    this.#conns.add(conn)
    return conn
  }

  /** A listener plus one dialled connection and its accepted counterpart. */
  async connect (handle?: ListenerHandle): Promise<Pair> {
    handle ??= await this.listen()
    const outbound = await this.dial(handle.addr)
    const inbound = await handle.nextConnection()
    return { outbound, inbound, handle }
  }

  /** Aborts every connection and closes every listener the test created; never throws. */
  async cleanup (): Promise<void> {
    const err = new Error('transport suite cleanup')
    for (const conn of this.#conns) {
      try {
        conn.abort(err)
      } catch {
        // abort() must not throw; cleanup carries on regardless.
      }
    }
    this.#conns.clear()
    await Promise.all([...this.#listeners].map(async l => {
      try {
        await withTimeout(l.close({ closeConnections: true }), this.timeout, 'Listener close during cleanup')
      } catch {
        // The tests judge close(); cleanup only has to release what it can.
      }
    }))
    this.#listeners.clear()
  }
}

/** Resolves with the rejection error; fails if `promise` resolves or does not settle in time. */
async function expectRejection (promise: Promise<unknown>, ms: number, what: string): Promise<Error & { code?: string, address?: string }> {
  const outcome = await withTimeout(promise.then(value => ({ value }), (err: unknown) => ({ err })), ms, `${what} to reject`)
  if ('value' in outcome) {
    if (isConnection(outcome.value)) outcome.value.abort(new Error('unexpected connection'))
    assert.fail(`${what} resolved, expected a rejection`)
  }
  assert.ok(outcome.err instanceof Error, `${what} rejected with a non-Error: ${String(outcome.err)}`)
  return outcome.err
}

function isConnection (value: unknown): value is MultiaddrConnection {
  return typeof (value as MultiaddrConnection | undefined)?.abort === 'function'
}

function assertBytes (actual: ReadResult, expected: Uint8Array, what: string): void {
  if (actual.error != null) assert.fail(`${what}: the source threw after ${actual.bytes.byteLength} bytes: ${actual.error.message}`)
  const diff = firstDifference(actual.bytes, expected)
  assert.equal(diff, -1, `${what}: received ${actual.bytes.byteLength} bytes, expected ${expected.byteLength}; first difference at byte ${diff}`)
}

/** A source of `total` bytes in `CHUNK`-sized views of one buffer, counting what was pulled. */
function countingSource (total: number, counter: { pulled: number, done: boolean }): AsyncGenerator<Uint8Array> {
  const chunk = patterned(CHUNK, 7)
  return (async function * () {
    while (counter.pulled < total) {
      const n = Math.min(CHUNK, total - counter.pulled)
      counter.pulled += n
      yield n === CHUNK ? chunk : chunk.subarray(0, n)
    }
    counter.done = true
  })()
}

/** A source that yields `first` and then never yields again nor ends. */
function stuckSource (first: Uint8Array): AsyncGenerator<Uint8Array> {
  const never = new Promise<void>(() => {})
  return (async function * () {
    yield first
    await never
  })()
}

/** Waits until `read()` stops changing for `quietMs` (or gives up after `ms`). */
async function waitForStall (read: () => number, ms: number, quietMs = 200): Promise<void> {
  const deadline = Date.now() + ms
  let last = read()
  let since = Date.now()
  while (Date.now() < deadline) {
    await delay(25)
    const now = read()
    if (now !== last) {
      last = now
      since = Date.now()
    } else if (Date.now() - since >= quietMs) {
      return
    }
  }
}

/** Reads both sources to the end while both sinks send their payload; checks what arrived. */
async function exchange (a: MultiaddrConnection, b: MultiaddrConnection, toB: Iterable<Chunk> | AsyncIterable<Chunk>, expectedAtB: Uint8Array, toA: Iterable<Chunk> | AsyncIterable<Chunk>, expectedAtA: Uint8Array, ms: number): Promise<void> {
  const [atB, atA] = await withTimeout(Promise.all([readAll(b.source), readAll(a.source), a.sink(toB), b.sink(toA)]), ms, 'The exchange of data')
  assertBytes(atB, expectedAtB, `Data from the ${a.direction} side`)
  assertBytes(atA, expectedAtA, `Data from the ${b.direction} side`)
}

/** Asserts that `timeline.close` is set and stays the same. */
async function assertClosedOnce (conn: MultiaddrConnection, what: string, ms: number): Promise<void> {
  await waitFor(() => conn.timeline.close != null, ms, `${what}: timeline.close being set`)
  const first = conn.timeline.close
  assert.equal(typeof first, 'number', `${what}: timeline.close is a number`)
  assert.ok((first ?? 0) >= conn.timeline.open, `${what}: timeline.close precedes timeline.open`)
  await delay(20)
  assert.equal(conn.timeline.close, first, `${what}: timeline.close changed after being set`)
}

async function settle (promise: Promise<unknown>, ms: number, what: string): Promise<void> {
  await withTimeout(promise.then(() => {}, () => {}), ms, what)
}

/**
 * Registers the transport compliance tests. `setup.setup()` runs before each test and
 * `setup.teardown()` after it.
 */
export default function tests (setup: TestSetup<TransportTestFixture>): void {
  describe('transport compliance', function () {
    let h: Harness

    beforeEach(async function () {
      h = new Harness(await setup.setup())
    })

    afterEach(async function () {
      try {
        await h?.cleanup()
      } finally {
        await setup.teardown()
      }
    })

    describe('listen', function () {
      it('reports usable addresses once listening, for every listen address', async function () {
        for (const ma of h.fixture.listenAddrs) {
          const pending = h.createListener()
          assert.deepEqual(pending.listener.getAddrs(), [], `getAddrs() before listen(${ma.toString()})`)
          const handle = await pending.listen(ma)
          assert.equal(handle.events.listening, 1, 'exactly one listening event')
          for (const addr of h.dialer.dialFilter(handle.addrs)) {
            const before = handle.accepted.length
            const outbound = await h.dial(addr)
            const inbound = await handle.nextConnection()
            assert.equal(handle.accepted.length, before + 1)
            await exchange(outbound, inbound, [patterned(64, 1)], patterned(64, 1), [patterned(64, 2)], patterned(64, 2), h.timeout)
            await withTimeout(Promise.all([outbound.close(), inbound.close()]), h.timeout, `Closing the connection to ${addr.toString()}`)
          }
          await withTimeout(handle.listener.close(), h.timeout, 'Listener close')
        }
      })

      it('rejects listening on an address that is already in use, and the first listener keeps working', async function () {
        const first = await h.listen()
        const second = h.createListener()
        await expectRejection(second.listener.listen(first.addr), h.timeout, `A second listen(${first.addr.toString()})`)
        assert.deepEqual(second.listener.getAddrs(), [], 'the failed listener reports no addresses')
        const { outbound, inbound } = await h.connect(first)
        await exchange(outbound, inbound, [Uint8Array.of(1)], Uint8Array.of(1), [Uint8Array.of(2)], Uint8Array.of(2), h.timeout)
      })
    })

    describe('connections', function () {
      it('exchanges data in both directions and describes both ends', async function () {
        const { outbound, inbound } = await h.connect()
        assert.equal(outbound.direction, 'outbound')
        assert.equal(inbound.direction, 'inbound')
        for (const [conn, side] of [[outbound, 'outbound'], [inbound, 'inbound']] as const) {
          assert.equal(typeof conn.remoteAddr?.toString(), 'string', `${side}.remoteAddr`)
          assert.ok(conn.remoteAddr.toString().length > 0, `${side}.remoteAddr is empty`)
          assert.equal(typeof conn.timeline.open, 'number', `${side}.timeline.open`)
          assert.equal(conn.timeline.close, undefined, `${side}.timeline.close while open`)
          assert.equal(typeof conn.log, 'function', `${side}.log`)
          assert.equal(typeof conn.source[Symbol.asyncIterator], 'function', `${side}.source`)
        }
        const toListener = patterned(1000, 1)
        const toDialer = patterned(3000, 2)
        await exchange(outbound, inbound, [toListener.subarray(0, 10), toListener.subarray(10)], toListener, [toDialer], toDialer, h.timeout)
      })

      it('transfers several MiB in each direction at once', async function () {
        const { outbound, inbound } = await h.connect()
        const up = patterned(LARGE_PAYLOAD, 11)
        const down = patterned(LARGE_PAYLOAD, 12)
        await exchange(outbound, inbound, slices(up, 64 * 1024), up, slices(down, 48 * 1024 + 5), down, h.timeout * 4)
      })

      it('delivers many small writes in order, including multi-part Uint8ArrayList chunks', async function () {
        const { outbound, inbound } = await h.connect()
        const sizes: number[] = []
        let total = 0
        for (let i = 0; i < SMALL_WRITES; i++) {
          const n = 1 + (i * 7919) % 97
          sizes.push(n)
          total += n
        }
        const payload = patterned(total, 21)
        const source = (async function * () {
          let offset = 0
          for (let i = 0; i < sizes.length; i++) {
            const part = payload.subarray(offset, offset + sizes[i])
            offset += sizes[i]
            if (i % 5 === 0 && part.byteLength >= 3) {
              // Three parts in one list chunk: a transport must send them all, in order.
              yield new Uint8ArrayList(part.subarray(0, 1), part.subarray(1, 2), part.subarray(2))
            } else {
              yield part
            }
          }
        })()
        const reply = patterned(100, 22)
        await exchange(outbound, inbound, source, payload, [reply], reply, h.timeout * 2)
      })

      it('supports half-close: the listener can still send after the dialer ended its side', async function () {
        const { outbound, inbound } = await h.connect()
        const request = patterned(10_000, 31)
        const response = patterned(256 * 1024, 32)
        const dialerRead = track(readAll(outbound.source))
        await withTimeout(outbound.sink([request]), h.timeout, "The dialer's sink")
        const received = await withTimeout(readAll(inbound.source), h.timeout, "The listener's source ending after the dialer's half-close")
        assertBytes(received, request, 'Request')
        assert.equal(dialerRead.settled, false, "The dialer's source ended although the listener had not ended its side")
        await withTimeout(inbound.sink(slices(response, 10_000)), h.timeout, "The listener's sink after the dialer's half-close")
        assertBytes(await withTimeout(dialerRead.promise, h.timeout, "The dialer's source"), response, 'Response')
        await withTimeout(Promise.all([outbound.close(), inbound.close()]), h.timeout, 'Closing both ends')
        await assertClosedOnce(outbound, 'outbound', h.timeout)
        await assertClosedOnce(inbound, 'inbound', h.timeout)
      })

      it('a byte channel, where offered, hands a receiver that keeps its chunks bytes of its own', async function () {
        // Both ends: dialled and accepted connections may read differently (e.g. into a reused buffer).
        for (const receiving of ['outbound', 'inbound'] as const) {
          const pair = await h.connect()
          const receiver = pair[receiving]
          const sender = receiving === 'outbound' ? pair.inbound : pair.outbound
          const channel = claimByteChannel(receiver)
          if (channel == null) {
            // Not offered (optional): the duplex carries the bytes, as the tests above check.
            assert.equal(receiver.timeline.close, undefined)
            continue
          }
          // Keeps every chunk as given, without copying, and declares no transientData: the
          // channel must not reuse the memory behind a chunk once onData has returned.
          const kept: Array<Uint8Array | Uint8ArrayList> = []
          const ended = new Promise<Error | undefined>(resolve => {
            channel.attach({ onData: (d) => { kept.push(d) }, onEnd: () => { resolve(undefined) }, onError: (err) => { resolve(err) }, onDrain: () => {} })
          })
          const payload = patterned(LARGE_PAYLOAD, receiving === 'outbound' ? 41 : 42)
          await withTimeout(sender.sink(slices(payload, 7 * 1024 + 3)), h.timeout * 4, `The ${sender.direction} side's sink`)
          const err = await withTimeout(ended, h.timeout * 4, `The end of the ${receiving} side's byte channel`)
          if (err != null) assert.fail(`The ${receiving} side's byte channel failed: ${err.message}`)
          const all = new Uint8ArrayList(...kept)
          assertBytes({ bytes: all.subarray() }, payload, `Bytes kept by the ${receiving} side's channel receiver`)
          await withTimeout(channel.end(), h.timeout, `Ending the ${receiving} side's byte channel`)
        }
      })

      it('fires one connection event per inbound connection, carrying that connection', async function () {
        const handle = await h.listen()
        const outbounds = []
        for (let i = 0; i < 3; i++) outbounds.push(await h.dial(handle.addr))
        const inbounds = []
        for (let i = 0; i < 3; i++) inbounds.push(await handle.nextConnection())
        assert.equal(handle.events.connection, 3)
        assert.equal(new Set(inbounds).size, 3, 'each event carries a distinct connection')
        for (const conn of inbounds) assert.equal(conn.direction, 'inbound')
        // Tell each dialled connection apart through its accepted counterpart.
        const reads = inbounds.map(c => readAll(c.source))
        await withTimeout(Promise.all(outbounds.map(async (c, i) => { await c.sink([Uint8Array.of(i)]) })), h.timeout, 'The dialers sending their ids')
        const ids = (await withTimeout(Promise.all(reads), h.timeout, 'The listener reading the ids')).map(r => {
          assert.equal(r.error, undefined)
          assert.equal(r.bytes.byteLength, 1)
          return r.bytes[0]
        })
        assert.deepEqual([...ids].sort(), [0, 1, 2])
        await delay(20)
        assert.equal(handle.events.connection, 3, 'no extra connection events')
      })
    })

    describe('listener close', function () {
      it('without closeConnections stops accepting, fires close once and leaves connections open', async function () {
        const { outbound, inbound, handle } = await h.connect()
        await withTimeout(handle.listener.close(), h.timeout, 'Listener close')
        await waitFor(() => handle.events.close > 0, h.timeout, 'The close event')
        assert.equal(handle.events.close, 1)
        const err = await expectRejection(h.dialer.dial(handle.addr), h.timeout, 'A dial to the closed listener')
        assert.ok(err.message.length > 0)
        await exchange(outbound, inbound, [Uint8Array.of(1, 2, 3)], Uint8Array.of(1, 2, 3), [Uint8Array.of(4, 5)], Uint8Array.of(4, 5), h.timeout)
        await withTimeout(handle.listener.close(), h.timeout, 'A second listener close')
        assert.equal(handle.events.close, 1, 'close fired again on a second close()')
      })

      it('with closeConnections closes the connections it accepted', async function () {
        const handle = await h.listen()
        const outbounds = [await h.dial(handle.addr), await h.dial(handle.addr)]
        const inbounds = [await handle.nextConnection(), await handle.nextConnection()]
        // The dialers behave: they read to the end and then close.
        const dialers = outbounds.map(c => track((async () => {
          const result = await readAll(c.source)
          await c.close()
          return result
        })()))
        await withTimeout(handle.listener.close({ closeConnections: true }), h.timeout, 'Listener close with closeConnections')
        await waitFor(() => handle.events.close > 0, h.timeout, 'The close event')
        for (const [i, conn] of inbounds.entries()) {
          assert.notEqual(conn.timeline.close, undefined, `accepted connection #${i + 1} is still open after the listener closed`)
        }
        await withTimeout(Promise.all(dialers.map(async d => d.promise)), h.timeout, "The dialers' sources ending")
        for (const [i, conn] of outbounds.entries()) await assertClosedOnce(conn, `dialled connection #${i + 1}`, h.timeout)
      })

      it('with closeConnections finishes even when the remote neither reads nor closes', async function () {
        const { inbound, handle } = await h.connect()
        const counter = { pulled: 0, done: false }
        const sink = track(inbound.sink(countingSource(BACKPRESSURE_OFFERED, counter)))
        await waitForStall(() => counter.pulled, h.timeout)
        await withTimeout(handle.listener.close({ closeConnections: true }), h.timeout, 'Listener close with closeConnections')
        assert.notEqual(inbound.timeline.close, undefined, 'the accepted connection is still open')
        await settle(sink.promise, h.timeout, "The accepted connection's sink settling")
      })
    })

    describe('connection close', function () {
      it('close() resolves in bounded time when the remote neither reads nor closes', async function () {
        const { outbound } = await h.connect()
        const counter = { pulled: 0, done: false }
        const sink = track(outbound.sink(countingSource(BACKPRESSURE_OFFERED, counter)))
        await waitForStall(() => counter.pulled, h.timeout)
        await withTimeout(outbound.close(), h.timeout, 'close() against an unresponsive remote')
        await settle(sink.promise, h.timeout, 'The sink settling')
        await assertClosedOnce(outbound, 'outbound', h.timeout)
      })

      it('close() delivers everything the sink already took from its source', async function () {
        const { outbound, inbound } = await h.connect()
        const payload = patterned(2 * 1024 * 1024, 41)
        const listener = track((async () => {
          const result = await readAll(inbound.source)
          await inbound.close()
          return result
        })())
        let consumed = false
        const source = (function * () {
          yield * slices(payload, 32 * 1024)
          consumed = true
        })()
        const sink = track(outbound.sink(source))
        await waitFor(() => consumed || sink.settled, h.timeout, "The sink consuming its source")
        await withTimeout(outbound.close(), h.timeout, 'close() right after the last write')
        assertBytes(await withTimeout(listener.promise, h.timeout, 'The listener reading to the end'), payload, 'Data written before close()')
        await settle(sink.promise, h.timeout, 'The sink settling')
        assert.equal(sink.error, undefined, `The sink failed: ${sink.error?.message ?? ''}`)
      })

      for (const closer of ['outbound', 'inbound'] as const) {
        it(`closing the ${closer} end ends the other end's source; everything settles once`, async function () {
          const pair = await h.connect()
          const local = pair[closer]
          const remote = closer === 'outbound' ? pair.inbound : pair.outbound
          const localRead = track(readAll(local.source))
          // The remote reads to the end, then closes too.
          const remoteDone = track((async () => {
            const result = await readAll(remote.source)
            await remote.close()
            return result
          })())
          const message = patterned(5000, 51)
          await withTimeout(local.sink([message]), h.timeout, 'The sink')
          await withTimeout(local.close(), h.timeout, `close() of the ${closer} end`)
          assertBytes(await withTimeout(remoteDone.promise, h.timeout, "The remote's source ending"), message, 'Data before close')
          const ownRead = await withTimeout(localRead.promise, h.timeout, `The ${closer} end's own source settling`)
          assert.equal(ownRead.bytes.byteLength, 0, 'unexpected data')
          await assertClosedOnce(local, closer, h.timeout)
          await assertClosedOnce(remote, 'remote', h.timeout)
          const again = await local.source.next()
          assert.equal(again.done, true, 'the source yielded again after it ended')
        })
      }

      it('both ends closing at once settles both sources and both closes', async function () {
        const { outbound, inbound } = await h.connect()
        const reads = [track(readAll(outbound.source)), track(readAll(inbound.source))]
        await withTimeout(Promise.all([outbound.close(), inbound.close()]), h.timeout, 'Both close() calls')
        await withTimeout(Promise.all(reads.map(async r => r.promise)), h.timeout, 'Both sources settling')
        await assertClosedOnce(outbound, 'outbound', h.timeout)
        await assertClosedOnce(inbound, 'inbound', h.timeout)
      })

      it('close() settles a sink that is still waiting on its source', async function () {
        const { outbound, inbound } = await h.connect()
        const first = patterned(100, 61)
        const remote = track((async () => {
          const result = await readAll(inbound.source)
          await inbound.close()
          return result
        })())
        const outRead = track(readAll(outbound.source))
        const sink = track(outbound.sink(stuckSource(first)))
        await delay(50)
        assert.equal(sink.settled, false, 'the sink settled although its source never ended')
        await withTimeout(outbound.close(), h.timeout, 'close() while the sink waits on its source')
        await settle(sink.promise, h.timeout, 'The sink settling after close()')
        assertBytes(await withTimeout(remote.promise, h.timeout, "The remote's source ending"), first, 'Data before close')
        await settle(outRead.promise, h.timeout, 'The local source settling')
        await assertClosedOnce(outbound, 'outbound', h.timeout)
      })
    })

    describe('abort', function () {
      it('abort() fails pending reads and writes with the given error', async function () {
        const { outbound } = await h.connect()
        const read = track(readAll(outbound.source))
        const counter = { pulled: 0, done: false }
        const sink = track(outbound.sink(countingSource(BACKPRESSURE_OFFERED, counter)))
        await waitForStall(() => counter.pulled, h.timeout)
        assert.equal(read.settled, false, 'the source settled before anything happened')
        const err = new Error('deliberate abort')
        outbound.abort(err)
        const result = await withTimeout(read.promise, h.timeout, 'The pending read failing')
        assert.equal(result.error, err, `the pending read ${result.error == null ? 'ended cleanly' : `failed with "${result.error.message}"`} instead of failing with the abort error`)
        await settle(sink.promise, h.timeout, 'The pending write failing')
        assert.equal(sink.error, err, `the sink ${sink.error == null ? 'resolved' : `failed with "${sink.error.message}"`} instead of failing with the abort error`)
        await assertClosedOnce(outbound, 'outbound', h.timeout)
      })

      for (const aborter of ['outbound', 'inbound'] as const) {
        it(`an abort of the ${aborter} end surfaces at the other end`, async function () {
          const pair = await h.connect()
          const local = pair[aborter]
          const remote = aborter === 'outbound' ? pair.inbound : pair.outbound
          const remoteRead = track(readAll(remote.source))
          const counter = { pulled: 0, done: false }
          const remoteSink = track(remote.sink(countingSource(BACKPRESSURE_OFFERED, counter)))
          await delay(50)
          local.abort(new Error('deliberate abort'))
          await settle(remoteRead.promise, h.timeout, "The other end's source ending or failing")
          await settle(remoteSink.promise, h.timeout, "The other end's sink settling")
          assert.equal(counter.done && remoteSink.error == null, false, "the other end's sink completed as if the data had been delivered")
          await assertClosedOnce(local, aborter, h.timeout)
          await assertClosedOnce(remote, 'remote', h.timeout)
        })
      }

      it('abort() after close() does nothing', async function () {
        const { outbound, inbound } = await h.connect()
        await withTimeout(Promise.all([outbound.close(), inbound.close()]), h.timeout, 'Both close() calls')
        await assertClosedOnce(outbound, 'outbound', h.timeout)
        const closedAt = outbound.timeline.close
        outbound.abort(new Error('late abort'))
        inbound.abort(new Error('late abort'))
        assert.equal(outbound.timeline.close, closedAt)
      })
    })

    describe('dial errors', function () {
      it('rejects a dial to an address where nothing listens with a TransportDialError naming the address', async function () {
        let addr = h.fixture.unreachableAddr
        if (addr == null) {
          const handle = await h.listen()
          addr = handle.addr
          await withTimeout(handle.listener.close(), h.timeout, 'Listener close')
        }
        const err = await expectRejection(h.dialer.dial(addr), h.timeout, `A dial to ${addr.toString()}`)
        assert.equal(err.name, 'TransportDialError', `expected a TransportDialError, got ${err.name}: ${err.message}`)
        assert.equal(err.code, 'ERR_TRANSPORT_DIAL')
        assert.equal(err.address, addr.toString(), 'the error names the address dialled')
      })

      it('rejects a dial whose signal is already aborted with an AbortError', async function () {
        const handle = await h.listen()
        const err = await expectRejection(h.dialer.dial(handle.addr, { signal: AbortSignal.abort() }), h.timeout, 'A dial with an aborted signal')
        assert.equal(err.name, 'AbortError', `expected an AbortError, got ${err.name}: ${err.message}`)
        await delay(50)
        assert.equal(handle.events.connection, 0, 'an aborted dial reached the listener')
      })

      it('rejects a dial aborted while in flight with an AbortError and leaves no connection behind', async function () {
        const handle = await h.listen()
        const controller = new AbortController()
        const dial = h.dialer.dial(handle.addr, { signal: controller.signal })
        controller.abort()
        const err = await expectRejection(dial, h.timeout, 'A dial aborted in flight')
        assert.equal(err.name, 'AbortError', `expected an AbortError, got ${err.name}: ${err.message}`)
        // Whatever reached the listener must be torn down by the aborted dialer.
        await delay(50)
        await withTimeout(Promise.all(handle.accepted.map(async c => readAll(c.source))), h.timeout, 'Connections of the aborted dial closing')
        // The listener still serves.
        const { outbound, inbound } = await h.connect(handle)
        await exchange(outbound, inbound, [Uint8Array.of(9)], Uint8Array.of(9), [Uint8Array.of(8)], Uint8Array.of(8), h.timeout)
      })
    })

    describe('backpressure', function () {
      for (const writer of ['outbound', 'inbound'] as const) {
        it(`a reader that does not read holds the ${writer} writer back, and nothing is lost`, async function () {
          const pair = await h.connect()
          const local = pair[writer]
          const remote = writer === 'outbound' ? pair.inbound : pair.outbound
          const counter = { pulled: 0, done: false }
          const sink = track(local.sink(countingSource(BACKPRESSURE_OFFERED, counter)))
          await waitForStall(() => counter.pulled, h.timeout * 2)
          assert.ok(counter.pulled < BACKPRESSURE_BOUND, `the writer got ${counter.pulled} bytes through to a reader that read nothing (bound ${BACKPRESSURE_BOUND})`)
          assert.equal(sink.settled, false, 'the sink settled although the reader read nothing')
          // Now read: everything the writer offered arrives and the sink completes.
          let received = 0
          const reader = (async () => {
            for await (const chunk of remote.source) received += chunk.byteLength
          })()
          await withTimeout(reader, h.timeout * 4, 'Reading the backlog')
          await withTimeout(sink.promise, h.timeout, 'The sink finishing')
          assert.equal(received, BACKPRESSURE_OFFERED)
          assert.equal(counter.pulled, BACKPRESSURE_OFFERED)
        })
      }
    })

    describe('resources', function () {
      it('releases every socket, handle and timer once listener and connections are closed', async function () {
        // Snapshot after the runner has armed its own timers for this test.
        await delay(1)
        const baseline = activeResources()
        const handle = await h.listen()
        const pairs: Pair[] = []
        for (let i = 0; i < 3; i++) pairs.push(await h.connect(handle))
        await withTimeout(Promise.all(pairs.map(async (p, i) => exchange(p.outbound, p.inbound, [Uint8Array.of(i)], Uint8Array.of(i), [Uint8Array.of(7)], Uint8Array.of(7), h.timeout))), h.timeout, 'Exchanges')
        // One closed gracefully from each side, one aborted.
        await withTimeout(pairs[0].outbound.close(), h.timeout, 'close()')
        await withTimeout(pairs[1].inbound.close(), h.timeout, 'close()')
        pairs[2].outbound.abort(new Error('deliberate abort'))
        await withTimeout(handle.listener.close({ closeConnections: true }), h.timeout, 'Listener close')
        for (const p of pairs) {
          await withTimeout(Promise.all([p.outbound.close(), p.inbound.close()]), h.timeout, 'Closing what remains')
          await assertClosedOnce(p.outbound, 'outbound', h.timeout)
          await assertClosedOnce(p.inbound, 'inbound', h.timeout)
        }
        if (baseline == null) return
        let growth: string[] = []
        await waitFor(() => {
          const now = activeResources()
          growth = now == null ? [] : resourceGrowth(baseline, now)
          return growth.length === 0
        }, h.timeout, 'Release of handles').catch(() => {})
        assert.deepEqual(growth, [], `resources still held after closing everything: ${growth.join(', ')}`)
      })
    })
  })
}
