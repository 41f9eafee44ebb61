/**
 * @packageDocumentation
 *
 * libp2p keys for peerkit: Ed25519, secp256k1, RSA and ECDSA keys with the encodings of the libp2p
 * peer-ids specification, the key protobuf, PeerId multihashes, signing and verification. All the
 * cryptography is done by node's native `crypto` module.
 *
 * @example
 *
 * ```ts
 * import { generateKeyPair, privateKeyToProtobuf, privateKeyFromProtobuf } from '@peerkit/crypto'
 *
 * const key = await generateKeyPair('Ed25519')
 * const sig = key.sign(new TextEncoder().encode('hello'))
 * key.publicKey.verify(new TextEncoder().encode('hello'), sig) // true
 * key.publicKey.toString() // '12D3KooW...', the PeerId
 * const same = privateKeyFromProtobuf(privateKeyToProtobuf(key))
 * ```
 */
export {
  generateKeyPair,
  generateKeyPairFromSeed,
  privateKeyFromProtobuf,
  privateKeyToProtobuf,
  publicKeyFromProtobuf,
  publicKeyToProtobuf,
  privateKeyFromRaw,
  publicKeyFromRaw,
  publicKeyFromMultihash
} from './keys.js'
export { MAX_KEY_PROTOBUF_LENGTH, KEY_TYPE_NUMBERS } from './key-protobuf.js'
export { MAX_INLINE_KEY_LENGTH, LIBP2P_KEY_CODE, multihashOfPublicKeyProtobuf } from './keys/base.js'
export type { PeerIdMultihash, PeerIdCID } from './keys/base.js'
export {
  Ed25519PublicKey, Ed25519PrivateKey,
  ED25519_PUBLIC_KEY_LENGTH, ED25519_SEED_LENGTH, ED25519_PRIVATE_KEY_LENGTH, ED25519_LEGACY_PRIVATE_KEY_LENGTH, ED25519_SIGNATURE_LENGTH
} from './keys/ed25519.js'
export {
  Secp256k1PublicKey, Secp256k1PrivateKey,
  SECP256K1_PUBLIC_KEY_LENGTH, SECP256K1_UNCOMPRESSED_PUBLIC_KEY_LENGTH, SECP256K1_PRIVATE_KEY_LENGTH, SECP256K1_MAX_SIGNATURE_LENGTH
} from './keys/secp256k1.js'
export { RSAPublicKey, RSAPrivateKey, RSA_MIN_BITS, RSA_MAX_BITS, RSA_DEFAULT_BITS } from './keys/rsa.js'
export { ECDSAPublicKey, ECDSAPrivateKey, ECDSA_CURVES, ecdsaSignatureToP1363, ecdsaSignatureFromP1363 } from './keys/ecdsa.js'
export { sha256, equalBytes } from './util.js'
export { withoutStackCapture, importPublicKeyObject, importPrivateKeyObject } from './quiet-call.js'
