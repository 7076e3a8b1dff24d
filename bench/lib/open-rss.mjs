/**
 * Open time and memory, each in fresh processes: a log of `large` records is built by a process that
 * then kills itself (a crash: no close, no recovery checkpoint, no clean-shutdown marker), opened once
 * (recovery scans and CRC-checks the whole log, the worst case), closed cleanly, and opened again
 * `openReps` times (a clean open, which must read no .log data). RSS is the peak while one process
 * scans a whole log of `small` and of `large` records; the floor scans the same records from its file.
 */
import { join } from 'node:path'
import { runChild } from './children.mjs'
import { result, unavailable, verify } from './harness.mjs'
import { median } from './stats.mjs'

const MiB = 1024 * 1024
export const CLEAN_OPEN_TARGET = { kind: 'absolute', op: '<=', value: 50, text: '≤ 50 ms' }
export const RSS_TARGET = { kind: 'ratio', op: '<=', value: 1.1, text: `≤ 1.1 × RSS at the smaller log (flat)` }

function millions(n) {
  return n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}k`
}

export async function measureOpenAndRss(ctx) {
  const { has, scratch, profile } = ctx
  const { small, large, openReps } = profile.openRss
  const V = 100
  const names = {
    clean: `open after clean shutdown, ${millions(large)} records`,
    crash: `open after a crash (whole log recovered), ${millions(large)} records`,
    rssSmall: `RSS scanning ${millions(small)} records (${has.consumer ? 'consumer' : 'Partition.readRecords'})`,
    rssLarge: `RSS scanning ${millions(large)} records (${has.consumer ? 'consumer' : 'Partition.readRecords'})`,
  }
  if (!has.partition) return Object.values(names).map((n) => unavailable(n, 'Kafkalite.open / Partition (src/api)'))
  const out = []
  const logs = {}
  for (const [label, count] of [['small', small], ['large', large]]) {
    const dir = join(scratch, `log-${label}`)
    const path = join(scratch, `floor-${label}.bin`)
    await runChild({ kind: 'build-kafkalite', dir, valueBytes: V, count, crash: label === 'large' }, { expectKill: label === 'large' })
    const expected = await runChild({ kind: 'build-floor', path, valueBytes: V, count })
    logs[label] = { dir, path, count, expected }
  }

  // Crash open first (it recovers the log and closes it cleanly), then clean opens.
  const big = logs.large
  const crash = await runChild({ kind: 'open', dir: big.dir, count: big.count })
  if (crash.cleanShutdown) throw new Error('the crashed log opened as cleanly shut down')
  out.push(result({ name: names.crash, value: crash.ms, unit: 'ms', verified: { count: crash.count }, note: 'one run; no target' }))
  const clean = []
  for (let r = 0; r < openReps; r++) {
    const s = await runChild({ kind: 'open', dir: big.dir, count: big.count })
    if (!s.cleanShutdown) throw new Error('a cleanly closed log opened as crashed')
    clean.push(s.ms)
  }
  out.push(result({ name: names.clean, value: median(clean), unit: 'ms', target: CLEAN_OPEN_TARGET, verified: { count: big.count } }))

  // RSS: kafkalite and the floor alternate, one process each.
  const rss = {}
  for (const label of ['small', 'large']) {
    const log = logs[label]
    const kafkalite = await runChild({ kind: 'scan-rss', dir: log.dir, count: log.count })
    verify(`RSS scan of ${label} log`, kafkalite, log.expected)
    const floor = await runChild({ kind: 'floor-scan-rss', path: log.path })
    verify(`floor RSS scan of ${label} log`, floor, log.expected)
    rss[label] = { kafkalite: kafkalite.peakRss / MiB, floor: floor.peakRss / MiB }
  }
  out.push(result({ name: names.rssSmall, value: rss.small.kafkalite, unit: 'MiB', floor: rss.small.floor, verified: logs.small.expected }))
  out.push(
    result({
      name: names.rssLarge,
      value: rss.large.kafkalite,
      unit: 'MiB',
      floor: rss.small.kafkalite,
      reference: `kafkalite at ${millions(small)}`,
      target: RSS_TARGET,
      verified: logs.large.expected,
      extra: { floorRssMiB: rss.large.floor },
    }),
  )
  return out
}
