import { multiaddr } from '@multiformats/multiaddr'
import { InvalidMessageError, InvalidParametersError, LimitExceededError, UnexpectedPeerError } from '@peerkit/interfaces'
import { MaxLengthError } from 'protons-runtime'
import { RecordEnvelope } from './envelope.js'
import { PeerRecord as PeerRecordMessage } from './pb/peer-record.js'
import { bytesEqual, peerIdFromBytes } from './utils.js'
import type { EnvelopeDecodeOptions, SealableRecord } from './envelope.js'
import type { PeerId, PrivateKey } from '@peerkit/interfaces'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Uint8ArrayList } from 'uint8arraylist'

/** The signature domain of peer records, as deployed libp2p implementations use it. */
export const PEER_RECORD_DOMAIN = 'libp2p-peer-record'

/** The payload type of peer records: the `libp2p-peer-record` multicodec (0x0301) as a varint. */
export const PEER_RECORD_CODEC: Uint8Array = Uint8Array.of(0x03, 0x01)

/** Default bound on the number of addresses in a decoded peer record. */
export const DEFAULT_MAX_PEER_RECORD_ADDRESSES = 128

/** What a peer record holds. */
export interface PeerRecordInit {
  /** The peer the record describes. */
  peerId: PeerId
  /** Its addresses (without a `/p2p/<id>` suffix, by convention). Default none. */
  multiaddrs?: Multiaddr[]
  /**
   * The sequence number; a newer record of the same peer must have a larger one. Default: the
   * current time in milliseconds, which increases across restarts without stored state.
   */
  seq?: bigint
}

/** Options for decoding a peer record. */
export interface PeerRecordDecodeOptions {
  /**
   * Records listing more addresses are refused with `LimitExceededError`.
   * Default {@link DEFAULT_MAX_PEER_RECORD_ADDRESSES}.
   */
  maxAddresses?: number
}

/**
 * A peer routing record (libp2p RFC 0003): the addresses a peer can be reached at, ordered in time
 * by `seq`. Signed by the peer and carried in a {@link RecordEnvelope} with the domain
 * {@link PEER_RECORD_DOMAIN} and payload type {@link PEER_RECORD_CODEC}.
 */
export class PeerRecord implements SealableRecord {
  /** The signature domain of peer records. */
  static readonly DOMAIN = PEER_RECORD_DOMAIN
  /** The payload type of peer records. */
  static readonly CODEC = PEER_RECORD_CODEC

  /**
   * Decodes a record from its protobuf encoding. Addresses that are empty or do not parse as
   * multiaddrs (e.g. protocols this version does not know) are skipped, like go-libp2p does.
   * This does not verify anything: records from the network arrive in envelopes, open them with
   * {@link openSignedPeerRecord}.
   *
   * @throws InvalidMessageError when the bytes are not a peer record or its peer id is invalid
   * @throws LimitExceededError when it lists more than `options.maxAddresses` addresses
   */
  static createFromProtobuf (data: Uint8Array | Uint8ArrayList, options: PeerRecordDecodeOptions = {}): PeerRecord {
    const maxAddresses = options.maxAddresses ?? DEFAULT_MAX_PEER_RECORD_ADDRESSES
    let message: PeerRecordMessage
    try {
      message = PeerRecordMessage.decode(data, { limits: { addresses: maxAddresses } })
    } catch (err) {
      if (err instanceof MaxLengthError) {
        throw new LimitExceededError('maxAddresses', maxAddresses, undefined, 'peer record', `The peer record lists more than ${maxAddresses} addresses`, { cause: err })
      }
      throw new InvalidMessageError(`The peer record is not a valid protobuf message: ${(err as Error).message}`, { cause: err })
    }
    const peerId = peerIdFromBytes(message.peerId)
    const multiaddrs: Multiaddr[] = []
    for (const { multiaddr: bytes } of message.addresses) {
      if (bytes.byteLength === 0) continue
      try {
        multiaddrs.push(multiaddr(bytes))
      } catch {
        // An address we cannot parse is of no use to us; the others still are.
      }
    }
    const record = new PeerRecord({ peerId, multiaddrs, seq: message.seq })
    record.#peerIdBytes = message.peerId
    return record
  }

  /** The peer the record describes. */
  readonly peerId: PeerId
  /** Its addresses. */
  readonly multiaddrs: readonly Multiaddr[]
  /** The sequence number. */
  readonly seq: bigint
  /** The signature domain ({@link PEER_RECORD_DOMAIN}). */
  readonly domain = PEER_RECORD_DOMAIN
  /** The payload type ({@link PEER_RECORD_CODEC}). */
  readonly codec = PEER_RECORD_CODEC
  #peerIdBytes?: Uint8Array
  #marshaled?: Uint8Array

