/**
 * @packageDocumentation
 *
 * The libp2p Noise connection encrypter (`/noise`): a `Noise_XX_25519_ChaChaPoly_SHA256` handshake
 * that authenticates both peers' libp2p identities, early stream-muxer negotiation through Noise
 * extensions, and ChaCha20-Poly1305 transport encryption, on node's native `crypto` (or, opt-in,
 * libsodium for X25519 and small messages: `crypto: 'libsodium'`).
 *
 * @example
 * ```ts
 * import { noise } from '@peerkit/connection-encrypter-noise'
 *
 * const encrypter = noise()({ privateKey, peerId })
 * const { conn, remotePeer, streamMuxer } = await encrypter.secureOutbound(rawConn, {
 *   remotePeer: expectedPeer,
 *   streamMuxers: ['/yamux/1.0.0']
 * })
 * ```
 */
export { noise } from './noise.js'
export type { NoiseInit } from './noise.js'
export type { NoiseCryptoName } from './crypto.js'
export type { NoiseExtensions } from './pb/payload.js'
export {
  NOISE_PROTOCOL_ID,
  NOISE_PROTOCOL_NAME,
  MAX_NOISE_MESSAGE_BYTES,
  MAX_PLAINTEXT_BYTES,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  MAX_EXTENSION_ENTRIES
} from './constants.js'
