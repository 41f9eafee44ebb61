import type { StreamHandler } from '@peerkit/interfaces'

/** The echo protocol served by `peerkit listen --echo`. */
export const ECHO_PROTOCOL = '/echo/1.0.0'

/** Echoes every byte back until the remote closes its write side, then closes ours. */
export const echoHandler: StreamHandler = async ({ stream }) => {
  await stream.sink(stream.source)
}
