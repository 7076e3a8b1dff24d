/**
 * Compaction: a compacted topic of `records` records over `keys` keys (record i has key i mod keys, so
 * every key is overwritten records/keys times) in segments of `segmentBytes` (8 MiB), cleaned by one `kl.runCleaners()`
 * pass. Throughput is the bytes of the segments cleaned divided by the pass's wall time. Meanwhile one
 * producer (acks 1, lingerMs 0) sends single records at a fixed rate to the same topic, and its
 * send-to-ack p99 during the pass is compared with its p99 over the same time just before (idle).
 *
 * Verified: after the pass, a raw read of the whole partition must hold exactly the survivors Kafka's
 * rules give — in the cleaned range [0, firstUncleanable) the last record of each key (offsets
 * [firstUncleanable − keys, firstUncleanable)) and everything after it, and every record the producer
 * added (each with a key of its own) — by count and value checksum.
 */
import { join } from 'node:path'
import { fixedRate } from './floor.mjs'
import { cleanupScratch, result, unavailable, verify } from './harness.mjs'
import { buildLog, openWithTopic } from './kafkalite.mjs'
import { KEY_BYTES, makeRecordPool, recordsPerBatch, valueSum } from './records.mjs'
import { median, now, percentiles } from './stats.mjs'
import { rawScan } from './scan.mjs'

export const COMPACTION_TARGET = { kind: 'absolute', op: '>=', value: 150, text: '≥ 150 MB/s' }
export const P99_TARGET = { kind: 'ratio', op: '<=', value: 2, text: '≤ 2 × idle p99' }
const APPEND_RATE = 2000
const VALUE_BYTES = 100

export async function measureCompaction(ctx) {
  const { kl, has, scratch, profile } = ctx
  const { records, keys, reps, segmentBytes } = profile.compaction
  const names = { rate: `compaction throughput (${records / 1e6}M records, ${keys / 1e3}k keys)`, p99: 'append p99 during compaction (acks 1, 2000/s)' }
  if (!(has.runCleaners && has.producer)) {
    const missing = [!has.runCleaners && 'kl.runCleaners (src/cleaner)', !has.producer && 'the Producer'].filter(Boolean).join(' and ')
    return [unavailable(names.rate, missing, COMPACTION_TARGET), unavailable(names.p99, missing, P99_TARGET)]
  }
  const rates = []
  const idleP99 = []
  const busyP99 = []
  let verified
  for (let r = 0; r < reps; r++) {
    const run = await compactOnce(kl, join(scratch, `compaction-${r}`), records, keys, segmentBytes)
    rates.push(run.mbPerSecond)
    idleP99.push(run.idle.p99)
    busyP99.push(run.busy.p99)
    verified = run.verified
  }
  return [
    result({ name: names.rate, value: median(rates), unit: 'MB/s', target: COMPACTION_TARGET, verified }),
    result({
      name: names.p99,
      value: median(busyP99),
      unit: 'ms',
      floor: median(idleP99),
      reference: 'idle p99',
      target: P99_TARGET,
      verified,
    }),
  ]
}

async function compactOnce(kl, dir, records, keys, segmentBytes) {
  const pool = makeRecordPool(VALUE_BYTES, keys)
  const { db, partition } = await openWithTopic(
    kl,
    dir,
    { durability: 'none', cleanupPolicy: 'compact', segmentBytes },
    // Only the pass this measurement starts may run: no background passes.
    { logCleanerBackoffMs: 3_600_000, logRetentionCheckIntervalMs: 3_600_000 },
  )
  try {
    buildLog(kl, partition, pool, records, recordsPerBatch(VALUE_BYTES))
    const producer = db.producer({ acks: 1, lingerMs: 0 })
    let sent = 0
    let extraSum = 0
    const sendOne = (samples) => {
      // A key of its own per record (outside the pool's keys), so compaction keeps every one.
      const key = Buffer.alloc(KEY_BYTES, 0x7a)
      key.writeUInt32BE(sent, KEY_BYTES - 4)
      const value = Buffer.alloc(VALUE_BYTES, 0x62)
      value.writeUInt32BE(0x7a000000 + sent++, 0)
      extraSum = (extraSum + valueSum(value)) | 0
      const t = now()
      return producer.send('bench', [{ key, value }]).then(() => samples.push(now() - t))
    }
    // Idle: the same load for as long as the pass is expected to take, before it starts.
    const idle = []
    await sendAtRate(APPEND_RATE, 1000, () => sendOne(idle))
    // Busy: the pass, with the producer running until it ends.
    const busy = []
    let cleaning = true
    const start = now()
    const pass = db.runCleaners().finally(() => (cleaning = false))
    const sends = []
    await new Promise((resolve) => {
      const sender = fixedRate(APPEND_RATE, Number.MAX_SAFE_INTEGER, () => {
        if (cleaning) sends.push(sendOne(busy))
        else {
          clearInterval(sender)
          resolve()
        }
      })
    })
    const report = await pass
    const ms = now() - start
    await Promise.all(sends)
    await producer.close()
    if (report.errors.length > 0) throw report.errors[0].error
    const rounds = report.compactions
    if (rounds.length === 0) throw new Error('the cleaner pass compacted nothing')
    if (rounds.some((c) => c.mapFull)) throw new Error('the offset map filled up: raise logCleanerDedupeBufferSize for this size')
    const bytesBefore = rounds.reduce((a, c) => a + c.bytesBefore, 0)
    const firstUncleanable = Math.max(...rounds.map((c) => c.endOffset))

    // Survivors: of the pool's records (offsets [0, records)), the last of each key below
    // firstUncleanable and all from there on; every producer record (each has a key of its own).
    let count = 0
    let checksum = 0
    for (let o = Math.max(0, Math.min(firstUncleanable, records) - keys); o < records; o++) {
      count++
      checksum = (checksum + valueSum(pool.record(o).value)) | 0
    }
    const expected = { count: count + sent, checksum: (checksum + extraSum) | 0 }
    await partition.flush()
    const got = rawScan(partition)
    verify('records after compaction', got, expected)
    return {
      mbPerSecond: bytesBefore / 1e6 / (ms / 1000),
      idle: percentiles(idle),
      busy: percentiles(busy.length > 0 ? busy : [NaN]),
      verified: { ...expected, bytesCleaned: bytesBefore, busySamples: busy.length },
    }
  } finally {
    await db.close()
    cleanupScratch(dir)
  }
}

/** Calls `send()` at `rate` per second for `ms`, then waits for every send. */
async function sendAtRate(rate, ms, send) {
  const count = Math.max(1, Math.round((rate * ms) / 1000))
  const sends = []
  await new Promise((resolve) => {
    fixedRate(rate, count, (i) => {
      sends.push(send())
      if (i === count - 1) resolve()
    })
  })
  await Promise.all(sends)
}
