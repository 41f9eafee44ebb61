/**
 * @packageDocumentation
 *
 * Runners for the public libp2p interop suites with peerkit on one side and js-libp2p on the
 * other: the @libp2p/interop daemon suites (see `factory`) and the test-plans transport-interop
 * ping contract (see `ping-contract`, `ping-app`, `js-ping-app`).
 */
export { factory } from './factory.js'
export { createJsDaemon } from './js-daemon.js'
export { createPeerkitDaemon, startPeerkitDaemon, daemonArgs, DaemonExitError, PEERKIT_BIN, EXIT_UNSUPPORTED } from './peerkit-daemon.js'
export type { PeerkitDaemonProcess } from './peerkit-daemon.js'
