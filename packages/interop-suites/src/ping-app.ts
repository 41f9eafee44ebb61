#!/usr/bin/env node
/**
 * peerkit's transport-interop ping program (libp2p test-plans contract; see ping-contract.ts).
 * Supports transport `tcp`, security `noise`, `tls`, `plaintext`, muxer `yamux`, `mplex`.
 */
import { performance } from 'node:perf_hooks'
import { multiaddr } from '@multiformats/multiaddr'
import { createDaemonNode } from '@peerkit/daemon'
import { PingConfigError, connectRedis, formatResult, listenUntilStopped, readPingConfig } from './ping-contract.js'
import type { DaemonMuxer, DaemonSecurity } from '@peerkit/daemon'

async function main (): Promise<number> {
  const config = readPingConfig()
  if (config.transport !== 'tcp') throw new PingConfigError(`transport ${config.transport} is not supported by peerkit (tcp only)`)
  if (!['noise', 'tls', 'plaintext'].includes(config.security ?? '')) throw new PingConfigError(`security ${String(config.security)} is not supported (noise, tls, plaintext)`)
  if (!['yamux', 'mplex'].includes(config.muxer ?? '')) throw new PingConfigError(`muxer ${String(config.muxer)} is not supported (yamux, mplex)`)
  const redis = await connectRedis(config.redisAddr)
  const node = await createDaemonNode({
    listen: config.isDialer ? [] : [multiaddr(`/ip4/${config.ip}/tcp/0`)],
    security: [config.security as DaemonSecurity],
    muxers: [config.muxer as DaemonMuxer]
  })
  try {
    if (!config.isDialer) {
      // Prefer an address other peers can reach over loopback.
      const addrs = node.getMultiaddrs().map(String).sort((a, b) => Number(a.includes('/127.0.0.1/')) - Number(b.includes('/127.0.0.1/')))
      process.stderr.write(`listener ${node.id.toString()} on ${addrs.join(', ')}\n`)
      return await listenUntilStopped(redis, addrs[0], config.timeoutSeconds)
    }
    const signal = AbortSignal.timeout(config.timeoutSeconds * 1000)
    const target = multiaddr(await redis.take(config.timeoutSeconds))
    await redis.close()
    process.stderr.write(`dialer ${node.id.toString()} dials ${target.toString()}\n`)
    const start = performance.now()
    const connection = await node.dial(target, { signal })
    const rtt = await node.services.ping.ping(connection.remotePeer, { signal })
    const total = performance.now() - start
    process.stdout.write(formatResult(total, rtt) + '\n')
    return 0
  } finally {
    await node.stop()
  }
}

main().then((code) => {
  process.exitCode = code
}, (err: Error) => {
  process.stderr.write(`${err.name}: ${err.message}\n`)
  process.exitCode = 1
}).finally(() => {
  // Nothing should be left running; do not let a stray handle hold the process.
  setTimeout(() => process.exit(), 2000).unref()
})
