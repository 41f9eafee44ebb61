import { isIP } from 'node:net'
import { isMultiaddr, multiaddr } from '@multiformats/multiaddr'
import { InvalidParametersError } from '@peerkit/interfaces'
import type { Multiaddr } from '@multiformats/multiaddr'

/** Where a control socket (or a client's stream handler socket) listens: a unix socket or TCP. */
export type ControlAddr =
  | { type: 'unix', path: string }
  | { type: 'tcp', host: string, port: number, family: 4 | 6 }

const UNIX_CODE = 400

/**
 * Parses a control address: `/unix/<path>`, `/ip4/<ip>/tcp/<port>` or `/ip6/<ip>/tcp/<port>`.
 *
 * Unix paths are accepted in both spellings in use: p2pd's `/unix/tmp/p2pd.sock` (the rest of the
 * address is the path) and the percent-encoded single component of current multiaddr libraries,
 * `/unix/%2Ftmp%2Fp2pd.sock`. Relative paths are kept relative.
 *
 * @throws InvalidParametersError for anything else (DNS names, UDP, trailing components...)
 */
export function parseControlAddr (addr: string | Multiaddr | Uint8Array): ControlAddr {
  if (typeof addr === 'string') {
    if (addr.startsWith('/unix/')) return unixAddr(addr.slice('/unix/'.length), addr)
    return parseControlAddr(toMultiaddr(addr))
  }
  const ma = isMultiaddr(addr) ? addr : toMultiaddr(addr)
  const components = ma.getComponents()
  if (components.length === 1 && components[0].code === UNIX_CODE) {
    const path = components[0].value ?? ''
    if (path === '') throw new InvalidParametersError(`Control address ${ma.toString()} has an empty unix path`)
    return { type: 'unix', path }
  }
  if (components.length === 2 && (components[0].name === 'ip4' || components[0].name === 'ip6') && components[1].name === 'tcp') {
    const host = components[0].value ?? ''
    const port = Number(components[1].value)
    const family = components[0].name === 'ip4' ? 4 : 6
    if (isIP(host) !== family) throw new InvalidParametersError(`Control address ${ma.toString()} has an invalid IP address`)
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidParametersError(`Control address ${ma.toString()} has an invalid port`)
    return { type: 'tcp', host, port, family }
  }
  throw new InvalidParametersError(`Unsupported control address ${ma.toString()}: use /unix/<path>, /ip4/<ip>/tcp/<port> or /ip6/<ip>/tcp/<port>`)
}

function unixAddr (rest: string, original: string): ControlAddr {
  let path: string
  if (rest.includes('%')) {
    try {
      path = decodeURIComponent(rest)
    } catch (err) {
      throw new InvalidParametersError(`Invalid percent-encoding in control address ${original}`, { cause: err })
    }
  } else {
    path = '/' + rest
  }
  if (rest === '' || path === '/') throw new InvalidParametersError(`Control address ${original} has an empty unix path`)
  if (path.includes('\0')) throw new InvalidParametersError(`Control address ${original} contains a NUL byte`)
  return { type: 'unix', path }
}

function toMultiaddr (addr: string | Uint8Array): Multiaddr {
  try {
    return multiaddr(addr)
  } catch (err) {
    const shown = typeof addr === 'string' ? addr : `(${addr.byteLength} bytes)`
    throw new InvalidParametersError(`Invalid multiaddr ${shown}: ${(err as Error).message}`, { cause: err })
  }
}

/** The multiaddr of a control address (unix paths in the percent-encoded form). */
export function controlAddrToMultiaddr (addr: ControlAddr): Multiaddr {
  if (addr.type === 'unix') return multiaddr(`/unix/${encodeURIComponent(addr.path)}`)
  return multiaddr(`/ip${addr.family}/${addr.host}/tcp/${addr.port}`)
}

/** Options for `net.connect` / `server.listen` for the address. */
export function netOptions (addr: ControlAddr): { path: string } | { host: string, port: number } {
  return addr.type === 'unix' ? { path: addr.path } : { host: addr.host, port: addr.port }
}
