import { readFile, stat } from 'node:fs/promises'
import { multiaddr } from '@multiformats/multiaddr'
import { MAX_KEY_PROTOBUF_LENGTH, privateKeyFromProtobuf } from '@peerkit/crypto'
import { InvalidParametersError } from '@peerkit/interfaces'
import { logger } from '@peerkit/utils'
import { parseControlAddr } from './control-addr.js'
import { UnsupportedConfigurationError } from './errors.js'
import { HelpRequested, flagUsage, parseFlags } from './flags.js'
import { createDaemonNode } from './node.js'
import { DaemonServer } from './server.js'
import type { FlagDefinition } from './flags.js'
import type { DaemonMuxer, DaemonSecurity } from './node.js'
import type { PrivateKey } from '@peerkit/interfaces'
import type { Multiaddr } from '@multiformats/multiaddr'

/** Exit code for a valid p2pd configuration that peerkit does not support (`EX_CONFIG`). */
export const EXIT_UNSUPPORTED = 78
/** Exit code for an invalid command line (as Go's `flag` package). */
export const EXIT_USAGE = 2
/** Exit code for a failure at run time (unreadable key, control address in use...). */
export const EXIT_FAILURE = 1

/**
 * p2pd's flags, with the same names, kinds and defaults, except: `-relay` defaults to false (no
 * circuit relay here) and `-plaintext` to false (an unauthenticated channel is offered only when
 * asked for).
 */
