/**
 * Signed envelopes (RFC 0002): round trips for every key type, the signed bytes, tampering, and bad
 * input.
 */
import assert from 'node:assert/strict'
import { generateKeyPair, publicKeyToProtobuf } from '@peerkit/crypto'
import { InvalidMessageError, InvalidParametersError, InvalidSignatureError, LimitExceededError } from '@peerkit/interfaces'
import { Uint8ArrayList } from 'uint8arraylist'
import { DEFAULT_MAX_ENVELOPE_SIZE, MAX_DOMAIN_LENGTH, RecordEnvelope, signedData } from '../src/index.js'
import { field, uvarint } from './fixtures.js'
import type { SealableRecord } from '../src/index.js'
import type { KeyType, PrivateKey } from '@peerkit/interfaces'

const encoder = new TextEncoder()

class TestRecord implements SealableRecord {
  readonly domain: string
  readonly codec = encoder.encode('/peerkit/test')
  readonly data: Uint8Array

  constructor (data: string, domain = 'peerkit-testing') {
    this.domain = domain
    this.data = encoder.encode(data)
  }

  marshal (): Uint8Array {
    return this.data
  }
}

function flip (bytes: Uint8Array, index: number): Uint8Array {
  const copy = Uint8Array.from(bytes)
  copy[index] ^= 0x01
  return copy
}

/** Index of the first occurrence of `needle` in `haystack`. */
function indexOf (haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.byteLength <= haystack.byteLength; i++) {
    for (let j = 0; j < needle.byteLength; j++) {
      if (haystack[i + j] !== needle[j]) continue outer
    }
    return i
  }
  return -1
}

