/** Small statistics and timing helpers. Times are in milliseconds from a monotonic clock. */
import { performance } from 'node:perf_hooks'

export const now = () => performance.now()

export function median(values) {
  const s = [...values].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/** The q-quantile (0..1) of `sorted` by the nearest-rank method (p999 of 10,000 samples is the 10th largest). */
export function quantile(sorted, q) {
  if (sorted.length === 0) return NaN
  const rank = Math.ceil(q * sorted.length)
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]
}

export function percentiles(samples) {
  const s = Float64Array.from(samples).sort()
  return { p50: quantile(s, 0.5), p99: quantile(s, 0.99), p999: quantile(s, 0.999), max: s[s.length - 1], count: s.length }
}

export function round(x, digits = 3) {
  if (!Number.isFinite(x)) return x
  const f = 10 ** Math.max(0, digits - Math.ceil(Math.log10(Math.abs(x) || 1)))
  return Math.round(x * f) / f
}