export const DAEMON_FLAGS: FlagDefinition[] = [
  { name: 'listen', kind: 'string', default: '/unix/tmp/p2pd.sock', usage: 'daemon control listen multiaddr' },
  { name: 'q', kind: 'bool', default: false, usage: 'be quiet (print nothing on stdout)' },
  { name: 'id', kind: 'string', default: '', usage: 'peer identity; private key file (libp2p PrivateKey protobuf)' },
  { name: 'hostAddrs', kind: 'string', default: '', usage: 'comma separated list of multiaddrs the host should listen on (default /ip4/0.0.0.0/tcp/0)' },
  { name: 'announceAddrs', kind: 'string', default: '', usage: 'comma separated list of multiaddrs the host should announce to the network' },
  { name: 'noListenAddrs', kind: 'bool', default: false, usage: 'sets the host to listen on no addresses' },
  { name: 'noise', kind: 'bool', default: true, usage: 'enables Noise channel security protocol' },
  { name: 'tls', kind: 'bool', default: true, usage: 'enables TLS 1.3 channel security protocol' },
  { name: 'plaintext', kind: 'bool', default: false, usage: 'enables Plaintext channel security protocol (unauthenticated, unencrypted: tests only)' },
  { name: 'muxer', kind: 'string', default: 'yamux', usage: 'muxer to use for connections: yamux or mplex' },
  { name: 'echo', kind: 'bool', default: true, usage: 'enables the /echo/1.0.0 protocol' },
  { name: 'b', kind: 'bool', default: false, usage: 'connects to bootstrap peers and bootstraps the dht (NOT SUPPORTED)' },
  { name: 'bootstrapPeers', kind: 'string', default: '', usage: 'comma separated list of bootstrap peers (used only with -b)' },
  { name: 'dht', kind: 'bool', default: false, usage: 'enables the DHT in full node mode (NOT SUPPORTED)' },
  { name: 'dhtClient', kind: 'bool', default: false, usage: 'enables the DHT in client mode (NOT SUPPORTED)' },
  { name: 'dhtServer', kind: 'bool', default: false, usage: 'enables the DHT in server mode (NOT SUPPORTED)' },
  { name: 'connManager', kind: 'bool', default: false, usage: 'enables the connection manager (NOT SUPPORTED)' },
  { name: 'connLo', kind: 'int', default: 256, usage: 'connection manager low water mark (used only with -connManager)' },
  { name: 'connHi', kind: 'int', default: 512, usage: 'connection manager high water mark (used only with -connManager)' },
  { name: 'connGrace', kind: 'duration', default: 120_000, usage: 'connection manager grace period (used only with -connManager)' },
  { name: 'natPortMap', kind: 'bool', default: false, usage: 'enables NAT port mapping (NOT SUPPORTED)' },
  { name: 'pubsub', kind: 'bool', default: false, usage: 'enables pubsub (NOT SUPPORTED)' },
  { name: 'pubsubRouter', kind: 'string', default: 'gossipsub', usage: 'pubsub router implementation (used only with -pubsub)' },
  { name: 'pubsubSign', kind: 'bool', default: true, usage: 'enables pubsub message signing (used only with -pubsub)' },
  { name: 'pubsubSignStrict', kind: 'bool', default: true, usage: 'strict pubsub signature verification (used only with -pubsub)' },
  { name: 'gossipsubHeartbeatInterval', kind: 'duration', default: 0, usage: 'gossipsub heartbeat interval (used only with -pubsub)' },
  { name: 'gossipsubHeartbeatInitialDelay', kind: 'duration', default: 0, usage: 'gossipsub initial heartbeat delay (used only with -pubsub)' },
  { name: 'relay', kind: 'bool', default: false, usage: 'enables circuit relay (NOT SUPPORTED)' },
  { name: 'relayActive', kind: 'bool', default: false, usage: 'enables active mode for relay (NOT SUPPORTED)' },
  { name: 'relayHop', kind: 'bool', default: false, usage: 'enables hop for relay (NOT SUPPORTED)' },
  { name: 'relayHopLimit', kind: 'int', default: 0, usage: 'hop limit for hop relays (used only with -relay)' },
  { name: 'relayDiscovery', kind: 'bool', default: false, usage: 'enables passive discovery for relay (NOT SUPPORTED)' },
  { name: 'autoRelay', kind: 'bool', default: false, usage: 'enables autorelay (NOT SUPPORTED)' },
  { name: 'autonat', kind: 'bool', default: false, usage: 'enables the AutoNAT service (NOT SUPPORTED)' },
  { name: 'forceReachabilityPublic', kind: 'bool', default: false, usage: 'forces AutoNAT reachability to public (NOT SUPPORTED)' },
  { name: 'forceReachabilityPrivate', kind: 'bool', default: false, usage: 'forces AutoNAT reachability to private (NOT SUPPORTED)' },
  { name: 'metricsAddr', kind: 'string', default: '', usage: 'an address to bind the metrics handler to (NOT SUPPORTED)' },
  { name: 'f', kind: 'string', default: '', usage: 'a file from which to read a JSON daemon config (NOT SUPPORTED)' },
  { name: 'i', kind: 'bool', default: false, usage: 'read the JSON daemon config from stdin (NOT SUPPORTED)' },
  { name: 'pprof', kind: 'bool', default: false, usage: 'enables the HTTP pprof handler (NOT SUPPORTED)' },
  { name: 'pprofPort', kind: 'int', default: 0, usage: 'pprof handler port (used only with -pprof)' }
]

/** Flags that name a feature peerkit does not have: setting them to true exits with 78. */
const UNSUPPORTED_BOOLS: Record<string, string> = {
  b: 'bootstrapping needs a DHT, and peerkit has no Kademlia DHT yet',
  dht: 'peerkit has no Kademlia DHT yet',
  dhtClient: 'peerkit has no Kademlia DHT yet',
  dhtServer: 'peerkit has no Kademlia DHT yet',
  connManager: 'peerkit has no connection manager (the swarm enforces hard connection limits instead)',
  natPortMap: 'peerkit has no NAT port mapping',
  pubsub: 'peerkit has no pubsub (gossipsub/floodsub) yet',
  relay: 'peerkit has no circuit relay yet',
  relayActive: 'peerkit has no circuit relay yet',
  relayHop: 'peerkit has no circuit relay yet',
  relayDiscovery: 'peerkit has no circuit relay yet',
  autoRelay: 'peerkit has no circuit relay yet',
  autonat: 'peerkit has no AutoNAT yet',
  forceReachabilityPublic: 'peerkit has no AutoNAT yet',
  forceReachabilityPrivate: 'peerkit has no AutoNAT yet',
  i: 'JSON daemon configs are not supported; use flags',
  pprof: 'there is no pprof handler in a Node.js process'
}

