import debug from 'debug'
import type { ComponentLogger, Logger } from '@peerkit/interfaces'

// %b prints a Uint8Array as hex (short ones only: log lines must stay cheap).
debug.formatters.b = (v?: Uint8Array): string => {
  if (v == null) return 'undefined'
  const hex = Buffer.from(v.buffer, v.byteOffset, Math.min(v.byteLength, 64)).toString('hex')
  return v.byteLength > 64 ? `${hex}…(${v.byteLength} bytes)` : hex
}

/**
 * Returns a logger for the namespace `name` (e.g. `peerkit:yamux`), with `:error` and `:trace`
 * sub-namespaces. Silent unless enabled through `DEBUG`.
 */
export function logger (name: string): Logger {
  const log = debug(name)
  const out = Object.assign((formatter: unknown, ...args: unknown[]): void => { log(formatter, ...args) }, {
    error: debug(`${name}:error`),
    trace: debug(`${name}:trace`)
  })
  // debug's own `enabled` is undefined until namespaces are configured: expose a real boolean.
  Object.defineProperty(out, 'enabled', { get: () => log.enabled === true, enumerable: true })
  return out as typeof out & { enabled: boolean }
}

/** False only for a sub-logger that says it is disabled (debug instances do); unknown ones are called. */
function isOn (fn: unknown): boolean {
  return (fn as { enabled?: unknown }).enabled !== false
}

/** Where a prefixed logger writes, and its prefix. */
const PREFIXED = Symbol('peerkit.prefixed-logger')

interface PrefixedState { log: Logger, prefix: string }
type PrefixedLogger = Logger & { [PREFIXED]: PrefixedState }

/**
 * What prefixed loggers share: `error`, `trace` and `enabled` come from here (they are called as
 * methods, `log.error(...)`), so a logger costs one function and one small object.
 */
const PREFIXED_PROTO = Object.create(Function.prototype, {
  error: {
    value: function (this: PrefixedLogger, formatter: unknown, ...args: unknown[]): void {
      const { log, prefix } = this[PREFIXED]
      if (isOn(log.error)) log.error(`${prefix} ${String(formatter)}`, ...args)
    }
  },
  trace: {
    value: function (this: PrefixedLogger, formatter: unknown, ...args: unknown[]): void {
      const { log, prefix } = this[PREFIXED]
      if (isOn(log.trace)) log.trace(`${prefix} ${String(formatter)}`, ...args)
    }
  },
  enabled: {
    get (this: PrefixedLogger): boolean { return this[PREFIXED].log.enabled },
    enumerable: true
  }
}) as object

/**
 * A logger that writes through `log` (same namespace, same enablement), each line starting with
 * `prefix`: for per-connection or per-stream loggers, which would otherwise create a `debug`
 * instance each (about 4 KiB and 15 µs apiece). Lines are formatted only when `log` is enabled.
 * `error` and `trace` are methods: call them as `logger.error(...)`.
 */
export function prefixLogger (log: Logger, prefix: string): Logger {
  // The function finds its state through its own name: no context kept per logger.
  const out = function prefixed (formatter: unknown, ...args: unknown[]): void {
    const state = (prefixed as unknown as PrefixedLogger)[PREFIXED]
    if (state.log.enabled) state.log(`${state.prefix} ${String(formatter)}`, ...args)
  } as unknown as PrefixedLogger
  Object.setPrototypeOf(out, PREFIXED_PROTO)
  out[PREFIXED] = { log, prefix }
  return out
}

/** A component logger whose components log under `<prefix>:<component>`. */
export function defaultLogger (prefix = 'peerkit'): ComponentLogger {
  return {
    forComponent (name: string): Logger {
      return logger(`${prefix}:${name}`)
    }
  }
}

/** Enables the given namespaces (same syntax as `DEBUG`). */
export function enableLogs (namespaces: string): void {
  debug.enable(namespaces)
}
