import { InvalidMessageError, LimitExceededError, UnexpectedEOFError } from '@peerkit/interfaces'
import { MaxLengthError } from 'protons-runtime'
import { LEGACY_MESSAGE_SIZE } from './constants.js'
import { Identify as IdentifyMessage } from './pb/identify.js'
import type { AbortOptions } from '@peerkit/interfaces'
import type { ByteStream } from '@peerkit/utils'

export { IdentifyMessage }

/** Bounds applied while reading identify messages. */
export interface ReadIdentifyOptions extends AbortOptions {
  /** Longest length-prefixed message accepted. */
  maxMessageSize: number
  /** Most length-prefixed messages accepted on one stream. */
  maxMessages: number
  /** Most listen addresses accepted, over all messages. */
  maxListenAddrs: number
  /** Most protocols accepted, over all messages. */
  maxProtocols: number
}

/**
 * Reads the identify message(s) a peer sends until it closes its write side. A peer may split its
 * message in up to `maxMessages` length-prefixed parts (go-libp2p sends the signed peer record
 * separately when the message is large); they are merged as protobuf merges messages: a field set
 * in a later part replaces the earlier value, repeated fields are concatenated.
 *
 * @throws UnexpectedEOFError when the stream ends before a message, or inside one
 * @throws LimitExceededError when a message, the number of messages, addresses or protocols is over its bound
 * @throws InvalidMessageError when a message is not a valid identify protobuf
 */
export async function readIdentify (bytes: ByteStream, options: ReadIdentifyOptions): Promise<IdentifyMessage> {
  let merged: IdentifyMessage | undefined
  for (let count = 0; ; count++) {
    let length: number
    try {
      length = await bytes.readVarint(options)
    } catch (err) {
      if (err instanceof UnexpectedEOFError && bytes.buffered === 0) {
        if (merged != null) return merged
        throw new UnexpectedEOFError('The stream ended before an identify message', { cause: err })
      }
      throw err
    }
    if (count >= options.maxMessages) {
      throw new LimitExceededError('maxMessages', options.maxMessages, count + 1, 'identify stream')
    }
    if (length > options.maxMessageSize) {
      throw new LimitExceededError('maxMessageSize', options.maxMessageSize, length, 'identify message')
    }
    const data = await bytes.read(length, options)
    const listenAddrs = options.maxListenAddrs - (merged?.listenAddrs.length ?? 0)
    const protocols = options.maxProtocols - (merged?.protocols.length ?? 0)
    let message: IdentifyMessage
    try {
      message = IdentifyMessage.decode(data, { limits: { listenAddrs, protocols } })
    } catch (err) {
      if (err instanceof MaxLengthError) {
        const which = err.message.includes('listenAddrs') ? 'maxListenAddrs' : 'maxProtocols'
        const max = which === 'maxListenAddrs' ? options.maxListenAddrs : options.maxProtocols
        throw new LimitExceededError(which, max, undefined, 'identify message', `The identify message lists more than ${max} ${which === 'maxListenAddrs' ? 'listen addresses' : 'protocols'}`, { cause: err })
      }
      throw new InvalidMessageError(`The identify message is not a valid protobuf message: ${(err as Error).message}`, { cause: err })
    }
    merged = merged == null ? message : mergeMessages(merged, message)
  }
}

/** Merges `next` into `base` with protobuf merge semantics. */
export function mergeMessages (base: IdentifyMessage, next: IdentifyMessage): IdentifyMessage {
  return {
    protocolVersion: next.protocolVersion ?? base.protocolVersion,
    agentVersion: next.agentVersion ?? base.agentVersion,
    publicKey: next.publicKey ?? base.publicKey,
    observedAddr: next.observedAddr ?? base.observedAddr,
    signedPeerRecord: next.signedPeerRecord ?? base.signedPeerRecord,
    listenAddrs: next.listenAddrs.length === 0 ? base.listenAddrs : [...base.listenAddrs, ...next.listenAddrs],
    protocols: next.protocols.length === 0 ? base.protocols : [...base.protocols, ...next.protocols]
  }
}

/**
 * Encodes our identify message as the parts to send, each to be written length-prefixed: one
 * part, or — when the message with its signed peer record is larger than {@link LEGACY_MESSAGE_SIZE}
 * — the message without the record, then the record alone (what go-libp2p does, so that peers
 * reading a single small message still get everything but the record).
 */
export function encodeIdentify (message: IdentifyMessage): Uint8Array[] {
  const whole = IdentifyMessage.encode(message)
  if (message.signedPeerRecord == null || whole.byteLength <= LEGACY_MESSAGE_SIZE) return [whole]
  const { signedPeerRecord, ...rest } = message
  return [
    IdentifyMessage.encode(rest),
    IdentifyMessage.encode({ listenAddrs: [], protocols: [], signedPeerRecord })
  ]
}
