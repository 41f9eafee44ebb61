#!/usr/bin/env node
/**
 * js-libp2p's side of the transport-interop ping contract (see ping-contract.ts), built like the
 * test-plans js implementation: TCP, the given encrypter and muxer, identify, ping.
 */
import './polyfill.js'
import { performance } from 'node:perf_hooks'
import { identify } from '@libp2p/identify'
import { mplex } from '@libp2p/mplex'
import { noise } from '@libp2p/noise'
import { ping } from '@libp2p/ping'
import { plaintext } from '@libp2p/plaintext'
import { tcp } from '@libp2p/tcp'
import { tls } from '@libp2p/tls'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { PingConfigError, connectRedis, formatResult, listenUntilStopped, readPingConfig } from './ping-contract.js'

async function main (): Promise<number> {
  const config = readPingConfig()
  if (config.transport !== 'tcp') throw new PingConfigError(`transport ${config.transport} is not set up in this js app (tcp only)`)
  const encrypters = { noise, tls, plaintext } as const
  const muxers = { yamux, mplex } as const
  const encrypter = encrypters[config.security as keyof typeof encrypters]
  const muxer = muxers[config.muxer as keyof typeof muxers]
  if (encrypter == null) throw new PingConfigError(`security ${String(config.security)} is not supported`)
  if (muxer == null) throw new PingConfigError(`muxer ${String(config.muxer)} is not supported`)
  const redis = await connectRedis(config.redisAddr)
  const node = await createLibp2p({
    addresses: { listen: config.isDialer ? [] : [`/ip4/${config.ip}/tcp/0`] },
    transports: [tcp()],
    connectionEncrypters: [encrypter()],
    streamMuxers: [muxer()],
    services: { identify: identify(), ping: ping() }
  })
  try {
    if (!config.isDialer) {
      const addrs = node.getMultiaddrs().map(String).sort((a, b) => Number(a.includes('/127.0.0.1/')) - Number(b.includes('/127.0.0.1/')))
      process.stderr.write(`listener ${node.peerId.toString()} on ${addrs.join(', ')}\n`)
      return await listenUntilStopped(redis, addrs[0], config.timeoutSeconds)
    }
    const signal = AbortSignal.timeout(config.timeoutSeconds * 1000)
    const target = multiaddr(await redis.take(config.timeoutSeconds))
    await redis.close()
    process.stderr.write(`dialer ${node.peerId.toString()} dials ${target.toString()}\n`)
    const start = performance.now()
    await node.dial(target, { signal })
    const rtt = await node.services.ping.ping(target, { signal })
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
  setTimeout(() => process.exit(), 2000).unref()
})
