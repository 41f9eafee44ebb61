import { randomBytes } from 'node:crypto'
import { AsnConvert } from '@peculiar/asn1-schema'
import { Version } from '@peculiar/asn1-x509'
import { publicKeyFromProtobuf, publicKeyToProtobuf } from '@peerkit/crypto'
import { InvalidParametersError, UnexpectedPeerError } from '@peerkit/interfaces'
import { peerIdFromPublicKey } from '@peerkit/peer-id'
import { Uint8ArrayList } from 'uint8arraylist'
import {
  CERTIFICATE_BACKDATE_MS, CERTIFICATE_LIFETIME_MS, LIBP2P_EXTENSION_OID, MAX_CERTIFICATE_BYTES, SIGNATURE_PREFIX
} from './constants.js'
import { InvalidCertificateError } from './errors.js'
import { decodeSignedKey, encodeSignedKey } from './signed-key.js'
import { x509 } from './x509.js'
import type { TBSCertificate } from '@peculiar/asn1-x509'
import type { PeerId, PrivateKey, PublicKey } from '@peerkit/interfaces'

const PREFIX = new TextEncoder().encode(SIGNATURE_PREFIX)

/** The certificate key algorithm: ECDSA on P-256 with SHA-256, as the specification recommends. */
const CERTIFICATE_KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }

/** Standard extensions we can honour when they are marked critical. */
const OID_BASIC_CONSTRAINTS = '2.5.29.19'
const OID_KEY_USAGE = '2.5.29.15'

/** Hashes accepted in certificate signatures. */
const ACCEPTED_HASHES = new Set(['SHA-256', 'SHA-384', 'SHA-512'])

/** A certificate carrying the libp2p Public Key Extension, and its private key. */
export interface GeneratedCertificate {
  /** The certificate, DER-encoded. */
  certificate: Uint8Array<ArrayBuffer>
  /** The certificate, PEM-encoded (what node's TLS takes). */
  certificatePem: string
  /** The certificate's ephemeral ECDSA P-256 private key, PKCS#8 PEM. */
  privateKeyPem: string
}

/** Options of {@link generateCertificate}. */
export interface GenerateCertificateOptions {
  /** Start of the validity window. Default: one hour ago (tolerates clock skew). */
  notBefore?: Date
  /** End of the validity window. Default: about 100 years from now. */
  notAfter?: Date
}

/** Options of {@link verifyPeerCertificate}. */
export interface VerifyCertificateOptions {
  /** When given, a certificate proving another identity is refused with `UnexpectedPeerError`. */
  expectedPeer?: PeerId
  /** The time at which the certificate must be valid. Default: now. */
  now?: Date
}

/** `"libp2p-tls-handshake:" || spki`, as a list (signers and verifiers hash it without joining). */
function signedData (spki: Uint8Array): Uint8ArrayList {
  return new Uint8ArrayList(PREFIX, spki)
}

/**
 * Creates a self-signed certificate for a fresh ECDSA P-256 key, carrying the libp2p Public Key
 * Extension (marked critical): our identity public key and its signature over the certificate's
 * `SubjectPublicKeyInfo`. Any identity key type works, since the identity key only signs the
 * extension; the certificate itself is signed by the ephemeral key.
 */
export async function generateCertificate (identity: PrivateKey, options: GenerateCertificateOptions = {}): Promise<GeneratedCertificate> {
  if (identity?.publicKey == null || typeof identity.sign !== 'function') {
    throw new InvalidParametersError('generateCertificate needs the identity private key')
  }
  const now = Date.now()
  const notBefore = wholeSeconds(options.notBefore ?? new Date(now - CERTIFICATE_BACKDATE_MS))
  const notAfter = wholeSeconds(options.notAfter ?? new Date(now + CERTIFICATE_LIFETIME_MS))
  if (!(notBefore.getTime() < notAfter.getTime())) throw new InvalidParametersError('notBefore must be earlier than notAfter')

  const subtle = globalThis.crypto.subtle
  const keys = await subtle.generateKey(CERTIFICATE_KEY_ALGORITHM, true, ['sign', 'verify'])
  const spki = new Uint8Array(await subtle.exportKey('spki', keys.publicKey))
  const signature = identity.sign(signedData(spki))
  const extension = new x509.Extension(LIBP2P_EXTENSION_OID, true, encodeSignedKey({
    publicKey: publicKeyToProtobuf(identity.publicKey),
    signature
  }))

  const serial = randomBytes(8)
  // A positive INTEGER without a leading zero byte.
  serial[0] = (serial[0] & 0x7f) | 0x01
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial.toString('hex'),
    // RFC 5280 wants a non-empty issuer; the certificate is self-signed, so subject = issuer.
    name: [{ '2.5.4.5': [randomBytes(8).toString('hex')] }],
    notBefore,
    notAfter,
    signingAlgorithm: CERTIFICATE_KEY_ALGORITHM,
    keys,
    extensions: [extension]
  }, globalThis.crypto)

  const certificate = new Uint8Array(cert.rawData)
  // The signature covers the SPKI bytes exported above: they must be the ones in the certificate.
  if (!equalBytes(new Uint8Array(cert.publicKey.rawData), spki)) {
    throw new Error('The generated certificate does not carry the SubjectPublicKeyInfo that was signed')
  }
  return {
    certificate,
    certificatePem: cert.toString('pem'),
    // Exported through WebCrypto (a job off the main thread), not `KeyObject.export()`: on Node.js
    // 20 a main-thread export of a freshly generated key can deadlock when a garbage collection
    // during it destroys the key's generation job (see the Noise package's key generation).
    privateKeyPem: x509.PemConverter.encode(await subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY')
  }
}

