import { LimitExceededError } from '@peerkit/interfaces'
import { ByteStream, throwIfAborted } from '@peerkit/utils'
import { DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_MESSAGE_LENGTH, LIST } from './constants.js'
import { HEADER_FRAME, NA_FRAME, checkLength, checkProtocols, concat, defaultLog, encodeListResponse, encodeMessage, readHeader, readText } from './messages.js'
import { offerNegotiatedChannel, readerDuplex } from './channel.js'
import { NegotiationWriter, originalSink } from './writer.js'
import type { HandleOptions, ProtocolStream } from './options.js'
import type { ByteDuplex } from '@peerkit/utils'

/**
 * The listener's side: reads the dialer's header, then answers each proposal with an echo (agreed,
 * negotiation over) or `na`, and `ls` with the list of `protocols`.
 *
 * Our header goes out in the same write as our first answer when the dialer's first proposal
 * arrived together with its header (as every current implementation sends them); if the header
 * arrived alone, ours is sent at once, so a dialer that waits for it before proposing is not
 * left hanging.
 *
 * On success the stream's `source` and `sink` are replaced so that they carry protocol data only
 * (bytes the dialer sent after its proposal, optimistic data included, are replayed first); nothing
 * else on the stream is touched — set `stream.protocol` yourself if the stream has one. On failure
 * the negotiation output ends; close or abort the stream.
 *
 * @throws UnsupportedProtocolError - the first message is not `/multistream/1.0.0`
 * @throws InvalidMessageError - a malformed message (no trailing newline, invalid UTF-8)
 * @throws LimitExceededError - a message longer than `maxMessageLength`, or `maxAttempts` messages
 * answered without agreement
 * @throws UnexpectedEOFError - the stream ended mid-negotiation
 * @throws InvalidParametersError - a protocol id that cannot be announced
 * @throws AbortError - `options.signal` aborted
 */
export async function handle<S extends ByteDuplex> (stream: S, protocols: string | string[], options: HandleOptions = {}): Promise<ProtocolStream<S>> {
  const maxMessageLength = checkLength(options.maxMessageLength, 'maxMessageLength', DEFAULT_MAX_MESSAGE_LENGTH)
  const maxAttempts = checkLength(options.maxAttempts, 'maxAttempts', DEFAULT_MAX_ATTEMPTS, 1)
  const list = checkProtocols(protocols, maxMessageLength)
  throwIfAborted(options.signal)
  const log = options.log ?? defaultLog

  const writer = new NegotiationWriter(originalSink(stream))
  const reader = readerDuplex(stream)
  const bs = new ByteStream(reader)
  const readOptions = { signal: options.signal, maxLength: maxMessageLength, limit: 'maxMessageLength' }
  try {
    await readHeader(bs, readOptions)
    let headerPending = true
    if (bs.buffered === 0) {
      // Nothing follows the dialer's header yet: it may be waiting for ours.
      await writer.write(HEADER_FRAME, options)
      headerPending = false
    }
    for (let attempt = 1; ; attempt++) {
      const message = await readText(bs, readOptions)
      const selected = list.includes(message)
      let answer: Uint8Array
      if (selected) {
        answer = encodeMessage(message)
      } else if (message === LIST) {
        answer = encodeListResponse(list)
      } else {
        answer = NA_FRAME
      }
      log.trace('handle: read "%s", answer %s', message, selected ? 'echo' : message === LIST ? 'list' : 'na')
      const frame = headerPending ? concat(HEADER_FRAME, answer) : answer
      headerPending = false
      if (selected && bs.buffered > 0) {
        // The dialer sent data right behind its proposal (it selected optimistically), so the
        // application can answer that data at once: our answer goes out with the application's
        // first write if it comes within this turn of the event loop (one syscall and one wake-up
        // of the dialer fewer, e.g. the Noise responder's first message), else alone right after.
        writer.hold(frame)
        setImmediate(() => {
          if (!writer.prefixSent) writer.flush().catch(() => {})
        })
        stream.source = bs.unwrap().source as S['source']
        stream.sink = writer.sink as S['sink']
        offerNegotiatedChannel(stream, reader, writer)
        log('handled "%s" (answer joined to our first write)', message)
        return { stream, protocol: message }
      }
      await writer.write(frame, options)
      if (selected) {
        stream.source = bs.unwrap().source as S['source']
        stream.sink = writer.sink as S['sink']
        offerNegotiatedChannel(stream, reader, writer)
        log('handled "%s"', message)
        return { stream, protocol: message }
      }
      if (attempt >= maxAttempts) {
        throw new LimitExceededError('maxAttempts', maxAttempts, attempt, 'stream', `Answered ${attempt} multistream-select messages without agreeing on a protocol (maxAttempts ${maxAttempts})`)
      }
    }
  } catch (err) {
    log('handle failed: %s', (err as Error).message)
    writer.end()
    throw err
  }
}

