import { createConnection } from 'node:net'
import { ConnectionClosedError, TransportDialError } from '@peerkit/interfaces'
import { raceSignal } from '@peerkit/utils'
import { netOptions } from './control-addr.js'
import type { ControlAddr } from './control-addr.js'
import type { Socket } from 'node:net'

/**
 * Connects to a control address (unix or TCP), half-open allowed so either side can end its
 * writes independently. On failure or abort the socket is destroyed.
 *
 * @throws TransportDialError when the connection is refused or fails; the abort reason when
 * `signal` aborts first
 */
export async function connectSocket (addr: ControlAddr, signal?: AbortSignal): Promise<Socket> {
  const socket = createConnection({ ...netOptions(addr), allowHalfOpen: true })
  const where = addr.type === 'unix' ? addr.path : `${addr.host}:${addr.port}`
  const connected = new Promise<void>((resolve, reject) => {
    const cleanup = (): void => {
      socket.off('connect', onConnect)
      socket.off('error', onError)
      socket.off('close', onClose)
    }
    const onConnect = (): void => { cleanup(); resolve() }
    const onError = (err: Error): void => { cleanup(); reject(new TransportDialError(where, `Cannot connect to ${where}: ${err.message}`, { cause: err })) }
    const onClose = (): void => { cleanup(); reject(new ConnectionClosedError(`The connection to ${where} closed while connecting`)) }
    socket.on('connect', onConnect)
    socket.on('error', onError)
    socket.on('close', onClose)
  })
  try {
    await raceSignal(connected, signal)
  } catch (err) {
    // Keep a listener: a late error on the destroyed socket must not become an uncaught exception.
    socket.on('error', () => {})
    socket.destroy()
    throw err
  }
  if (addr.type === 'tcp') socket.setNoDelay(true)
  return socket
}