/** X509Certificate with access to the parsed ASN.1 structure the checks below need. */
class ParsedCertificate extends x509.X509Certificate {
  get tbsCertificate (): TBSCertificate {
    return this.asn.tbsCertificate
  }

  /** True when the outer signature algorithm is the one named inside the signed part. */
  get signatureAlgorithmsAgree (): boolean {
    return equalBytes(
      new Uint8Array(AsnConvert.serialize(this.asn.signatureAlgorithm)),
      new Uint8Array(AsnConvert.serialize(this.asn.tbsCertificate.signature))
    )
  }
}

function invalid (reason: ConstructorParameters<typeof InvalidCertificateError>[0], message: string, cause?: unknown): InvalidCertificateError {
  return new InvalidCertificateError(reason, message, cause != null ? { cause } : undefined)
}

/**
 * Verifies a certificate a peer presented (DER) against the libp2p TLS specification and returns
 * the PeerId it proves:
 *
 * - one DER X.509 v3 certificate, without the deprecated unique identifiers
 * - valid at `options.now` (default: now)
 * - signed with ECDSA, RSA PKCS#1 v1.5, RSA-PSS (SHA-256/384/512) or Ed25519, by its own key
 *   (issuer = subject, signature valid under its own public key)
 * - exactly one libp2p Public Key Extension (critical or not); no other critical extension except
 *   basic constraints and a key usage that allows digital signatures; no extension twice
 * - the extension's identity key decodes and its signature over
 *   `"libp2p-tls-handshake:" || SubjectPublicKeyInfo` is valid
 * - when `options.expectedPeer` is given, the identity is that peer
 *
 * @throws InvalidCertificateError naming the first problem found (`reason`)
 * @throws UnexpectedPeerError when the certificate is valid but proves another peer
 */
export async function verifyPeerCertificate (der: Uint8Array, options: VerifyCertificateOptions = {}): Promise<PeerId> {
  if (!(der instanceof Uint8Array)) throw new InvalidParametersError('verifyPeerCertificate expects the DER bytes of a certificate')
  if (der.byteLength > MAX_CERTIFICATE_BYTES) {
    throw invalid('malformed', `The certificate is ${der.byteLength} bytes, more than the ${MAX_CERTIFICATE_BYTES} accepted`)
  }
  const length = derElementLength(der)
  if (length !== der.byteLength) {
    throw invalid('malformed', length == null ? 'The certificate is not a DER SEQUENCE' : `The certificate is followed by ${der.byteLength - length} unexpected bytes`)
  }

  let cert: ParsedCertificate
  let tbs: TBSCertificate
  let notBefore: Date
  let notAfter: Date
  try {
    cert = new ParsedCertificate(der.buffer instanceof ArrayBuffer ? der as Uint8Array<ArrayBuffer> : new Uint8Array(der))
    tbs = cert.tbsCertificate
    notBefore = cert.notBefore
    notAfter = cert.notAfter
  } catch (err) {
    throw invalid('malformed', `The certificate does not parse: ${(err as Error).message}`, err)
  }

  if (tbs.version !== Version.v3) throw invalid('unsupported-version', `The certificate is X.509 v${tbs.version + 1}, not v3`)
  if (tbs.issuerUniqueID != null || tbs.subjectUniqueID != null) {
    throw invalid('unique-identifiers', 'The certificate carries the deprecated issuerUniqueID/subjectUniqueID fields')
  }

  const now = options.now ?? new Date()
  if (now.getTime() < notBefore.getTime()) throw invalid('not-yet-valid', `The certificate is not valid before ${notBefore.toISOString()}`)
  if (now.getTime() > notAfter.getTime()) throw invalid('expired', `The certificate expired at ${notAfter.toISOString()}`)

  const signedKeyDer = checkExtensions(cert, tbs)
  await checkSelfSignature(cert, tbs)

  let identityKey: PublicKey
  let signature: Uint8Array
  try {
    const signedKey = decodeSignedKey(signedKeyDer)
    signature = signedKey.signature
    identityKey = publicKeyFromProtobuf(signedKey.publicKey)
  } catch (err) {
    throw invalid('malformed-extension', `The libp2p Public Key Extension does not decode: ${(err as Error).message}`, err)
  }

  const spki = new Uint8Array(cert.publicKey.rawData)
  if (!identityKey.verify(signedData(spki), signature)) {
    throw invalid('invalid-extension-signature', `The ${identityKey.type} identity signature in the libp2p Public Key Extension does not cover the certificate's key`)
  }

  const peerId = peerIdFromPublicKey(identityKey)
  if (options.expectedPeer != null && !options.expectedPeer.equals(peerId)) {
    throw new UnexpectedPeerError(options.expectedPeer.toString(), peerId.toString())
  }
  return peerId
}

