/**
 * @packageDocumentation
 *
 * A bounded, in-memory `PeerStore`. Every collection has a cap with a safe default; past the peer
 * cap the least recently updated peer is evicted (peers marked as protected by `isProtected`, e.g.
 * connected ones, are evicted last).
 */
import { InvalidParametersError, NotFoundError } from '@peerkit/interfaces'
import { TypedEventEmitter, logger } from '@peerkit/utils'
import type { AbortOptions, Address, Logger, Peer, PeerData, PeerId, PeerStore } from '@peerkit/interfaces'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface PeerStoreInit {
  /** Most peers kept. Default 10 000. */
  maxPeers?: number
  /** Most addresses kept per peer; extra ones are dropped (certified and newest first). Default 64. */
  maxAddressesPerPeer?: number
  /** Most protocols kept per peer. Default 512. */
  maxProtocolsPerPeer?: number
  /** Most metadata entries per peer. Default 64. */
  maxMetadataEntries?: number
  /** Largest metadata value, in bytes. Default 4096. */
  maxMetadataValueSize?: number
  /** Default address time-to-live when `PeerData.ttl` is not given, in ms. Default: no expiry. */
  defaultAddressTTL?: number
  /** Peers for which this returns true are evicted only when no other peer can be. */
  isProtected?(peerId: PeerId): boolean
  /** Addresses for which this returns false are not stored (e.g. the connection gater's filter). */
  filterAddress?(peerId: PeerId, multiaddr: Multiaddr): boolean
  log?: Logger
}

export interface PeerStoreEvents {
  /** A peer was added or changed. */
  'peer:update': { peer: Peer, previous?: Peer }
  /** A peer was removed (deleted or evicted). */
  'peer:remove': Peer
}

interface Entry {
  peer: Peer
  updated: number
}

/** The in-memory peer store. */
export class MemoryPeerStore extends TypedEventEmitter<PeerStoreEvents & Record<string, unknown>> implements PeerStore {
  readonly #peers = new Map<string, Entry>()
  readonly #init: Required<Omit<PeerStoreInit, 'isProtected' | 'filterAddress' | 'defaultAddressTTL' | 'log'>> & PeerStoreInit
  readonly #log: Logger

