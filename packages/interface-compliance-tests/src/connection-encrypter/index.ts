/**
 * @packageDocumentation
 *
 * Compliance suite for `ConnectionEncrypter`s (`/noise`, `/tls/1.0.0`, `/plaintext/2.0.0`, ...).
 *
 * `setup()` returns a `ConnectionEncrypterFactory`; the suite generates Ed25519 identities itself and
 * calls the factory once per identity, so a dialer and a listener with different PeerIds talk to each
 * other. Every scenario runs over an in-memory pair and over a real TCP connection on the loopback
 * interface, and only looks at what the `ConnectionEncrypter` contract promises: the proven remote
 * identity, the bytes delivered, typed failures, and that nothing hangs or stays behind.
 *
 * @example
 * ```ts
 * import tests from '@peerkit/interface-compliance-tests/connection-encrypter'
 * import { plaintext } from '@peerkit/connection-encrypter-plaintext'
 *
 * describe('plaintext compliance', () => {
 *   tests({
 *     async setup () { return plaintext() },
 *     async teardown () {}
 *   })
 * })
 * ```
 */
import assert from 'node:assert/strict'
import { generateKeyPair } from '@peerkit/crypto'
import { peerIdFromPrivateKey } from '@peerkit/peer-id'
import { Uint8ArrayList } from 'uint8arraylist'
import { pattern, chunks, delay, firstDifference, readAll, readAtLeast, settle, settlesWithin, TimerTracker, within } from './utils.js'
import { Endpoint, wirePair } from './wire.js'
import type { TestSetup } from '../index.js'
import type { WireKind } from './wire.js'
import type { ConnectionEncrypter, ConnectionEncrypterFactory, PeerId, PrivateKey, SecuredConnection } from '@peerkit/interfaces'

export { Endpoint, wirePair, memoryWirePair, tcpWirePair } from './wire.js'
export type { RawWire, WireKind } from './wire.js'
export { TimerTracker, settle, within } from './utils.js'
export type { Settled } from './utils.js'

/** An identity the suite hands to the factory. */
export interface Identity {
  privateKey: PrivateKey
  peerId: PeerId
}

/**
 * Default of {@link ConnectionEncrypterSuiteOptions.promptMs}: generous for slow machines, yet well
 * below any sane default handshake timeout, so an implementation cannot pass by timing out.
 */
export const DEFAULT_PROMPT_MS = 1500

/** Tuning of the suite. */
export interface ConnectionEncrypterSuiteOptions {
  /**
   * How long a handshake that should fail (or an abort that should take effect) may take, in
   * milliseconds, before the suite calls it a hang. Default {@link DEFAULT_PROMPT_MS}.
   */
  promptMs?: number
}

/** Deadline for operations that should succeed (handshakes, transfers). */
export const COMPLETE_MS = 10_000

/** Idle time after which the coalescing scenarios assume the held side waits to be heard. */
const STALL_MS = 50

const WIRES: Array<{ kind: WireKind, title: string }> = [
  { kind: 'memory', title: 'over an in-memory connection' },
  { kind: 'tcp', title: 'over TCP (loopback)' }
]

const text = (s: string): Uint8Array => new TextEncoder().encode(s)

async function createIdentity (): Promise<Identity> {
  const privateKey = await generateKeyPair('Ed25519')
  return { privateKey, peerId: peerIdFromPrivateKey(privateKey) }
}

function errorName (err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err)
}

/**
 * Registers the suite. `setup()` is called once before the tests and must return a factory;
 * `teardown()` is called once after them.
 */
