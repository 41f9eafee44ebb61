/**
 * Test data built without the package's encoders: a signed peer record assembled byte by byte from
 * RFC 0002 / RFC 0003 and signed with node's own Ed25519, and an envelope produced by go-libp2p.
 */
import { createPrivateKey, sign } from 'node:crypto'

/** Hex of bytes. */
export function toHex (bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

/** Bytes of hex. */
export function fromHex (hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, 'hex'))
}

/** Unsigned LEB128, written out by hand. */
export function uvarint (value: number | bigint): number[] {
  let v = BigInt(value)
  const out: number[] = []
  do {
    let byte = Number(v & 0x7fn)
    v >>= 7n
    if (v > 0n) byte |= 0x80
    out.push(byte)
  } while (v > 0n)
  return out
}

/** A protobuf length-delimited field. */
export function field (fieldNumber: number, bytes: number[] | Uint8Array): number[] {
  return [(fieldNumber << 3) | 2, ...uvarint(bytes.length), ...bytes]
}

/** Signs `data` with the Ed25519 key whose RFC 8032 seed is `seed`, using node's crypto only. */
export function ed25519Sign (seed: Uint8Array, data: Uint8Array): Uint8Array {
  // PKCS#8 wrapping of an Ed25519 seed (RFC 8410).
  const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed])
  const key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })
  return Uint8Array.from(sign(null, data, key))
}

export interface HandBuiltRecord {
  /** The libp2p PublicKey protobuf of the signer. */
  publicKeyProtobuf: number[]
  /** The binary PeerId (identity multihash of the key protobuf). */
  peerId: number[]
  /** The PeerRecord protobuf (the envelope payload). */
  payload: number[]
  /** What the signature covers. */
  unsigned: number[]
  /** The signature. */
  signature: Uint8Array
  /** The Envelope protobuf. */
  envelope: Uint8Array
}

/**
 * Builds a signed peer record by hand: `publicKey` is the raw 32-byte Ed25519 key of `seed`,
 * `addrs` binary multiaddrs.
 */
export function handBuildSignedPeerRecord (seed: Uint8Array, publicKey: Uint8Array, seq: bigint, addrs: number[][], domain = 'libp2p-peer-record', payloadType = [0x03, 0x01]): HandBuiltRecord {
  // PublicKey { Type = 1 (Ed25519) (field 1, varint), Data = 32 bytes (field 2) }
  const publicKeyProtobuf = [0x08, 0x01, ...field(2, publicKey)]
  // identity multihash: code 0x00, length, digest
  const peerId = [0x00, publicKeyProtobuf.length, ...publicKeyProtobuf]
  // PeerRecord { peer_id = 1, seq = 2 (varint), addresses = 3 (AddressInfo { multiaddr = 1 }) }
  const payload = [
    ...field(1, peerId),
    0x10, ...uvarint(seq),
    ...addrs.flatMap(ma => field(3, field(1, ma)))
  ]
  const domainBytes = [...new TextEncoder().encode(domain)]
  const unsigned = [
    ...uvarint(domainBytes.length), ...domainBytes,
    ...uvarint(payloadType.length), ...payloadType,
    ...uvarint(payload.length), ...payload
  ]
  const signature = ed25519Sign(seed, Uint8Array.from(unsigned))
  // Envelope { public_key = 1, payload_type = 2, payload = 3, signature = 5 }
  const envelope = Uint8Array.from([
    ...field(1, publicKeyProtobuf),
    ...field(2, payloadType),
    ...field(3, payload),
    ...field(5, signature)
  ])
  return { publicKeyProtobuf, peerId, payload, unsigned, signature, envelope }
}

/**
 * A peer record signed by go-libp2p (published with js-libp2p's peer-record tests): ten addresses
 * `/ip4/1.2.3.4/tcp/0` .. `/tcp/9`.
 */
export const GO_PRIVATE_KEY = Uint8Array.from([8, 1, 18, 64, 133, 251, 231, 43, 96, 100, 40, 144, 4, 165, 49, 249, 103, 137, 141, 245, 49, 158, 224, 41, 146, 253, 216, 64, 33, 250, 80, 82, 67, 75, 246, 238, 17, 187, 163, 237, 23, 33, 148, 140, 239, 180, 229, 11, 10, 11, 181, 202, 216, 166, 181, 45, 199, 177, 164, 15, 79, 102, 82, 16, 92, 145, 226, 196])
export const GO_ENVELOPE = Uint8Array.from([10, 36, 8, 1, 18, 32, 17, 187, 163, 237, 23, 33, 148, 140, 239, 180, 229, 11, 10, 11, 181, 202, 216, 166, 181, 45, 199, 177, 164, 15, 79, 102, 82, 16, 92, 145, 226, 196, 18, 2, 3, 1, 26, 170, 1, 10, 38, 0, 36, 8, 1, 18, 32, 17, 187, 163, 237, 23, 33, 148, 140, 239, 180, 229, 11, 10, 11, 181, 202, 216, 166, 181, 45, 199, 177, 164, 15, 79, 102, 82, 16, 92, 145, 226, 196, 16, 216, 184, 224, 191, 147, 145, 182, 151, 22, 26, 10, 10, 8, 4, 1, 2, 3, 4, 6, 0, 0, 26, 10, 10, 8, 4, 1, 2, 3, 4, 6, 0, 1, 26, 10, 10, 8, 4, 1, 2, 3, 4, 6, 0, 2, 26, 10, 10, 8, 4, 1, 2, 3, 4, 6, 0, 3, 26, 10, 10, 8, 4, 1, 2, 3, 4, 6, 0, 4, 26, 10, 10, 8, 4, 1, 2, 3, 4, 6, 0, 5, 26, 10, 10, 8, 4, 1, 2, 3, 4, 6, 0, 6, 26, 10, 10, 8, 4, 1, 2, 3, 4, 6, 0, 7, 26, 10, 10, 8, 4, 1, 2, 3, 4, 6, 0, 8, 26, 10, 10, 8, 4, 1, 2, 3, 4, 6, 0, 9, 42, 64, 177, 151, 247, 107, 159, 40, 138, 242, 180, 103, 254, 102, 111, 119, 68, 118, 40, 112, 73, 180, 36, 183, 57, 117, 200, 134, 14, 251, 2, 55, 45, 2, 106, 121, 149, 132, 84, 26, 215, 47, 38, 84, 52, 100, 133, 188, 163, 236, 227, 100, 98, 183, 209, 177, 57, 28, 141, 39, 109, 196, 171, 139, 202, 11])
