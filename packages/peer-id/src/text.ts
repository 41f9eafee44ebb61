/**
 * PeerId text and CID forms down to the multihash: the checks that need no key parsing, shared by
 * `peerIdFromString`, `peerIdFromCID` and `PeerId.equals`.
 */
import { InvalidPeerIdError } from '@peerkit/interfaces'
import { LIBP2P_KEY_CODE } from '@peerkit/crypto'
import { base16, base16upper } from 'multiformats/bases/base16'
import { base32, base32hex, base32hexpad, base32hexpadupper, base32hexupper, base32pad, base32padupper, base32upper, base32z } from 'multiformats/bases/base32'
import { base36, base36upper } from 'multiformats/bases/base36'
import { base58btc, base58flickr } from 'multiformats/bases/base58'
import { base64, base64pad, base64url, base64urlpad } from 'multiformats/bases/base64'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import type { MultibaseDecoder } from 'multiformats/cid'
import type { MultihashDigest } from 'multiformats/hashes/interface'

/**
 * Longest string `peerIdFromString` will parse. The longest valid PeerId text is a base16 CIDv1 of an
 * identity multihash (under 100 characters); the bound keeps base decoding, which is quadratic for
 * base58 and base36, cheap on hostile input.
 */
export const MAX_PEER_ID_STRING_LENGTH = 128

/** Multibase decoders accepted for PeerIds in CID form, by prefix. */
const MULTIBASE_DECODERS: ReadonlyMap<string, MultibaseDecoder<string>> = new Map([
  base32, base32upper, base32pad, base32padupper, base32hex, base32hexupper, base32hexpad, base32hexpadupper, base32z,
  base36, base36upper, base58btc, base58flickr, base16, base16upper, base64, base64pad, base64url, base64urlpad
].map(codec => [codec.prefix, codec.decoder]))

/** The multibase prefixes accepted for PeerIds in CID form. */
export const PEER_ID_MULTIBASE_PREFIXES: readonly string[] = Object.freeze([...MULTIBASE_DECODERS.keys()])

/** Describes an unknown thrown value. */
export function describe (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

function preview (str: string): string {
  return JSON.stringify(str.length > 64 ? `${str.slice(0, 64)}...` : str)
}

/**
 * Decodes PeerId text to its multihash: a base58btc multihash starting with `1` or `Qm`, or a
 * multibase CIDv1 with the `libp2p-key` codec. Does not look inside the multihash.
 *
 * @throws InvalidPeerIdError with `input` set to `str`
 */
export function multihashFromText (str: string): MultihashDigest {
  if (typeof str !== 'string' || str.length === 0) {
    throw new InvalidPeerIdError('A PeerId string must be a non-empty string', typeof str === 'string' ? str : undefined)
  }
  if (str.length > MAX_PEER_ID_STRING_LENGTH) {
    throw new InvalidPeerIdError(`A PeerId string is at most ${MAX_PEER_ID_STRING_LENGTH} characters long, got ${str.length}`, str)
  }
  if (str.startsWith('1') || str.startsWith('Qm')) {
    try {
      return Digest.decode(base58btc.baseDecode(str))
    } catch (err) {
      throw new InvalidPeerIdError(`Invalid PeerId ${preview(str)}: not a base58btc multihash (${describe(err)})`, str, { cause: err })
    }
  }
  const decoder = MULTIBASE_DECODERS.get(str[0])
  if (decoder == null) {
    throw new InvalidPeerIdError(`Invalid PeerId ${preview(str)}: neither a base58btc multihash (1... or Qm...) nor a CID in a supported multibase`, str)
  }
  let cid: CID
  try {
    cid = CID.decode(decoder.decode(str))
  } catch (err) {
    throw new InvalidPeerIdError(`Invalid PeerId ${preview(str)}: not a multibase CID (${describe(err)})`, str, { cause: err })
  }
  return multihashFromCID(cid, str)
}

/**
 * The multihash of a PeerId CID, which must be CIDv1 with the `libp2p-key` codec.
 *
 * @throws InvalidPeerIdError with `input` set to `input` (or the CID's text)
 */
export function multihashFromCID (cid: CID, input?: string): MultihashDigest {
  if (cid == null || typeof cid !== 'object' || cid.multihash == null) {
    throw new InvalidPeerIdError('Expected a CID', input)
  }
  if (cid.version !== 1) {
    throw new InvalidPeerIdError(`A PeerId CID must be CIDv1, got CIDv${String(cid.version)}`, input ?? safeToString(cid))
  }
  if (cid.code !== LIBP2P_KEY_CODE) {
    throw new InvalidPeerIdError(`A PeerId CID must have the libp2p-key codec (0x72), got 0x${cid.code.toString(16)}`, input ?? safeToString(cid))
  }
  return cid.multihash
}

function safeToString (value: unknown): string | undefined {
  try {
    return String(value)
  } catch {
    return undefined
  }
}
