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
