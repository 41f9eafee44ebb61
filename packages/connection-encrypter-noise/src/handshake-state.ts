import { InvalidMessageError, LimitExceededError, StreamStateError } from '@peerkit/interfaces'
import { CipherState } from './cipher-state.js'
import { defaultNoiseCrypto, hkdf2, sha256 } from './crypto.js'
import { DH_BYTES, HASH_BYTES, MAX_NOISE_MESSAGE_BYTES, NOISE_PROTOCOL_NAME, TAG_BYTES } from './constants.js'
import type { NoiseCrypto, X25519KeyPair, X25519PublicKey } from './crypto.js'

const EMPTY = new Uint8Array(0)

/**
 * The Noise `SymmetricState`: the chaining key `ck`, the handshake hash `h` and the handshake
 * `CipherState`.
 */
export class SymmetricState {
  readonly cipherState: CipherState
  readonly #crypto: NoiseCrypto
  #ck: Uint8Array
  #h: Uint8Array

  /** Noise `InitializeSymmetric(protocol_name)`; `crypto` is passed on to the cipher states. */
  constructor (protocolName: string, crypto: NoiseCrypto = defaultNoiseCrypto) {
    this.#crypto = crypto
    this.cipherState = new CipherState(undefined, crypto)
    const name = new TextEncoder().encode(protocolName)
    if (name.byteLength <= HASH_BYTES) {
      this.#h = new Uint8Array(HASH_BYTES)
      this.#h.set(name)
    } else {
      this.#h = sha256(name)
    }
    this.#ck = this.#h
  }

  /** The handshake hash `h`; after the last message it identifies the session (channel binding). */
  get handshakeHash (): Uint8Array {
    return this.#h
  }

