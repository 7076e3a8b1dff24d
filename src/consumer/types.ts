/**
 * The consumer's public value types: what `poll` returns, what the reset event carries, and the small
 * shapes that name partitions and offsets. Kept apart from the Consumer class so that the group layer
 * (src/group) and the public API can import them without the machinery.
 */
import type { RecordHeader } from '../codec/record-batch'
import type { Offset, TimestampMs } from '../util/types'

export interface TopicPartition {
  topic: string
  partition: number
}

export interface TopicPartitionOffset extends TopicPartition {
  offset: Offset
}

/**
 * One consumed record. For records of uncompressed batches, `key`, `value` and header values are views
 * into the buffer that one read of the log returned (no copies): they stay valid for as long as the
 * application holds them, because that buffer is never reused or rewritten. The flip side: a record kept
 * keeps its whole read (up to maxPartitionFetchBytes) in memory; copy a key or value kept for long.
 *
 * The consumer's records make `key`, `value` and `headers` on first access (then the same object each
 * time): they are accessors, so `{ ...record }` and `Object.keys(record)` see only `topic`, `partition`,
 * `offset` and `timestamp`, while `JSON.stringify` and `util.inspect` show all seven fields
 * (src/consumer/lazy-record.ts).
 */
export interface ConsumerRecord {
  topic: string
  partition: number
  offset: Offset
  timestamp: TimestampMs
  key: Buffer | null
  value: Buffer | null
  headers: RecordHeader[]
}

/**
 * Emitted as `'offsetReset'` whenever a position was out of range and `autoOffsetReset` moved it, so
 * that a reset is never silent. `recordsSkipped` counts offsets between the old and the new position
 * (offsets, not records: the deleted range cannot be inspected any more, and compaction leaves gaps);
 * it is 0 when the reset moves backwards (re-reading rather than skipping).
 */
export interface OffsetResetEvent {
  topic: string
  partition: number
  /** The position that was out of range. */
  from: Offset
  /** The position after the reset. */
  to: Offset
  recordsSkipped: number
  /** Whether `from` was a committed offset supplied by the group layer, not a consumed position or a seek. */
  fromCommitted: boolean
  policy: 'earliest' | 'latest'
  reason: 'belowLogStart' | 'aboveLogEnd'
  logStartOffset: Offset
  logEndOffset: Offset
}

/** Per-partition reset totals over the consumer's life (kept after the partition is revoked). */
export interface OffsetResetTotals extends TopicPartition {
  resets: number
  recordsSkipped: number
}

export interface OffsetForTimeResult extends TopicPartition {
  /** The earliest offset whose timestamp is ≥ the one asked for; null when every record is older. */
  offset: Offset | null
  /** That record's timestamp; null with `offset`. */
  timestamp: TimestampMs | null
}

export interface PollOptions {
  /** Most records to return; defaults to the consumer's `maxPollRecords`. */
  maxRecords?: number
  /** How long to wait when nothing is available; defaults to the consumer's `fetchMaxWaitMs`. */
  timeoutMs?: number
}
