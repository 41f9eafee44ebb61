import { HandshakeError } from '@peerkit/interfaces'
import { TLS_PROTOCOL_ID } from './constants.js'

/**
 * What is wrong with a certificate a peer presented (the `reason` of an
 * {@link InvalidCertificateError}):
 *
 * - `no-certificate`: the peer sent none
 * - `chain`: the peer sent more than one certificate
 * - `malformed`: not a DER X.509 certificate (or trailing bytes after it, or larger than allowed)
 * - `unsupported-version`: not an X.509 v3 certificate
 * - `unique-identifiers`: the deprecated `issuerUniqueID`/`subjectUniqueID` fields are present
 * - `not-yet-valid` / `expired`: outside its `notBefore`..`notAfter` window
 * - `unsupported-signature-algorithm`: signed with an algorithm we do not accept (SHA-1, MD5, unknown)
 * - `not-self-signed`: its issuer is not its subject
 * - `invalid-self-signature`: its signature does not verify under its own public key
 * - `missing-extension`: no libp2p Public Key Extension
 * - `duplicate-extension`: an extension appears twice
 * - `unknown-critical-extension`: a critical extension we do not understand
 * - `malformed-extension`: the libp2p extension is not a valid `SignedKey` or its key does not decode
 * - `invalid-extension-signature`: the identity key's signature over the certificate key does not verify
 */
export type CertificateProblem =
  | 'no-certificate'
  | 'chain'
  | 'malformed'
  | 'unsupported-version'
  | 'unique-identifiers'
  | 'not-yet-valid'
  | 'expired'
  | 'unsupported-signature-algorithm'
  | 'not-self-signed'
  | 'invalid-self-signature'
  | 'missing-extension'
  | 'duplicate-extension'
  | 'unknown-critical-extension'
  | 'malformed-extension'
  | 'invalid-extension-signature'

/**
 * The certificate a peer presented does not meet the libp2p TLS specification. It is a
 * `HandshakeError` (`instanceof HandshakeError` holds, `code` is `ERR_HANDSHAKE`, `protocol` is
 * `/tls/1.0.0`), with its own `name` and a `reason` naming the problem.
 */
export class InvalidCertificateError extends HandshakeError {
  /** What is wrong with the certificate. */
  readonly reason: CertificateProblem

  constructor (reason: CertificateProblem, message: string, options?: ErrorOptions) {
    super(message, TLS_PROTOCOL_ID, options)
    this.name = 'InvalidCertificateError'
    this.reason = reason
  }
}