/** Checks the extension list and returns the libp2p extension's value. */
function checkExtensions (cert: ParsedCertificate, tbs: TBSCertificate): Uint8Array {
  const seen = new Set<string>()
  let value: Uint8Array | undefined
  for (const ext of tbs.extensions ?? []) {
    if (seen.has(ext.extnID)) throw invalid('duplicate-extension', `The certificate has extension ${ext.extnID} more than once`)
    seen.add(ext.extnID)
    if (ext.extnID === LIBP2P_EXTENSION_OID) {
      value = new Uint8Array(ext.extnValue.buffer)
    } else if (ext.critical && ext.extnID !== OID_BASIC_CONSTRAINTS && ext.extnID !== OID_KEY_USAGE) {
      throw invalid('unknown-critical-extension', `The certificate has a critical extension ${ext.extnID} that is not understood`)
    }
  }
  if (value == null) throw invalid('missing-extension', `The certificate has no libp2p Public Key Extension (${LIBP2P_EXTENSION_OID})`)
  if (seen.has(OID_KEY_USAGE)) {
    let usages: number
    try {
      usages = cert.getExtension(x509.KeyUsagesExtension)?.usages ?? 0
    } catch (err) {
      throw invalid('malformed', 'The key usage extension does not parse', err)
    }
    if ((usages & x509.KeyUsageFlags.digitalSignature) === 0) {
      throw invalid('unknown-critical-extension', 'The key usage extension does not allow digital signatures, which TLS needs')
    }
  }
  return value
}

/** Checks the signature algorithm, that issuer = subject, and the signature under the certificate's own key. */
async function checkSelfSignature (cert: ParsedCertificate, tbs: TBSCertificate): Promise<void> {
  let algorithm: { name: string, hash?: { name: string } }
  try {
    algorithm = cert.signatureAlgorithm as { name: string, hash?: { name: string } }
  } catch (err) {
    throw invalid('unsupported-signature-algorithm', 'The certificate signature algorithm is not recognised', err)
  }
  const name = algorithm?.name
  const hash = algorithm?.hash?.name
  const accepted = name === 'Ed25519' ||
    ((name === 'ECDSA' || name === 'RSASSA-PKCS1-v1_5' || name === 'RSA-PSS') && hash != null && ACCEPTED_HASHES.has(hash))
  if (!accepted) {
    throw invalid('unsupported-signature-algorithm', `The certificate is signed with ${String(name)}${hash != null ? `/${hash}` : ''}, which is not accepted`)
  }
  if (!cert.signatureAlgorithmsAgree) throw invalid('malformed', 'The certificate names two different signature algorithms')

  const issuer = new Uint8Array(AsnConvert.serialize(tbs.issuer))
  const subject = new Uint8Array(AsnConvert.serialize(tbs.subject))
  if (!equalBytes(issuer, subject)) throw invalid('not-self-signed', `The certificate is issued by "${cert.issuer}", not by its subject "${cert.subject}"`)

  let valid: boolean
  try {
    valid = await cert.verify({ signatureOnly: true }, globalThis.crypto)
  } catch (err) {
    throw invalid('invalid-self-signature', `The certificate signature cannot be checked: ${(err as Error).message}`, err)
  }
  if (!valid) throw invalid('invalid-self-signature', 'The certificate signature does not verify under its own public key')
}

/**
 * Total length of the DER SEQUENCE at the start of `buf` (header included), or `undefined` when
 * the bytes do not start with a definite-length SEQUENCE header.
 */
function derElementLength (buf: Uint8Array): number | undefined {
  if (buf.byteLength < 2 || buf[0] !== 0x30) return undefined
  const first = buf[1]
  if (first < 0x80) return 2 + first
  const octets = first & 0x7f
  if (octets === 0 || octets > 3 || buf.byteLength < 2 + octets) return undefined
  let length = 0
  for (let i = 0; i < octets; i++) length = length * 256 + buf[2 + i]
  return 2 + octets + length
}

function wholeSeconds (date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000)
}

function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false
  return true
}
