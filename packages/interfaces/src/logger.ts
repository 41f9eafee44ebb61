/**
 * A debug-namespace logger, silent unless its namespace is enabled (e.g. `DEBUG=peerkit:*`).
 */
export interface Logger {
  /** Logs a debug line when the namespace is enabled. Printf-style `%s`, `%d`, `%o` etc. are supported. */
  (formatter: unknown, ...args: unknown[]): void
  /** Logs under `<namespace>:error`. */
  error(formatter: unknown, ...args: unknown[]): void
  /** Logs under `<namespace>:trace`; meant for per-frame detail. */
  trace(formatter: unknown, ...args: unknown[]): void
  /** True when the base namespace is enabled, so callers can skip building expensive log arguments. */
  enabled: boolean
}

/** Creates loggers for components; a node holds one and hands it to every component. */
export interface ComponentLogger {
  /** Returns the logger for `peerkit:<name>`. */
  forComponent(name: string): Logger
}
