import { InvalidMessageError, InvalidParametersError, LimitExceededError, StreamStateError, UnsupportedProtocolError } from '@peerkit/interfaces'
import { logger } from '@peerkit/utils'
import * as varint from 'uint8-varint'
import { LIST, MIN_MAX_MESSAGE_LENGTH, NOT_AVAILABLE, PROTOCOL_ID } from './constants.js'
import type { AbortOptions } from '@peerkit/interfaces'
import type { ByteStream } from '@peerkit/utils'
import type { Uint8ArrayList } from 'uint8arraylist'

/** The logger used when no `log` option is given. */
export const defaultLog = logger('peerkit:multistream-select')

const NEWLINE = 0x0a
const encoder = new TextEncoder()
// fatal: invalid UTF-8 is an error, not U+FFFD; ignoreBOM: a leading BOM is kept, so it cannot
// make two different byte strings decode to the same protocol id.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
const LONE_SURROGATE = /\p{Cs}/u

/**
 * Encodes one multistream-select message: uvarint length (counting the newline), the UTF-8 text,
 * then `\n`, in a single buffer.
 */
export function encodeMessage (text: string): Uint8Array {
  return frame(encoder.encode(text))
}

function frame (body: Uint8Array): Uint8Array {
  const length = body.byteLength + 1
  const prefix = varint.encodingLength(length)
  const out = new Uint8Array(prefix + length)
  varint.encode(length, out, 0)
  out.set(body, prefix)
  out[out.byteLength - 1] = NEWLINE
  return out
}

/** Concatenates already-encoded frames into one buffer (one write on the wire). */
export function concat (...parts: Uint8Array[]): Uint8Array {
  let length = 0
  for (const p of parts) length += p.byteLength
  const out = new Uint8Array(length)
  let offset = 0
  for (const p of parts) {
    out.set(p, offset)
    offset += p.byteLength
  }
  return out
}

/** `0x13 "/multistream/1.0.0\n"` */
export const HEADER_FRAME = encodeMessage(PROTOCOL_ID)
/** `0x03 "na\n"` */
export const NA_FRAME = encodeMessage(NOT_AVAILABLE)
/** `0x03 "ls\n"` */
export const LS_FRAME = encodeMessage(LIST)

/**
 * Encodes the answer to `ls`: one message whose body is every protocol as an embedded message
 * (`<uvarint><protocol>\n`), followed by a final `\n`. The outer length counts the final newline.
 */
export function encodeListResponse (protocols: readonly string[]): Uint8Array {
  return frame(concat(...protocols.map(encodeMessage)))
}

/**
 * Parses the body of an `ls` answer (the bytes between its outer length prefix and its final
 * newline) into the protocol ids it lists.
 */
export function decodeListResponse (body: Uint8Array): string[] {
  const end = body.byteLength
  const out: string[] = []
  let offset = 0
  while (offset < end) {
    let length = 0
    let shift = 0
    for (;;) {
      if (offset >= end) throw new InvalidMessageError('ls response ends inside a length prefix')
      if (shift >= 28) throw new InvalidMessageError('ls response has an overlong length prefix')
      const byte = body[offset++]
      length += (byte & 0x7f) * 2 ** shift
      shift += 7
      if ((byte & 0x80) === 0) break
    }
    if (length === 0 || offset + length > end) {
      throw new InvalidMessageError(`ls response entry of ${length} bytes does not fit the ${end - offset} bytes left`)
    }
    if (body[offset + length - 1] !== NEWLINE) throw new InvalidMessageError('ls response entry without its trailing newline')
    out.push(decodeText(body.subarray(offset, offset + length - 1), 'ls response entry'))
    offset += length
  }
  return out
}

function decodeText (bytes: Uint8Array, what: string): string {
  try {
    return decoder.decode(bytes)
  } catch (err) {
    throw new InvalidMessageError(`${what} is not valid UTF-8`, { cause: err })
  }
}

/** Options of `readMessage`. */
export interface ReadMessageOptions extends AbortOptions {
  /** Largest accepted length prefix (the newline included). */
  maxLength: number
  /** Name of the option that sets `maxLength`, reported in `LimitExceededError`. */
  limit: string
}

/**
 * Reads one length-prefixed message and returns its bytes without the newline. Reads exactly the
 * message's bytes: what follows stays buffered in `bs`.
 *
 * The messages of one negotiation step (header, proposal or answer, often data too) usually arrive
 * in one chunk: after waiting for a chunk when nothing is buffered, a message the buffer holds
 * whole is taken from it without a turn of the event loop (`takeMessage`). Only a message split
 * across chunks goes through the asynchronous reader, which also reports an overlong message and
 * the end of the stream.
 */
export async function readMessage (bs: ByteStream, options: ReadMessageOptions): Promise<Uint8Array> {
  if (bs.buffered === 0) await bs.fill(options)
  return takeMessage(bs, options) ?? await readSplitMessage(bs, options)
}