  constructor (init: PeerStoreInit = {}) {
    super()
    this.#init = {
      maxPeers: 10_000,
      maxAddressesPerPeer: 64,
      maxProtocolsPerPeer: 512,
      maxMetadataEntries: 64,
      maxMetadataValueSize: 4096,
      ...init
    }
    this.#log = init.log ?? logger('peerkit:peer-store')
  }

  /** Number of peers stored. */
  get size (): number {
    return this.#peers.size
  }

  async get (peerId: PeerId, _options?: AbortOptions): Promise<Peer> {
    const entry = this.#peers.get(peerId.toString())
    if (entry == null) throw new NotFoundError(`Peer ${peerId.toString()} is not in the peer store`)
    return this.#view(entry.peer)
  }

  async has (peerId: PeerId, _options?: AbortOptions): Promise<boolean> {
    return this.#peers.has(peerId.toString())
  }

  async all (_options?: AbortOptions): Promise<Peer[]> {
    return [...this.#peers.values()].map(e => this.#view(e.peer))
  }

  async merge (peerId: PeerId, data: PeerData, _options?: AbortOptions): Promise<Peer> {
    return this.#update(peerId, data, 'merge')
  }

  async patch (peerId: PeerId, data: PeerData, _options?: AbortOptions): Promise<Peer> {
    return this.#update(peerId, data, 'patch')
  }

  async delete (peerId: PeerId, _options?: AbortOptions): Promise<void> {
    const key = peerId.toString()
    const entry = this.#peers.get(key)
    if (entry == null) return
    this.#peers.delete(key)
    this.safeDispatchEvent('peer:remove', { detail: entry.peer })
  }

  /** Drops every peer. */
  clear (): void {
    this.#peers.clear()
  }

  /** A copy without expired addresses, so callers cannot mutate the store. */
  #view (peer: Peer): Peer {
    const now = Date.now()
    return {
      id: peer.id,
      addresses: peer.addresses.filter(a => a.expires == null || a.expires > now).map(a => ({ ...a })),
      protocols: [...peer.protocols],
      publicKey: peer.publicKey,
      metadata: new Map(peer.metadata),
      peerRecordEnvelope: peer.peerRecordEnvelope
    }
  }

  #update (peerId: PeerId, data: PeerData, mode: 'merge' | 'patch'): Peer {
    const key = peerId.toString()
    const existing = this.#peers.get(key)
    const previous = existing != null ? this.#view(existing.peer) : undefined
    const peer: Peer = existing?.peer ?? { id: peerId, addresses: [], protocols: [], metadata: new Map() }
    if (existing == null && peerId.publicKey != null) peer.publicKey = peerId.publicKey

    if (data.publicKey != null) {
      // A PeerId that embeds its key, or was derived from one, fixes it; refuse a different one.
      if (peerId.publicKey != null && !peerId.publicKey.equals(data.publicKey)) {
        throw new InvalidParametersError(`Public key does not match peer ${key}`)
      }
      // An equal key already stored stays: one object per peer, not one per update.
      if (peer.publicKey == null || !peer.publicKey.equals(data.publicKey)) peer.publicKey = data.publicKey
    }
    const now = Date.now()
    const ttl = data.ttl ?? this.#init.defaultAddressTTL
    const incoming: Address[] = [
      ...(data.addresses ?? []),
      ...(data.multiaddrs ?? []).map((multiaddr): Address => ({ multiaddr, isCertified: false }))
    ].map(a => ({ ...a, expires: a.expires ?? (ttl != null ? now + ttl : undefined) }))
      .filter(a => this.#init.filterAddress?.(peerId, a.multiaddr) ?? true)

    if (data.addresses != null || data.multiaddrs != null) {
      const base = mode === 'merge' ? peer.addresses.filter(a => a.expires == null || a.expires > now) : []
      peer.addresses = this.#boundAddresses(mergeAddresses(base, incoming))
    }
    if (data.protocols != null) {
      const set = mode === 'merge' ? new Set([...peer.protocols, ...data.protocols]) : new Set(data.protocols)
      peer.protocols = [...set].slice(0, this.#init.maxProtocolsPerPeer).sort()
    }
    if (data.metadata != null) {
      const entries = data.metadata instanceof Map ? [...data.metadata.entries()] : Object.entries(data.metadata)
      const map = mode === 'merge' ? new Map(peer.metadata) : new Map<string, Uint8Array>()
      for (const [k, v] of entries) {
        if (v.byteLength > this.#init.maxMetadataValueSize) {
          this.#log('dropping metadata %s of %s: %d bytes > %d', k, key, v.byteLength, this.#init.maxMetadataValueSize)
          continue
        }
        if (!map.has(k) && map.size >= this.#init.maxMetadataEntries) {
          this.#log('dropping metadata %s of %s: maxMetadataEntries reached', k, key)
          continue
        }
        map.set(k, v)
      }
      peer.metadata = map
    }
    if (data.peerRecordEnvelope != null) peer.peerRecordEnvelope = data.peerRecordEnvelope

    this.#peers.delete(key)
    this.#peers.set(key, { peer, updated: now })
    if (existing == null) this.#evict()
    const view = this.#view(peer)
    this.safeDispatchEvent('peer:update', { detail: { peer: view, previous } })
    return view
  }

  #boundAddresses (addresses: Address[]): Address[] {
    if (addresses.length <= this.#init.maxAddressesPerPeer) return addresses
    // Keep certified addresses first, then the most recently added.
    const certified = addresses.filter(a => a.isCertified)
    const other = addresses.filter(a => !a.isCertified).reverse()
    return [...certified, ...other].slice(0, this.#init.maxAddressesPerPeer)
  }

  #evict (): void {
    while (this.#peers.size > this.#init.maxPeers) {
      // Map iteration order is insertion order, and updates re-insert: the first is the stalest.
      let victim: string | undefined
      for (const [key, entry] of this.#peers) {
        if (this.#init.isProtected?.(entry.peer.id) !== true) {
          victim = key
          break
        }
      }
      victim ??= this.#peers.keys().next().value
      if (victim == null) return
      const entry = this.#peers.get(victim)
      this.#peers.delete(victim)
      this.#log('evicted peer %s (maxPeers %d)', victim, this.#init.maxPeers)
      if (entry != null) this.safeDispatchEvent('peer:remove', { detail: entry.peer })
    }
  }
}

function mergeAddresses (base: Address[], incoming: Address[]): Address[] {
  const out = new Map<string, Address>()
  for (const a of [...base, ...incoming]) {
    const key = a.multiaddr.toString()
    const prev = out.get(key)
    if (prev == null) {
      out.set(key, a)
      continue
    }
    out.set(key, {
      multiaddr: a.multiaddr,
      isCertified: prev.isCertified || a.isCertified,
      expires: prev.expires == null || a.expires == null ? undefined : Math.max(prev.expires, a.expires)
    })
  }
  return [...out.values()]
}

/** Creates an in-memory peer store. */
export function memoryPeerStore (init?: PeerStoreInit): MemoryPeerStore {
  return new MemoryPeerStore(init)
}
