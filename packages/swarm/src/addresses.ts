import type { Address } from '@peerkit/interfaces'
import type { Multiaddr } from '@multiformats/multiaddr'

const PROTOCOL_P2P = 421
const PROTOCOL_CIRCUIT = 290

/** The PeerId string in a multiaddr's last `/p2p/` component, if any. */
export function peerIdStringOf (ma: Multiaddr): string | undefined {
  const components = ma.getComponents()
  for (let i = components.length - 1; i >= 0; i--) {
    const c = components[i]
    if (c.code === PROTOCOL_CIRCUIT) return undefined
    if (c.code === PROTOCOL_P2P) return c.value
  }
  return undefined
}

const PROTOCOL_IP4 = 4
const PROTOCOL_IP6 = 41

/** True for loopback, private and link-local IP addresses; host names are taken as public. */
function isLoopbackOrPrivate (ma: Multiaddr): boolean {
  const first = ma.getComponents()[0]
  if (first?.code === PROTOCOL_IP4) return /^(127\.|10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|169\.254\.)/.test(first.value ?? '')
  if (first?.code === PROTOCOL_IP6) return /^(::1$|f[cd][0-9a-f]{2}:|fe[89ab][0-9a-f]:)/i.test(first.value ?? '')
  return false
}

function isRelayed (ma: Multiaddr): boolean {
  return ma.getComponents().some(c => c.code === PROTOCOL_CIRCUIT)
}

/**
 * Orders addresses for dialing: direct before relayed, certified (from a signed peer record) before
 * uncertified, public before private/loopback (they are more likely to be the peer's real
 * address), then by the order given. Duplicates are removed.
 */
export function rankAddresses (addresses: Address[]): Address[] {
  const seen = new Set<string>()
  const unique = addresses.filter(a => {
    const key = a.multiaddr.toString()
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
  const score = (a: Address): number => (isRelayed(a.multiaddr) ? 4 : 0) + (a.isCertified ? 0 : 2) + (isLoopbackOrPrivate(a.multiaddr) ? 1 : 0)
  return unique
    .map((a, i) => ({ a, i, s: score(a) }))
    .sort((x, y) => x.s - y.s || x.i - y.i)
    .map(x => x.a)
}