/** Reads one message (see `readMessage`) and decodes it as UTF-8. */
export async function readText (bs: ByteStream, options: ReadMessageOptions): Promise<string> {
  if (bs.buffered === 0) await bs.fill(options)
  return takeText(bs, options) ?? decodeText(await readSplitMessage(bs, options), 'multistream-select message')
}

/**
 * The message at the front of the buffer of `bs` when it is there whole, without its newline; else
 * `undefined` (nothing consumed, an overlong message included: `readMessage` reports that).
 */
export function takeMessage (bs: ByteStream, options: ReadMessageOptions): Uint8Array | undefined {
  const list = bs.takeBufferedLP(options.maxLength)
  return list == null ? undefined : messageBody(list)
}

/** `takeMessage` decoded as UTF-8. */
export function takeText (bs: ByteStream, options: ReadMessageOptions): string | undefined {
  const body = takeMessage(bs, options)
  return body == null ? undefined : decodeText(body, 'multistream-select message')
}

/** The asynchronous reader behind `readMessage`, for a message that is not buffered whole. */
async function readSplitMessage (bs: ByteStream, options: ReadMessageOptions): Promise<Uint8Array> {
  const length = await bs.readVarint(options)
  if (length > options.maxLength) {
    throw new LimitExceededError(options.limit, options.maxLength, length, 'multistream-select message')
  }
  return messageBody(await bs.read(length, options))
}

/** A message's body without its newline; `InvalidMessageError` when it is empty or lacks the newline. */
function messageBody (list: Uint8ArrayList): Uint8Array {
  const length = list.byteLength
  if (length === 0) throw new InvalidMessageError('Empty multistream-select message (no trailing newline)')
  if (list.get(length - 1) !== NEWLINE) throw new InvalidMessageError('multistream-select message without its trailing newline')
  return list.subarray(0, length - 1)
}

/**
 * Reads the remote's first message, which must be the multistream-select header; anything else
 * means the remote does not speak multistream-select 1.0 (`UnsupportedProtocolError`).
 */
export async function readHeader (bs: ByteStream, options: ReadMessageOptions): Promise<void> {
  const header = await readText(bs, options)
  if (header !== PROTOCOL_ID) {
    throw new UnsupportedProtocolError([PROTOCOL_ID], `The remote does not speak ${PROTOCOL_ID}: its first message was ${printable(header)}`)
  }
}

/** Stands in for the sink of the read-only duplex views handed to `ByteStream`; never called. */
export async function unusedSink (): Promise<void> {
  throw new StreamStateError('This view of the stream is read-only')
}

/** Shortens and escapes remote text for error messages and logs. */
export function printable (text: string): string {
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text)
}

/** Checks a `maxMessageLength`-like option and returns it, or the default. */
export function checkLength (value: number | undefined, name: string, fallback: number, min = MIN_MAX_MESSAGE_LENGTH): number {
  if (value == null) return fallback
  if (!Number.isSafeInteger(value) || value < min) {
    throw new InvalidParametersError(`${name} must be an integer of at least ${min}, got ${String(value)}`)
  }
  return value
}

/**
 * Normalises `protocols` to an array and checks every id: a non-empty string, no newline, no lone
 * surrogate (it would not survive UTF-8), not one of the reserved messages, and short enough that
 * its message fits `maxMessageLength`.
 */
export function checkProtocols (protocols: string | readonly string[], maxMessageLength: number): readonly string[] {
  const list = typeof protocols === 'string' ? [protocols] : protocols
  if (!Array.isArray(list)) throw new InvalidParametersError('protocols must be a string or an array of strings')
  for (const p of list) {
    if (typeof p !== 'string' || p.length === 0) throw new InvalidParametersError(`Invalid protocol id ${String(p)}: must be a non-empty string`)
    if (p.includes('\n')) throw new InvalidParametersError(`Invalid protocol id ${printable(p)}: contains a newline`)
    if (p === NOT_AVAILABLE || p === LIST || p === PROTOCOL_ID) {
      throw new InvalidParametersError(`Invalid protocol id ${printable(p)}: reserved by multistream-select`)
    }
    // A UTF-16 unit is at most 3 UTF-8 bytes: only long ids need the exact count.
    if (p.length * 3 + 1 > maxMessageLength) {
      const bytes = encoder.encode(p).byteLength + 1
      if (bytes > maxMessageLength) {
        throw new InvalidParametersError(`Invalid protocol id ${printable(p)}: its message is ${bytes} bytes, more than maxMessageLength (${maxMessageLength})`)
      }
    }
    if (LONE_SURROGATE.test(p)) throw new InvalidParametersError(`Invalid protocol id ${printable(p)}: not well-formed Unicode`)
  }
  return list
}
