import assert from 'node:assert/strict'
import type { Uint8ArrayList } from 'uint8arraylist'
import { generateX25519KeyPair } from '../src/crypto.js'
import { XXHandshakeState } from '../src/handshake-state.js'
import { FrameDecoder, encryptChunk } from '../src/transport.js'
import { BACKENDS } from './fixtures/backends.js'
import { fromHex, toHex } from './fixtures/hex.js'
import { XX_VECTORS } from './fixtures/vectors.js'

function pair (prologue = new Uint8Array(0)): [XXHandshakeState, XXHandshakeState] {
  return [
    new XXHandshakeState({ initiator: true, staticKeyPair: generateX25519KeyPair(), prologue }),
    new XXHandshakeState({ initiator: false, staticKeyPair: generateX25519KeyPair(), prologue })
  ]
}

function frameBody (frame: Uint8Array | Uint8ArrayList): Uint8Array {
  const bytes = frame instanceof Uint8Array ? frame : frame.subarray()
  assert.equal((bytes[0] << 8) | bytes[1], bytes.byteLength - 2, 'length prefix')
  return bytes.subarray(2)
}

describe('XX handshake state', () => {
  // Every vector with each backend on each side: the bytes must not depend on the backend.
  for (const vector of XX_VECTORS) for (const ib of BACKENDS) for (const rb of BACKENDS) {
    it(`reproduces the ${vector.source} Noise_XX_25519_ChaChaPoly_SHA256 vector byte for byte (initiator on ${ib.name}, responder on ${rb.name})`, () => {
      const prologue = fromHex(vector.prologue)
      const initiator = new XXHandshakeState({
        initiator: true,
        prologue,
        staticKeyPair: ib.keyPairFromPrivateKey(fromHex(vector.initStatic)),
        ephemeralKeyPair: ib.keyPairFromPrivateKey(fromHex(vector.initEphemeral)),
        crypto: ib
      })
      const responder = new XXHandshakeState({
        initiator: false,
        prologue,
        staticKeyPair: rb.keyPairFromPrivateKey(fromHex(vector.respStatic)),
        ephemeralKeyPair: rb.keyPairFromPrivateKey(fromHex(vector.respEphemeral)),
        crypto: rb
      })

      // Handshake: messages 0 and 2 from the initiator, 1 from the responder.
      for (let i = 0; i < 3; i++) {
        const [sender, receiver] = i % 2 === 0 ? [initiator, responder] : [responder, initiator]
        const { payload, ciphertext } = vector.messages[i]
        const message = sender.writeMessage(fromHex(payload))
        assert.equal(toHex(message), ciphertext, `handshake message ${i + 1}`)
        assert.equal(toHex(receiver.readMessage(message)), payload, `handshake payload ${i + 1}`)
      }
      assert.ok(initiator.complete && responder.complete)
      assert.deepEqual(initiator.remoteStaticKey, responder.localStaticKey)
      assert.deepEqual(responder.remoteStaticKey, initiator.localStaticKey)

      const i = initiator.split()
      const r = responder.split()
      if (vector.handshakeHash != null) {
        assert.equal(toHex(i.handshakeHash), vector.handshakeHash)
      }
      assert.deepEqual(i.handshakeHash, r.handshakeHash)

      // Transport messages keep alternating, starting with the responder; they go through our
      // framing and must equal the vector's ciphertext after the 2-byte length prefix.
      const decoders = { initiator: new FrameDecoder(r.receive), responder: new FrameDecoder(i.receive) }
      for (let index = 3; index < vector.messages.length; index++) {
        const { payload, ciphertext } = vector.messages[index]
        const fromInitiator = index % 2 === 0
        const frame = encryptChunk(fromInitiator ? i.send : r.send, fromHex(payload))
        assert.ok(frame != null)
        assert.equal(toHex(frameBody(frame)), ciphertext, `transport message ${index + 1}`)
        const decoded = (fromInitiator ? decoders.initiator : decoders.responder).decode(frame)
        assert.ok(decoded != null)
        assert.equal(toHex(decoded instanceof Uint8Array ? decoded : decoded.subarray()), payload)
      }
    })
  }

  it('completes between two fresh states and splits into matching cipher states', () => {
    const [initiator, responder] = pair(new TextEncoder().encode('prologue'))
    responder.readMessage(initiator.writeMessage(new Uint8Array(0)))
    assert.equal(toHex(initiator.readMessage(responder.writeMessage(Uint8Array.of(2)))), '02')
    assert.equal(toHex(responder.readMessage(initiator.writeMessage(Uint8Array.of(3)))), '03')
    const i = initiator.split()
    const r = responder.split()
    const ad = new Uint8Array(0)
    assert.equal(toHex(r.receive.decryptWithAd(ad, i.send.encryptWithAd(ad, Uint8Array.of(4)))), '04')
    assert.equal(toHex(i.receive.decryptWithAd(ad, r.send.encryptWithAd(ad, Uint8Array.of(5)))), '05')
  })

  it('fails authentication when the prologues differ', () => {
    const initiator = new XXHandshakeState({ initiator: true, staticKeyPair: generateX25519KeyPair(), prologue: Uint8Array.of(1) })
    const responder = new XXHandshakeState({ initiator: false, staticKeyPair: generateX25519KeyPair(), prologue: Uint8Array.of(2) })
    responder.readMessage(initiator.writeMessage(new Uint8Array(0)))
    assert.throws(() => initiator.readMessage(responder.writeMessage(new Uint8Array(0))), { name: 'DecryptionError' })
  })

  it('enforces the turn order', () => {
    const [initiator, responder] = pair()
    assert.throws(() => responder.writeMessage(new Uint8Array(0)), { name: 'StreamStateError' })
    assert.throws(() => initiator.readMessage(new Uint8Array(32)), { name: 'StreamStateError' })
    assert.throws(() => initiator.split(), { name: 'StreamStateError' })
  })

  it('rejects messages too short for their tokens', () => {
    const [, responder] = pair()
    assert.throws(() => responder.readMessage(new Uint8Array(31)), { name: 'InvalidMessageError' })

    // Message 2 is e (32) + encrypted s (48) + payload tag (16): 96 bytes at least.
    for (const length of [0, 31, 32, 79, 80, 95]) {
      const [i, r] = pair()
      r.readMessage(i.writeMessage(new Uint8Array(0)))
      const message2 = r.writeMessage(new Uint8Array(0))
      assert.equal(message2.byteLength, 96)
      assert.throws(() => i.readMessage(message2.subarray(0, length)), { name: 'InvalidMessageError' }, `length ${length}`)
    }

    // Message 3 is encrypted s (48) + payload tag (16): 64 bytes at least.
    for (const length of [0, 47, 48, 63]) {
      const [i, r] = pair()
      r.readMessage(i.writeMessage(new Uint8Array(0)))
      i.readMessage(r.writeMessage(new Uint8Array(0)))
      const message3 = i.writeMessage(new Uint8Array(0))
      assert.equal(message3.byteLength, 64)
      assert.throws(() => r.readMessage(message3.subarray(0, length)), { name: 'InvalidMessageError' }, `length ${length}`)
    }
  })

  it('throws DecryptionError for a tampered message 2 or 3', () => {
    const [initiator, responder] = pair()
    responder.readMessage(initiator.writeMessage(new Uint8Array(0)))
    const message2 = Uint8Array.from(responder.writeMessage(Uint8Array.of(1, 2, 3)))
    message2[40] ^= 0x80
    assert.throws(() => initiator.readMessage(message2), { name: 'DecryptionError' })

    const [i2, r2] = pair()
    r2.readMessage(i2.writeMessage(new Uint8Array(0)))
    i2.readMessage(r2.writeMessage(new Uint8Array(0)))
    const message3 = Uint8Array.from(i2.writeMessage(Uint8Array.of(1)))
    message3[message3.byteLength - 1] ^= 0x01
    assert.throws(() => r2.readMessage(message3), { name: 'DecryptionError' })
  })

  it('refuses to write a message over 65535 bytes', () => {
    const [initiator, responder] = pair()
    responder.readMessage(initiator.writeMessage(new Uint8Array(0)))
    // 96 bytes of keys and tags + 65440 bytes of payload = 65536.
    assert.throws(() => responder.writeMessage(new Uint8Array(65440)), { name: 'LimitExceededError' })
  })
})
