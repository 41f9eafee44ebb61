/** The protocol id negotiated by multistream-select for this encrypter. */
export const TLS_PROTOCOL_ID = '/tls/1.0.0'

/**
 * The ALPN token every libp2p TLS endpoint offers (last). When it is the negotiated protocol, no
 * stream muxer was agreed during the handshake.
 */
export const LIBP2P_ALPN = 'libp2p'

/** Object identifier of the libp2p Public Key Extension (allocated to libp2p by IANA). */
export const LIBP2P_EXTENSION_OID = '1.3.6.1.4.1.53594.1.1'

/**
 * What the identity key signs: this prefix followed by the DER `SubjectPublicKeyInfo` of the
 * certificate's key.
 */
export const SIGNATURE_PREFIX = 'libp2p-tls-handshake:'

/** Default deadline of a whole handshake, in milliseconds. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000

/** Default of `TLSInit.highWaterMark`: bytes queued in each direction before backpressure applies. */
export const DEFAULT_HIGH_WATER_MARK = 256 * 1024

/** How far in the past our certificates start being valid, to tolerate clock skew: one hour. */
export const CERTIFICATE_BACKDATE_MS = 60 * 60 * 1000

/** How long our certificates stay valid: about 100 years (the key is ephemeral, it never needs renewing). */
export const CERTIFICATE_LIFETIME_MS = 100 * 365 * 24 * 60 * 60 * 1000

/** Longest ALPN token TLS can carry, in bytes (RFC 7301). */
export const MAX_ALPN_TOKEN_BYTES = 255

/** Largest certificate (DER) {@link verifyPeerCertificate} accepts, in bytes. */
export const MAX_CERTIFICATE_BYTES = 16 * 1024
