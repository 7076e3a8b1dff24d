/**
 * What compaction keeps of one batch (Kafka's `MemoryRecords.filterTo` with the cleaner's
 * `shouldRetainRecord`). A record is kept when:
 * - its offset is past what this round mapped (`mappedUpTo`): its key's later records are unknown yet;
 * - otherwise, it has a key, it is the latest record of that key in the map (or its key is not in the
 *   map: its latest record is in the clean section, which earlier rounds deduplicated), and it is not
 *   a tombstone whose delete horizon has passed.
 * Records without a key are dropped, as Kafka's cleaner drops them (a compacted topic refuses them on
 * append in Kafka; kafkalite's producer does not send them).
 *
 * Delete horizon (KIP-534): a batch that keeps a tombstone and has no horizon yet is rewritten with
 * attribute bit 6 set and baseTimestamp = now + deleteRetentionMs; its tombstones go in the first round
 * at or after that time. Record timestamps stay the same (their deltas are rebased on the horizon).
 *
 * The rewritten batch keeps baseOffset, lastOffsetDelta (so the batch's last offset), producerId,
 * producerEpoch, baseSequence, partitionLeaderEpoch, the codec and every attribute; offsets inside it
 * may have gaps. Without a new horizon the kept records are copied byte for byte (their deltas are
 * relative to the unchanged baseOffset and baseTimestamp, which therefore may now be below the first
 * kept record's: legal, and what Kafka's readers accept), and maxTimestamp is recomputed over them
 * (CreateTime). A batch that keeps everything and needs no horizon is kept as it is.
 *
 * Control batches (transaction markers) are kept as they are: kafkalite has no transactions yet.
 */
import {
  BATCH_LENGTH_OFFSET,
  CRC_OFFSET,
  ATTRIBUTES_OFFSET,
  LOG_OVERHEAD,
  MAX_TIMESTAMP_OFFSET,
  RECORDS_COUNT_OFFSET,
  RECORDS_OFFSET,
  decodeRecords,
  encodeRecordBatch,
  readBatchHeader,
  type Record,
} from '../codec/record-batch'
import { compress, type CompressionCodec } from '../codec/compression/index'
import { crc32c } from '../codec/crc32c'
import type { ErrorContext } from '../errors/index'
import type { Offset, Position, TimestampMs } from '../util/types'
import type { OffsetMap } from './offset-map'
import { RecordCursor, batchFacts, emptyFacts, recordsOf, type RecordsView } from './record-cursor'

export interface FilterContext {
  map: OffsetMap
  /** Records above this offset were not mapped this round and are kept. */
  mappedUpTo: Offset
  now: TimestampMs
  deleteRetentionMs: number
  maxDecompressedBytes: number
  context: ErrorContext
}

export type FilterOutcome =
  | { kind: 'keep' }
  | { kind: 'drop' }
  | { kind: 'rewrite'; batch: Buffer }

export interface FilterStats {
  recordsRead: number
  recordsKept: number
  /** Earliest delete horizon of a kept batch that still holds tombstones (when the next round is due). */
  earliestDeleteHorizonMs: TimestampMs | undefined
}

const KEEP: FilterOutcome = Object.freeze({ kind: 'keep' })
const DROP: FilterOutcome = Object.freeze({ kind: 'drop' })

// Kept record extents of the batch being filtered, the cursor, the header facts and the records view,
// reused across calls (the filter is synchronous, so never reentered).
const cursor = new RecordCursor()
const facts = emptyFacts()
let view: RecordsView | undefined
let keptStarts = new Int32Array(1024)
let keptEnds = new Int32Array(1024)

export function filterBatch(buf: Buffer, pos: Position, size: number, ctx: FilterContext, stats: FilterStats): FilterOutcome {
  batchFacts(buf, pos, facts)
  if (facts.isControl) return KEEP
  // An empty batch (left by an earlier round) goes unless the compactor must keep it (see compactor.ts).
  if (facts.count === 0) return DROP
  view = recordsOf(buf, pos, size, ctx.maxDecompressedBytes, ctx.context, view)
  const horizon = facts.hasDeleteHorizon ? facts.baseTimestamp : undefined
  const tombstonesExpired = horizon !== undefined && ctx.now >= horizon
  if (keptStarts.length < view.count) {
    keptStarts = new Int32Array(view.count)
    keptEnds = new Int32Array(view.count)
  }
  let kept = 0
  let keptTombstone = false
  let maxTimestamp = -Infinity
  const r = cursor.reset(view, facts)
  const map = ctx.map
  while (r.next()) {
    let keep: boolean
    if (r.offset > ctx.mappedUpTo) keep = true
    else if (r.keyStart < 0) keep = false
    else keep = r.offset >= map.get(r.data, r.keyStart, r.keyEnd) && (!r.valueIsNull || !tombstonesExpired)
    if (!keep) continue
    keptStarts[kept] = r.start
    keptEnds[kept] = r.end
    kept++
    if (r.valueIsNull) keptTombstone = true
    if (r.timestamp > maxTimestamp) maxTimestamp = r.timestamp
  }
  stats.recordsRead += view.count
  stats.recordsKept += kept
  if (kept === 0) return DROP
  const needsHorizon = keptTombstone && horizon === undefined
  const effectiveHorizon = needsHorizon ? ctx.now + ctx.deleteRetentionMs : horizon
  if (keptTombstone && effectiveHorizon !== undefined) {
    stats.earliestDeleteHorizonMs = Math.min(stats.earliestDeleteHorizonMs ?? Infinity, effectiveHorizon)
  }
  if (kept === view.count && !needsHorizon) return KEEP
  if (needsHorizon) return { kind: 'rewrite', batch: rewriteWithHorizon(buf, pos, kept, effectiveHorizon!, ctx) }
  return { kind: 'rewrite', batch: copyKept(buf, pos, view.data, view.codec, kept, facts.logAppendTime ? facts.maxTimestamp : maxTimestamp) }
}

