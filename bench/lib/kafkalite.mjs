/**
 * kafkalite through its built package (dist/), exactly as a user gets it, plus what the measurements
 * need around it: which public APIs exist yet, building a log of known records, and walking raw batches.
 */
import { KEY_BYTES, valueSumAt } from './records.mjs'

/**
 * The package under test. run.mjs snapshots dist/ into bench/out/ first (KAFKALITE_BENCH_DIST), so a
 * rebuild of dist/ during a run (tsup cleans it) cannot pull the package from under the run or mix two
 * builds in one; the snapshot stays inside the repository so that its dependencies still resolve.
 */
export async function loadKafkalite() {
  const kl = await import(process.env.KAFKALITE_BENCH_DIST ?? '../../dist/index.js')
  const proto = kl.Kafkalite?.prototype ?? {}
  return {
    kl,
    has: {
      kafkalite: typeof kl.Kafkalite?.open === 'function',
      partition: typeof kl.Partition?.prototype?.read === 'function',
      readRecords: typeof kl.Partition?.prototype?.readRecords === 'function',
      encode: typeof kl.encodeRecordBatch === 'function',
      producer: typeof proto.producer === 'function',
      consumer: typeof proto.consumer === 'function',
      consumerGroup: typeof proto.consumerGroup === 'function',
      runCleaners: typeof proto.runCleaners === 'function',
    },
  }
}

/** A fresh data directory with one single-partition topic `bench`. Returns { db, partition }. */
export async function openWithTopic(kl, dir, topicConfig = {}, engineOptions = {}) {
  const db = await kl.Kafkalite.open({ dir, ...engineOptions })
  const topic = await db.createTopic('bench', { partitions: 1, ...topicConfig })
  return { db, topic, partition: topic.partition(0) }
}

/**
 * Appends `count` records of `pool` as batches of `batch` records through `Partition.append`. Batches
 * are encoded once per distinct slice of the pool and appended again and again when the pool cycles:
 * append rewrites only baseOffset, which the CRC does not cover, so a batch buffer can be reused.
 * This is for building logs to read (not timed); appends are measured through the Producer.
 */
export function buildLog(kl, partition, pool, count, batch, timestamp = 1_700_000_000_000) {
  const cache = new Map()
  for (let i = 0; i < count; ) {
    const n = Math.min(batch, count - i)
    const slot = `${i % pool.size}:${n}`
    let buf = cache.get(slot)
    if (buf === undefined) {
      const records = []
      for (let j = 0; j < n; j++) {
        const { key, value } = pool.record(i + j)
        records.push({ key, value, timestamp })
      }
      buf = kl.encodeRecordBatch({ records })
      if (pool.size % batch === 0) cache.set(slot, buf)
    }
    partition.append(buf)
    i += n
  }
}

/**
 * Walks the records of uncompressed RecordBatch v2 batches in `buf` (whole batches, as Partition.read
 * returns them) without allocating: for each record, skips to its value and folds it into the
 * checksum. Returns [count, checksum, nextOffset]. The caller's fetch offset is always a batch's base
 * offset in a sequential scan, so no record is skipped.
 */
export function walkBatches(buf, checksum) {
  let pos = 0
  let count = 0
  let nextOffset = -1
  while (pos + 61 <= buf.length) {
    const size = 12 + buf.readInt32BE(pos + 8)
    if ((buf.readInt16BE(pos + 21) & 0x07) !== 0) throw new Error('walkBatches reads uncompressed batches only')
    const records = buf.readInt32BE(pos + 57)
    nextOffset = buf.readInt32BE(pos) * 2 ** 32 + buf.readUInt32BE(pos + 4) + buf.readInt32BE(pos + 23) + 1
    let p = pos + 61
    for (let r = 0; r < records; r++) {
      // length varint | attributes | timestampDelta varlong | offsetDelta varint | keyLength | key | valueLength | value | headers
      let b = buf[p++]
      let length = b & 0x7f
      for (let shift = 7; b & 0x80; shift += 7) length |= ((b = buf[p++]) & 0x7f) << shift
      length = (length >>> 1) ^ -(length & 1)
      const end = p + length
      p++ // attributes
      while (buf[p++] & 0x80); // timestampDelta
      while (buf[p++] & 0x80); // offsetDelta
      b = buf[p++]
      let keyLength = b & 0x7f
      for (let shift = 7; b & 0x80; shift += 7) keyLength |= ((b = buf[p++]) & 0x7f) << shift
      keyLength = (keyLength >>> 1) ^ -(keyLength & 1)
      if (keyLength > 0) p += keyLength
      b = buf[p++]
      let valueLength = b & 0x7f
      for (let shift = 7; b & 0x80; shift += 7) valueLength |= ((b = buf[p++]) & 0x7f) << shift
      valueLength = (valueLength >>> 1) ^ -(valueLength & 1)
      checksum = (checksum + valueSumAt(buf, p, p + valueLength)) | 0
      count++
      p = end
    }
    pos += size
  }
  return [count, checksum, nextOffset]
}

export { KEY_BYTES }
