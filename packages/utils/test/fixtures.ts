import { Uint8ArrayList } from 'uint8arraylist'
import { AbstractStream } from '../src/abstract-stream.js'
import { logger } from '../src/logger.js'
import type { AbortOptions } from '@peerkit/interfaces'

/**
 * Two AbstractStreams wired back to back in memory with credit-based flow control (like yamux with
 * a fixed window), so the base class can be exercised without a muxer.
 */
export class PairStream extends AbstractStream {
  peer!: PairStream
  credit: number
  readonly window: number
  creditWaiters: Array<() => void> = []
  sent = 0
  resets: Error[] = []
  endErrors: Array<Error | undefined> = []

  constructor (id: string, direction: 'inbound' | 'outbound', window: number) {
    super({
      id,
      direction,
      log: logger(`test:pair:${id}`),
      closeTimeout: 500,
      onEnd: (err) => { this.endErrors.push(err) }
    })
    this.window = window
    this.credit = window
  }

  protected async sendData (data: Uint8ArrayList, options: AbortOptions): Promise<void> {
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
      this.sent += n
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

  protected sendReset (err: Error): void {
    this.resets.push(err)
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

export async function collect (source: AsyncIterable<Uint8Array | Uint8ArrayList>): Promise<Uint8Array> {
  const all = new Uint8ArrayList()
  for await (const chunk of source) all.append(chunk)
  return all.subarray()
}

export const delay = async (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))
