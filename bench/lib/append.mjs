/**
 * Appends: the floor writes B-record batches with writeSync (and fsyncs after each batch when durable);
 * kafkalite appends the same records through the public Producer, acks 1 and acks 'all'. A storage-level
 * row (Partition.append of encodeRecordBatch batches, the floor's batch for batch) is reported beside it,
 * so a gap can be placed in the producer or in the log.
 *
 * Every run is verified afterwards (not timed): the floor's file is scanned and kafkalite's log read
 * back, and both must hold `count` records with the expected checksum.
 */
import { join } from 'node:path'
import { floorAppend, floorScan } from './floor.mjs'
import { alternate, cleanupScratch, result, unavailable, verify } from './harness.mjs'
import { openWithTopic } from './kafkalite.mjs'
import { makeRecordPool, recordsPerBatch } from './records.mjs'
import { rawScan } from './scan.mjs'
import { now } from './stats.mjs'

export const ACKS1_TARGET = { kind: 'ratio', op: '>=', value: 0.75, text: '≥ 0.75 × floor' }
export const ACKS_ALL_TARGET = { kind: 'ratio', op: '>=', value: 0.85, text: '≥ 0.85 × fsync floor' }

const TIMESTAMP = 1_700_000_000_000

export async function measureAppends(ctx, { valueBytes, count, acks, reps }) {
  const { kl, has, scratch } = ctx
  const durable = acks === 'all'
  const target = valueBytes === 100 ? (durable ? ACKS_ALL_TARGET : ACKS1_TARGET) : null
  const batch = recordsPerBatch(valueBytes)
  const pool = makeRecordPool(valueBytes, batch * 64)
  const expected = { count, checksum: pool.expectedChecksum(count) }
  const floorName = durable ? 'fsync floor' : 'floor'
  let seq = 0
  const fresh = (what) => join(scratch, `append-${what}-${valueBytes}-${acks}-${seq++}`)

  const floor = () => {
    const path = fresh('floor')
    const { ms } = floorAppend(path, pool, count, batch, durable)
    verify(`${floorName} append`, floorScan(path), expected)
    cleanupScratch(path)
    return { ms, value: count / (ms / 1000) }
  }
  const kafkalite = (append) => async () => {
    const dir = fresh('kafkalite')
    const { db, partition } = await openWithTopic(kl, dir, { durability: durable ? 'fsync' : 'none' })
    try {
      const ms = await append(db, partition)
      verify(`kafkalite append`, rawScan(partition), expected)
      return { ms, value: count / (ms / 1000) }
    } finally {
      await db.close()
      cleanupScratch(dir)
    }
  }

  const out = []
  const producerName = `append, Producer acks=${acks === 'all' ? "'all'" : acks}, V=${valueBytes}`
  if (has.producer && ctx.producerAppend) {
    const r = await alternate(reps, floor, kafkalite((db) => ctx.producerAppend(db, pool, count, { acks, batch })))
    out.push(result({ name: producerName, value: r.subject, unit: 'records/s', floor: r.floor, target, verified: expected }))
  } else out.push(unavailable(producerName, 'the Producer (src/producer)', target))

  if (has.partition && has.encode) {
    const name = `append, Partition.append(encodeRecordBatch)${durable ? ' + flush per batch' : ''}, V=${valueBytes}`
    const r = await alternate(reps, floor, kafkalite((db, partition) => partitionAppend(kl, partition, pool, count, batch, durable)))
    out.push(
      result({
        name,
        value: r.subject,
        unit: 'records/s',
        floor: r.floor,
        verified: expected,
        note: `storage path: one encodeRecordBatch + Partition.append per B=${batch} records${durable ? ', awaiting flush() after each, as the floor fsyncs' : ''}; topic durability '${durable ? 'fsync' : 'none'}'`,
      }),
    )
  }
  return out
}

/** Encodes and appends B-record batches, timed; with `durable`, awaits an fsync per batch like the floor. */
async function partitionAppend(kl, partition, pool, count, batch, durable) {
  const start = now()
  for (let i = 0; i < count; ) {
    const n = Math.min(batch, count - i)
    const records = new Array(n)
    for (let j = 0; j < n; j++, i++) {
      const { key, value } = pool.record(i)
      records[j] = { key, value, timestamp: TIMESTAMP }
    }
    partition.append(kl.encodeRecordBatch({ records }))
    if (durable) await partition.flush()
  }
  return now() - start
}