  /** Noise `MixKey`. */
  mixKey (inputKeyMaterial: Uint8Array): void {
    const [ck, tempK] = hkdf2(this.#ck, inputKeyMaterial)
    this.#ck = ck
    this.cipherState.initializeKey(tempK)
  }

  /** Noise `MixHash`. */
  mixHash (data: Uint8Array): void {
    this.#h = sha256(this.#h, data)
  }

  /** Noise `EncryptAndHash`. */
  encryptAndHash (plaintext: Uint8Array): Uint8Array {
    const ciphertext = this.cipherState.encryptWithAd(this.#h, plaintext)
    this.mixHash(ciphertext)
    return ciphertext
  }

  /** Noise `DecryptAndHash`; throws `DecryptionError` when authentication fails. */
  decryptAndHash (ciphertext: Uint8Array): Uint8Array {
    const plaintext = this.cipherState.decryptWithAd(this.#h, ciphertext)
    this.mixHash(ciphertext)
    return plaintext
  }

  /** Noise `Split`: the two transport cipher states (initiator-to-responder first). */
  split (): [CipherState, CipherState] {
    const [k1, k2] = hkdf2(this.#ck, EMPTY)
    return CipherState.pair(k1, k2, this.#crypto)
  }
}

type Token = 'e' | 's' | 'ee' | 'es' | 'se'

// XX:  -> e  /  <- e, ee, s, es  /  -> s, se
const XX_PATTERN: readonly Token[][] = [['e'], ['e', 'ee', 's', 'es'], ['s', 'se']]

/** How a handshake state is set up. */
export interface HandshakeStateInit {
  /** True for the dialer (the Noise initiator). */
  initiator: boolean
  /** Our static X25519 key pair. */
  staticKeyPair: X25519KeyPair
  /** Data both sides must agree on, mixed into the handshake hash. Default empty. */
  prologue?: Uint8Array
  /**
   * Our ephemeral key pair, which must never have been used before: one generated ahead of time,
   * or a fixed one in known-answer tests. Leave it out and a fresh one is generated when the `e`
   * token is written.
   */
  ephemeralKeyPair?: X25519KeyPair
  /** Where X25519 and small-message sealing come from. Default: node's `crypto`. */
  crypto?: NoiseCrypto
}

/** The transport state produced by a completed handshake. */
export interface TransportKeys {
  /** Encrypts what we send. */
  send: CipherState
  /** Decrypts what we receive. */
  receive: CipherState
  /** The final handshake hash. */
  handshakeHash: Uint8Array
}

/**
 * The Noise `HandshakeState` for `Noise_XX_25519_ChaChaPoly_SHA256`: a pure state machine with no
 * I/O. Messages alternate: the initiator writes messages 1 and 3 and reads 2, the responder the
 * reverse. After message 3, `split()` yields the transport keys.
 */
export class XXHandshakeState {
  readonly #symmetric: SymmetricState
  readonly #initiator: boolean
  readonly #s: X25519KeyPair
  readonly #crypto: NoiseCrypto
  #e?: X25519KeyPair
  #rs?: Uint8Array
  #re?: Uint8Array
  /** `#re` imported for X25519 once: it takes part in two agreements (ee, and es or se). */
  #reKey?: X25519PublicKey
  #index = 0

  constructor (init: HandshakeStateInit) {
    this.#initiator = init.initiator
    this.#s = init.staticKeyPair
    this.#e = init.ephemeralKeyPair
    this.#crypto = init.crypto ?? defaultNoiseCrypto
    this.#symmetric = new SymmetricState(NOISE_PROTOCOL_NAME, this.#crypto)
    this.#symmetric.mixHash(init.prologue ?? EMPTY)
  }

  /** True once all three messages were processed. */
  get complete (): boolean {
    return this.#index === XX_PATTERN.length
  }

  /** True when the next message is ours to write. */
  get isMyTurn (): boolean {
    return !this.complete && (this.#index % 2 === 0) === this.#initiator
  }

  /** The remote's static public key, once received (after message 2 for the initiator, 3 for the responder). */
  get remoteStaticKey (): Uint8Array | undefined {
    return this.#rs
  }

  /** Our static public key. */
  get localStaticKey (): Uint8Array {
    return this.#s.publicKey
  }

  /** The current handshake hash. */
  get handshakeHash (): Uint8Array {
    return this.#symmetric.handshakeHash
  }

  /**
   * Noise `WriteMessage`: produces the next message carrying `payload` (encrypted once a key is
   * established). Throws `LimitExceededError` if the message would exceed 65535 bytes.
   */
  writeMessage (payload: Uint8Array): Uint8Array {
    if (!this.isMyTurn) throw new StreamStateError(`Noise handshake message ${this.#index + 1} is not ours to write`)
    const parts: Uint8Array[] = []
    for (const token of XX_PATTERN[this.#index]) {
      switch (token) {
        case 'e': {
          this.#e ??= this.#crypto.generateKeyPair()
          parts.push(this.#e.publicKey)
          this.#symmetric.mixHash(this.#e.publicKey)
          break
        }
        case 's':
          parts.push(this.#symmetric.encryptAndHash(this.#s.publicKey))
          break
        default:
          this.#mixDH(token)
      }
    }
    parts.push(this.#symmetric.encryptAndHash(payload))
    const message = Buffer.concat(parts)
    if (message.byteLength > MAX_NOISE_MESSAGE_BYTES) {
      throw new LimitExceededError('maxMessageSize', MAX_NOISE_MESSAGE_BYTES, message.byteLength, 'noise handshake message')
    }
    this.#index++
    return message
  }

  /**
   * Noise `ReadMessage`: processes the remote's next message and returns its decrypted payload.
   * Throws `InvalidMessageError` for a message too short for its tokens, `DecryptionError` when
   * authentication fails, `InvalidKeyError` for an unusable remote key.
   */
  readMessage (message: Uint8Array): Uint8Array {
    if (this.complete || this.isMyTurn) throw new StreamStateError(`Noise handshake message ${this.#index + 1} is not ours to read`)
    let offset = 0
    const take = (n: number, what: string): Uint8Array => {
      if (message.byteLength - offset < n) {
        throw new InvalidMessageError(`Noise handshake message ${this.#index + 1} is ${message.byteLength} bytes, too short for ${what}`)
      }
      const out = message.subarray(offset, offset + n)
      offset += n
      return out
    }
    for (const token of XX_PATTERN[this.#index]) {
      switch (token) {
        case 'e': {
          if (this.#re != null) throw new InvalidMessageError('The remote sent a second ephemeral key')
          const re = Uint8Array.from(take(DH_BYTES, 'the ephemeral key'))
          this.#re = re
          this.#symmetric.mixHash(re)
          break
        }
        case 's': {
          const length = DH_BYTES + (this.#symmetric.cipherState.hasKey() ? TAG_BYTES : 0)
          this.#rs = Uint8Array.from(this.#symmetric.decryptAndHash(take(length, 'the static key')))
          break
        }
        default:
          this.#mixDH(token)
      }
    }
    const rest = message.subarray(offset)
    if (this.#symmetric.cipherState.hasKey() && rest.byteLength < TAG_BYTES) {
      throw new InvalidMessageError(`Noise handshake message ${this.#index + 1} is ${message.byteLength} bytes, too short for the payload tag`)
    }
    const payload = this.#symmetric.decryptAndHash(rest)
    this.#index++
    return payload
  }

  #mixDH (token: 'ee' | 'es' | 'se'): void {
    // The first letter names the initiator's key, the second the responder's.
    const [ours, theirs] = token === 'ee'
      ? [this.#e, this.#re]
      : (token === 'es') === this.#initiator
          ? [this.#e, this.#rs]
          : [this.#s, this.#re]
    if (ours == null || theirs == null) throw new StreamStateError(`Noise token ${token} needs a key that is not set`)
    const remoteKey = theirs === this.#re ? (this.#reKey ??= this.#crypto.importPublicKey(theirs)) : theirs
    this.#symmetric.mixKey(this.#crypto.dh(ours, remoteKey))
  }

  /** Noise `Split`, oriented for our role. Only after the last message. */
  split (): TransportKeys {
    if (!this.complete) throw new StreamStateError('The Noise handshake is not complete')
    const [c1, c2] = this.#symmetric.split()
    return {
      send: this.#initiator ? c1 : c2,
      receive: this.#initiator ? c2 : c1,
      handshakeHash: this.#symmetric.handshakeHash
    }
  }
}
