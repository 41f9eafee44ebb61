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
  const log = debug(name) as unknown as Logger & { enabled: boolean }
  const err = debug(`${name}:error`)
  const trace = debug(`${name}:trace`)
  return Object.assign(log, { error: err, trace })
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
