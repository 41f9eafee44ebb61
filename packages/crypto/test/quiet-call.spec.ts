/**
 * `withoutStackCapture`: node's key checks run with V8's stack capture off, and nothing else does.
 */
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { syncBuiltinESMExports } from 'node:module'
import { generateKeyPair, publicKeyFromRaw, withoutStackCapture } from '../src/index.js'

/** Sets `Error.stackTraceLimit` to `value` for the test body, then back. */
async function withLimit (value: number, body: () => void | Promise<void>): Promise<void> {
  const saved = Error.stackTraceLimit
  Error.stackTraceLimit = value
  try {
    await body()
  } finally {
    Error.stackTraceLimit = saved
  }
}

/** Replaces `crypto[name]` (and its ESM named export) with a wrapper that records the stack trace limit of each call. */
async function recordLimits (name: 'createPublicKey', body: () => void | Promise<void>): Promise<number[]> {
  const original = crypto[name]
  const seen: number[] = []
  crypto[name] = ((...args: Parameters<typeof original>) => {
    seen.push(Error.stackTraceLimit)
    return original(...args)
  }) as typeof original
  syncBuiltinESMExports()
  try {
    await body()
  } finally {
    crypto[name] = original
    syncBuiltinESMExports()
  }
  return seen
}

describe('withoutStackCapture', () => {
  it('turns stack capture off for the call only', async () => {
    await withLimit(17, () => {
      const stack = withoutStackCapture(() => {
        assert.equal(Error.stackTraceLimit, 0)
        return new Error('inside').stack ?? ''
      })
      assert.doesNotMatch(stack, /\n\s+at /)
      assert.equal(Error.stackTraceLimit, 17)
      assert.match(new Error('outside').stack ?? '', /\n\s+at /)
    })
  })

  it('sets the limit back when the call throws, and passes the error on', async () => {
    await withLimit(12, () => {
      const thrown = new RangeError('from the call')
      assert.throws(() => withoutStackCapture(() => { throw thrown }), (err: unknown) => err === thrown)
      assert.equal(Error.stackTraceLimit, 12)
    })
  })

  it('sets the limit back in order when calls nest', async () => {
    await withLimit(9, () => {
      const limits = withoutStackCapture(() => [Error.stackTraceLimit, withoutStackCapture(() => Error.stackTraceLimit), Error.stackTraceLimit])
      assert.deepEqual(limits, [0, 0, 0])
      assert.equal(Error.stackTraceLimit, 9)
    })
  })

  it('runs the call as it is when Error.stackTraceLimit cannot be written', () => {
    const descriptor = Object.getOwnPropertyDescriptor(Error, 'stackTraceLimit')
    assert.ok(descriptor != null)
    Object.defineProperty(Error, 'stackTraceLimit', { ...descriptor, value: 10, writable: false })
    try {
      assert.equal(withoutStackCapture(() => 'ran'), 'ran')
      assert.equal(Error.stackTraceLimit, 10)
    } finally {
      Object.defineProperty(Error, 'stackTraceLimit', descriptor)
    }
  })

  it('is used for the public key imports of every key type', async () => {
    const keys = await Promise.all((['Ed25519', 'secp256k1', 'ECDSA', 'RSA'] as const).map(async type => await generateKeyPair(type)))
    const data = new TextEncoder().encode('signed')
    await withLimit(10, async () => {
      for (const key of keys) {
        const sig = key.sign(data)
        const seen = await recordLimits('createPublicKey', () => {
          // A fresh key object each, so that the import happens under the recorder.
          assert.equal(publicKeyFromRaw(key.publicKey.raw).verify(data, sig), true, key.type)
        })
        assert.ok(seen.length > 0, `${key.type}: no import seen`)
        assert.deepEqual(seen.filter(limit => limit !== 0), [], `${key.type}: imported with stack capture on`)
      }
    })
  })
})