export default function connectionEncrypterSuite (setup: TestSetup<ConnectionEncrypterFactory>, options: ConnectionEncrypterSuiteOptions = {}): void {
  const PROMPT_MS = options.promptMs ?? DEFAULT_PROMPT_MS
  describe('connection-encrypter compliance', function () {
    this.timeout(30_000)

    let factory: ConnectionEncrypterFactory
    let local: Identity
    let remote: Identity
    let stranger: Identity
    let dialer: ConnectionEncrypter
    let listener: ConnectionEncrypter

    before(async () => {
      [local, remote, stranger] = await Promise.all([createIdentity(), createIdentity(), createIdentity()])
      factory = await setup.setup()
      dialer = factory({ privateKey: local.privateKey, peerId: local.peerId })
      listener = factory({ privateKey: remote.privateKey, peerId: remote.peerId })
    })

    after(async () => {
      await setup.teardown()
    })

    it('has a protocol id', () => {
      assert.equal(typeof dialer.protocol, 'string')
      assert.ok(dialer.protocol.startsWith('/'), `protocol id ${dialer.protocol} should start with "/"`)
      assert.equal(listener.protocol, dialer.protocol)
    })

    for (const { kind, title } of WIRES) {
      describe(title, () => {
        const open: Endpoint[] = []

        async function pair (): Promise<[Endpoint, Endpoint]> {
          const [a, b] = await wirePair(kind)
          const ends: [Endpoint, Endpoint] = [new Endpoint(a), new Endpoint(b)]
          open.push(...ends)
          return ends
        }

        async function closeAll (): Promise<void> {
          const ends = open.splice(0)
          for (const end of ends) end.destroy()
          await Promise.all(ends.map(async end => end.closed))
        }

        /**
         * Runs `body` and then checks that it left no timer behind: the connections are closed first,
         * all handshakes have settled by then, so any live timer belongs to the implementation.
         */
        function tracked (body: () => Promise<void>): () => Promise<void> {
          return async () => {
            // Start after mocha has armed its own per-test timer (it does so once the test returns its
            // promise), so only timers created by the scenario are tracked.
            await Promise.resolve()
            const timers = new TimerTracker()
            timers.start()
            let left: string[]
            try {
              try {
                await body()
              } finally {
                await closeAll()
              }
              left = await timers.pending()
            } finally {
              timers.stop()
            }
            assert.deepEqual(left, [], `timers still pending after the test:\n${left.join('\n---\n')}`)
          }
        }

        afterEach(closeAll)

        async function handshake (options: { expectAtDialer?: PeerId | null, expectAtListener?: PeerId } = {}): Promise<{ a: Endpoint, b: Endpoint, outbound: SecuredConnection, inbound: SecuredConnection }> {
          const [a, b] = await pair()
          const expectAtDialer = options.expectAtDialer === null ? undefined : (options.expectAtDialer ?? remote.peerId)
          const [outbound, inbound] = await within(Promise.all([
            dialer.secureOutbound(a.conn, { remotePeer: expectAtDialer }),
            listener.secureInbound(b.conn, { remotePeer: options.expectAtListener })
          ]), COMPLETE_MS, 'the handshake')
          return { a, b, outbound, inbound }
        }

        it('both sides learn each other\'s PeerId and public key', tracked(async () => {
          const { outbound, inbound } = await handshake()
          assert.equal(outbound.remotePeer.toString(), remote.peerId.toString(), 'the dialer should see the listener\'s PeerId')
          assert.equal(inbound.remotePeer.toString(), local.peerId.toString(), 'the listener should see the dialer\'s PeerId')
          assert.ok(outbound.remotePeer.publicKey?.equals(remote.privateKey.publicKey), 'the dialer should learn the listener\'s public key')
          assert.ok(inbound.remotePeer.publicKey?.equals(local.privateKey.publicKey), 'the listener should learn the dialer\'s public key')
          assert.notEqual(outbound.conn, undefined)
          assert.notEqual(inbound.conn, undefined)
        }))

        it('works without an expected PeerId at the dialer, and with the right one at the listener', tracked(async () => {
          const { outbound, inbound } = await handshake({ expectAtDialer: null, expectAtListener: local.peerId })
          assert.equal(outbound.remotePeer.toString(), remote.peerId.toString())
          assert.equal(inbound.remotePeer.toString(), local.peerId.toString())
        }))

        it('runs concurrent handshakes on the same encrypters', tracked(async () => {
          const results = await Promise.all(Array.from({ length: 8 }, async () => handshake()))
          for (const { outbound, inbound } of results) {
            assert.equal(outbound.remotePeer.toString(), remote.peerId.toString())
            assert.equal(inbound.remotePeer.toString(), local.peerId.toString())
          }
        }))

        it('carries data both ways after the handshake', tracked(async () => {
          const { outbound, inbound } = await handshake()
          const fromDialer = text('hello from the dialer')
          const fromListener = text('and hello from the listener')
          const [toListener, toDialer] = await Promise.all([
            readAll(inbound.conn.source, COMPLETE_MS, 'the listener reading'),
            readAll(outbound.conn.source, COMPLETE_MS, 'the dialer reading'),
            within(outbound.conn.sink([fromDialer]), COMPLETE_MS, 'the dialer writing'),
            within(inbound.conn.sink([fromListener]), COMPLETE_MS, 'the listener writing')
          ])
          assert.deepEqual(toListener, fromDialer)
          assert.deepEqual(toDialer, fromListener)
        }))

        it('carries several MiB each way at the same time', async () => {
          const { outbound, inbound } = await handshake()
          const up = pattern(4 * 1024 * 1024 + 13, 1)
          const down = pattern(3 * 1024 * 1024 + 7, 2)
          const [atListener, atDialer] = await Promise.all([
            readAll(inbound.conn.source, COMPLETE_MS * 3, 'the listener reading'),
            readAll(outbound.conn.source, COMPLETE_MS * 3, 'the dialer reading'),
            within(outbound.conn.sink(chunks(up, 64 * 1024, 3)), COMPLETE_MS * 3, 'the dialer writing'),
            within(inbound.conn.sink(chunks(down, 100 * 1024, 4)), COMPLETE_MS * 3, 'the listener writing')
          ])
          assert.equal(atListener.byteLength, up.byteLength, 'bytes received by the listener')
          assert.equal(firstDifference(atListener, up), -1, 'the listener received different bytes')
          assert.equal(atDialer.byteLength, down.byteLength, 'bytes received by the dialer')
          assert.equal(firstDifference(atDialer, down), -1, 'the dialer received different bytes')
        })

        it('keeps the order of many small writes', async () => {
          const { outbound, inbound } = await handshake()
          const writes = 5000
          const messages = Array.from({ length: writes }, (_, i) => text(`${i};`))
          const expected = new Uint8ArrayList(...messages).subarray()
          async function * slowly (): AsyncGenerator<Uint8Array> {
            for (let i = 0; i < messages.length; i++) {
              yield messages[i]
              // Let the other side run now and then, so writes interleave with reads.
              if (i % 97 === 0) await new Promise<void>(resolve => { setImmediate(resolve) })
            }
          }
          const [atListener, atDialer] = await Promise.all([
            readAll(inbound.conn.source, COMPLETE_MS * 2, 'the listener reading'),
            readAll(outbound.conn.source, COMPLETE_MS * 2, 'the dialer reading'),
            within(outbound.conn.sink(slowly()), COMPLETE_MS * 2, 'the dialer writing'),
            within(inbound.conn.sink(slowly()), COMPLETE_MS * 2, 'the listener writing')
          ])
          assert.equal(firstDifference(atListener, expected), -1, `the listener received different bytes (${atListener.byteLength} of ${expected.byteLength})`)
          assert.equal(firstDifference(atDialer, expected), -1, `the dialer received different bytes (${atDialer.byteLength} of ${expected.byteLength})`)
        })

        for (const held of ['dialer', 'listener'] as const) {
          it(`delivers data that arrives in the same chunk as the ${held}'s last handshake bytes`, tracked(async () => {
            const [a, b] = await pair()
            const x = held === 'dialer' ? a : b
            // Everything the held side writes is kept back, then released as a single write once it
            // has finished its handshake and written its first data: the receiver then gets the end
            // of the handshake and the data in one chunk.
            x.hold()
            const dialing = dialer.secureOutbound(a.conn, { remotePeer: remote.peerId })
            const listening = listener.secureInbound(b.conn)
            dialing.catch(() => {})
            listening.catch(() => {})
            const heldDone = held === 'dialer' ? dialing : listening
            const otherDone = held === 'dialer' ? listening : dialing

            // Protocols where the held side must be heard before it can finish stall here: let out what
            // it wrote so far whenever it makes no progress, and hold again.
            const deadline = Date.now() + COMPLETE_MS
            while (!await settlesWithin(heldDone, STALL_MS)) {
              if (Date.now() > deadline) assert.fail(`the ${held}'s handshake did not complete`)
              await x.release()
              x.hold()
            }
            const heldResult = await heldDone

            const payload = pattern(1000, 5)
            let payloadTaken!: () => void
            const taken = new Promise<void>(resolve => { payloadTaken = resolve })
            let finish!: () => void
            const finished = new Promise<void>(resolve => { finish = resolve })
            const writtenBefore = x.written
            const writing = heldResult.conn.sink((async function * () {
              yield payload
              payloadTaken()
              await finished
            })())
            writing.catch(() => {})
            await within(taken, COMPLETE_MS, `the ${held}'s sink taking the data`)
            // Wait (briefly) for the data's bytes to reach the held wire, then let it all out at once.
            await x.waitWritten(writtenBefore + 1, 1000)
            await x.release()

            const otherResult = await within(otherDone, COMPLETE_MS, 'the other side\'s handshake')
            const iterator = otherResult.conn.source[Symbol.asyncIterator]()
            const received = await readAtLeast(iterator, payload.byteLength, PROMPT_MS, 'reading the data sent with the handshake')
            assert.equal(received.byteLength, payload.byteLength, 'bytes sent along with the end of the handshake were lost')
            assert.equal(firstDifference(received, payload), -1, 'the data sent along with the end of the handshake was altered')

            finish()
            await within(writing, COMPLETE_MS, `the ${held}'s sink ending`)
            const rest = await within(iterator.next(), PROMPT_MS, 'the end of the stream')
            assert.equal(rest.done, true, 'the stream should end after the data')
          }))
        }

        for (const first of ['dialer', 'listener'] as const) {
          it(`propagates half-close: the ${first} ends its writes, then the other side`, tracked(async () => {
            const { outbound, inbound } = await handshake()
            const [closer, other] = first === 'dialer' ? [outbound, inbound] : [inbound, outbound]
            const [request] = await Promise.all([
              readAll(other.conn.source, PROMPT_MS * 2, `the ${first === 'dialer' ? 'listener' : 'dialer'} reading until the ${first} half-closes`),
              within(closer.conn.sink([text('request')]), PROMPT_MS * 2, `the ${first}'s sink ending`)
            ])
            assert.deepEqual(request, text('request'))
            // The half-closed side can still read, and the other side can still write.
            const [reply] = await Promise.all([
              readAll(closer.conn.source, PROMPT_MS * 2, `the ${first} reading the reply`),
              within(other.conn.sink([text('reply')]), PROMPT_MS * 2, 'the reply\'s sink ending')
            ])
            assert.deepEqual(reply, text('reply'))
          }))
        }

        it('the dialer rejects a listener that is not the expected peer with UnexpectedPeerError', tracked(async () => {
          const [a, b] = await pair()
          const dialing = settle(dialer.secureOutbound(a.conn, { remotePeer: stranger.peerId }))
          const listening = settle(listener.secureInbound(b.conn))
          const result = await within(dialing, PROMPT_MS, 'the dialer\'s handshake')
          assert.equal(result.ok, false, 'the dialer accepted a peer it did not expect')
          const error = (result as { error: unknown }).error
          assert.equal((error as Error).name, 'UnexpectedPeerError', `expected UnexpectedPeerError, got ${errorName(error)}`)
          assert.equal((error as { expected?: string }).expected, stranger.peerId.toString(), 'UnexpectedPeerError.expected')
          assert.equal((error as { actual?: string }).actual, remote.peerId.toString(), 'UnexpectedPeerError.actual')
          // The caller closes the connection after a failed handshake; the listener must not hang.
          a.destroy()
          const other = await within(listening, PROMPT_MS, 'the listener\'s handshake after the dialer gave up')
          if (other.ok) {
            await within(settle(readAll(other.value.conn.source, PROMPT_MS, 'reading')), PROMPT_MS, 'the listener\'s source after the dialer closed')
            await within(settle(other.value.conn.sink([text('anyone there?')])), PROMPT_MS, 'the listener\'s sink after the dialer closed')
          }
        }))

        it('a listener given an expected PeerId rejects another dialer with UnexpectedPeerError', tracked(async () => {
          const [a, b] = await pair()
          const dialing = settle(dialer.secureOutbound(a.conn, { remotePeer: remote.peerId }))
          const listening = settle(listener.secureInbound(b.conn, { remotePeer: stranger.peerId }))
          const result = await within(listening, PROMPT_MS, 'the listener\'s handshake')
          assert.equal(result.ok, false, 'the listener accepted a peer it did not expect')
          const error = (result as { error: unknown }).error
          assert.equal((error as Error).name, 'UnexpectedPeerError', `expected UnexpectedPeerError, got ${errorName(error)}`)
          b.destroy()
          const other = await within(dialing, PROMPT_MS, 'the dialer\'s handshake after the listener gave up')
          if (other.ok) {
            await within(settle(readAll(other.value.conn.source, PROMPT_MS, 'reading')), PROMPT_MS, 'the dialer\'s source after the listener closed')
          }
        }))

        for (const role of ['dialer', 'listener'] as const) {
          const run = (conn: Endpoint, signal?: AbortSignal): Promise<SecuredConnection> => role === 'dialer'
            ? dialer.secureOutbound(conn.conn, { remotePeer: remote.peerId, signal })
            : listener.secureInbound(conn.conn, { signal })

          it(`the ${role} rejects with AbortError soon after the signal aborts mid-handshake`, tracked(async () => {
            // The remote end stays silent: it neither writes nor closes.
            const [a] = await pair()
            const controller = new AbortController()
            const handshaking = settle(run(a, controller.signal))
            assert.equal(await settlesWithin(handshaking, 30), false, 'the handshake finished against a silent remote')
            controller.abort()
            const result = await within(handshaking, PROMPT_MS, 'the handshake after abort')
            assert.equal(result.ok, false)
            const error = (result as { error: unknown }).error
            assert.equal((error as Error).name, 'AbortError', `expected AbortError, got ${errorName(error)}`)
          }))

          it(`the ${role} rejects at once with an already aborted signal`, tracked(async () => {
            const [a] = await pair()
            const controller = new AbortController()
            controller.abort()
            const result = await within(settle(run(a, controller.signal)), PROMPT_MS, 'the handshake')
            assert.equal(result.ok, false)
            assert.equal(((result as { error: unknown }).error as Error).name, 'AbortError')
          }))

          it(`the ${role} rejects when the remote closes the connection before answering`, tracked(async () => {
            const [a, b] = await pair()
            const handshaking = settle(run(a))
            // Let the encrypter start (and send whatever it sends first), then drop the connection.
            await settlesWithin(handshaking, 20)
            b.destroy()
            const result = await within(handshaking, PROMPT_MS, 'the handshake after the remote closed')
            assert.equal(result.ok, false, 'the handshake succeeded against a closed connection')
          }))

          it(`the ${role} rejects when the remote half-closes without answering`, tracked(async () => {
            const [a, b] = await pair()
            const handshaking = settle(run(a))
            b.rawEnd()
            // Keep reading what the encrypter sends, as a live peer would.
            const draining = readAll(b.rawSource, COMPLETE_MS, 'draining')
            draining.catch(() => {})
            const result = await within(handshaking, PROMPT_MS, 'the handshake after the remote half-closed')
            assert.equal(result.ok, false, 'the handshake succeeded against a remote that sent nothing')
          }))

          it(`the ${role} rejects a truncated handshake message followed by the end of the stream`, tracked(async () => {
            const flight = await firstFlight(role === 'dialer' ? 'listener' : 'dialer')
            assert.ok(flight.byteLength > 1, 'the remote role sent nothing to truncate')
            const [a, b] = await pair()
            const handshaking = settle(run(a))
            const draining = readAll(b.rawSource, COMPLETE_MS, 'draining')
            draining.catch(() => {})
            await b.rawWrite(flight.subarray(0, Math.ceil(flight.byteLength / 2)))
            b.rawEnd()
            const result = await within(handshaking, PROMPT_MS, 'the handshake after a truncated message')
            assert.equal(result.ok, false, 'the handshake succeeded with half a message')
          }))

          it(`the ${role} rejects garbage`, tracked(async () => {
            const [a, b] = await pair()
            const handshaking = settle(run(a))
            const draining = readAll(b.rawSource, COMPLETE_MS, 'draining')
            draining.catch(() => {})
            await b.rawWrite(pattern(200, 9))
            b.rawEnd()
            const result = await within(handshaking, PROMPT_MS, 'the handshake after garbage')
            assert.equal(result.ok, false, 'the handshake succeeded on garbage')
          }))
        }

        /**
         * The first bytes a genuine `role` sends, captured from a real handshake (the other side is
         * played by a genuine peer when `role` only speaks after hearing from it).
         */
        async function firstFlight (role: 'dialer' | 'listener'): Promise<Uint8Array> {
          const [a, b] = await pair()
          const controller = new AbortController()
          const x = role === 'dialer' ? a : b
          x.hold()
          const dialing = settle(dialer.secureOutbound(a.conn, { remotePeer: remote.peerId, signal: controller.signal }))
          const listening = settle(listener.secureInbound(b.conn, { signal: controller.signal }))
          try {
            const wrote = await x.waitWritten(1, COMPLETE_MS)
            assert.ok(wrote, `the ${role} wrote nothing`)
            return x.peekHeld()
          } finally {
            controller.abort()
            a.destroy()
            b.destroy()
            await settle(within(Promise.all([dialing, listening]), PROMPT_MS, 'the capture handshakes'))
          }
        }

        it('leaves no timer behind after successful, failed and aborted handshakes', tracked(async () => {
          for (let i = 0; i < 3; i++) await handshake()
          const [a, b] = await pair()
          await settle(Promise.all([
            dialer.secureOutbound(a.conn, { remotePeer: stranger.peerId }),
            listener.secureInbound(b.conn)
          ]))
          const [c] = await pair()
          const controller = new AbortController()
          const aborted = settle(dialer.secureOutbound(c.conn, { remotePeer: remote.peerId, signal: controller.signal }))
          await delay(5)
          controller.abort()
          await aborted
        }))
      })
    }
  })
}
