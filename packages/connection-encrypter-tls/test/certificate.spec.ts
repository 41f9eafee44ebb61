import assert from 'node:assert/strict'
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto'
import { generateCertificate as jsGenerateCertificate, verifyPeerCertificate as jsVerifyPeerCertificate } from '@libp2p/tls/utils'
import { generateKeyPair, publicKeyToProtobuf } from '@peerkit/crypto'
import { HandshakeError } from '@peerkit/interfaces'
import { peerIdFromPrivateKey, peerIdFromString } from '@peerkit/peer-id'
import {
  InvalidCertificateError, LIBP2P_EXTENSION_OID, MAX_CERTIFICATE_BYTES, generateCertificate, verifyPeerCertificate
} from '../src/index.js'
import { decodeSignedKey, encodeSignedKey } from '../src/signed-key.js'
import { x509 } from '../src/x509.js'
import { buildAuthority, buildCertificate, flipLastByte } from './fixtures/certificates.js'
import { INVALID_VECTOR, VALID_VECTORS } from './fixtures/vectors.js'
import type { CertificateProblem } from '../src/index.js'
import type { KeyType, PrivateKey } from '@peerkit/interfaces'

const KEY_TYPES: KeyType[] = ['Ed25519', 'secp256k1', 'RSA', 'ECDSA']

function hex (s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'hex'))
}

/** Asserts that verifying `der` fails with InvalidCertificateError for `reason`. */
async function rejects (der: Uint8Array, reason: CertificateProblem, options?: Parameters<typeof verifyPeerCertificate>[1]): Promise<InvalidCertificateError> {
  let caught: unknown
  try {
    await verifyPeerCertificate(der, options)
  } catch (err) {
    caught = err
  }
  assert.ok(caught instanceof InvalidCertificateError, `expected InvalidCertificateError(${reason}), got ${String(caught)}`)
  assert.equal(caught.reason, reason, `reason (${caught.message})`)
  assert.equal(caught.name, 'InvalidCertificateError')
  assert.ok(caught instanceof HandshakeError)
  assert.equal(caught.code, 'ERR_HANDSHAKE')
  assert.equal(caught.protocol, '/tls/1.0.0')
  return caught
}

