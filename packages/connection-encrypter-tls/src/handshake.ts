import { TLSSocket, connect } from 'node:tls'
import { HandshakeError } from '@peerkit/interfaces'
import { abortReason } from '@peerkit/utils'
import { verifyPeerCertificate } from './certificate.js'
import { ConnectionDuplex } from './connection-duplex.js'
import { LIBP2P_ALPN, MAX_ALPN_TOKEN_BYTES, TLS_PROTOCOL_ID } from './constants.js'
import { InvalidCertificateError } from './errors.js'
import { SecuredStream } from './secured-stream.js'
import type { Logger, PeerId, SecuredConnection, SecureStream } from '@peerkit/interfaces'
import type { SecureContext } from 'node:tls'

/** Everything one handshake needs. */
export interface HandshakeOptions {
  /** True for the listener (TLS server), false for the dialer (TLS client). */
  isServer: boolean
  /** The raw connection. */
  conn: SecureStream
  /** Our certificate and key, shared by every handshake of the encrypter. */
  secureContext: SecureContext
  /** Muxer protocol ids to negotiate through ALPN, in order of preference. */
  streamMuxers: string[]
  /** The peer the remote must prove to be. */
  remotePeer?: PeerId
  /** Aborts the handshake (the caller's signal combined with the handshake timeout). */
  signal: AbortSignal
  /** Bytes queued in each direction before backpressure applies. */
  highWaterMark: number
  /** Where the handshake logs (`peerkit:tls`). */
  log: Logger
}

/** `TLSSocket` members node uses internally that a standalone server socket needs (see below). */
interface ReleasableSocket {
  _releaseControl?: () => boolean
}

/**
 * The muxers we may offer or accept through ALPN: unique, non-empty, at most 255 bytes (what TLS
 * can carry) and not the reserved `libp2p` token.
 */
export function alpnMuxers (streamMuxers: string[] | undefined, log?: Logger): string[] {
  const out: string[] = []
  for (const muxer of streamMuxers ?? []) {
    if (typeof muxer !== 'string' || muxer.length === 0 || muxer === LIBP2P_ALPN || out.includes(muxer)) continue
    if (Buffer.byteLength(muxer) > MAX_ALPN_TOKEN_BYTES) {
      log?.('muxer %s is longer than an ALPN token can be: not offered during the handshake', muxer)
      continue
    }
    out.push(muxer)
  }
  return out
}

/**
 * The server's ALPN choice: the first protocol in the client's list (its order of preference) that
 * is one of our muxers; failing that `libp2p` if the client offered it; failing that nothing, which
 * aborts the handshake with a `no_application_protocol` alert, as the specification requires.
 */
export function selectAlpn (offered: string[], ours: string[]): string | undefined {
  for (const protocol of offered) {
    if (ours.includes(protocol)) return protocol
  }
  return offered.includes(LIBP2P_ALPN) ? LIBP2P_ALPN : undefined
}

/**
 * Runs a TLS 1.3 handshake over `conn` with node's TLS, then checks the remote's certificate.
 * Resolves with the secured connection; rejects with `InvalidCertificateError`,
 * `UnexpectedPeerError`, `HandshakeError`, or the signal's reason. On failure the TLS socket is
 * destroyed and every listener removed, and `conn` is left to the caller.
 */
