/**
 * A minimal but correct connection encrypter (no encryption: each side sends its length-prefixed
 * public key protobuf and checks the remote's), used to show that the connection-encrypter suite
 * passes for a correct implementation, and with deliberate flaws to show that it fails for broken
 * ones.
 */
import { publicKeyFromProtobuf, publicKeyToProtobuf } from '@peerkit/crypto'
import { HandshakeError, LimitExceededError, UnexpectedEOFError, UnexpectedPeerError } from '@peerkit/interfaces'
import { peerIdFromPublicKey } from '@peerkit/peer-id'
import { ByteStream, abortReason, anySignal, raceSignal } from '@peerkit/utils'
import type { Uint8ArrayList } from 'uint8arraylist'
import type { AbortOptions, ConnectionEncrypterFactory, SecureConnectionOptions, SecureStream, SecuredConnection, Source } from '@peerkit/interfaces'

/** Deliberate defects the reference can be built with. */
export type Flaw =
  /** does not compare the remote with `options.remotePeer` */
  | 'ignores-expected-peer'
  /** discards bytes that arrived in the same chunk as the remote's handshake message */
  | 'drops-coalesced-bytes'
  /** ignores `options.signal` */
  | 'ignores-abort'
  /** starts a timer per handshake and never clears it */
  | 'leaks-timer'
  /** waits forever (until its own timeout) when the stream ends mid-handshake */
  | 'hangs-on-eof'
  /** reports its own PeerId as the remote's */
  | 'reports-itself'
  /** never ends the raw sink, so the remote never sees the end of the data */
  | 'never-half-closes'
  /** flips one byte past the first MiB it receives */
  | 'corrupts-large-transfers'
  /** loses the 1000th chunk it is given to send */
  | 'drops-a-small-write'
  /** reports an unexpected remote with HandshakeError instead of UnexpectedPeerError */
  | 'wrong-error-for-unexpected-peer'

export const REFERENCE_PROTOCOL = '/peerkit/reference-handshake/1.0.0'

const MAX_MESSAGE = 8192
const TIMEOUT_MS = 5000

type Chunk = Uint8Array | Uint8ArrayList

export function referenceEncrypter (flaws: Flaw[] = []): ConnectionEncrypterFactory {
  const has = (flaw: Flaw): boolean => flaws.includes(flaw)
  return ({ privateKey }) => {
    const ownKey = publicKeyToProtobuf(privateKey.publicKey)
    const localPeer = peerIdFromPublicKey(privateKey.publicKey)

    async function readMessage (stream: ByteStream<SecureStream>, options: AbortOptions): Promise<Uint8ArrayList> {
      try {
        return await stream.readLP({ ...options, maxLength: MAX_MESSAGE })
      } catch (err) {
        if (has('hangs-on-eof') && err instanceof UnexpectedEOFError) {
          return raceSignal(new Promise<never>(() => {}), options.signal)
        }
        throw err
      }
    }

    async function handshake (conn: SecureStream, options: SecureConnectionOptions = {}): Promise<SecuredConnection> {
      const signal = anySignal([has('ignores-abort') ? undefined : options.signal], TIMEOUT_MS, 'reference handshake')
      if (has('leaks-timer')) setTimeout(() => {}, 60_000).unref()
      const stream = new ByteStream(conn)
      try {
        const [, body] = await Promise.all([
          stream.writeLP(ownKey, { signal }),
          readMessage(stream, { signal })
        ])
        const remotePeer = peerIdFromPublicKey(publicKeyFromProtobuf(body.subarray()))
        const expected = options.remotePeer
        if (!has('ignores-expected-peer') && expected != null && !expected.equals(remotePeer)) {
          if (has('wrong-error-for-unexpected-peer')) throw new HandshakeError('unexpected peer', REFERENCE_PROTOCOL)
          throw new UnexpectedPeerError(expected.toString(), remotePeer.toString())
        }
        if (has('drops-coalesced-bytes') && stream.buffered > 0) await stream.read(stream.buffered)
        return { conn: applyDataFlaws(stream.unwrap()), remotePeer: has('reports-itself') ? localPeer : remotePeer }
      } catch (err) {
        if (err instanceof UnexpectedPeerError || err instanceof HandshakeError || err instanceof LimitExceededError) throw err
        if (signal.aborted) throw abortReason(signal)
        throw new HandshakeError(`reference handshake failed: ${(err as Error).message}`, REFERENCE_PROTOCOL, { cause: err })
      } finally {
        signal.clear()
      }
    }

    function applyDataFlaws (conn: SecureStream): SecureStream {
      if (has('never-half-closes')) {
        const sink = conn.sink
        conn.sink = async (source: Source<Chunk>) => {
          await sink((async function * () {
            yield * source
            await new Promise<never>(() => {})
          })())
        }
      }
      if (has('drops-a-small-write')) {
        const sink = conn.sink
        conn.sink = async (source: Source<Chunk>) => {
          await sink((async function * () {
            let n = 0
            for await (const chunk of source) {
              if (++n !== 1000) yield chunk
            }
          })())
        }
      }
      if (has('corrupts-large-transfers')) {
        const source = conn.source
        conn.source = (async function * () {
          let seen = 0
          for await (const chunk of source) {
            const before = seen
            seen += chunk.byteLength
            if (before <= 1024 * 1024 && seen > 1024 * 1024) {
              const copy = chunk.slice()
              copy[copy.byteLength - 1] ^= 0x01
              yield copy
            } else {
              yield chunk
            }
          }
        })()
      }
      return conn
    }

    return {
      protocol: REFERENCE_PROTOCOL,
      secureInbound: handshake,
      secureOutbound: handshake
    }
  }
}