  /** @throws InvalidParametersError for a negative or too large `seq` (it is a uint64) */
  constructor (init: PeerRecordInit) {
    const seq = init.seq ?? BigInt(Date.now())
    if (typeof seq !== 'bigint' || seq < 0n || seq > 0xffffffffffffffffn) {
      throw new InvalidParametersError(`A peer record seq must be a uint64 bigint, got ${String(seq)}`)
    }
    this.peerId = init.peerId
    this.multiaddrs = [...(init.multiaddrs ?? [])]
    this.seq = seq
  }

  /** The binary peer id (its multihash) as encoded in the record. */
  get peerIdBytes (): Uint8Array {
    this.#peerIdBytes ??= this.peerId.toMultihash().bytes
    return this.#peerIdBytes
  }

  /** The record's protobuf encoding (computed once): the envelope payload. */
  marshal (): Uint8Array {
    this.#marshaled ??= PeerRecordMessage.encode({
      peerId: this.peerIdBytes as Uint8Array<ArrayBuffer>,
      seq: this.seq,
      addresses: this.multiaddrs.map(ma => ({ multiaddr: ma.bytes }))
    })
    return this.#marshaled
  }

  /** True when `other` describes the same peer with the same seq and the same addresses in the same order. */
  equals (other?: PeerRecord | null): boolean {
    if (other == null) return false
    if (other === this) return true
    if (this.seq !== other.seq || !this.peerId.equals(other.peerId)) return false
    if (this.multiaddrs.length !== other.multiaddrs.length) return false
    return this.multiaddrs.every((ma, i) => bytesEqual(ma.bytes, other.multiaddrs[i].bytes))
  }

  /** Signs the record with `privateKey` (which must be the key of {@link peerId}) and returns the envelope. */
  seal (privateKey: PrivateKey): RecordEnvelope {
    if (!bytesEqual(privateKey.publicKey.toMultihash().bytes, this.peerIdBytes)) {
      throw new InvalidParametersError(`Cannot seal a peer record of ${this.peerId.toString()} with the key of ${privateKey.publicKey.toString()}`)
    }
    return RecordEnvelope.seal(this, privateKey)
  }
}

/** Options for {@link openSignedPeerRecord}. */
export interface OpenPeerRecordOptions extends EnvelopeDecodeOptions, PeerRecordDecodeOptions {
  /** When given, the record must describe this peer (else `UnexpectedPeerError`). */
  expectedPeer?: PeerId
}

/** A verified peer record and the envelope it came in. */
export interface SignedPeerRecord {
  envelope: RecordEnvelope
  record: PeerRecord
}

/**
 * Opens a signed peer record received from the network, checking everything that makes it
 * trustworthy, in the order RFC 0003 asks for:
 *
 * 1. the envelope decodes and its signature verifies for {@link PEER_RECORD_DOMAIN};
 * 2. its payload type is {@link PEER_RECORD_CODEC};
 * 3. the payload decodes as a peer record;
 * 4. the record's peer id is the id of the key that signed it;
 * 5. when `options.expectedPeer` is given, the record describes that peer.
 *
 * @throws LimitExceededError when the envelope or the address list is over its bound
 * @throws InvalidMessageError when the envelope or record is malformed or the payload type is wrong
 * @throws InvalidSignatureError when the signature does not verify
 * @throws UnexpectedPeerError when the record's peer is not the signer, or not `expectedPeer`
 */
export function openSignedPeerRecord (data: Uint8Array | Uint8ArrayList, options: OpenPeerRecordOptions = {}): SignedPeerRecord {
  const envelope = RecordEnvelope.openAndCertify(data, PEER_RECORD_DOMAIN, options)
  if (!bytesEqual(envelope.payloadType, PEER_RECORD_CODEC)) {
    throw new InvalidMessageError(`The envelope's payload type is 0x${hex(envelope.payloadType)}, not a peer record (0x0301)`)
  }
  const record = PeerRecord.createFromProtobuf(envelope.payload, options)
  const signer = envelope.publicKey.toMultihash().bytes
  if (!bytesEqual(record.peerIdBytes, signer)) {
    throw new UnexpectedPeerError(record.peerId.toString(), envelope.publicKey.toString())
  }
  if (options.expectedPeer != null && !options.expectedPeer.equals(record.peerId)) {
    throw new UnexpectedPeerError(options.expectedPeer.toString(), record.peerId.toString())
  }
  return { envelope, record }
}

function hex (bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 16), b => b.toString(16).padStart(2, '0')).join('') + (bytes.byteLength > 16 ? '…' : '')
}
