/**
 * Running measurements and reporting them. A measurement is run beside its floor in the same process,
 * alternating (floor first on even repetitions, kafkalite first on odd ones, so neither side always gets
 * the warmer machine), and the median of the repetitions is reported. Every sample carries what it
 * verified; a sample whose count or checksum is wrong aborts the measurement: an unverified number is
 * not a result.
 */
import * as fs from 'node:fs'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as v8 from 'node:v8'
import * as vm from 'node:vm'
import { median, round } from './stats.mjs'

v8.setFlagsFromString('--expose-gc')
/** A full collection between samples, so one side's garbage is not collected on the other's time. */
export const gc = vm.runInNewContext('gc')

/** A scratch directory under os.tmpdir(), removed by `cleanupScratch`. */
export function makeScratch() {
  return mkdtempSync(join(tmpdir(), 'kafkalite-bench-'))
}

export function cleanupScratch(dir) {
  fs.rmSync(dir, { recursive: true, force: true })
}

export class VerificationError extends Error {}

/** Throws unless the sample saw `expected.count` records with `expected.checksum`. */
export function verify(what, sample, expected) {
  if (sample.count !== expected.count || sample.checksum !== expected.checksum) {
    throw new VerificationError(
      `${what}: read ${sample.count} records with checksum ${sample.checksum}, expected ${expected.count} with ${expected.checksum}`,
    )
  }
  return { count: sample.count, checksum: sample.checksum }
}

/**
 * Runs `floor()` and `subject()` `reps` times, alternating, each returning a sample { value, ... }.
 * Returns the median value of each side and the samples.
 */
export async function alternate(reps, floor, subject) {
  const floorSamples = []
  const subjectSamples = []
  for (let r = 0; r < reps; r++) {
    const order = r % 2 === 0 ? ['floor', 'subject'] : ['subject', 'floor']
    for (const side of order) {
      gc()
      if (side === 'floor') floorSamples.push(await floor(r))
      else subjectSamples.push(await subject(r))
    }
  }
  return {
    floor: median(floorSamples.map((s) => s.value)),
    subject: median(subjectSamples.map((s) => s.value)),
    floorSamples,
    subjectSamples,
  }
}

/**
 * A result line. `target` is { kind: 'ratio' | 'absolute', op: '>=' | '<=', value, text }: a 'ratio'
 * target is checked against value / floor, an 'absolute' one against the value itself.
 */
export function result({ name, value, unit, floor = null, reference = 'floor', target = null, verified, note, extra }) {
  const ratio = floor !== null && floor !== 0 && Number.isFinite(value) ? value / floor : null
  let met = null
  if (target !== null) {
    const x = target.kind === 'ratio' ? ratio : value
    met = x === null ? null : target.op === '>=' ? x >= target.value : x <= target.value
  }
  return {
    name,
    value: round(value, 4),
    unit,
    floor: floor === null ? null : round(floor, 4),
    reference: floor === null ? null : reference,
    ratio: ratio === null ? null : round(ratio, 3),
    target: target?.text ?? null,
    met,
    verified,
    ...(note !== undefined && { note }),
    ...(extra !== undefined && { extra }),
  }
}

/** A measurement whose API has not landed yet: reported, never faked. */
export function unavailable(name, what, target = null) {
  return { name, value: null, unit: null, floor: null, ratio: null, target: target?.text ?? null, met: null, status: `not yet available: ${what}` }
}

export function failed(name, error, target = null) {
  return { name, value: null, unit: null, floor: null, ratio: null, target: target?.text ?? null, met: false, status: `failed: ${error.message}` }
}

function fmt(x) {
  if (x === null || x === undefined) return '—'
  if (typeof x !== 'number') return String(x)
  if (Math.abs(x) >= 1e6) return `${round(x / 1e6, 3)}M`
  if (Math.abs(x) >= 1e4) return `${round(x / 1e3, 3)}k`
  return String(round(x, 3))
}

/** The markdown table: one row per measurement, with the ratio to its floor and the target. */
export function markdownTable(results) {
  const rows = [
    '| measurement | kafkalite | floor (reference) | ratio | target | met |',
    '|---|---|---|---|---|---|',
  ]
  for (const r of results) {
    if (r.value === null) {
      rows.push(`| ${r.name} | ${r.status} | — | — | ${r.target ?? '—'} | ${r.met === false ? '**no**' : 'n/a'} |`)
      continue
    }
    const floor = r.floor === null ? '—' : `${fmt(r.floor)} ${r.unit}${r.reference && r.reference !== 'floor' ? ` (${r.reference})` : ''}`
    const met = r.met === null ? '—' : r.met ? 'yes' : '**no**'
    rows.push(`| ${r.name} | ${fmt(r.value)} ${r.unit} | ${floor} | ${r.ratio ?? '—'} | ${r.target ?? '—'} | ${met} |`)
  }
  return rows.join('\n')
}
