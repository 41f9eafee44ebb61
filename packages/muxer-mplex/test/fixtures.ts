import assert from 'node:assert/strict'
import { ChunkQueue } from '@peerkit/utils'
import { Uint8ArrayList } from 'uint8arraylist'
import { mplex } from '../src/index.js'
import type { MplexInit, MplexMuxer, MplexStream } from '../src/index.js'
import type { Stream, StreamMuxerInit } from '@peerkit/interfaces'

/** A muxer under test with everything it reported. */
export interface Side {
  muxer: MplexMuxer
  incoming: MplexStream[]
  ended: Stream[]
  /** Resolves when the muxer's sink has returned. */
  sinkDone?: Promise<void>
}

export interface SideOptions extends MplexInit {
  direction?: 'inbound' | 'outbound'
  /** Called for each inbound stream after it is recorded; omit for no handler at all. */
  onIncoming?: ((stream: MplexStream) => void) | null
}

export function createSide (options: SideOptions = {}): Side {
  const { direction = 'outbound', onIncoming, ...init } = options
  const side: Side = { muxer: undefined as unknown as MplexMuxer, incoming: [], ended: [] }
  const muxerInit: StreamMuxerInit = {
    direction,
    onStreamEnd: stream => { side.ended.push(stream) }
  }
  if (onIncoming !== null) {
    muxerInit.onIncomingStream = stream => {
      side.incoming.push(stream as MplexStream)
      onIncoming?.(stream as MplexStream)
    }
  }
  side.muxer = mplex(init).createStreamMuxer(muxerInit)
  return side
}

/** Two muxers wired to each other in memory. */
export function muxerPair (a: SideOptions = {}, b: SideOptions = {}): [Side, Side] {
  const left = createSide({ direction: 'outbound', ...a })
  const right = createSide({ direction: 'inbound', ...b })
  left.sinkDone = left.muxer.sink(right.muxer.source)
  right.sinkDone = right.muxer.sink(left.muxer.source)
  return [left, right]
}

/** A muxer fed by hand-written bytes, whose output is read by hand. */
export interface Wire extends Side {
  /** Queues raw bytes for the muxer's sink. */
  input: ChunkQueue
  sinkDone: Promise<void>
}

export function wire (options: SideOptions = {}): Wire {
  const side = createSide(options)
  const input = new ChunkQueue()
  const sinkDone = side.muxer.sink(input)
  return Object.assign(side, { input, sinkDone })
}

/** Waits until queued microtasks and I/O callbacks have run. */
export async function tick (): Promise<void> {
  await new Promise<void>(resolve => { setImmediate(resolve) })
}

/** Everything the muxer has queued for the connection so far. */
export async function output (muxer: MplexMuxer): Promise<Uint8Array> {
  await tick()
  const queue = muxer.source as unknown as ChunkQueue
  if (queue.byteLength === 0) return new Uint8Array(0)
  const result = await queue.next()
  return result.done === true ? new Uint8Array(0) : result.value.subarray()
}

/** Bytes queued on the muxer's output, without taking them. */
export function queued (muxer: MplexMuxer): number {
  return (muxer.source as unknown as ChunkQueue).byteLength
}

export async function collect (source: AsyncIterable<Uint8Array | Uint8ArrayList>): Promise<Uint8Array> {
  const all = new Uint8ArrayList()
  for await (const chunk of source) all.append(chunk)
  return all.subarray()
}

export function bytes (...values: Array<number | string | Uint8Array>): Uint8Array {
  const list = new Uint8ArrayList()
  for (const v of values) {
    if (typeof v === 'number') list.append(Uint8Array.of(v))
    else if (typeof v === 'string') list.append(new TextEncoder().encode(v))
    else list.append(v)
  }
  return list.subarray()
}

/** Unsigned varint of a non-negative integer (number or bigint), for hand-built frames. */
export function uvarint (value: number | bigint): Uint8Array {
  let v = BigInt(value)
  const out: number[] = []
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80)
    v >>= 7n
  }
  out.push(Number(v))
  return Uint8Array.from(out)
}

/** A frame built from the spec: uvarint((id << 3) | flag), uvarint(length), data. */
export function frame (id: number | bigint, flag: number, data: Uint8Array | string = new Uint8Array(0)): Uint8Array {
  const body = typeof data === 'string' ? new TextEncoder().encode(data) : data
  return bytes(uvarint((BigInt(id) << 3n) | BigInt(flag)), uvarint(body.byteLength), body)
}

export const delay = async (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

/** Active timers right now (used to check that nothing is left behind). */
export function activeTimers (): number {
  return process.getActiveResourcesInfo().filter(r => r === 'Timeout').length
}

/** Records unhandled rejections while a suite runs. */
export function trackUnhandledRejections (): { errors: unknown[], stop(): void } {
  const errors: unknown[] = []
  const onRejection = (err: unknown): void => { errors.push(err) }
  process.on('unhandledRejection', onRejection)
  return { errors, stop: () => { process.off('unhandledRejection', onRejection) } }
}

/**
 * Registers hooks failing a test that leaves an unhandled rejection or a timer behind.
 */
export function checkLeaks (): void {
  let rejections: ReturnType<typeof trackUnhandledRejections>
  let timersBefore = 0

  beforeEach(async () => {
    rejections = trackUnhandledRejections()
    await tick() // mocha arms the hook's own timer once the hook has returned its promise
    timersBefore = activeTimers()
  })

  afterEach(async () => {
    await tick()
    rejections.stop()
    assert.deepEqual(rejections.errors, [], 'no unhandled rejection')
    assert.ok(activeTimers() <= timersBefore, `no timer left behind: ${process.getActiveResourcesInfo().join()}`)
  })
}
