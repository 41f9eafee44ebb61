/**
 * @packageDocumentation
 *
 * The `peerkit` command line, also usable programmatically through `run(argv, output, stop)`.
 */
export { run, listen, id, ping, echo, daemon, USAGE } from './commands.js'
export type { Output } from './commands.js'
export { ECHO_PROTOCOL, echoHandler } from './echo.js'
