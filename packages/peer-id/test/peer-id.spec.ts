/**
 * PeerIds: the spec's examples, the PeerIds of the spec's key vectors, text and CID forms, equality,
 * and malformed input.
 */
import assert from 'node:assert/strict'
import { inspect } from 'node:util'
import { InvalidKeyError, InvalidPeerIdError, isPeerId } from '@peerkit/interfaces'
import { generateKeyPair, privateKeyFromProtobuf, publicKeyFromProtobuf } from '@peerkit/crypto'
import { base16 } from 'multiformats/bases/base16'
import { base32 } from 'multiformats/bases/base32'
import { base36 } from 'multiformats/bases/base36'
import { base58btc } from 'multiformats/bases/base58'
import { base64url } from 'multiformats/bases/base64'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import {
  MAX_PEER_ID_STRING_LENGTH, peerIdFromCID, peerIdFromMultihash, peerIdFromPrivateKey, peerIdFromPublicKey, peerIdFromString
} from '../src/index.js'
import { SPEC_VECTORS, fromHex } from './fixtures/vectors.js'
import type { PublicKey } from '@peerkit/interfaces'

const SPEC_SHA256_CID = 'bafzbeie5745rpv2m6tjyuugywy4d5ewrqgqqhfnf445he3omzpjbx5xqxe'
const SPEC_SHA256_B58 = 'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N'
const SPEC_ED25519_B58 = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'

function expectInvalid (input: string, pattern?: RegExp): void {
  assert.throws(() => peerIdFromString(input), (err: Error) => {
    assert.ok(err instanceof InvalidPeerIdError, `${err.name}: ${err.message}`)
    assert.equal(err.code, 'ERR_INVALID_PEER_ID')
    assert.equal(err.input, input)
    if (pattern != null) {
      assert.match(err.message, pattern)
    }
    return true
  }, input)
}

