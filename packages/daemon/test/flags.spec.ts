import assert from 'node:assert/strict'
import { InvalidParametersError } from '@peerkit/interfaces'
import { DAEMON_FLAGS, HelpRequested, UnsupportedConfigurationError, parseDaemonArgs, parseDuration, parseFlags, securityList } from '../src/index.js'
import type { FlagDefinition } from '../src/index.js'

const defs: FlagDefinition[] = [
  { name: 'b', kind: 'bool', default: false, usage: '' },
  { name: 't', kind: 'bool', default: true, usage: '' },
  { name: 's', kind: 'string', default: 'x', usage: '' },
  { name: 'n', kind: 'int', default: 1, usage: '' },
  { name: 'd', kind: 'duration', default: 0, usage: '' }
]

describe('Go-style flags', () => {
  it('parse -name, --name, -name=value and -name value like Go\'s flag package', () => {
    const p = parseFlags(['-b', '--s', 'hello', '-n=42', '-d', '1m30s', '-t=false'], defs)
    assert.deepEqual(Object.fromEntries(p.values), { b: true, t: false, s: 'hello', n: 42, d: 90_000 })
    assert.deepEqual([...p.set].sort(), ['b', 'd', 'n', 's', 't'])
    assert.deepEqual(p.rest, [])
    // A string flag takes the next argument even when it starts with a dash.
    assert.equal(parseFlags(['-s', '-b'], defs).values.get('s'), '-b')
    // A bool flag never takes the next argument: parsing stops at the first non-flag.
    assert.deepEqual(parseFlags(['-b', 'false', '-n', '2'], defs).rest, ['false', '-n', '2'])
    assert.deepEqual(parseFlags(['-b', '--', '-n'], defs).rest, ['-n'])
    for (const [v, want] of [['1', true], ['t', true], ['TRUE', true], ['True', true], ['0', false], ['F', false], ['false', false]] as const) {
      assert.equal(parseFlags([`-b=${v}`], defs).values.get('b'), want)
    }
  })

  it('refuse what Go\'s flag package refuses', () => {
    assert.throws(() => parseFlags(['-nope'], defs), /flag provided but not defined: -nope/)
    assert.throws(() => parseFlags(['-s'], defs), /flag needs an argument: -s/)
    assert.throws(() => parseFlags(['-b=yes'], defs), /invalid boolean value "yes" for -b/)
    assert.throws(() => parseFlags(['-n=1.5'], defs), /not an integer/)
    assert.throws(() => parseFlags(['-d=10'], defs), /not a duration/)
    assert.throws(() => parseFlags(['---b'], defs), /bad flag syntax/)
    assert.throws(() => parseFlags(['-=x'], defs), /bad flag syntax/)
    assert.throws(() => parseFlags(['-h'], defs), HelpRequested)
    assert.throws(() => parseFlags(['--help'], defs), HelpRequested)
  })

  it('parse Go durations', () => {
    assert.equal(parseDuration('0'), 0)
    assert.equal(parseDuration('120s'), 120_000)
    assert.equal(parseDuration('1h2m3.5s'), 3_723_500)
    assert.equal(parseDuration('250ms'), 250)
    assert.equal(parseDuration('1500us'), 1.5)
    assert.equal(parseDuration('-2s'), -2000)
    for (const bad of ['', '10', 's', '1x', '1s2']) assert.throws(() => parseDuration(bad), InvalidParametersError, bad)
  })
})

describe('p2pd command line', () => {
  it('has p2pd\'s defaults', () => {
    const c = parseDaemonArgs([])
    assert.equal(c.listen, '/unix/tmp/p2pd.sock')
    assert.deepEqual(c.hostAddrs.map(String), ['/ip4/0.0.0.0/tcp/0'])
    assert.equal(c.muxer, 'yamux')
    assert.equal(c.echo, true)
    assert.equal(c.quiet, false)
    assert.equal(c.keyFile, undefined)
    assert.deepEqual(securityList(c.security), ['noise', 'tls'])
    assert.ok(DAEMON_FLAGS.length >= 40)
  })

  it('reads what js-libp2p\'s interop runner passes to p2pd', () => {
    const c = parseDaemonArgs(['-listen=/ip4/127.0.0.1/tcp/0', '-hostAddrs=/ip4/127.0.0.1/tcp/0,/ip6/::1/tcp/0', '-plaintext=true', '-id=/tmp/k.key', '-muxer=mplex', '-echo=false', '-q'])
    assert.equal(c.listen, '/ip4/127.0.0.1/tcp/0')
    assert.deepEqual(c.hostAddrs.map(String), ['/ip4/127.0.0.1/tcp/0', '/ip6/::1/tcp/0'])
    assert.deepEqual(securityList(c.security), ['noise', 'tls', 'plaintext'])
    assert.equal(c.keyFile, '/tmp/k.key')
    assert.equal(c.muxer, 'mplex')
    assert.equal(c.echo, false)
    assert.equal(c.quiet, true)
    assert.deepEqual(parseDaemonArgs(['-noListenAddrs', '-hostAddrs=/ip4/127.0.0.1/tcp/0']).hostAddrs, [])
    assert.deepEqual(securityList(parseDaemonArgs(['-noise=false', '-tls=false', '-plaintext']).security), ['plaintext'])
    assert.deepEqual(securityList(parseDaemonArgs(['-tls=false']).security), ['noise'])
    // Flags that only matter with a feature left off are accepted, as p2pd does.
    parseDaemonArgs(['-pubsubRouter=floodsub', '-connLo=1', '-connGrace=30s', '-relayHopLimit=3', '-relay=false', '-bootstrapPeers=/ip4/1.2.3.4/tcp/4001'])
  })

  it('throws UnsupportedConfigurationError for p2pd features peerkit does not have', () => {
    const cases: Array<[string[], string]> = [
      [['-dht'], '-dht'], [['-dhtServer'], '-dhtServer'], [['-dhtClient'], '-dhtClient'], [['-b'], '-b'],
      [['-pubsub'], '-pubsub'], [['-relay'], '-relay'], [['-relay=true'], '-relay'], [['-relayHop'], '-relayHop'], [['-autoRelay'], '-autoRelay'],
      [['-autonat'], '-autonat'], [['-natPortMap'], '-natPortMap'], [['-connManager'], '-connManager'],
      [['-forceReachabilityPublic'], '-forceReachabilityPublic'], [['-metricsAddr=:9090'], '-metricsAddr'],
      [['-f', 'conf.json'], '-f'], [['-i'], '-i'], [['-pprof'], '-pprof'], [['-muxer=quic'], '-muxer']
    ]
    for (const [args, option] of cases) {
      assert.throws(() => parseDaemonArgs(args), (err: Error) => err instanceof UnsupportedConfigurationError && err.option === option && err.code === 'ERR_UNSUPPORTED_CONFIGURATION', args.join(' '))
    }
  })

  it('throws InvalidParametersError for a malformed command line', () => {
    for (const args of [['-bogus'], ['-listen'], ['-listen=/dns4/x/tcp/1'], ['-hostAddrs=nope'], ['-noise=false', '-tls=false'], ['-connGrace=soon'], ['extra'], ['-bootstrapPeers=nope']]) {
      assert.throws(() => parseDaemonArgs(args), InvalidParametersError, args.join(' '))
    }
  })
})
