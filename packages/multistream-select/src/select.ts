import { InvalidMessageError, InvalidParametersError, UnsupportedProtocolError } from '@peerkit/interfaces'
import { ByteStream, raceSignal, throwIfAborted } from '@peerkit/utils'
import { DEFAULT_MAX_LIST_LENGTH, DEFAULT_MAX_MESSAGE_LENGTH, NOT_AVAILABLE, PROTOCOL_ID } from './constants.js'
import { LazySource } from './lazy-source.js'
import { HEADER_FRAME, LS_FRAME, checkLength, checkProtocols, concat, decodeListResponse, defaultLog, encodeMessage, printable, readHeader, readMessage, readText, unusedSink } from './messages.js'
import { offerNegotiatedChannel, readerDuplex } from './channel.js'
import { NegotiationWriter, originalSink } from './writer.js'
import type { LsOptions, ProtocolList, ProtocolStream, SelectOptions } from './options.js'
import type { AbortOptions, Logger } from '@peerkit/interfaces'
import type { ByteDuplex } from '@peerkit/utils'

/**
 * The dialer's side: proposes `protocols` in order until the listener accepts one.
 *
 * The header and the first proposal go out in one write; later proposals follow one at a time
 * after each `na`. On success the stream's `source` and `sink` are replaced so that they carry
 * protocol data only (bytes the listener sent after its answer are replayed first); nothing else
 * on the stream is touched — set `stream.protocol` yourself if the stream has one.
 *
 * With a single protocol and `negotiateFully: false` the selection is optimistic: the call
 * resolves at once, the header and proposal are sent in the same write as the application's
 * first chunk if it comes within this turn of the event loop (else alone, at the end of the
 * turn), and the first read of `stream.source` checks the listener's answer, failing with
 * `UnsupportedProtocolError` on `na`. The end of our data (the half-close, through `sink` or
 * the stream's `closeWrite()`) is passed on only once the answer is in, reading it if the
 * application has not: a listener may still be setting up its handler otherwise.
 *
 * On failure the negotiation output ends (the original sink's source completes); close or abort
 * the stream.
 *
 * @throws InvalidParametersError - no protocol, or a protocol id that cannot be sent
 * @throws UnsupportedProtocolError - the listener answered `na` to every proposal, or is not
 * speaking multistream-select 1.0 (`protocols` is then `['/multistream/1.0.0']`)
 * @throws InvalidMessageError - a malformed message, or an answer that is neither echo nor `na`
 * @throws LimitExceededError - an incoming message is longer than `maxMessageLength`
 * @throws UnexpectedEOFError - the stream ended mid-negotiation
 * @throws AbortError - `options.signal` aborted
 */
export async function select<S extends ByteDuplex> (stream: S, protocols: string | string[], options: SelectOptions = {}): Promise<ProtocolStream<S>> {
  const maxMessageLength = checkLength(options.maxMessageLength, 'maxMessageLength', DEFAULT_MAX_MESSAGE_LENGTH)
  const list = checkProtocols(protocols, maxMessageLength)
  if (list.length === 0) throw new InvalidParametersError('select needs at least one protocol')
  throwIfAborted(options.signal)
  const log = options.log ?? defaultLog

  if (list.length === 1 && options.negotiateFully === false) {
    return selectOptimistically(stream, list[0], maxMessageLength, log, options.earlyClose === true)
  }

  const writer = new NegotiationWriter(originalSink(stream))
  const shadow = readerDuplex(stream)
  const bs = new ByteStream(shadow)
  const readOptions = { signal: options.signal, maxLength: maxMessageLength, limit: 'maxMessageLength' }
  try {
    for (let i = 0; i < list.length; i++) {
      const protocol = list[i]
      if (i === 0) {
        log.trace('select: write "%s" and "%s"', PROTOCOL_ID, protocol)
        await writer.write(concat(HEADER_FRAME, encodeMessage(protocol)), options)
        await readHeader(bs, readOptions)
      } else {
        log.trace('select: write "%s"', protocol)
        await writer.write(encodeMessage(protocol), options)
      }
      const answer = await readText(bs, readOptions)
      log.trace('select: read "%s"', answer)
      if (answer === protocol) {
        stream.source = bs.unwrap().source as S['source']
        stream.sink = writer.sink as S['sink']
        offerNegotiatedChannel(stream, shadow, writer)
        log('selected "%s"', protocol)
        return { stream, protocol }
      }
      if (answer !== NOT_AVAILABLE) {
        throw new InvalidMessageError(`Unexpected answer ${printable(answer)} to the proposal of ${printable(protocol)}`)
      }
    }
    throw new UnsupportedProtocolError([...list])
  } catch (err) {
    log('select of %s failed: %s', list.join(', '), (err as Error).message)
    writer.end()
    throw err
  }
}