describe('PeerId', () => {
  describe('the spec examples', () => {
    it('reads the sha256 PeerId in both text forms as the same id', () => {
      const fromCid = peerIdFromString(SPEC_SHA256_CID)
      const fromB58 = peerIdFromString(SPEC_SHA256_B58)
      assert.ok(fromCid.equals(fromB58))
      assert.equal(fromCid.toString(), SPEC_SHA256_B58)
      assert.equal(fromB58.toCID().toString(), SPEC_SHA256_CID)
      assert.equal(fromB58.toMultihash().code, 0x12)
      assert.equal(fromB58.type, undefined)
      assert.equal(fromB58.publicKey, undefined)
    })

    it('reads the Ed25519 PeerId and the key embedded in it', () => {
      const id = peerIdFromString(SPEC_ED25519_B58)
      assert.equal(id.toString(), SPEC_ED25519_B58)
      assert.equal(id.type, 'Ed25519')
      assert.equal(id.publicKey?.type, 'Ed25519')
      assert.equal(id.publicKey?.toString(), SPEC_ED25519_B58)
      assert.equal(id.toMultihash().code, 0x00)
      const cid = id.toCID()
      assert.equal(cid.version, 1)
      assert.equal(cid.code, 0x72)
      assert.ok(cid.toString().startsWith('bafzaa'))
      assert.ok(cid.toString(base36).startsWith('k51qzi5uqu5'))
      assert.ok(peerIdFromString(cid.toString(base36)).equals(id))
      assert.ok(peerIdFromString(cid.toString()).equals(id))
    })
  })

  describe('the PeerIds of the spec key vectors', () => {
    for (const vector of SPEC_VECTORS) {
      it(`${vector.type}: ${vector.peerId}`, () => {
        const fromPrivate = peerIdFromPrivateKey(privateKeyFromProtobuf(fromHex(vector.privateKey)))
        const fromPublic = peerIdFromPublicKey(publicKeyFromProtobuf(fromHex(vector.publicKey)))
        assert.equal(fromPrivate.toString(), vector.peerId)
        assert.equal(fromPublic.toString(), vector.peerId)
        assert.equal(fromPrivate.type, vector.type)
        assert.equal(fromPrivate.publicKey?.type, vector.type)

        const parsed = peerIdFromString(vector.peerId)
        assert.ok(parsed.equals(fromPrivate))
        assert.ok(fromPrivate.equals(parsed))
        const inline = vector.type === 'Ed25519' || vector.type === 'secp256k1'
        // Identity ids carry their key; hashed ids only when they were made from the key.
        assert.equal(parsed.type, inline ? vector.type : undefined)
        assert.equal(parsed.publicKey != null, inline)
        if (inline) {
          assert.ok(parsed.publicKey?.equals(fromPrivate.publicKey))
        }
        assert.ok(peerIdFromString(parsed.toCID().toString()).equals(parsed))
      })
    }
  })

  describe('text and CID forms', () => {
    it('parses a CID in every supported multibase', async () => {
      const id = peerIdFromPrivateKey(await generateKeyPair('secp256k1'))
      for (const base of [base32, base36, base58btc, base16, base64url]) {
        const text = id.toCID().toString(base)
        assert.ok(peerIdFromString(text).equals(id), text)
      }
      assert.ok(peerIdFromString(id.toCID().toString().toUpperCase()).equals(id))
    })

    it('round-trips through multihashes and CIDs', async () => {
      for (const type of ['Ed25519', 'secp256k1', 'ECDSA'] as const) {
        const id = peerIdFromPrivateKey(await generateKeyPair(type))
        assert.ok(peerIdFromMultihash(id.toMultihash()).equals(id))
        assert.ok(peerIdFromCID(id.toCID()).equals(id))
        assert.ok(peerIdFromCID(CID.parse(id.toCID().toString())).equals(id))
        assert.ok(peerIdFromMultihash(Digest.decode(id.toMultihash().bytes)).equals(id))
      }
    })

    it('caches its string and CID forms', () => {
      const id = peerIdFromString(SPEC_SHA256_CID)
      assert.equal(id.toCID(), id.toCID())
      assert.equal(id.toString(), id.toString())
      assert.equal(JSON.stringify({ id }), JSON.stringify({ id: SPEC_SHA256_B58 }))
      assert.equal(inspect(id), `PeerId(${SPEC_SHA256_B58})`)
      assert.equal(Object.prototype.toString.call(id), `[object PeerId(${SPEC_SHA256_B58})]`)
    })

    it('copies the multihash bytes it is given', () => {
      const bytes = Uint8Array.from(peerIdFromString(SPEC_SHA256_B58).toMultihash().bytes)
      const id = peerIdFromMultihash(Digest.decode(bytes))
      bytes.fill(0, 2)
      assert.equal(id.toString(), SPEC_SHA256_B58)
    })

    it('is recognised by isPeerId', () => {
      assert.equal(isPeerId(peerIdFromString(SPEC_ED25519_B58)), true)
      assert.equal(isPeerId(SPEC_ED25519_B58), false)
      assert.equal(isPeerId({ toString: () => SPEC_ED25519_B58 }), false)
    })
  })

  describe('equals', () => {
    it('compares with PeerIds, multihash bytes and both string forms', () => {
      const id = peerIdFromString(SPEC_SHA256_B58)
      assert.equal(id.equals(peerIdFromString(SPEC_SHA256_CID)), true)
      assert.equal(id.equals(id.toMultihash().bytes), true)
      assert.equal(id.equals(SPEC_SHA256_B58), true)
      assert.equal(id.equals(SPEC_SHA256_CID), true)
      assert.equal(id.equals(peerIdFromString(SPEC_ED25519_B58)), false)
      assert.equal(id.equals(peerIdFromString(SPEC_ED25519_B58).toMultihash().bytes), false)
      assert.equal(id.equals(SPEC_ED25519_B58), false)
    })

    it('returns false, without throwing, for anything else', () => {
      const id = peerIdFromString(SPEC_ED25519_B58)
      for (const other of [null, undefined, '', 'not a peer id', 'Qm', new Uint8Array(0), 42, {}, { toMultihash: () => id.toMultihash() }]) {
        assert.equal(id.equals(other as unknown as string), false)
      }
      const throwing = { [Symbol.for('@peerkit/peer-id')]: true, toMultihash: () => { throw new Error('boom') } }
      assert.equal(id.equals(throwing as never), false)
    })
  })

  describe('keys from other implementations of the key interface', () => {
    it('re-reads them from their protobuf encoding', async () => {
      const key = await generateKeyPair('Ed25519')
      const foreign = { type: 'Ed25519', raw: key.publicKey.raw } as unknown as PublicKey
      const id = peerIdFromPublicKey(foreign)
      assert.equal(id.toString(), key.publicKey.toString())
      assert.ok(id.publicKey?.equals(key.publicKey))
      assert.throws(() => peerIdFromPublicKey({ type: 'Ed25519', raw: new Uint8Array(31) } as unknown as PublicKey), InvalidKeyError)
    })
  })

  describe('malformed input', () => {
    it('rejects empty, non-string and over-long input', () => {
      expectInvalid('', /non-empty/)
      assert.throws(() => peerIdFromString(undefined as unknown as string), InvalidPeerIdError)
      assert.throws(() => peerIdFromString(42 as unknown as string), InvalidPeerIdError)
      expectInvalid('Qm' + 'a'.repeat(MAX_PEER_ID_STRING_LENGTH), /at most/)
      expectInvalid('b' + 'a'.repeat(10_000), /at most/)
    })

    it('rejects characters outside the alphabet', () => {
      for (const bad of ['0', 'O', 'I', 'l', '+', ' ']) {
        expectInvalid(SPEC_SHA256_B58.slice(0, 10) + bad + SPEC_SHA256_B58.slice(11), /base58btc/)
      }
      expectInvalid(SPEC_SHA256_CID.slice(0, 10) + '1' + SPEC_SHA256_CID.slice(11), /multibase CID/)
      expectInvalid(SPEC_SHA256_CID.slice(0, 10) + '=' + SPEC_SHA256_CID.slice(11))
      expectInvalid(` ${SPEC_SHA256_B58}`)
      expectInvalid(`${SPEC_SHA256_B58} `)
    })

    it('rejects truncated and extended ids (the multihash length does not match)', () => {
      for (const id of [SPEC_SHA256_B58, SPEC_ED25519_B58, SPEC_SHA256_CID]) {
        for (let length = 1; length < id.length; length += 3) {
          expectInvalid(id.slice(0, length))
        }
      }
      expectInvalid(SPEC_SHA256_B58 + 'a')
      expectInvalid(SPEC_ED25519_B58 + 'a')
      expectInvalid(SPEC_SHA256_CID + 'a')
    })

    it('rejects unknown prefixes', () => {
      for (const bad of ['x' + SPEC_SHA256_CID.slice(1), 'Qx' + SPEC_SHA256_B58.slice(2), '2' + SPEC_SHA256_B58.slice(1), '/p2p/' + SPEC_SHA256_B58]) {
        expectInvalid(bad, /neither/)
      }
    })

    it('rejects CIDs with another codec or version', () => {
      const multihash = peerIdFromString(SPEC_SHA256_B58).toMultihash()
      const dagPb = CID.createV1(0x70, multihash)
      expectInvalid(dagPb.toString(), /libp2p-key/)
      const raw = CID.createV1(0x55, multihash)
      expectInvalid(raw.toString(base36), /libp2p-key/)
      assert.throws(() => peerIdFromCID(dagPb), (err: Error) => err instanceof InvalidPeerIdError && err.input === dagPb.toString())
      const v0 = CID.createV0(multihash as Digest.Digest<0x12, 32>)
      assert.throws(() => peerIdFromCID(v0 as unknown as CID), (err: Error) => err instanceof InvalidPeerIdError && /CIDv1/.test(err.message))
      assert.throws(() => peerIdFromCID(null as unknown as CID), InvalidPeerIdError)
    })

    it('rejects hash functions other than identity and sha2-256', () => {
      const sha512 = Digest.create(0x13, new Uint8Array(64).fill(1))
      const blake2b = Digest.create(0xb220, new Uint8Array(32).fill(1))
      for (const mh of [sha512, blake2b]) {
        // As bare base58btc they do not even start like a PeerId (1... or Qm...).
        expectInvalid(base58btc.baseEncode(mh.bytes), /neither/)
        expectInvalid(CID.createV1(0x72, mh).toString(), /hash function/)
        assert.throws(() => peerIdFromMultihash(mh), InvalidPeerIdError)
      }
    })

    it('rejects a sha2-256 digest that is not 32 bytes', () => {
      const short = Digest.create(0x12, new Uint8Array(20).fill(1))
      expectInvalid(CID.createV1(0x72, short).toString(), /32-byte/)
      assert.throws(() => peerIdFromMultihash(short), InvalidPeerIdError)
    })

    it('rejects identity multihashes that do not hold a valid inline key', () => {
      const notAKey = Digest.create(0x00, Uint8Array.of(1, 2, 3))
      expectInvalid(base58btc.baseEncode(notAKey.bytes), /valid public key/)
      const badEd25519 = Digest.create(0x00, Uint8Array.from([0x08, 0x01, 0x12, 0x1f, ...new Uint8Array(31)]))
      expectInvalid(base58btc.baseEncode(badEd25519.bytes), /valid public key/)
      const badPoint = Digest.create(0x00, Uint8Array.from([0x08, 0x02, 0x12, 0x21, 0x02, ...new Uint8Array(31), 5]))
      expectInvalid(base58btc.baseEncode(badPoint.bytes), /valid public key/)
      const unknownType = Digest.create(0x00, Uint8Array.from([0x08, 0x07, 0x12, 0x20, ...new Uint8Array(32)]))
      expectInvalid(CID.createV1(0x72, unknownType).toString(), /valid public key/)
      const empty = Digest.create(0x00, new Uint8Array(0))
      assert.throws(() => peerIdFromMultihash(empty), InvalidPeerIdError)
    })

    it('rejects identity multihashes longer than 42 bytes, even around a valid key', () => {
      const ecdsa = SPEC_VECTORS.find(v => v.type === 'ECDSA')!
      const inlined = Digest.create(0x00, fromHex(ecdsa.publicKey))
      assert.throws(() => peerIdFromMultihash(inlined), (err: Error) => err instanceof InvalidPeerIdError && /at most 42/.test(err.message))
      expectInvalid(CID.createV1(0x72, inlined).toString(base16), /at most/)
    })

    it('throws only InvalidPeerIdError for randomly corrupted ids', () => {
      // xorshift32, so the cases are the same on every run
      let x = 0x1d2e3f
      const random = (): number => {
        x ^= x << 13
        x ^= x >>> 17
        x ^= x << 5
        return (x >>> 0) / 0x100000000
      }
      const alphabet = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0OIl+/=_- '
      const sources = [SPEC_SHA256_B58, SPEC_SHA256_CID, SPEC_ED25519_B58, ...SPEC_VECTORS.map(v => v.peerId)]
      let rejected = 0
      for (let i = 0; i < 3000; i++) {
        const chars = [...sources[i % sources.length]]
        const edits = 1 + Math.floor(random() * 3)
        for (let e = 0; e < edits; e++) {
          chars[Math.floor(random() * chars.length)] = alphabet[Math.floor(random() * alphabet.length)]
        }
        const text = chars.join('')
        try {
          // A changed character in a sha2-256 id is usually just another valid id.
          peerIdFromString(text)
        } catch (err) {
          assert.ok(err instanceof InvalidPeerIdError && err.input === text, `${String(err)} for ${text}`)
          rejected++
        }
      }
      assert.ok(rejected > 1000, `only ${rejected} of 3000 rejected`)
    })

    it('rejects malformed multihash objects', () => {
      assert.throws(() => peerIdFromMultihash(null as unknown as Digest.Digest<0, number>), InvalidPeerIdError)
      assert.throws(() => peerIdFromMultihash({ code: 0x12, bytes: Uint8Array.of(0x12, 0x20, 1) } as unknown as Digest.Digest<0, number>), (err: Error) => err instanceof InvalidPeerIdError && /Malformed/.test(err.message))
    })
  })
})
