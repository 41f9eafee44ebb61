import { InvalidParametersError } from '@peerkit/interfaces'

/** The kinds of value a flag takes, as Go's `flag` package has them. */
export type FlagKind = 'bool' | 'string' | 'int' | 'duration'

/** One command-line flag. */
export interface FlagDefinition {
  /** The name, without the dash: `listen` for `-listen`. */
  name: string
  /** The kind of value it takes. */
  kind: FlagKind
  /** The default, in the flag's type (durations in ms). */
  default: boolean | string | number
  /** One line of help. */
  usage: string
}

/** Parsed flags: every defined flag's value, and which ones the command line set. */
export interface ParsedFlags {
  /** Every defined flag's value (its default unless set). */
  values: Map<string, boolean | string | number>
  /** The flags the arguments set. */
  set: Set<string>
  /** Arguments after the flags (after `--` or the first non-flag argument). */
  rest: string[]
}

/** `-h`, `-help` or `--help` was given: print the usage and exit 0. */
export class HelpRequested extends Error {
  constructor () {
    super('help requested')
    this.name = 'HelpRequested'
  }
}

const BOOL_VALUES: Record<string, boolean> = {
  1: true, t: true, T: true, true: true, TRUE: true, True: true,
  0: false, f: false, F: false, false: false, FALSE: false, False: false
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** Parses a Go duration (`90s`, `1m30s`, `1.5h`, `250ms`, `0`) into milliseconds. */
export function parseDuration (value: string): number {
  if (value === '0') return 0
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y
  let sign = 1
  let i = 0
  if (value.startsWith('-') || value.startsWith('+')) {
    sign = value.startsWith('-') ? -1 : 1
    i = 1
  }
  let total = 0
  let matched = false
  while (i < value.length) {
    re.lastIndex = i
    const m = re.exec(value)
    if (m == null) throw new InvalidParametersError(`invalid duration "${value}"`)
    total += Number(m[1]) * DURATION_UNITS[m[2]]
    i = re.lastIndex
    matched = true
  }
  if (!matched) throw new InvalidParametersError(`invalid duration "${value}"`)
  return sign * total
}

function parseValue (def: FlagDefinition, raw: string): boolean | string | number {
  switch (def.kind) {
    case 'bool': {
      const v = BOOL_VALUES[raw]
      if (v == null) throw new InvalidParametersError(`invalid boolean value "${raw}" for -${def.name}`)
      return v
    }
    case 'int': {
      if (!/^[+-]?\d+$/.test(raw)) throw new InvalidParametersError(`invalid value "${raw}" for -${def.name}: not an integer`)
      const n = Number(raw)
      if (!Number.isSafeInteger(n)) throw new InvalidParametersError(`invalid value "${raw}" for -${def.name}: out of range`)
      return n
    }
    case 'duration':
      try {
        return parseDuration(raw)
      } catch {
        throw new InvalidParametersError(`invalid value "${raw}" for -${def.name}: not a duration`)
      }
    default:
      return raw
  }
}

/**
 * Parses arguments the way Go's `flag` package does (so p2pd command lines work unchanged):
 * `-name`, `--name`, `-name=value`, and `-name value` for flags that are not booleans; a boolean
 * takes its value only in the `=` form (`-tls=false`). Parsing stops at `--` or at the first
 * argument that is not a flag.
 *
 * @throws InvalidParametersError for an undefined flag, a missing or malformed value, or bad syntax
 * @throws HelpRequested for `-h`/`-help`
 */
export function parseFlags (args: string[], defs: FlagDefinition[]): ParsedFlags {
  const byName = new Map(defs.map(d => [d.name, d]))
  const values = new Map<string, boolean | string | number>(defs.map(d => [d.name, d.default]))
  const set = new Set<string>()
  let i = 0
  while (i < args.length) {
    const arg = args[i]
    if (arg.length < 2 || arg[0] !== '-') break
    i++
    if (arg === '--') break
    const body = arg[1] === '-' ? arg.slice(2) : arg.slice(1)
    if (body.length === 0 || body[0] === '-' || body[0] === '=') throw new InvalidParametersError(`bad flag syntax: ${arg}`)
    const eq = body.indexOf('=')
    const name = eq === -1 ? body : body.slice(0, eq)
    const def = byName.get(name)
    if (def == null) {
      if (name === 'h' || name === 'help') throw new HelpRequested()
      throw new InvalidParametersError(`flag provided but not defined: -${name}`)
    }
    let raw: string
    if (eq !== -1) {
      raw = body.slice(eq + 1)
    } else if (def.kind === 'bool') {
      raw = 'true'
    } else {
      if (i >= args.length) throw new InvalidParametersError(`flag needs an argument: -${name}`)
      raw = args[i++]
    }
    values.set(name, parseValue(def, raw))
    set.add(name)
  }
  return { values, set, rest: args.slice(i) }
}

/** Usage text for the flags, one per line. */
export function flagUsage (defs: FlagDefinition[]): string {
  return defs.map(d => {
    const type = d.kind === 'bool' ? '' : ` ${d.kind === 'duration' ? 'duration' : d.kind === 'int' ? 'int' : 'string'}`
    const dflt = d.kind === 'bool' ? (d.default === true ? ' (default true)' : '') : d.default === '' ? '' : ` (default ${d.kind === 'duration' ? `${Number(d.default) / 1000}s` : JSON.stringify(d.default)})`
    return `  -${d.name}${type}\n    \t${d.usage}${dflt}`
  }).join('\n')
}