/**
 * The batch with only the kept records, copied byte for byte; header fields as described above. An
 * uncompressed batch is built in one buffer (the common case: no intermediate copy of the records).
 */
function copyKept(
  buf: Buffer,
  pos: Position,
  data: Buffer,
  codec: CompressionCodec,
  kept: number,
  maxTimestamp: TimestampMs,
): Buffer {
  let length = 0
  for (let i = 0; i < kept; i++) length += keptEnds[i]! - keptStarts[i]!
  let batch: Buffer
  if (codec === 'none') {
    batch = Buffer.allocUnsafe(RECORDS_OFFSET + length)
    let at = RECORDS_OFFSET
    for (let i = 0; i < kept; i++) at += data.copy(batch, at, keptStarts[i]!, keptEnds[i]!)
  } else {
    const records = Buffer.allocUnsafe(length)
    let at = 0
    for (let i = 0; i < kept; i++) at += data.copy(records, at, keptStarts[i]!, keptEnds[i]!)
    const compressed = compress(codec, records)
    batch = Buffer.allocUnsafe(RECORDS_OFFSET + compressed.length)
    compressed.copy(batch, RECORDS_OFFSET)
  }
  buf.copy(batch, 0, pos, pos + RECORDS_OFFSET)
  batch.writeInt32BE(batch.length - LOG_OVERHEAD, BATCH_LENGTH_OFFSET)
  // int64 as two words: exact for any timestamp below 2^53, without a BigInt per batch.
  batch.writeInt32BE(Math.floor(maxTimestamp / 0x1_0000_0000), MAX_TIMESTAMP_OFFSET)
  batch.writeUInt32BE(((maxTimestamp % 0x1_0000_0000) + 0x1_0000_0000) % 0x1_0000_0000, MAX_TIMESTAMP_OFFSET + 4)
  batch.writeInt32BE(kept, RECORDS_COUNT_OFFSET)
  batch.writeUInt32BE(crc32c(batch.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET)
  return batch
}

/**
 * The batch with only the kept records and a delete horizon: the rare path (once per batch holding
 * tombstones), so it decodes and re-encodes rather than patching varints in place.
 */
function rewriteWithHorizon(buf: Buffer, pos: Position, kept: number, deleteHorizonMs: TimestampMs, ctx: FilterContext): Buffer {
  const header = readBatchHeader(buf, pos)
  const all = decodeRecords(buf, pos, { maxDecompressedBytes: ctx.maxDecompressedBytes }, ctx.context)
  const keptOffsets = new Set<Offset>()
  const view = recordsOf(buf, pos, header.sizeInBytes, ctx.maxDecompressedBytes, ctx.context)
  const r = new RecordCursor().reset(view, batchFacts(buf, pos))
  let i = 0
  while (r.next()) {
    if (i < kept && r.start === keptStarts[i]) {
      keptOffsets.add(r.offset)
      i++
    }
  }
  const records = all.filter((r: Record) => keptOffsets.has(r.offset))
  return encodeRecordBatch({
    baseOffset: header.baseOffset,
    partitionLeaderEpoch: header.partitionLeaderEpoch,
    compression: header.compression,
    timestampType: header.timestampType,
    isTransactional: header.isTransactional,
    isControl: header.isControl,
    producerId: header.producerId,
    producerEpoch: header.producerEpoch,
    baseSequence: header.baseSequence,
    lastOffsetDelta: header.lastOffsetDelta,
    deleteHorizonMs,
    ...(header.timestampType === 'LogAppendTime' && { maxTimestamp: header.maxTimestamp }),
    records: records.map((r) => ({
      key: r.key,
      value: r.value,
      headers: r.headers,
      timestamp: r.timestamp,
      offsetDelta: r.offset - header.baseOffset,
    })),
  })
}

/**
 * An empty batch standing for the batch at `pos` (Kafka's `writeEmptyHeader`): same baseOffset,
 * lastOffsetDelta, producer fields and partitionLeaderEpoch, no records, no compression, timestamps =
 * the batch's maxTimestamp. Compaction keeps one where the batch's last offset or last sequence must
 * survive (see compactor.ts).
 */
export function emptyBatchFor(buf: Buffer, pos: Position): Buffer {
  const h = readBatchHeader(buf, pos)
  return encodeRecordBatch({
    baseOffset: h.baseOffset,
    partitionLeaderEpoch: h.partitionLeaderEpoch,
    timestampType: h.timestampType,
    isTransactional: h.isTransactional,
    isControl: h.isControl,
    producerId: h.producerId,
    producerEpoch: h.producerEpoch,
    baseSequence: h.baseSequence,
    lastOffsetDelta: h.lastOffsetDelta,
    baseTimestamp: h.maxTimestamp,
    maxTimestamp: h.maxTimestamp,
    records: [],
  })
}
