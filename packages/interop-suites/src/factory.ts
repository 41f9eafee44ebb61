import { createJsDaemon } from './js-daemon.js'
import { createPeerkitDaemon } from './peerkit-daemon.js'
import type { Daemon, DaemonFactory, SpawnOptions } from '@libp2p/interop'

/**
 * The factory handed to @libp2p/interop: js-libp2p in the `js` slot, peerkit's daemon in the other
 * one (which the suites call `go`).
 */
export const factory: DaemonFactory = {
  async spawn (options: SpawnOptions): Promise<Daemon> {
    return options.type === 'js' ? createJsDaemon(options) : createPeerkitDaemon(options)
  }
}
