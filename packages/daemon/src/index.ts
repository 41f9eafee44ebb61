/**
 * @packageDocumentation
 *
 * A libp2p daemon speaking the p2pd control protocol (go-libp2p-daemon `specs/CONTROL.md`):
 *
 * - `DaemonServer` serves the control protocol for a peerkit node over a unix or TCP socket;
 * - `DaemonClient` drives any p2pd-compatible daemon (ours, go-libp2p's, js-libp2p's);
 * - `runDaemon(argv, output, stop)` is the `peerkit daemon` command, with p2pd's flags;
 * - `createDaemonNode(config)` builds the node a daemon serves.
 *
 * @example
 * ```ts
 * import { DaemonClient, DaemonServer, createDaemonNode } from '@peerkit/daemon'
 * import { multiaddr } from '@multiformats/multiaddr'
 *
 * const node = await createDaemonNode({ listen: [multiaddr('/ip4/127.0.0.1/tcp/0')], security: ['noise'], muxers: ['yamux'] })
 * const server = new DaemonServer(node, { listen: '/ip4/127.0.0.1/tcp/0' })
 * await server.start()
 * const client = new DaemonClient(server.getMultiaddr())
 * const { peerId, addrs } = await client.identify()
 * await server.stop()
 * await node.stop()
 * ```
 */
export { DaemonServer, ECHO_PROTOCOL } from './server.js'
export type { DaemonServerInit, DaemonNode } from './server.js'
export { DaemonClient, DaemonStream } from './client.js'
export type { AnyPeerId, DaemonClientInit, DaemonStreamInfo, DaemonPeerInfo, DaemonStreamHandler } from './client.js'
export { createDaemonNode } from './node.js'
export type { DaemonNodeConfig, DaemonSecurity, DaemonMuxer, DaemonServices } from './node.js'
export { runDaemon, parseDaemonArgs, securityList, readKeyFile, DAEMON_FLAGS, DAEMON_USAGE, EXIT_UNSUPPORTED, EXIT_USAGE, EXIT_FAILURE } from './command.js'
export type { DaemonCommandConfig, DaemonOutput } from './command.js'
export { parseFlags, parseDuration, flagUsage, HelpRequested } from './flags.js'
export type { FlagDefinition, FlagKind, ParsedFlags } from './flags.js'
export { parseControlAddr, controlAddrToMultiaddr } from './control-addr.js'
export type { ControlAddr } from './control-addr.js'
export { DaemonResponseError, UnsupportedConfigurationError } from './errors.js'
export { DEFAULT_MAX_MESSAGE_SIZE } from './channel.js'
export * as pb from './pb/control.js'