/** The daemon configuration a command line describes. */
export interface DaemonCommandConfig {
  /** The control address as given. */
  listen: string
  /** `-q`: print nothing on stdout. */
  quiet: boolean
  /** Path of the key file, if any. */
  keyFile?: string
  /** Listen addresses; empty with `-noListenAddrs`. */
  hostAddrs: Multiaddr[]
  /** Addresses to announce instead of the listen addresses (`-announceAddrs`). */
  announceAddrs: Multiaddr[]
  /** Each security flag: its value when set on the command line, else undefined. */
  security: Record<DaemonSecurity, boolean | undefined>
  /** The stream muxer (`-muxer`). */
  muxer: DaemonMuxer
  /** Serve `/echo/1.0.0` (`-echo`). */
  echo: boolean
}

function addrList (flag: string, value: string): Multiaddr[] {
  if (value === '') return []
  return value.split(',').map(s => {
    try {
      return multiaddr(s.trim())
    } catch (err) {
      throw new InvalidParametersError(`invalid multiaddr "${s}" in -${flag}: ${(err as Error).message}`, { cause: err })
    }
  })
}

/**
 * Turns a p2pd command line into a configuration.
 *
 * @throws InvalidParametersError for a malformed command line (exit 2)
 * @throws UnsupportedConfigurationError for a p2pd feature peerkit does not have (exit 78)
 * @throws HelpRequested for `-h`
 */
export function parseDaemonArgs (args: string[]): DaemonCommandConfig {
  const { values, set, rest } = parseFlags(args, DAEMON_FLAGS)
  if (rest.length > 0) throw new InvalidParametersError(`unexpected argument "${rest[0]}" (flags only)`)
  const str = (name: string): string => String(values.get(name))
  const bool = (name: string): boolean => values.get(name) === true
  for (const [flag, why] of Object.entries(UNSUPPORTED_BOOLS)) {
    if (bool(flag)) throw new UnsupportedConfigurationError(`-${flag}`, `-${flag} is not supported: ${why}`)
  }
  if (str('f') !== '') throw new UnsupportedConfigurationError('-f', '-f is not supported: JSON daemon configs are not supported; use flags')
  if (str('metricsAddr') !== '') throw new UnsupportedConfigurationError('-metricsAddr', '-metricsAddr is not supported: peerkit has no metrics endpoint')
  // Checked like the other values even though only -b would use them.
  addrList('bootstrapPeers', str('bootstrapPeers'))
  parseControlAddr(str('listen'))
  const muxer = str('muxer')
  if (muxer !== 'yamux' && muxer !== 'mplex') {
    throw new UnsupportedConfigurationError('-muxer', `-muxer ${muxer} is not supported: use yamux or mplex`)
  }
  const security: Record<DaemonSecurity, boolean | undefined> = {
    noise: set.has('noise') ? bool('noise') : undefined,
    tls: set.has('tls') ? bool('tls') : undefined,
    plaintext: set.has('plaintext') ? bool('plaintext') : undefined
  }
  if (securityList(security).length === 0) {
    throw new InvalidParametersError('at least one channel security protocol must be enabled')
  }
  const noListen = bool('noListenAddrs')
  const hostAddrs = noListen ? [] : addrList('hostAddrs', str('hostAddrs'))
  return {
    listen: str('listen'),
    quiet: bool('q'),
    keyFile: str('id') === '' ? undefined : str('id'),
    hostAddrs: noListen || hostAddrs.length > 0 ? hostAddrs : [multiaddr('/ip4/0.0.0.0/tcp/0')],
    announceAddrs: addrList('announceAddrs', str('announceAddrs')),
    security,
    muxer,
    echo: bool('echo')
  }
}

/**
 * The encrypters to offer, in p2pd's order (noise, tls, plaintext): those set on the command line
 * with their value, the others with their default (noise and tls on, plaintext off).
 */
export function securityList (flags: Record<DaemonSecurity, boolean | undefined>): DaemonSecurity[] {
  const out: DaemonSecurity[] = []
  if (flags.noise ?? true) out.push('noise')
  if (flags.tls ?? true) out.push('tls')
  if (flags.plaintext ?? false) out.push('plaintext')
  return out
}

