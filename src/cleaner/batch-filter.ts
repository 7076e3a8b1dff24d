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
  writeInt64,
  type Record,
} from '../codec/record-batch'
import { compress } from '../codec/compression/index'
import { crc32c } from '../codec/crc32c'
import type { ErrorContext } from '../errors/index'
import type { Offset, Position, TimestampMs } from '../util/types'
import type { OffsetMap } from './offset-map'
import { RecordCursor, batchFacts, emptyFacts, recordsOf, type RecordsView } from './record-cursor'
import { RECORDS_PER_CHECK } from './slice-budget'

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

/**
 * Filters batches one at a time, resumably: `begin` a batch, `advance` through its records (it stops
 * when the caller's slice is spent, and continues in the next), then `finish`. One per round: it holds
 * the batch in progress, the cursor, and the kept record extents, reused from batch to batch. The
 * batch's bytes (and, for a compressed batch, its inflated records) must stay unchanged until `finish`.
 */
export class BatchFilter {
  private readonly cursor = new RecordCursor()
  private readonly facts = emptyFacts()
  private view: RecordsView | undefined
  private keptStarts = new Int32Array(1024)
  private keptEnds = new Int32Array(1024)
  // The batch in progress.
  private buf: Buffer = Buffer.alloc(0)
  private pos: Position = 0
  private kept = 0
  private keptTombstone = false
  private maxTimestamp = -Infinity
  private horizon: TimestampMs | undefined
  private tombstonesExpired = false

  constructor(
    private readonly ctx: FilterContext,
    private readonly stats: FilterStats,
  ) {}

  /**
   * Starts on the batch `buf[pos, pos+size)`. Returns its outcome when the header decides it (a
   * control batch is kept, an empty one dropped); otherwise undefined, and the caller calls `advance`
   * until it returns true, then `finish`.
   */
  begin(buf: Buffer, pos: Position, size: number): FilterOutcome | undefined {
    const facts = batchFacts(buf, pos, this.facts)
    if (facts.isControl) return KEEP
    // An empty batch (left by an earlier round) goes unless the compactor must keep it (see compactor.ts).
    if (facts.count === 0) return DROP
    const view = (this.view = recordsOf(buf, pos, size, this.ctx.maxDecompressedBytes, this.ctx.context, this.view))
    this.buf = buf
    this.pos = pos
    this.horizon = facts.hasDeleteHorizon ? facts.baseTimestamp : undefined
    this.tombstonesExpired = this.horizon !== undefined && this.ctx.now >= this.horizon
    if (this.keptStarts.length < view.count) {
      this.keptStarts = new Int32Array(view.count)
      this.keptEnds = new Int32Array(view.count)
    }
    this.kept = 0
    this.keptTombstone = false
    this.maxTimestamp = -Infinity
    this.cursor.reset(view, facts)
    return undefined
  }

  /**
   * Decides on the next records of the batch. Returns true once every record is decided, false when
   * `due()` (asked every RECORDS_PER_CHECK records) says the slice is spent first.
   */
  advance(due: () => boolean): boolean {
    const r = this.cursor
    const { map, mappedUpTo } = this.ctx
    const keptStarts = this.keptStarts
    const keptEnds = this.keptEnds
    let kept = this.kept
    let checked = 0
    try {
      while (r.next()) {
        let keep: boolean
        if (r.offset > mappedUpTo) keep = true
        else if (r.keyStart < 0) keep = false
        else keep = r.offset >= map.get(r.data, r.keyStart, r.keyEnd) && (!r.valueIsNull || !this.tombstonesExpired)
        if (keep) {
          keptStarts[kept] = r.start
          keptEnds[kept] = r.end
          kept++
          if (r.valueIsNull) this.keptTombstone = true
          const timestamp = r.timestamp
          if (timestamp > this.maxTimestamp) this.maxTimestamp = timestamp
        }
        if (++checked === RECORDS_PER_CHECK) {
          checked = 0
          if (due()) return false
        }
      }
      return true
    } finally {
      this.kept = kept
    }
  }

  /** The outcome of the batch begun last, once `advance` has returned true. */
  finish(): FilterOutcome {
    const { ctx, stats, facts, kept } = this
    const view = this.view!
    stats.recordsRead += view.count
    stats.recordsKept += kept
    if (kept === 0) return DROP
    const needsHorizon = this.keptTombstone && this.horizon === undefined
    const effectiveHorizon = needsHorizon ? ctx.now + ctx.deleteRetentionMs : this.horizon
    if (this.keptTombstone && effectiveHorizon !== undefined) {
      stats.earliestDeleteHorizonMs = Math.min(stats.earliestDeleteHorizonMs ?? Infinity, effectiveHorizon)
    }
    if (kept === view.count && !needsHorizon) return KEEP
    if (needsHorizon) return { kind: 'rewrite', batch: this.rewriteWithHorizon(effectiveHorizon!) }
    return { kind: 'rewrite', batch: this.copyKept(facts.logAppendTime ? facts.maxTimestamp : this.maxTimestamp) }
  }

  /**
   * The batch with only the kept records, copied byte for byte; header fields as described above. An
   * uncompressed batch is built in one buffer (the common case: no intermediate copy of the records).
   */
  private copyKept(maxTimestamp: TimestampMs): Buffer {
    const { buf, pos, kept, keptStarts, keptEnds } = this
    const { data, codec } = this.view!
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
    writeInt64(batch, MAX_TIMESTAMP_OFFSET, maxTimestamp) // two int32 writes, no BigInt per batch
    batch.writeInt32BE(kept, RECORDS_COUNT_OFFSET)
    batch.writeUInt32BE(crc32c(batch.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET)
    return batch
  }

  /**
   * The batch with only the kept records and a delete horizon: the rare path (once per batch holding
   * tombstones), so it decodes and re-encodes rather than patching varints in place.
   */
  private rewriteWithHorizon(deleteHorizonMs: TimestampMs): Buffer {
    const { buf, pos, kept, keptStarts, ctx } = this
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
