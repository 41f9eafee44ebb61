import { publicKeyFromProtobuf, publicKeyToProtobuf } from '@peerkit/crypto'
import { InvalidMessageError, InvalidParametersError, InvalidSignatureError, LimitExceededError } from '@peerkit/interfaces'
import * as varint from 'uint8-varint'
import { Uint8ArrayList } from 'uint8arraylist'
import { Envelope as EnvelopeMessage } from './pb/envelope.js'
import { bytesEqual } from './utils.js'
import type { PrivateKey, PublicKey } from '@peerkit/interfaces'

/** Default bound on the size of an encoded envelope accepted by {@link RecordEnvelope.createFromProtobuf}, in bytes. */
export const DEFAULT_MAX_ENVELOPE_SIZE = 16 * 1024

/** Longest domain string accepted when signing or verifying, in UTF-8 bytes. */
export const MAX_DOMAIN_LENGTH = 1024

/**
 * Something that can be sealed in an envelope: it names its signature domain and payload type, and
 * serializes itself to the payload bytes.
 */
export interface SealableRecord {
  /** The domain separation string the signature is made for, e.g. `libp2p-peer-record`. */
  readonly domain: string
  /** The payload type: a multicodec, optionally followed by more bytes. */
  readonly codec: Uint8Array
  /** The payload bytes. */
  marshal(): Uint8Array
}

/** The fields of an envelope. */
export interface RecordEnvelopeInit {
  /** The signer's public key. */
  publicKey: PublicKey
  /** The payload type (a multicodec, optionally followed by more bytes). */
  payloadType: Uint8Array
  /** The signed payload. */
  payload: Uint8Array
  /** The signature over the domain-separated payload (see {@link signedData}). */
  signature: Uint8Array
}

/** Options for decoding an envelope. */
export interface EnvelopeDecodeOptions {
  /**
   * Encoded envelopes longer than this are refused with `LimitExceededError` before being parsed.
   * Default {@link DEFAULT_MAX_ENVELOPE_SIZE}.
   */
  maxEnvelopeSize?: number
}

const textEncoder = new TextEncoder()

/**
 * The bytes a signature covers (RFC 0002 "Signature Production"): the varint length and UTF-8
 * bytes of `domain`, the varint length and bytes of `payloadType`, the varint length and bytes of
 * `payload`. Returned as a list of chunks, so the payload is not copied.
 *
 * @throws InvalidParametersError when the domain is longer than {@link MAX_DOMAIN_LENGTH} bytes
 */
export function signedData (domain: string, payloadType: Uint8Array, payload: Uint8Array): Uint8ArrayList {
  const domainBytes = textEncoder.encode(domain)
  if (domainBytes.byteLength > MAX_DOMAIN_LENGTH) {
    throw new InvalidParametersError(`The signature domain is ${domainBytes.byteLength} bytes long, more than ${MAX_DOMAIN_LENGTH}`)
  }
  return new Uint8ArrayList(
    varint.encode(domainBytes.byteLength),
    domainBytes,
    varint.encode(payloadType.byteLength),
    payloadType,
    varint.encode(payload.byteLength),
    payload
  )
}

/**
 * A signed envelope (libp2p RFC 0002): a payload, its type, the signer's public key and a signature
 * over the payload prefixed with a domain string, so that a signature made for one purpose is never
 * valid for another.
 *
 * Create one with {@link RecordEnvelope.seal}; read one received from a peer with
 * {@link RecordEnvelope.openAndCertify}, which verifies the signature.
 */
