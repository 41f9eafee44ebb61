/**
 * @packageDocumentation
 *
 * The libp2p TLS connection encrypter (`/tls/1.0.0`): TLS 1.3 on node's native `tls` module,
 * with peers authenticated by the libp2p Public Key Extension of self-signed certificates, and
 * early stream-muxer negotiation through ALPN.
 *
 * @example
 * ```ts
 * import { tls } from '@peerkit/connection-encrypter-tls'
 *
 * const encrypter = tls()({ privateKey, peerId })
 * const { conn, remotePeer, streamMuxer } = await encrypter.secureOutbound(rawConn, {
 *   remotePeer: expectedPeer,
 *   streamMuxers: ['/yamux/1.0.0']
 * })
 * ```
 */
export { tls } from './tls.js'
export type { TLSInit } from './tls.js'
export { generateCertificate, verifyPeerCertificate } from './certificate.js'
export type { GeneratedCertificate, GenerateCertificateOptions, VerifyCertificateOptions } from './certificate.js'
export { InvalidCertificateError } from './errors.js'
export type { CertificateProblem } from './errors.js'
export {
  TLS_PROTOCOL_ID,
  LIBP2P_ALPN,
  LIBP2P_EXTENSION_OID,
  SIGNATURE_PREFIX,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_HIGH_WATER_MARK,
  MAX_CERTIFICATE_BYTES
} from './constants.js'
