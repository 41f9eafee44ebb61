import type { Uint8ArrayList } from 'uint8arraylist'

/** The protocol id negotiated by multistream-select. */
export const YAMUX_PROTOCOL_ID = '/yamux/1.0.0'

/** The only protocol version defined by the spec. */
export const YAMUX_VERSION = 0

/** Every frame starts with a 12-byte header. */
export const HEADER_LENGTH = 12

/** Window every stream starts with, in both directions (spec: 256 KiB). */
export const INITIAL_STREAM_WINDOW = 256 * 1024

/** Largest value of the 32-bit length, id and window fields. */
export const MAX_UINT32 = 0xffff_ffff

/** Frame types (header byte 1). */
export const FrameType = {
  /** Stream payload; `length` bytes follow the header. */
  Data: 0,
  /** Grants `length` more bytes of send window to the receiver of the frame. */
  WindowUpdate: 1,
  /** Liveness and RTT probe; `length` is an opaque value echoed back. */
  Ping: 2,
  /** Session termination; `length` is a `GoAwayCode`. */
  GoAway: 3
} as const

/** A frame type value. */
export type FrameType = typeof FrameType[keyof typeof FrameType]

/** Flag bits (header bytes 2-3). */
export const Flag = {
  /** Opens a stream (or marks a ping request). */
  SYN: 0x1,
  /** Acknowledges a stream (or marks a ping response). */
  ACK: 0x2,
  /** Half-close: the sender will send no more data on the stream. */
  FIN: 0x4,
  /** Resets the stream immediately. */
  RST: 0x8
} as const

/** GoAway error codes (the `length` field of a GoAway frame). */
export const GoAwayCode = {
  NormalTermination: 0,
  ProtocolError: 1,
  InternalError: 2
} as const

/** A GoAway code value. */
export type GoAwayCode = typeof GoAwayCode[keyof typeof GoAwayCode]

/** A decoded frame header. */
export interface FrameHeader {
  version: number
  type: number
  /** Bit set of `Flag` values. */
  flags: number
  streamId: number
  /** Payload length (Data), window delta (WindowUpdate), opaque value (Ping) or error code (GoAway). */
  length: number
}

/**
 * Encodes a header into 12 fresh bytes, big-endian as the spec requires. Values must be in range
 * (type/flags/id/length are not checked here; callers construct them).
 */
export function encodeHeader (type: number, flags: number, streamId: number, length: number): Uint8Array {
  const b = new Uint8Array(HEADER_LENGTH)
  writeHeader(b, 0, type, flags, streamId, length)
  return b
}

/** Writes a header at `offset` of `b`. */
export function writeHeader (b: Uint8Array, offset: number, type: number, flags: number, streamId: number, length: number): void {
  b[offset] = YAMUX_VERSION
  b[offset + 1] = type
  b[offset + 2] = flags >>> 8
  b[offset + 3] = flags
  b[offset + 4] = streamId >>> 24
  b[offset + 5] = streamId >>> 16
  b[offset + 6] = streamId >>> 8
  b[offset + 7] = streamId
  b[offset + 8] = length >>> 24
  b[offset + 9] = length >>> 16
  b[offset + 10] = length >>> 8
  b[offset + 11] = length
}

/**
 * Decodes the header at the start of `data`, which must hold at least 12 bytes. Reads straight from
 * the first chunk when the header lies within it; copies 12 bytes otherwise. Does not validate
 * version or type: the muxer does, so it can report them as protocol errors.
 */
export function decodeHeader (data: Uint8Array | Uint8ArrayList): FrameHeader {
  // For a list, subarray() returns a view when the header lies within the first chunk.
  const b = data instanceof Uint8Array ? data : data.subarray(0, HEADER_LENGTH)
  if (b.byteLength < HEADER_LENGTH) throw new RangeError(`a yamux header needs ${HEADER_LENGTH} bytes, got ${b.byteLength}`)
  return readHeader(b, 0)
}

/** Decodes the header at `offset` of `b` (12 bytes must be there). */
export function readHeader (b: Uint8Array, offset: number): FrameHeader {
  return {
    version: b[offset],
    type: b[offset + 1],
    flags: (b[offset + 2] << 8) | b[offset + 3],
    streamId: ((b[offset + 4] << 24) | (b[offset + 5] << 16) | (b[offset + 6] << 8) | b[offset + 7]) >>> 0,
    length: ((b[offset + 8] << 24) | (b[offset + 9] << 16) | (b[offset + 10] << 8) | b[offset + 11]) >>> 0
  }
}

/** Human-readable frame type, for logs and error messages. */
export function frameTypeName (type: number): string {
  switch (type) {
    case FrameType.Data: return 'Data'
    case FrameType.WindowUpdate: return 'WindowUpdate'
    case FrameType.Ping: return 'Ping'
    case FrameType.GoAway: return 'GoAway'
    default: return `unknown(${type})`
  }
}

/** Human-readable GoAway code. */
export function goAwayCodeName (code: number): string {
  switch (code) {
    case GoAwayCode.NormalTermination: return 'normal termination'
    case GoAwayCode.ProtocolError: return 'protocol error'
    case GoAwayCode.InternalError: return 'internal error'
    default: return `unknown code ${code}`
  }
}

/** Number of chunks in a list (its `bufs` are private in the typings). */
export function countChunks (list: Uint8ArrayList): number {
  let n = 0
  for (const _chunk of list) n++
  return n
}
