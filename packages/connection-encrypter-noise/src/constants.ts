/** The protocol id negotiated by multistream-select. */
export const NOISE_PROTOCOL_ID = '/noise'

/** The Noise protocol name hashed into the initial handshake state. */
export const NOISE_PROTOCOL_NAME = 'Noise_XX_25519_ChaChaPoly_SHA256'

/** Length of the big-endian length prefix in front of every Noise message on the wire. */
export const LENGTH_PREFIX_BYTES = 2

/** Largest Noise message (handshake or transport), tag included. */
export const MAX_NOISE_MESSAGE_BYTES = 0xffff

/** Length of the ChaCha20-Poly1305 authentication tag. */
export const TAG_BYTES = 16

/** Largest plaintext carried by one transport message: 65535 - 16. */
export const MAX_PLAINTEXT_BYTES = MAX_NOISE_MESSAGE_BYTES - TAG_BYTES

/** Length of an X25519 public key, private key and shared secret (DHLEN). */
export const DH_BYTES = 32

/** Length of a SHA-256 digest (HASHLEN). */
export const HASH_BYTES = 32

/** Prefix of the data an identity key signs to authenticate the Noise static key. */
export const STATIC_KEY_SIGNATURE_PREFIX = 'noise-libp2p-static-key:'

/** Default deadline for a whole handshake, in milliseconds. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000

/**
 * Most entries accepted in each repeated field of the remote's `NoiseExtensions` (stream muxers,
 * certificate hashes). A legitimate peer sends a handful.
 */
export const MAX_EXTENSION_ENTRIES = 100
/** Default number of remote identities (identity key, signature, static key) remembered after they verified. */
export const DEFAULT_VERIFIED_IDENTITY_CACHE_SIZE = 256
