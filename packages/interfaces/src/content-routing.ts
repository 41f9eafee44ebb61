import type { AbortOptions } from './abort.js'
import type { PeerInfo } from './peer-info.js'
import type { CID } from 'multiformats/cid'

export const contentRoutingSymbol = Symbol.for('@peerkit/content-routing')

/** Announces and finds providers of content. */
export interface ContentRouting {
  /** Announces that this node provides `cid`. */
  provide(cid: CID, options?: AbortOptions): Promise<void>
  /** Yields peers that announced they provide `cid`. */
  findProviders(cid: CID, options?: AbortOptions): AsyncIterable<PeerInfo>
}

export interface ContentRoutingProvider {
  readonly [contentRoutingSymbol]: ContentRouting
}