export class RecordEnvelope {
  /**
   * Decodes an envelope WITHOUT verifying its signature: use {@link openAndCertify} for input from
   * the network, or call {@link validate} before trusting the payload.
   *
   * @throws LimitExceededError when the bytes are longer than `options.maxEnvelopeSize`
   * @throws InvalidMessageError when the bytes are not an envelope or its public key does not decode
   */
  static createFromProtobuf (data: Uint8Array | Uint8ArrayList, options: EnvelopeDecodeOptions = {}): RecordEnvelope {
    const max = options.maxEnvelopeSize ?? DEFAULT_MAX_ENVELOPE_SIZE
    if (data.byteLength > max) {
      throw new LimitExceededError('maxEnvelopeSize', max, data.byteLength, 'envelope')
    }
    let message: EnvelopeMessage
    try {
      message = EnvelopeMessage.decode(data)
    } catch (err) {
      throw new InvalidMessageError(`The envelope is not a valid protobuf message: ${(err as Error).message}`, { cause: err })
    }
    if (message.publicKey.byteLength === 0) {
      throw new InvalidMessageError('The envelope has no public key')
    }
    let publicKey: PublicKey
    try {
      publicKey = publicKeyFromProtobuf(message.publicKey)
    } catch (err) {
      throw new InvalidMessageError(`The envelope's public key is invalid: ${(err as Error).message}`, { cause: err })
    }
    return new RecordEnvelope({
      publicKey,
      payloadType: message.payloadType,
      payload: message.payload,
      signature: message.signature
    })
  }

  /**
   * Serializes `record`, signs it for the record's domain with `privateKey` and returns the
   * envelope.
   *
   * @throws InvalidParametersError when the record's domain is too long
   */
  static seal (record: SealableRecord, privateKey: PrivateKey): RecordEnvelope {
    if (privateKey == null) throw new InvalidParametersError('A private key is required to seal a record')
    const payloadType = record.codec
    const payload = record.marshal()
    const signature = privateKey.sign(signedData(record.domain, payloadType, payload))
    return new RecordEnvelope({ publicKey: privateKey.publicKey, payloadType, payload, signature })
  }

  /**
   * Decodes an envelope and verifies its signature for `domain` with the key it carries.
   *
   * What the signature proves is that the holder of `envelope.publicKey` signed the payload for
   * this domain; whether that key is the one the caller expected (e.g. the peer a record claims to
   * describe) is for the caller to check — {@link openSignedPeerRecord} does it for peer records.
   *
   * @throws LimitExceededError when the bytes are longer than `options.maxEnvelopeSize`
   * @throws InvalidMessageError when the bytes are not an envelope
   * @throws InvalidSignatureError when the signature does not verify for `domain`
   */
  static openAndCertify (data: Uint8Array | Uint8ArrayList, domain: string, options: EnvelopeDecodeOptions = {}): RecordEnvelope {
    const envelope = RecordEnvelope.createFromProtobuf(data, options)
    if (!envelope.validate(domain)) {
      throw new InvalidSignatureError(`The envelope signature does not verify for domain ${JSON.stringify(domain)} with the key of ${envelope.publicKey.toString()}`)
    }
    return envelope
  }

  /** The signer's public key. */
  readonly publicKey: PublicKey
  /** The payload type (a multicodec, optionally followed by more bytes). */
  readonly payloadType: Uint8Array
  /** The signed payload. */
  readonly payload: Uint8Array
  /** The signature. */
  readonly signature: Uint8Array
  #marshaled?: Uint8Array

  constructor (init: RecordEnvelopeInit) {
    this.publicKey = init.publicKey
    this.payloadType = init.payloadType
    this.payload = init.payload
    this.signature = init.signature
  }

  /** The envelope's protobuf encoding (computed once). */
  marshal (): Uint8Array {
    this.#marshaled ??= EnvelopeMessage.encode({
      publicKey: publicKeyToProtobuf(this.publicKey) as Uint8Array<ArrayBuffer>,
      payloadType: this.payloadType as Uint8Array<ArrayBuffer>,
      payload: this.payload as Uint8Array<ArrayBuffer>,
      signature: this.signature as Uint8Array<ArrayBuffer>
    })
    return this.#marshaled
  }

  /** True when `other` is an envelope with the same key, payload type, payload and signature. */
  equals (other?: RecordEnvelope | null): boolean {
    if (other == null) return false
    if (other === this) return true
    return bytesEqual(this.marshal(), other.marshal())
  }

  /**
   * True when the signature verifies for `domain` with the envelope's key. Never throws for a bad
   * signature; throws `InvalidParametersError` for a domain longer than {@link MAX_DOMAIN_LENGTH}.
   */
  validate (domain: string): boolean {
    const data = signedData(domain, this.payloadType, this.payload)
    if (this.signature.byteLength === 0) return false
    try {
      return this.publicKey.verify(data, this.signature)
    } catch {
      // A malformed signature (e.g. a bad DER encoding) is a signature that does not verify.
      return false
    }
  }
}