describe('RecordEnvelope', () => {
  let key: PrivateKey

  before(async () => {
    key = await generateKeyPair('Ed25519')
  })

  describe('round trips', () => {
    const types: KeyType[] = ['Ed25519', 'secp256k1', 'ECDSA', 'RSA']
    for (const type of types) {
      it(`seals, marshals and opens with a ${type} key`, async () => {
        const signer = await generateKeyPair(type)
        const record = new TestRecord(`payload for ${type}`)
        const sealed = RecordEnvelope.seal(record, signer)
        assert.ok(sealed.publicKey.equals(signer.publicKey))
        assert.deepEqual(sealed.payload, record.data)
        assert.deepEqual(sealed.payloadType, record.codec)

        const opened = RecordEnvelope.openAndCertify(sealed.marshal(), record.domain)
        assert.ok(opened.publicKey.equals(signer.publicKey))
        assert.deepEqual(opened.payload, record.data)
        assert.deepEqual(opened.payloadType, record.codec)
        assert.deepEqual(opened.signature, sealed.signature)
        assert.ok(opened.equals(sealed))
        assert.deepEqual(opened.marshal(), sealed.marshal())
      })
    }

    it('opens an envelope given as a list of chunks', () => {
      const bytes = RecordEnvelope.seal(new TestRecord('chunked'), key).marshal()
      const list = new Uint8ArrayList(bytes.subarray(0, 7), bytes.subarray(7, 50), bytes.subarray(50))
      const opened = RecordEnvelope.openAndCertify(list, 'peerkit-testing')
      assert.equal(new TextDecoder().decode(opened.payload), 'chunked')
    })

    it('seals an empty payload and an empty payload type', () => {
      const record: SealableRecord = { domain: 'd', codec: new Uint8Array(0), marshal: () => new Uint8Array(0) }
      const opened = RecordEnvelope.openAndCertify(RecordEnvelope.seal(record, key).marshal(), 'd')
      assert.equal(opened.payload.byteLength, 0)
      assert.equal(opened.payloadType.byteLength, 0)
    })

    it('marshals the four fields in field order', () => {
      const record = new TestRecord('abc')
      const sealed = RecordEnvelope.seal(record, key)
      const expected = Uint8Array.from([
        ...field(1, publicKeyToProtobuf(key.publicKey)),
        ...field(2, record.codec),
        ...field(3, record.data),
        ...field(5, sealed.signature)
      ])
      assert.deepEqual(sealed.marshal(), expected)
    })
  })

  describe('signed data', () => {
    it('is varint(len(domain)) domain varint(len(type)) type varint(len(payload)) payload', () => {
      const payload = new Uint8Array(200).fill(7)
      const data = signedData('libp2p-peer-record', Uint8Array.of(3, 1), payload).subarray()
      const domain = [...encoder.encode('libp2p-peer-record')]
      assert.deepEqual(data, Uint8Array.from([18, ...domain, 2, 3, 1, ...uvarint(200), ...payload]))
      assert.deepEqual(uvarint(200), [0xc8, 0x01])
    })

    it('refuses a domain longer than MAX_DOMAIN_LENGTH', () => {
      assert.throws(() => signedData('x'.repeat(MAX_DOMAIN_LENGTH + 1), new Uint8Array(0), new Uint8Array(0)), InvalidParametersError)
      assert.throws(() => RecordEnvelope.seal(new TestRecord('a', 'x'.repeat(MAX_DOMAIN_LENGTH + 1)), key), InvalidParametersError)
    })

    it('a signature made over the signed data by hand verifies', () => {
      const record = new TestRecord('by hand')
      const signature = key.sign(signedData(record.domain, record.codec, record.data).subarray())
      const envelope = new RecordEnvelope({ publicKey: key.publicKey, payloadType: record.codec, payload: record.data, signature })
      assert.equal(envelope.validate(record.domain), true)
    })
  })

  describe('verification', () => {
    it('refuses another domain', () => {
      const sealed = RecordEnvelope.seal(new TestRecord('data', 'domain-a'), key)
      assert.equal(sealed.validate('domain-a'), true)
      assert.equal(sealed.validate('domain-b'), false)
      assert.equal(sealed.validate(''), false)
      assert.throws(() => RecordEnvelope.openAndCertify(sealed.marshal(), 'domain-b'), InvalidSignatureError)
    })

    it('refuses a tampered payload', () => {
      const sealed = RecordEnvelope.seal(new TestRecord('the payload'), key)
      const bytes = sealed.marshal()
      const at = indexOf(bytes, sealed.payload)
      assert.ok(at > 0)
      assert.throws(() => RecordEnvelope.openAndCertify(flip(bytes, at + 3), 'peerkit-testing'), InvalidSignatureError)
    })

    it('refuses a tampered payload type', () => {
      const sealed = RecordEnvelope.seal(new TestRecord('the payload'), key)
      const bytes = sealed.marshal()
      const at = indexOf(bytes, sealed.payloadType)
      assert.throws(() => RecordEnvelope.openAndCertify(flip(bytes, at), 'peerkit-testing'), InvalidSignatureError)
    })

    it('refuses a tampered signature', () => {
      const sealed = RecordEnvelope.seal(new TestRecord('the payload'), key)
      const bytes = sealed.marshal()
      assert.throws(() => RecordEnvelope.openAndCertify(flip(bytes, bytes.byteLength - 1), 'peerkit-testing'), InvalidSignatureError)
      assert.throws(() => RecordEnvelope.openAndCertify(flip(bytes, bytes.byteLength - 64), 'peerkit-testing'), InvalidSignatureError)
    })

    it('refuses a signature by another key', async () => {
      const other = await generateKeyPair('Ed25519')
      const record = new TestRecord('the payload')
      const forged = new RecordEnvelope({
        publicKey: key.publicKey,
        payloadType: record.codec,
        payload: record.data,
        signature: RecordEnvelope.seal(record, other).signature
      })
      assert.throws(() => RecordEnvelope.openAndCertify(forged.marshal(), record.domain), InvalidSignatureError)
    })

    it('refuses a missing, truncated or malformed signature without throwing from validate', async () => {
      const record = new TestRecord('the payload')
      const secp = await generateKeyPair('secp256k1')
      const good = RecordEnvelope.seal(record, secp)
      for (const signature of [new Uint8Array(0), good.signature.subarray(0, 10), new Uint8Array(72).fill(0x30)]) {
        const envelope = new RecordEnvelope({ publicKey: secp.publicKey, payloadType: record.codec, payload: record.data, signature })
        assert.equal(envelope.validate(record.domain), false)
        assert.throws(() => RecordEnvelope.openAndCertify(envelope.marshal(), record.domain), InvalidSignatureError)
      }
    })
  })

  describe('bad input', () => {
    it('refuses bytes that are not a protobuf message', () => {
      for (const bytes of [Uint8Array.of(0xff), Uint8Array.of(0x0a, 0x40, 1, 2), Uint8Array.of(0x0f, 0x01), new Uint8Array(20).fill(0xff)]) {
        assert.throws(() => RecordEnvelope.createFromProtobuf(bytes), InvalidMessageError)
        assert.throws(() => RecordEnvelope.openAndCertify(bytes, 'd'), InvalidMessageError)
      }
    })

    it('refuses an envelope without a public key', () => {
      const bytes = Uint8Array.from([...field(2, [3, 1]), ...field(3, [1, 2, 3]), ...field(5, new Uint8Array(64))])
      assert.throws(() => RecordEnvelope.createFromProtobuf(bytes), (err: Error) => err instanceof InvalidMessageError && /no public key/.test(err.message))
      assert.throws(() => RecordEnvelope.createFromProtobuf(new Uint8Array(0)), InvalidMessageError)
    })

    it('refuses an envelope whose public key is invalid', () => {
      // Ed25519 type with a 31-byte key, and an unknown key type.
      for (const publicKey of [[0x08, 0x01, ...field(2, new Uint8Array(31))], [0x08, 0x09, ...field(2, new Uint8Array(32))], [0xff, 0xff]]) {
        const bytes = Uint8Array.from([...field(1, publicKey), ...field(2, [3, 1]), ...field(3, [1]), ...field(5, new Uint8Array(64))])
        assert.throws(() => RecordEnvelope.createFromProtobuf(bytes), InvalidMessageError)
      }
    })

    it('refuses envelopes over maxEnvelopeSize before parsing them', () => {
      const big = RecordEnvelope.seal({ domain: 'd', codec: Uint8Array.of(1), marshal: () => new Uint8Array(DEFAULT_MAX_ENVELOPE_SIZE) }, key).marshal()
      assert.throws(() => RecordEnvelope.openAndCertify(big, 'd'), (err: Error) => {
        return err instanceof LimitExceededError && err.limit === 'maxEnvelopeSize' && err.max === DEFAULT_MAX_ENVELOPE_SIZE && err.value === big.byteLength
      })
      assert.equal(RecordEnvelope.openAndCertify(big, 'd', { maxEnvelopeSize: big.byteLength }).payload.byteLength, DEFAULT_MAX_ENVELOPE_SIZE)
      const small = RecordEnvelope.seal(new TestRecord('x'), key).marshal()
      assert.throws(() => RecordEnvelope.createFromProtobuf(small, { maxEnvelopeSize: small.byteLength - 1 }), LimitExceededError)
    })

    it('every truncation and every flipped bit gives a typed error or the same envelope, never a crash', () => {
      const original = RecordEnvelope.seal(new TestRecord('fuzzed payload'), key)
      const bytes = original.marshal()
      let refused = 0
      for (let n = 0; n < bytes.byteLength; n++) {
        assert.throws(() => RecordEnvelope.openAndCertify(bytes.subarray(0, n), 'peerkit-testing'), (err: Error) => err instanceof InvalidMessageError || err instanceof InvalidSignatureError, `truncated to ${n}`)
      }
      for (let i = 0; i < bytes.byteLength; i++) {
        for (let bit = 0; bit < 8; bit++) {
          const input = Uint8Array.from(bytes)
          input[i] ^= 1 << bit
          try {
            // The decoder ignores a tag's wire type: such a flip yields the very same envelope.
            assert.ok(RecordEnvelope.openAndCertify(input, 'peerkit-testing').equals(original), `byte ${i} bit ${bit} accepted`)
          } catch (err) {
            assert.ok(err instanceof InvalidMessageError || err instanceof InvalidSignatureError, `byte ${i} bit ${bit}: unexpected ${(err as Error).name}: ${(err as Error).message}`)
            refused++
          }
        }
      }
      assert.ok(refused > bytes.byteLength * 7, `only ${refused} corruptions refused`)
    })
  })

  describe('equals', () => {
    it('compares key, type, payload and signature', async () => {
      const a = RecordEnvelope.seal(new TestRecord('one'), key)
      const b = RecordEnvelope.seal(new TestRecord('one'), key)
      const c = RecordEnvelope.seal(new TestRecord('two'), key)
      const d = RecordEnvelope.seal(new TestRecord('one'), await generateKeyPair('Ed25519'))
      assert.equal(a.equals(b), true, 'Ed25519 signatures are deterministic')
      assert.equal(a.equals(a), true)
      assert.equal(a.equals(c), false)
      assert.equal(a.equals(d), false)
      assert.equal(a.equals(null), false)
      assert.equal(a.equals(undefined), false)
    })
  })
})