/** Where the daemon command writes: `stdout` gets p2pd's lines, `stderr` diagnostics. */
export interface DaemonOutput {
  /** One line of p2pd's output (no trailing newline). */
  stdout(line: string): void
  /** One line of diagnostics. */
  stderr(line: string): void
}

/** Usage text of `peerkit daemon`. */
export const DAEMON_USAGE = `usage: peerkit daemon [flags]

A libp2p daemon speaking the p2pd control protocol, with p2pd's flags. Prints
"Control socket: <multiaddr>", "Peer ID: <id>" and "Peer Addrs:" (one address per line) once ready;
runs until SIGINT/SIGTERM. Exit codes: 0 stopped, 1 failure, 2 bad command line, 78 a p2pd feature
peerkit does not support (DHT, pubsub, relay, non-TCP transports...).

flags:
${flagUsage(DAEMON_FLAGS)}`

/** Reads a libp2p PrivateKey protobuf file (any key type; Ed25519 also in its legacy 96-byte form). */
export async function readKeyFile (path: string): Promise<PrivateKey> {
  const info = await stat(path)
  if (!info.isFile()) throw new InvalidParametersError(`${path} is not a file`)
  if (info.size > MAX_KEY_PROTOBUF_LENGTH) throw new InvalidParametersError(`${path} is ${info.size} bytes, more than a key file can be (${MAX_KEY_PROTOBUF_LENGTH})`)
  return privateKeyFromProtobuf(new Uint8Array(await readFile(path)))
}

/**
 * Runs `peerkit daemon` with p2pd's command line until `stop` resolves; returns the exit code.
 * Stops the control server, then the node.
 */
export async function runDaemon (args: string[], out: DaemonOutput, stop: Promise<void>): Promise<number> {
  const log = logger('peerkit:daemon')
  let config: DaemonCommandConfig
  try {
    config = parseDaemonArgs(args)
  } catch (err) {
    if (err instanceof HelpRequested) {
      out.stdout(DAEMON_USAGE)
      return 0
    }
    out.stderr(`peerkit daemon: ${(err as Error).message}`)
    if (err instanceof UnsupportedConfigurationError) return EXIT_UNSUPPORTED
    out.stderr('run "peerkit daemon -h" for the flags')
    return EXIT_USAGE
  }

  const security = securityList(config.security)

  let privateKey: PrivateKey | undefined
  if (config.keyFile != null) {
    try {
      privateKey = await readKeyFile(config.keyFile)
    } catch (err) {
      out.stderr(`peerkit daemon: cannot load the identity ${config.keyFile}: ${(err as Error).message}`)
      return EXIT_FAILURE
    }
  }

  let node
  try {
    node = await createDaemonNode({ privateKey, listen: config.hostAddrs, announce: config.announceAddrs, security, muxers: [config.muxer] })
  } catch (err) {
    out.stderr(`peerkit daemon: ${(err as Error).message}`)
    return err instanceof UnsupportedConfigurationError ? EXIT_UNSUPPORTED : EXIT_FAILURE
  }
  const server = new DaemonServer(node, { listen: config.listen, echo: config.echo, log })
  try {
    await server.start()
  } catch (err) {
    out.stderr(`peerkit daemon: cannot listen on the control address ${config.listen}: ${(err as Error).message}`)
    await node.stop().catch(() => {})
    return EXIT_FAILURE
  }
  log('daemon %s ready, offering %s with %s', node.id.toString(), security.join(', '), config.muxer)
  if (!config.quiet) {
    out.stdout(`Control socket: ${server.getMultiaddr().toString()}`)
    out.stdout(`Peer ID: ${node.id.toString()}`)
    out.stdout('Peer Addrs:')
    for (const addr of node.getMultiaddrs()) out.stdout(addr.decapsulateCode(421).toString())
  }
  await stop
  let code = 0
  try {
    await server.stop()
  } catch (err) {
    out.stderr(`peerkit daemon: stopping the control server: ${(err as Error).message}`)
    code = EXIT_FAILURE
  }
  try {
    await node.stop()
  } catch (err) {
    out.stderr(`peerkit daemon: stopping the node: ${(err as Error).message}`)
    code = EXIT_FAILURE
  }
  return code
}