describe('certificates', function () {
  this.timeout(20_000)
  const keys = new Map<KeyType, PrivateKey>()

  before(async () => {
    for (const type of KEY_TYPES) keys.set(type, await generateKeyPair(type))
  })

  const key = (type: KeyType): PrivateKey => keys.get(type)!

  describe('specification test vectors', () => {
    for (const vector of VALID_VECTORS) {
      it(`accepts the certificate authenticating the ${vector.name}`, async () => {
        const peerId = await verifyPeerCertificate(hex(vector.certificate))
        assert.equal(peerId.toString(), vector.peerId)
        assert.ok(peerId.publicKey != null, 'the PeerId carries the public key')
        assert.ok(peerId.equals(peerIdFromString(vector.peerId!)))
      })
    }

    it('rejects the invalid certificate: the extension signature does not match the key', async () => {
      const err = await rejects(hex(INVALID_VECTOR.certificate), 'invalid-extension-signature')
      assert.match(err.message, /identity signature/)
    })

    it('reads a certificate given as a view into a larger buffer', async () => {
      const der = hex(VALID_VECTORS[2].certificate)
      const big = new Uint8Array(der.byteLength + 100).fill(0xee)
      big.set(der, 37)
      const peerId = await verifyPeerCertificate(big.subarray(37, 37 + der.byteLength))
      assert.equal(peerId.toString(), VALID_VECTORS[2].peerId)
    })

    it('checks validity against the given time (the vectors are valid 1975-4096)', async () => {
      await rejects(hex(VALID_VECTORS[0].certificate), 'not-yet-valid', { now: new Date('1970-01-01T00:00:00Z') })
      const peerId = await verifyPeerCertificate(hex(VALID_VECTORS[0].certificate), { now: new Date('4000-01-01T00:00:00Z') })
      assert.equal(peerId.toString(), VALID_VECTORS[0].peerId)
    })
  })

  describe('our certificates', () => {
    for (const type of KEY_TYPES) {
      it(`verify under our verifier, proving the ${type} identity`, async () => {
        const generated = await generateCertificate(key(type))
        const peerId = await verifyPeerCertificate(generated.certificate)
        assert.equal(peerId.toString(), peerIdFromPrivateKey(key(type)).toString())
        assert.ok(peerId.publicKey?.equals(key(type).publicKey))
        assert.match(generated.certificatePem, /^-----BEGIN CERTIFICATE-----/)
        assert.match(generated.privateKeyPem, /^-----BEGIN PRIVATE KEY-----/)
        // The private key is the certificate's: its public half is the certificate's key.
        const privateKey = createPrivateKey(generated.privateKeyPem)
        const certKey = new X509Certificate(generated.certificatePem).publicKey
        assert.deepEqual(createPublicKey(privateKey).export({ format: 'der', type: 'spki' }), certKey.export({ format: 'der', type: 'spki' }))
      })
    }

    // js-libp2p's ECDSA key encoding differs from the specification's (see the README), so its
    // verifier cannot read an ECDSA identity: only the other three types are compared.
    for (const type of ['Ed25519', 'secp256k1', 'RSA'] as KeyType[]) {
      it(`are accepted by js-libp2p's verifier, which derives the same PeerId (${type})`, async () => {
        const generated = await generateCertificate(key(type))
        const theirs = await jsVerifyPeerCertificate(generated.certificate)
        assert.equal(theirs.toString(), peerIdFromPrivateKey(key(type)).toString())
      })
    }

    // js-libp2p's generator only needs `type`, `sign` and `publicKey.raw`, which our Ed25519 and
    // secp256k1 keys encode the same way.
    for (const type of ['Ed25519', 'secp256k1'] as KeyType[]) {
      it(`certificates made by js-libp2p's generator verify under ours (${type})`, async () => {
        const { cert } = await jsGenerateCertificate(key(type) as unknown as Parameters<typeof jsGenerateCertificate>[0])
        const der = new Uint8Array(Buffer.from(cert.replace(/-----[A-Z ]+-----/g, '').replace(/\s/g, ''), 'base64'))
        const peerId = await verifyPeerCertificate(der)
        assert.equal(peerId.toString(), peerIdFromPrivateKey(key(type)).toString())
      })
    }

    it('have the shape the specification asks for', async () => {
      const generated = await generateCertificate(key('Ed25519'))
      const cert = new x509.X509Certificate(generated.certificate)
      // ECDSA P-256 key, signed with ECDSA/SHA-256, self-signed, one critical libp2p extension.
      assert.deepEqual(cert.publicKey.algorithm, { name: 'ECDSA', namedCurve: 'P-256' })
      assert.deepEqual(cert.signatureAlgorithm, { name: 'ECDSA', hash: { name: 'SHA-256' } })
      assert.equal(cert.issuer, cert.subject)
      assert.notEqual(cert.subject, '')
      assert.equal(cert.extensions.length, 1)
      assert.equal(cert.extensions[0].type, LIBP2P_EXTENSION_OID)
      assert.equal(cert.extensions[0].critical, true)
      const signedKey = decodeSignedKey(new Uint8Array(cert.extensions[0].value))
      assert.deepEqual(signedKey.publicKey, publicKeyToProtobuf(key('Ed25519').publicKey))
      // Valid from an hour ago (clock skew) for about a hundred years.
      const now = Date.now()
      assert.ok(cert.notBefore.getTime() <= now - 3500_000 && cert.notBefore.getTime() >= now - 3700_000)
      assert.ok(cert.notAfter.getTime() > now + 99 * 365 * 86400_000)
      assert.ok(BigInt(`0x${cert.serialNumber}`) > 0n)
    })

    it('use a fresh certificate key each time', async () => {
      const [a, b] = await Promise.all([generateCertificate(key('Ed25519')), generateCertificate(key('Ed25519'))])
      assert.notEqual(Buffer.from(a.certificate).toString('hex'), Buffer.from(b.certificate).toString('hex'))
      assert.notEqual(a.privateKeyPem, b.privateKeyPem)
    })

    it('honour a given validity window, and refuse an empty one', async () => {
      const notBefore = new Date('2020-01-01T00:00:00Z')
      const notAfter = new Date('2021-01-01T00:00:00Z')
      const generated = await generateCertificate(key('Ed25519'), { notBefore, notAfter })
      await rejects(generated.certificate, 'expired')
      const peerId = await verifyPeerCertificate(generated.certificate, { now: new Date('2020-06-01T00:00:00Z') })
      assert.equal(peerId.toString(), peerIdFromPrivateKey(key('Ed25519')).toString())
      await assert.rejects(generateCertificate(key('Ed25519'), { notBefore: notAfter, notAfter: notBefore }), { name: 'InvalidParametersError' })
    })

    it('verify with the expected peer, and fail with UnexpectedPeerError naming both otherwise', async () => {
      const generated = await generateCertificate(key('secp256k1'))
      const expected = peerIdFromPrivateKey(key('secp256k1'))
      assert.ok((await verifyPeerCertificate(generated.certificate, { expectedPeer: expected })).equals(expected))
      const other = peerIdFromPrivateKey(key('Ed25519'))
      await assert.rejects(verifyPeerCertificate(generated.certificate, { expectedPeer: other }), {
        name: 'UnexpectedPeerError',
        expected: other.toString(),
        actual: expected.toString()
      })
    })
  })

  describe('SignedKey', () => {
    it('round-trips, and refuses trailing bytes, extra fields and other structures', () => {
      const value = { publicKey: new Uint8Array([1, 2, 3]), signature: new Uint8Array(70).fill(7) }
      const der = encodeSignedKey(value)
      assert.deepEqual(decodeSignedKey(der), value)
      assert.throws(() => decodeSignedKey(new Uint8Array([...der, 0])))
      // SEQUENCE { OCTET STRING, OCTET STRING, OCTET STRING }
      const three = new Uint8Array([0x30, 0x09, 0x04, 0x01, 0x01, 0x04, 0x01, 0x02, 0x04, 0x01, 0x03])
      assert.throws(() => decodeSignedKey(three))
      assert.throws(() => decodeSignedKey(new Uint8Array([0x04, 0x01, 0x01])))
      assert.throws(() => decodeSignedKey(new Uint8Array(0)))
    })
  })

  describe('rejects, naming the problem', () => {
    it('a certificate without the libp2p extension', async () => {
      const cert = await buildCertificate({ identity: key('Ed25519'), extension: 'missing' })
      await rejects(cert.der, 'missing-extension')
    })

    it('a certificate whose extension is signed by another key', async () => {
      const cert = await buildCertificate({ identity: key('Ed25519'), extensionSigner: key('secp256k1') })
      await rejects(cert.der, 'invalid-extension-signature')
    })

    it('an expired certificate, and one not yet valid', async () => {
      const expired = await buildCertificate({
        identity: key('Ed25519'), notBefore: new Date('2000-01-01T00:00:00Z'), notAfter: new Date('2001-01-01T00:00:00Z')
      })
      const err = await rejects(expired.der, 'expired')
      assert.match(err.message, /2001-01-01/)
      const future = await buildCertificate({
        identity: key('Ed25519'), notBefore: new Date(Date.now() + 86400_000), notAfter: new Date(Date.now() + 2 * 86400_000)
      })
      await rejects(future.der, 'not-yet-valid')
    })

    it('a certificate issued by another certificate (one of a chain)', async () => {
      const authority = await buildAuthority()
      const leaf = await buildCertificate({ identity: key('Ed25519'), issuer: authority })
      await rejects(leaf.der, 'not-self-signed')
    })

    it('a certificate naming another issuer than its subject', async () => {
      const cert = await buildCertificate({ identity: key('Ed25519'), otherIssuer: true })
      await rejects(cert.der, 'not-self-signed')
    })

    it('a certificate whose self-signature does not verify', async () => {
      const cert = await buildCertificate({ identity: key('Ed25519') })
      await rejects(flipLastByte(cert.der), 'invalid-self-signature')
    })

    it('a certificate signed with SHA-1', async () => {
      const cert = await buildCertificate({ identity: key('Ed25519'), algorithm: { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-1' } })
      await rejects(cert.der, 'unsupported-signature-algorithm')
    })

    it('an unknown critical extension, but not an unknown non-critical one', async () => {
      const critical = await buildCertificate({ identity: key('Ed25519'), extra: [new x509.Extension('1.2.3.4.5', true, new Uint8Array([5, 0]))] })
      const err = await rejects(critical.der, 'unknown-critical-extension')
      assert.match(err.message, /1\.2\.3\.4\.5/)
      const nonCritical = await buildCertificate({ identity: key('Ed25519'), extra: [new x509.Extension('1.2.3.4.5', false, new Uint8Array([5, 0]))] })
      assert.equal((await verifyPeerCertificate(nonCritical.der)).toString(), peerIdFromPrivateKey(key('Ed25519')).toString())
    })

    it('a critical key usage without digital signature, but not critical basic constraints and a fitting key usage', async () => {
      const noSigning = await buildCertificate({ identity: key('Ed25519'), extra: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyEncipherment, true)] })
      await rejects(noSigning.der, 'unknown-critical-extension')
      const fine = await buildCertificate({
        identity: key('Ed25519'),
        extra: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true), new x509.BasicConstraintsExtension(false, undefined, true)]
      })
      assert.equal((await verifyPeerCertificate(fine.der)).toString(), peerIdFromPrivateKey(key('Ed25519')).toString())
    })

    it('the libp2p extension twice', async () => {
      const cert = await buildCertificate({ identity: key('Ed25519'), extension: 'twice' })
      await rejects(cert.der, 'duplicate-extension')
    })

    it('an extension that is not a SignedKey, or whose key does not decode', async () => {
      await rejects((await buildCertificate({ identity: key('Ed25519'), extension: 'not-a-sequence' })).der, 'malformed-extension')
      const err = await rejects((await buildCertificate({ identity: key('Ed25519'), extension: 'bad-key' })).der, 'malformed-extension')
      assert.ok(err.cause instanceof Error, 'the decoding error is the cause')
    })

    it('garbage, truncated certificates, trailing bytes and oversized input', async () => {
      const good = await buildCertificate({ identity: key('Ed25519') })
      await rejects(new Uint8Array(0), 'malformed')
      await rejects(new TextEncoder().encode('certainly not a certificate'), 'malformed')
      await rejects(good.der.subarray(0, good.der.byteLength - 10), 'malformed')
      await rejects(new Uint8Array([...good.der, 0, 0]), 'malformed')
      // A valid outer header whose content is not a certificate.
      await rejects(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]), 'malformed')
      await rejects(new Uint8Array(MAX_CERTIFICATE_BYTES + 1).fill(0x30), 'malformed')
      for (let i = 0; i < 200; i++) {
        const mutated = Uint8Array.from(good.der)
        mutated[(i * 7919) % mutated.length] ^= 0xff
        await assert.rejects(verifyPeerCertificate(mutated), (err: Error) => err instanceof InvalidCertificateError,
          `mutation at ${(i * 7919) % mutated.length} was accepted or failed untyped`)
      }
    })

    it('anything that is not bytes, with InvalidParametersError', async () => {
      await assert.rejects(verifyPeerCertificate('3082' as unknown as Uint8Array), { name: 'InvalidParametersError' })
    })
  })

  describe('accepts other well-formed self-signed certificates', () => {
    it('with a non-critical libp2p extension (as go-libp2p makes them)', async () => {
      const cert = await buildCertificate({ identity: key('RSA'), extension: 'non-critical' })
      assert.equal((await verifyPeerCertificate(cert.der)).toString(), peerIdFromPrivateKey(key('RSA')).toString())
    })

    it('with a P-384 key signed with SHA-384, and with an Ed25519 certificate key', async () => {
      const p384 = await buildCertificate({ identity: key('ECDSA'), algorithm: { name: 'ECDSA', namedCurve: 'P-384', hash: 'SHA-384' } })
      assert.equal((await verifyPeerCertificate(p384.der)).toString(), peerIdFromPrivateKey(key('ECDSA')).toString())
      const ed = await buildCertificate({ identity: key('ECDSA'), algorithm: { name: 'Ed25519' } })
      assert.equal((await verifyPeerCertificate(ed.der)).toString(), peerIdFromPrivateKey(key('ECDSA')).toString())
    })
  })
})