export async function runHandshake (options: HandshakeOptions): Promise<SecuredConnection> {
  const { isServer, signal, log } = options
  const muxers = alpnMuxers(options.streamMuxers, log)
  const duplex = new ConnectionDuplex(options.conn, options.highWaterMark)
  let socket: TLSSocket
  try {
    socket = isServer
      ? new TLSSocket(duplex, {
        isServer: true,
        secureContext: options.secureContext,
        // Ask for the client's certificate and abort the handshake when it sends none; node's
        // OpenSSL callback accepts any certificate it gets, which we check ourselves below.
        requestCert: true,
        rejectUnauthorized: true,
        ALPNCallback: ({ protocols }) => {
          const chosen = selectAlpn(protocols, muxers)
          log.trace('client offered ALPN %o, chose %s', protocols, chosen)
          return chosen
        }
      })
      : connect({
        socket: duplex,
        secureContext: options.secureContext,
        // Self-signed certificates are the norm here: we verify the peer's ourselves.
        rejectUnauthorized: false,
        checkServerIdentity: () => undefined,
        // No SNI: the specification reserves it for future versions of this handshake.
        servername: undefined,
        ALPNProtocols: [...muxers, LIBP2P_ALPN]
      })
  } catch (err) {
    duplex.destroy()
    throw new HandshakeError(`Could not start the TLS handshake: ${(err as Error).message}`, TLS_PROTOCOL_ID, { cause: err })
  }
  if (isServer) {
    // A server socket created outside a tls.Server reports TLS errors through an internal event
    // until it is "released"; releasing it makes every error an ordinary 'error' event.
    (socket as unknown as ReleasableSocket)._releaseControl?.()
  }

  let secured: SecuredStream | undefined
  // Permanent: an 'error' without a listener would crash the process, whatever state we are in.
  socket.on('error', (err: Error) => {
    log.error('TLS socket error: %s', err.message)
    secured?.fail(err)
  })

  return new Promise<SecuredConnection>((resolve, reject) => {
    let settled = false
    const cleanup = (): void => {
      settled = true
      signal.removeEventListener('abort', onAbort)
      socket.off('error', onError)
      socket.off('end', onEnd)
      socket.off('close', onClose)
      socket.off('secure', onSecure)
    }
    const fail = (err: Error): void => {
      if (settled) return
      cleanup()
      socket.destroy()
      reject(err)
    }
    const onAbort = (): void => { fail(abortReason(signal)) }
    const onError = (err: Error): void => {
      fail(new HandshakeError(`TLS handshake failed: ${err.message}`, TLS_PROTOCOL_ID, { cause: err }))
    }
    const onEnd = (): void => {
      fail(new HandshakeError('The connection ended during the TLS handshake', TLS_PROTOCOL_ID))
    }
    const onClose = (): void => {
      fail(new HandshakeError('The connection closed during the TLS handshake', TLS_PROTOCOL_ID))
    }
    const onSecure = (): void => {
      // From now on the remote's end of writing is just the end of the secured stream.
      socket.off('end', onEnd)
      secured = new SecuredStream(socket, options.highWaterMark)
      const conn = secured
      verifyRemote(socket, options.remotePeer).then((remotePeer) => {
        if (settled) return
        if (socket.destroyed) {
          fail(new HandshakeError('The connection closed during the TLS handshake', TLS_PROTOCOL_ID))
          return
        }
        const alpn = socket.alpnProtocol
        let streamMuxer: string | undefined
        if (typeof alpn === 'string' && alpn !== LIBP2P_ALPN) {
          if (!muxers.includes(alpn)) {
            fail(new HandshakeError(`The remote chose ALPN protocol "${alpn}", which we did not offer`, TLS_PROTOCOL_ID))
            return
          }
          streamMuxer = alpn
        }
        cleanup()
        duplex.adopt()
        log('%s handshake with %s complete (%s)%s', isServer ? 'inbound' : 'outbound', remotePeer.toString(),
          socket.getCipher()?.standardName ?? 'unknown cipher', streamMuxer != null ? `, early muxer ${streamMuxer}` : '')
        resolve({ conn, remotePeer, streamMuxer })
      }, (err: Error) => { fail(err) })
    }

    socket.on('error', onError)
    socket.once('end', onEnd)
    socket.once('close', onClose)
    socket.once('secure', onSecure)
    signal.addEventListener('abort', onAbort, { once: true })
    if (signal.aborted) onAbort()
  })
}

/**
 * Checks what the remote presented: exactly one certificate, valid per the specification, proving
 * the expected peer (if any).
 */
async function verifyRemote (socket: TLSSocket, expectedPeer?: PeerId): Promise<PeerId> {
  const cert = socket.getPeerX509Certificate()
  if (cert == null) throw new InvalidCertificateError('no-certificate', 'The remote presented no certificate')
  // Node exposes the rest of the chain the peer sent, related or not, as `issuerCertificate`.
  if (cert.issuerCertificate != null) {
    throw new InvalidCertificateError('chain', 'The remote presented more than one certificate')
  }
  return verifyPeerCertificate(cert.raw, { expectedPeer })
}
