/**
 * Scans: the floor's chunked frame walk against kafkalite's raw partition read (whole batches, walked
 * in place by the reader) and against records materialised as the API returns them (a consumer once
 * consumers exist; until then Partition.readRecords, and the row says so).
 */
import { join } from 'node:path'
import { floorAppend, floorScan } from './floor.mjs'
import { alternate, result, unavailable, verify } from './harness.mjs'
import { buildLog, openWithTopic, walkBatches } from './kafkalite.mjs'
import { makeRecordPool, recordsPerBatch } from './records.mjs'
import { now } from './stats.mjs'

const FETCH_BYTES = 1 << 20 // Kafka's max.partition.fetch.bytes default, and the floor's read size

export const RAW_TARGET = { kind: 'ratio', op: '>=', value: 0.9, text: '≥ 0.9 × floor' }
export const MATERIALISED_TARGET = { kind: 'ratio', op: '>=', value: 0.6, text: '≥ 0.6 × floor' }

/**
 * Raw partition read: whole batches from Partition.read, walked without allocating. Like the floor, it
 * reads into one reused buffer (Partition.read's `buffer` option, where the build has it: an older
 * build ignores the option and allocates per read).
 */
export function rawScan(partition) {
  const start = now()
  const end = partition.highWatermark
  const buffer = Buffer.allocUnsafe(FETCH_BYTES)
  const options = { buffer }
  let next = 0
  let count = 0
  let checksum = 0
  while (next < end) {
    const { records } = partition.read(next, FETCH_BYTES, options)
    const [c, s, n] = walkBatches(records, checksum)
    count += c
    checksum = s
    next = n
  }
  return { ms: now() - start, count, checksum }
}

/** Materialised records through Partition.readRecords (what the API hands a user). */
export function readRecordsScan(partition) {
  const start = now()
  const end = partition.highWatermark
  let next = 0
  let count = 0
  let checksum = 0
  while (next < end) {
    const result = partition.readRecords(next, { maxBytes: FETCH_BYTES })
    for (const r of result.records) {
      const v = r.value
      checksum = (checksum + ((((v[0] << 24) | (v[1] << 16) | (v[2] << 8) | v[3]) ^ v[v.length - 1]) | 0)) | 0
      count++
    }
    next = result.nextOffset
  }
  return { ms: now() - start, count, checksum }
}

export async function measureScans(ctx, { valueBytes, count, reps }) {
  const { kl, has, scratch } = ctx
  const rawName = `scan, raw partition read (whole batches), V=${valueBytes}`
  const matName = `scan, consumer (materialised records), V=${valueBytes}`
  if (!has.partition) return [unavailable(rawName, 'Partition.read (src/api)', RAW_TARGET), unavailable(matName, 'a consumer (src/consumer)', MATERIALISED_TARGET)]
  const batch = recordsPerBatch(valueBytes)
  const pool = makeRecordPool(valueBytes, batch * 64)
  const expected = { count, checksum: pool.expectedChecksum(count) }

  const floorPath = join(scratch, `scan-floor-${valueBytes}.bin`)
  floorAppend(floorPath, pool, count, batch, false)
  const dir = join(scratch, `scan-kafkalite-${valueBytes}`)
  {
    const { db, partition } = await openWithTopic(kl, dir, { durability: 'none' })
    buildLog(kl, partition, pool, count, batch)
    await db.close()
  }
  const db = await kl.Kafkalite.open({ dir })
  const partition = db.topic('bench').partition(0)
  const rate = (s) => ({ ...s, value: s.count / (s.ms / 1000) })
  const floor = () => {
    const s = floorScan(floorPath, FETCH_BYTES)
    verify('floor scan', s, expected)
    return rate(s)
  }
  const out = []
  try {
    const raw = await alternate(reps, floor, () => {
      const s = rawScan(partition)
      verify(rawName, s, expected)
      return rate(s)
    })
    out.push(result({ name: rawName, value: raw.subject, unit: 'records/s', floor: raw.floor, target: RAW_TARGET, verified: expected }))

    const consumerAvailable = has.consumer && ctx.consumerScan !== undefined
    const name = consumerAvailable ? matName : `scan, Partition.readRecords (materialised; no consumer yet), V=${valueBytes}`
    const scan = consumerAvailable ? (r) => ctx.consumerScan(db, expected.count) : () => readRecordsScan(partition)
    const mat = await alternate(reps, floor, async () => {
      const s = await scan()
      verify(name, s, expected)
      return rate(s)
    })
    out.push(
      result({
        name,
        value: mat.subject,
        unit: 'records/s',
        floor: mat.floor,
        target: MATERIALISED_TARGET,
        verified: expected,
        ...(!consumerAvailable && { note: 'consumers have not landed: measured through Partition.readRecords, the closest public API' }),
      }),
    )
    const groupName = `scan, consumer group member (materialised records), V=${valueBytes}`
    if (ctx.adapters?.groupScan) {
      const grp = await alternate(reps, floor, async () => {
        const s = await ctx.adapters.groupScan(db, expected.count)
        verify(groupName, s, expected)
        return rate(s)
      })
      out.push(result({ name: groupName, value: grp.subject, unit: 'records/s', floor: grp.floor, target: MATERIALISED_TARGET, verified: expected }))
    } else out.push(unavailable(groupName, 'kl.consumerGroup (src/group)', MATERIALISED_TARGET))
  } finally {
    await db.close()
  }
  return out
}
