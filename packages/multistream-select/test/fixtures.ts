import { getEventListeners } from 'node:events'
import { AbstractStream, ChunkQueue, logger } from '@peerkit/utils'
import { Uint8ArrayList } from 'uint8arraylist'
import type { AbortOptions, Source } from '@peerkit/interfaces'
import type { ByteDuplex } from '@peerkit/utils'

type Chunk = Uint8Array | Uint8ArrayList

const encoder = new TextEncoder()

/** Builds bytes from numbers (single bytes) and strings (UTF-8), e.g. `bytes(0x03, 'na\n')`. */
export function bytes (...parts: Array<number | string | Uint8Array>): Uint8Array {
  const out: number[] = []
  for (const p of parts) {
    if (typeof p === 'number') out.push(p)
    else if (typeof p === 'string') out.push(...encoder.encode(p))
    else out.push(...p)
  }
  return Uint8Array.from(out)
}

/** `0x13 "/multistream/1.0.0\n"`, written out by hand from the specification. */
export const HEADER = bytes(0x13, '/multistream/1.0.0\n')
/** `0x036e610a`, the specification's example of "na". */
export const NA = Uint8Array.from([0x03, 0x6e, 0x61, 0x0a])
/** `0x036c730a`, the specification's example of "ls". */
export const LS = Uint8Array.from([0x03, 0x6c, 0x73, 0x0a])

/** A message for a short (< 127 bytes) text: one length byte, the text, a newline. */
export function msg (text: string): Uint8Array {
  const body = encoder.encode(`${text}\n`)
  if (body.byteLength > 127) throw new Error('msg() builds one-byte length prefixes only')
  return bytes(body.byteLength, body)
}

export function toBytes (chunk: Chunk): Uint8Array {
  return chunk instanceof Uint8Array ? chunk : chunk.subarray()
}

/**
 * A duplex whose source is fed by the test (`input`) and whose sink records each chunk it is
 * given as one write, untouched (identity preserved) in `chunks` and as bytes in `writes`.
 */
export class RecordingDuplex implements ByteDuplex {
  readonly input = new ChunkQueue()
  source: AsyncIterable<Chunk> = this.input
  readonly chunks: Chunk[] = []
  sinkCalls = 0
  sinkEnded = false
  readonly sinkDone: Promise<void>
  #resolveDone!: () => void
  #waiters: Array<() => void> = []

  constructor () {
    this.sinkDone = new Promise(resolve => { this.#resolveDone = resolve })
  }

  get writes (): Uint8Array[] {
    return this.chunks.map(toBytes)
  }

  sink = async (source: Source<Chunk>): Promise<void> => {
    this.sinkCalls++
    for await (const chunk of source) {
      this.chunks.push(chunk)
      for (const fn of this.#waiters.splice(0)) fn()
    }
    this.sinkEnded = true
    this.#resolveDone()
    for (const fn of this.#waiters.splice(0)) fn()
  }

  /** Resolves once at least `n` writes were recorded (or the sink ended). */
  async waitForWrites (n: number): Promise<void> {
    while (this.chunks.length < n && !this.sinkEnded) {
      await new Promise<void>(resolve => { this.#waiters.push(resolve) })
    }
  }
}

/** Like RecordingDuplex, but its source is an async generator (no `unshift`), as raw sockets are. */
export class GeneratorSourceDuplex extends RecordingDuplex {
  constructor () {
    super()
    const input = this.input
    this.source = (async function * () { yield * input })()
  }
}

/**
 * Two AbstractStreams wired back to back in memory with credit-based flow control (a fixed
 * window, as yamux), each chunk delivered to the peer as one chunk.
 */
export class PairStream extends AbstractStream {
  peer!: PairStream
  credit: number
  creditWaiters: Array<() => void> = []
  readonly sent: Uint8Array[] = []

  constructor (id: string, direction: 'inbound' | 'outbound', window: number) {
    super({ id, direction, log: logger(`test:mss:pair:${direction}`), closeTimeout: 1000 })
    this.credit = window
  }

  protected async sendData (data: Uint8ArrayList, options: AbortOptions): Promise<void> {
    this.sent.push(data.subarray())
    let rest = data
    while (rest.byteLength > 0) {
      while (this.credit === 0) {
        await new Promise<void>((resolve, reject) => {
          this.creditWaiters.push(resolve)
          options.signal?.addEventListener('abort', () => { reject(options.signal?.reason) }, { once: true })
        })
      }
      const n = Math.min(this.credit, rest.byteLength)
      this.credit -= n
      const part = rest.sublist(0, n)
      rest = rest.sublist(n)
      const peer = this.peer
      queueMicrotask(() => { peer.pushData(part) })
    }
  }

  protected sendCloseWrite (): void {
    const peer = this.peer
    queueMicrotask(() => { peer.remoteCloseWrite() })
  }

  protected sendReset (): void {
    const peer = this.peer
    queueMicrotask(() => { peer.remoteReset() })
  }

  protected override onDataConsumed (bytes: number): void {
    const peer = this.peer
    peer.credit += bytes
    for (const fn of peer.creditWaiters.splice(0)) fn()
  }
}

export function streamPair (window = 64 * 1024): [PairStream, PairStream] {
  const a = new PairStream('1', 'outbound', window)
  const b = new PairStream('1', 'inbound', window)
  a.peer = b
  b.peer = a
  return [a, b]
}

/**
 * Two plain duplexes (raw-connection-like: async generator sources, no unshift) wired back to
 * back; each chunk a sink takes arrives at the other side as one chunk.
 */
export function rawPair (): [ByteDuplex & { written: Uint8Array[] }, ByteDuplex & { written: Uint8Array[] }] {
  const make = (inbox: ChunkQueue, outbox: ChunkQueue): ByteDuplex & { written: Uint8Array[] } => {
    const written: Uint8Array[] = []
    return {
      written,
      source: (async function * () { yield * inbox })(),
      sink: async (source: Source<Chunk>) => {
        try {
          for await (const chunk of source) {
            written.push(toBytes(chunk))
            outbox.push(chunk)
          }
        } finally {
          outbox.end()
        }
      }
    }
  }
  const aToB = new ChunkQueue()
  const bToA = new ChunkQueue()
  return [make(bToA, aToB), make(aToB, bToA)]
}

export async function collect (source: AsyncIterable<Chunk>): Promise<Uint8Array> {
  const all = new Uint8ArrayList()
  for await (const chunk of source) all.append(chunk)
  return all.subarray()
}

/** Number of abort listeners still registered on `signal`. */
export function abortListeners (signal: AbortSignal): number {
  return getEventListeners(signal, 'abort').length
}

/** Counts of active handles/requests by type (timers show as `Timeout`). */
export function activeTimers (): number {
  return process.getActiveResourcesInfo().filter(r => r === 'Timeout').length
}

/** Lets queued microtasks and one macrotask turn run. */
export async function settle (): Promise<void> {
  await new Promise<void>(resolve => setImmediate(resolve))
}

/** Fails the current test if an unhandled rejection happens during it. */
export function trackUnhandledRejections (): void {
  let seen: unknown[] = []
  const onRejection = (reason: unknown): void => { seen.push(reason) }
  beforeEach(() => {
    seen = []
    process.on('unhandledRejection', onRejection)
  })
  afterEach(async () => {
    await settle()
    process.off('unhandledRejection', onRejection)
    if (seen.length > 0) throw new Error(`Unhandled rejection(s): ${seen.map(String).join('; ')}`)
  })
}