function selectOptimistically<S extends ByteDuplex> (stream: S, protocol: string, maxMessageLength: number, log: Logger, earlyClose: boolean): ProtocolStream<S> {
  log.trace('select: optimistic proposal of "%s"', protocol)
  const writer = new NegotiationWriter(originalSink(stream), concat(HEADER_FRAME, encodeMessage(protocol)))
  const reader = readerDuplex(stream)
  const source = new LazySource({ stream, reader, writer, protocol, maxMessageLength, log })
  // The end of our data (the muxer's half-close) waits for the listener's answer: a listener may
  // still be setting up the handler when data and close arrive together with the proposal, and
  // js-libp2p 3.x then loses both. Data is not held back, only the end. `earlyClose` is for
  // listeners known to cope.
  if (!earlyClose) writer.gateEnd(async () => source.confirm())
  stream.source = source as unknown as S['source']
  stream.sink = writer.sink as S['sink']
  sendProposalBeforeClose(stream, writer, source, earlyClose)
  // The proposal goes out with the application's first chunk if it comes within this turn of the
  // event loop (one write for both), else alone: the listener learns of the stream either way,
  // even if the application neither writes nor reads for a while.
  setImmediate(() => {
    if (!writer.prefixSent) writer.flush().catch(() => {})
  })
  // A layer built on the stream now (a handshake) can pass the channel on once the answer is in.
  offerNegotiatedChannel(stream, reader, writer, () => source.confirmed)
  return { stream, protocol }
}

/**
 * A stream with `closeWrite` (a muxed stream) could be half-closed before anything went through
 * `sink`, and the held proposal would then never leave. Its `closeWrite` (which `close` uses too)
 * is wrapped for that case: when the application has not called `sink`, the write side is ended
 * through `sink([])`, which sends the proposal and, once the answer is in, the close; when it has,
 * the negotiation is run (proposal flushed, answer read) first. With `earlyClose` only the proposal
 * is flushed first. The wrapper puts the original back on first use.
 */
function sendProposalBeforeClose (stream: ByteDuplex, writer: NegotiationWriter, source: LazySource, earlyClose: boolean): void {
  const closable = stream as ByteDuplex & { closeWrite?: (options?: AbortOptions) => Promise<void> }
  const closeWrite = closable.closeWrite
  if (typeof closeWrite !== 'function') return
  const own = Object.hasOwn(closable, 'closeWrite')
  const wrapper = async (options?: AbortOptions): Promise<void> => {
    if (closable.closeWrite === wrapper) {
      if (own) closable.closeWrite = closeWrite
      else delete closable.closeWrite
    }
    // A proposal that cannot be sent any more (the sink failed or stopped), or an answer that
    // fails, is not waited for: the original closeWrite and the reads report the stream's state.
    const unlessAborted = (err: unknown): void => { if (options?.signal?.aborted === true) throw err }
    if (!writer.sinkCalled) {
      // Ends the write side as the application would have: proposal, answer, then the close
      // (proposal and close at once with `earlyClose`).
      await raceSignal(writer.sink([]), options?.signal).catch(unlessAborted)
    } else if (earlyClose) {
      if (!writer.prefixSent) await raceSignal(writer.flush(), options?.signal).catch(unlessAborted)
    } else if (!source.settled) {
      // The negotiation flushes the proposal itself.
      await raceSignal(source.confirm(), options?.signal).catch(unlessAborted)
    }
    await closeWrite.call(closable, options)
  }
  closable.closeWrite = wrapper
}

/**
 * Asks the listener which protocols it supports (`ls`). The header and the request go out in one
 * write. `ls` is optional in the specification: a listener that does not implement it answers
 * `na`, reported as `UnsupportedProtocolError` with `protocols: ['ls']`.
 *
 * On success the stream's `source` and `sink` are replaced as by `select`, but the listener is
 * still negotiating (it waits for a proposal without a header, which `select` cannot send): close
 * the stream and open a new one to select a protocol.
 *
 * @throws UnsupportedProtocolError - the listener does not support `ls`, or does not speak
 * multistream-select 1.0
 * @throws InvalidMessageError - a malformed answer
 * @throws LimitExceededError - the answer is longer than `maxListLength`, or the header longer
 * than `maxMessageLength`
 * @throws UnexpectedEOFError - the stream ended first
 * @throws AbortError - `options.signal` aborted
 */
export async function ls<S extends ByteDuplex> (stream: S, options: LsOptions = {}): Promise<ProtocolList<S>> {
  const maxMessageLength = checkLength(options.maxMessageLength, 'maxMessageLength', DEFAULT_MAX_MESSAGE_LENGTH)
  const maxListLength = checkLength(options.maxListLength, 'maxListLength', DEFAULT_MAX_LIST_LENGTH, 1)
  throwIfAborted(options.signal)
  const log = options.log ?? defaultLog

  const writer = new NegotiationWriter(originalSink(stream))
  const bs = new ByteStream({ source: stream.source, sink: unusedSink })
  try {
    log.trace('ls: write "%s" and "ls"', PROTOCOL_ID)
    await writer.write(concat(HEADER_FRAME, LS_FRAME), options)
    await readHeader(bs, { signal: options.signal, maxLength: maxMessageLength, limit: 'maxMessageLength' })
    const body = await readMessage(bs, { signal: options.signal, maxLength: maxListLength, limit: 'maxListLength' })
    if (body.byteLength === 2 && body[0] === 0x6e && body[1] === 0x61) {
      throw new UnsupportedProtocolError(['ls'], 'The remote does not support ls')
    }
    const protocols = decodeListResponse(body)
    log.trace('ls: read %d protocols', protocols.length)
    stream.source = bs.unwrap().source as S['source']
    stream.sink = writer.sink as S['sink']
    return { stream, protocols }
  } catch (err) {
    log('ls failed: %s', (err as Error).message)
    writer.end()
    throw err
  }
}
