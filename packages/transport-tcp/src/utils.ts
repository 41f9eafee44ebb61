import net from 'node:net'
import os from 'node:os'
import { CODE_DNS, CODE_DNS4, CODE_DNS6, CODE_IP4, CODE_IP6, CODE_IP6ZONE, CODE_P2P, CODE_TCP, multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'

/** A plain TCP multiaddr taken apart into what `node:net` needs. */
export interface TCPAddress {
  /** An IP literal (IPv6 scoped addresses carry their `%zone`), or a DNS name when `dns` is true. */
  host: string
  /** The TCP port (0 when the address asks for any free port). */
  port: number
  /** 4 or 6 for IP literals and `dns4`/`dns6`; 0 for `dns` (either family). */
  family: 0 | 4 | 6
  /** True when `host` is a DNS name that must be resolved. */
  dns: boolean
  /** The value of a trailing `/p2p/<id>` component, if present. */
  peerId?: string
}

/**
 * Takes a multiaddr of the form `[/ip6zone/<zone>]/(ip4|ip6|dns|dns4|dns6)/<host>/tcp/<port>[/p2p/<id>]`
 * apart. Returns `undefined` for anything else (other protocols, or anything encapsulated after
 * `tcp` such as `/ws` or `/tls`).
 */
export function parseTCPAddress (ma: Multiaddr): TCPAddress | undefined {
  let components
  try {
    components = ma.getComponents()
  } catch {
    return undefined
  }
  let i = 0
  let zone: string | undefined
  if (components[i]?.code === CODE_IP6ZONE) {
    zone = components[i].value
    i++
    if (components[i]?.code !== CODE_IP6 || zone == null || zone === '') return undefined
  }
  const hostPart = components[i++]
  if (hostPart?.value == null || hostPart.value === '') return undefined
  let family: 0 | 4 | 6
  let dns = false
  switch (hostPart.code) {
    case CODE_IP4: family = 4; break
    case CODE_IP6: family = 6; break
    case CODE_DNS4: family = 4; dns = true; break
    case CODE_DNS6: family = 6; dns = true; break
    case CODE_DNS: family = 0; dns = true; break
    default: return undefined
  }
  const tcp = components[i++]
  if (tcp?.code !== CODE_TCP || tcp.value == null) return undefined
  const port = Number(tcp.value)
  if (!Number.isInteger(port) || port < 0 || port > 65535) return undefined
  let peerId: string | undefined
  if (components[i]?.code === CODE_P2P) {
    peerId = components[i].value
    i++
  }
  if (i !== components.length) return undefined
  const host = zone != null ? `${hostPart.value}%${zone}` : hostPart.value
  return peerId != null ? { host, port, family, dns, peerId } : { host, port, family, dns }
}

/** True for the wildcard addresses `0.0.0.0` and `::` (in any spelling). */
export function isUnspecifiedHost (host: string): boolean {
  if (net.isIPv4(host)) return host === '0.0.0.0'
  // A valid IPv6 literal made only of zeros and colons is the all-zero address.
  return net.isIPv6(host) && /^[0:]+$/.test(host)
}

const IPV4_MAPPED = /^::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i

/** Multicodec codes of the protocols in TCP addresses. */
const IP4_CODE = 4
const TCP_CODE = 6
const IP6_CODE = 41

/**
 * Builds `/ip4/<ip>/tcp/<port>` or `/ip6/<ip>/tcp/<port>` (with `/ip6zone/<zone>` for scoped IPv6
 * addresses written `addr%zone`). IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) become `/ip4`.
 * Throws if `ip` is not an IP literal.
 */
export function ipPortToMultiaddr (ip: string, port: number, peerId?: string): Multiaddr {
  if (peerId == null) {
    // The common case (a connection's addresses), built from components rather than parsed from
    // text: half the memory per multiaddr (no per-component byte arrays until they are asked for).
    if (net.isIPv4(ip)) return multiaddr([{ code: IP4_CODE, name: 'ip4', value: ip }, { code: TCP_CODE, name: 'tcp', value: `${port}` }])
    if (net.isIPv6(ip) && !ip.includes('%') && IPV4_MAPPED.exec(ip) == null) {
      return multiaddr([{ code: IP6_CODE, name: 'ip6', value: ip }, { code: TCP_CODE, name: 'tcp', value: `${port}` }])
    }
  }
  const suffix = peerId != null ? `/p2p/${peerId}` : ''
  const mapped = IPV4_MAPPED.exec(ip)
  if (mapped != null) return multiaddr(`/ip4/${mapped[1]}/tcp/${port}${suffix}`)
  if (net.isIPv4(ip)) return multiaddr(`/ip4/${ip}/tcp/${port}${suffix}`)
  const pct = ip.indexOf('%')
  if (pct > 0) {
    const addr = ip.slice(0, pct)
    const zone = ip.slice(pct + 1)
    if (net.isIPv6(addr) && zone !== '' && !zone.includes('/')) return multiaddr(`/ip6zone/${zone}/ip6/${addr}/tcp/${port}${suffix}`)
  } else if (net.isIPv6(ip)) {
    return multiaddr(`/ip6/${ip}/tcp/${port}${suffix}`)
  }
  throw new TypeError(`Not an IP address: ${ip}`)
}

/**
 * The addresses of every local interface (internal ones included) of the given family, as IP
 * literals; IPv6 link-local addresses carry their `%<interface>` zone.
 */
export function localInterfaceAddresses (family: 4 | 6): string[] {
  const out: string[] = []
  const wanted = family === 4 ? 'IPv4' : 'IPv6'
  for (const [name, infos] of Object.entries(os.networkInterfaces())) {
    for (const info of infos ?? []) {
      // Node 18.0-18.3 reported family as a number.
      const fam = String(info.family) === '4' ? 'IPv4' : String(info.family) === '6' ? 'IPv6' : info.family
      if (fam !== wanted) continue
      if (fam === 'IPv6' && (info.scopeid ?? 0) !== 0) out.push(`${info.address}%${name}`)
      else out.push(info.address)
    }
  }
  return out
}
