/**
 * @packageDocumentation
 *
 * Compliance suites for peerkit interfaces. Each suite is a subpath export
 * (`@peerkit/interface-compliance-tests/<interface>`) whose default export is a function
 * `(setup: TestSetup<T>) => void` that registers mocha tests for an implementation of `T`.
 *
 * @example
 * ```ts
 * import tests from '@peerkit/interface-compliance-tests/transport'
 * import { tcp } from '@peerkit/transport-tcp'
 *
 * describe('my transport', () => {
 *   tests({
 *     async setup () { return { transport: tcp(), listenAddrs: [multiaddr('/ip4/127.0.0.1/tcp/0')] } },
 *     async teardown () {}
 *   })
 * })
 * ```
 */

/**
 * How a suite obtains the implementation under test. `setup` is called before each test (or each
 * group, as the suite documents) and `teardown` after it; teardown must release everything setup
 * created.
 */
export interface TestSetup<T, SetupArgs = Record<string, unknown>> {
  setup(args?: SetupArgs): Promise<T>
  teardown(): Promise<void>
}
