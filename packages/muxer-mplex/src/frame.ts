import { encodeUint8Array, encodingLength } from 'uint8-varint'

/** The protocol id negotiated by multistream-select. */
export const PROTOCOL = '/mplex/6.7.0'

/**
 * Frame flags (the low three bits of the header). "Initiator" frames are sent by the side that
 * opened the stream, "Receiver" frames by the side that accepted it.
 */
export const Flag = {
  NewStream: 0,
  MessageReceiver: 1,
  MessageInitiator: 2,
  CloseReceiver: 3,
  CloseInitiator: 4,
  ResetReceiver: 5,
  ResetInitiator: 6
} as const

/** One of the seven valid frame flags. */
export type FlagValue = typeof Flag[keyof typeof Flag]

/** Human-readable flag names, indexed by flag value (for logs and errors). */
export const FLAG_NAMES: readonly string[] = ['NewStream', 'MessageReceiver', 'MessageInitiator', 'CloseReceiver', 'CloseInitiator', 'ResetReceiver', 'ResetInitiator']

/** Longest header varint the spec allows (63 bits: 60 of id, 3 of flag). */
export const MAX_HEADER_BYTES = 9

/** Longest length varint we accept; lengths are capped far below what it can express. */
export const MAX_LENGTH_BYTES = 9

/** Header plus length varints of one frame, at most. */
export const MAX_FRAME_OVERHEAD = MAX_HEADER_BYTES + MAX_LENGTH_BYTES

/** Ids below this can be shifted by 3 bits with plain number arithmetic (2^50). */
const SAFE_ID = 2 ** 50

/**
 * A stream id as carried on the wire: a `number` while it is a safe integer, a `bigint` above
 * `Number.MAX_SAFE_INTEGER` (only a peer that picks huge ids gets there).
 */
export type StreamId = number | bigint

/**
 * Encodes the header varint `(id << 3) | flag`. Returns a fresh array the caller may keep.
 */
export function encodeHeader (id: StreamId, flag: FlagValue): Uint8Array {
  if (typeof id === 'number' && id < SAFE_ID) {
    const value = id * 8 + flag
    return encodeUint8Array(value, new Uint8Array(encodingLength(value)))
  }
  let value = (BigInt(id) << 3n) | BigInt(flag)
  const bytes: number[] = []
  while (value >= 0x80n) {
    bytes.push(Number(value & 0x7fn) | 0x80)
    value >>= 7n
  }
  bytes.push(Number(value))
  return Uint8Array.from(bytes)
}

/** The flag a stream uses for messages, given whether we opened it. */
export function messageFlag (initiator: boolean): FlagValue {
  return initiator ? Flag.MessageInitiator : Flag.MessageReceiver
}

/** The flag a stream uses to close its write side, given whether we opened it. */
export function closeFlag (initiator: boolean): FlagValue {
  return initiator ? Flag.CloseInitiator : Flag.CloseReceiver
}

/** The flag a stream uses to reset, given whether we opened it. */
export function resetFlag (initiator: boolean): FlagValue {
  return initiator ? Flag.ResetInitiator : Flag.ResetReceiver
}
