/** Summary of the repeated measurements of one implementation. */
export interface Stats {
  median: number
  min: number
  max: number
  /** Every measurement, in run order. */
  runs: number[]
}

/** Median of a non-empty list (mean of the middle two for an even count). */
export function median (values: number[]): number {
  if (values.length === 0) throw new RangeError('median of an empty list')
  const s = [...values].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}

/** Median, min and max of a non-empty list of finite numbers. */
export function summarize (runs: number[]): Stats {
  if (runs.length === 0) throw new RangeError('no measurements to summarize')
  for (const r of runs) if (!Number.isFinite(r)) throw new RangeError(`not a finite measurement: ${r}`)
  return { median: median(runs), min: Math.min(...runs), max: Math.max(...runs), runs: [...runs] }
}
