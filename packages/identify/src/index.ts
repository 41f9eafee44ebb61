/**
 * @packageDocumentation
 *
 * The libp2p identify protocols: `/ipfs/id/1.0.0` (ask a peer who it is, what it listens on and
 * which protocols it speaks) and `/ipfs/id/push/1.0.0` (tell connected peers when that changes).
 *
 * Every new connection is identified; what the peer says is verified (its public key must be the
 * connection's peer, its signed peer record must verify) and stored in the peer store.
 *
 * @example
 *
 * ```ts
 * import { identify } from '@peerkit/identify'
 *
 * const service = identify({ agentVersion: 'my-app/1.0.0' })({ peerId, privateKey, swarm, peerStore, logger })
 * await service.start()
 * service.addEventListener('peer:identify', (evt) => {
 *   console.log(evt.detail.peerId.toString(), evt.detail.protocols)
 * })
 * const result = await service.identify(await swarm.dial(addr))
 * ```
 */
import { DefaultIdentify } from './identify.js'
import type { Identify, IdentifyComponents, IdentifyInit } from './identify.js'

export { DefaultIdentify, VERSION, DEFAULT_AGENT_VERSION } from './identify.js'
export type { Identify, IdentifyComponents, IdentifyEvents, IdentifyInit, IdentifyResult, VerifiedPeerRecord } from './identify.js'
export {
  IDENTIFY_PROTOCOL,
  IDENTIFY_PUSH_PROTOCOL,
  DEFAULT_PROTOCOL_VERSION,
  DEFAULT_TIMEOUT,
  DEFAULT_MAX_MESSAGE_SIZE,
  DEFAULT_MAX_MESSAGES,
  DEFAULT_MAX_LISTEN_ADDRS,
  DEFAULT_MAX_PROTOCOLS,
  DEFAULT_MAX_INBOUND_STREAMS,
  DEFAULT_MAX_OUTBOUND_STREAMS,
  DEFAULT_PUSH_DEBOUNCE,
  DEFAULT_MAX_PUSH_CONCURRENCY,
  MAX_PROTOCOL_ID_LENGTH,
  LEGACY_MESSAGE_SIZE
} from './constants.js'
export { Identify as IdentifyMessage } from './pb/identify.js'

/**
 * Creates the identify service factory: pass it the node's components, then `start()` it.
 */
export function identify (init: IdentifyInit = {}): (components: IdentifyComponents) => Identify {
  return (components) => new DefaultIdentify(components, init)
}
