import { ChunkQueue } from '@peerkit/utils'
import { Uint8ArrayList } from 'uint8arraylist'
import type { SecureStream, Source } from '@peerkit/interfaces'

/**
 * A connection whose remote is the test: bytes pushed to `input` reach the encrypter, bytes the
 * encrypter writes are collected in `written`.
 */
export interface RawRemote {
  conn: SecureStream
  /** Bytes for the encrypter to read. `input.end()` is the remote closing its side. */
  input: ChunkQueue
  /** Everything the encrypter wrote, in order. */
  written: Uint8ArrayList
  /** Resolves once the encrypter wrote at least `bytes` bytes. */
  waitWritten(bytes: number): Promise<void>
  /** Makes the sink fail with `err` (the transport breaking). */
  breakSink(err: Error): void
}

export function rawRemote (): RawRemote {
  const input = new ChunkQueue()
  const written = new Uint8ArrayList()
  let waiters: Array<{ bytes: number, resolve(): void }> = []
  let failSink: ((err: Error) => void) | undefined
  const broken = new Promise<never>((_resolve, reject) => { failSink = reject })
  broken.catch(() => {})
  const remote: RawRemote = {
    input,
    written,
    conn: {
      source: input,
      sink: async (source: Source<Uint8Array | Uint8ArrayList>) => {
        const iterator = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]()
        while (true) {
          const result = await Promise.race([iterator.next(), broken])
          if (result.done === true) return
          written.append(result.value)
          const ready = waiters.filter(w => written.byteLength >= w.bytes)
          waiters = waiters.filter(w => written.byteLength < w.bytes)
          for (const w of ready) w.resolve()
        }
      }
    },
    async waitWritten (bytes: number): Promise<void> {
      if (written.byteLength >= bytes) return
      await new Promise<void>(resolve => { waiters.push({ bytes, resolve }) })
    },
    breakSink (err: Error): void {
      failSink?.(err)
    }
  }
  return remote
}

/** Unsigned varint. */
export function varint (value: number): number[] {
  const out: number[] = []
  while (value >= 0x80) {
    out.push((value & 0x7f) | 0x80)
    value = Math.floor(value / 0x80)
  }
  out.push(value)
  return out
}

/** A protobuf length-delimited field. */
export function field (tag: number, bytes: ArrayLike<number>): number[] {
  return [(tag << 3) | 2, ...varint(bytes.length), ...Array.from(bytes)]
}

/** A protobuf varint field. */
export function varintField (tag: number, value: number): number[] {
  return [tag << 3, ...varint(value)]
}

/** A length-prefixed frame, as the plaintext handshake sends messages. */
export function frame (body: ArrayLike<number>): Uint8Array {
  return Uint8Array.from([...varint(body.length), ...Array.from(body)])
}

/** DER length octets. */
function derLength (n: number): number[] {
  if (n < 0x80) return [n]
  const bytes: number[] = []
  while (n > 0) {
    bytes.unshift(n & 0xff)
    n >>>= 8
  }
  return [0x80 | bytes.length, ...bytes]
}

function der (tag: number, contents: number[]): number[] {
  return [tag, ...derLength(contents.length), ...contents]
}

/**
 * A DER SubjectPublicKeyInfo of an RSA public key with a `bits`-bit modulus. The modulus is arbitrary
 * (odd, top bit set): plaintext never uses the key for anything but identification, so it does not
 * need to be a real one.
 */
export function rsaSpki (bits: number): Uint8Array {
  const modulus = new Array<number>(bits / 8).fill(0x5a)
  modulus[0] = 0xc3
  modulus[modulus.length - 1] = 0x01
  const rsaPublicKey = der(0x30, [...der(0x02, [0x00, ...modulus]), ...der(0x02, [0x01, 0x00, 0x01])])
  const algorithm = der(0x30, [...der(0x06, [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01]), 0x05, 0x00])
  return Uint8Array.from(der(0x30, [...algorithm, ...der(0x03, [0x00, ...rsaPublicKey])]))
}
