/**
 * Retention: which old segments a partition deletes, as predicates run through one deletion routine
 * (Kafka's `UnifiedLog.deleteOldSegments` and its `deleteRetentionMsBreachedSegments`,
 * `deleteRetentionSizeBreachedSegments`, `deleteLogStartOffsetBreachedSegments`).
 *
 * The routine, `deleteOldSegments`, enforces the global rules once, whatever the predicate says:
 * - the active segment is never deleted (use `segmentMs` to roll an idle one, see the scheduler);
 * - a segment holding any offset at or after the high watermark is never deleted (a reader could not
 *   yet see its records, and in 'fsync' durability they may not be on disk);
 * - segments are visited oldest first, and the walk stops at the first segment the predicate keeps, so
 *   the log stays contiguous.
 * Deleted segments leave the log synchronously (the log start offset moves to the first remaining
 * segment), their files are renamed to `.deleted` and unlinked after `fileDeleteDelayMs`, and each one
 * is reported with a typed reason.
 */
import type { TopicConfig } from '../config/topic-config'
import type { FileSystem } from '../io/file-system'
import type { PartitionLog } from '../storage/partition-log'
import type { LogSegment } from '../storage/segment'
import type { Offset } from '../util/types'

/** Why a segment was deleted; it appears in events and reports. */
export type DeletionReason = 'retention-ms' | 'retention-bytes' | 'log-start-offset'

/** Emitted once per deleted segment. */
export interface SegmentDeletedEvent {
  topic: string
  partition: number
  baseOffset: Offset
  reason: DeletionReason
  /** Size of the segment's `.log` file. */
  bytes: number
}

/**
 * Whether `segment`, the oldest segment not yet chosen, should go; `next` is the segment after it
 * (there always is one: the active segment is never offered). Predicates may keep state across calls
 * of one walk (the size predicate counts down the excess).
 */
export type DeletionPredicate = (segment: LogSegment, next: LogSegment) => boolean

export type RetentionConfig = Pick<TopicConfig, 'cleanupPolicy' | 'retentionMs' | 'retentionBytes' | 'fileDeleteDelayMs'>

/**
 * `retentionMs`: a segment goes once its largest record timestamp is more than `retentionMs` old
 * (Kafka's rule: `now - largestTimestamp > retentionMs`). A segment without timestamps (or whose time
 * index was lost) is judged by its file's modification time, as Kafka's `LogSegment.largestTimestamp`
 * does. Undefined when time retention is off (-1).
 */
export function retentionMsPredicate(retentionMs: number, now: number, fs: FileSystem): DeletionPredicate | undefined {
  if (retentionMs < 0) return undefined
  return (segment) => {
    let largest = segment.largestTimestamp
    if (largest < 0) largest = fs.stat(segment.logPath).mtimeMs
    return now - largest > retentionMs
  }
}

/**
 * `retentionBytes`: oldest segments go while the partition (all its `.log` files, the active one
 * included) would still be at least `retentionBytes` without them. Undefined when size retention is
 * off (-1) or the partition is not over the limit.
 */
export function retentionBytesPredicate(log: PartitionLog, retentionBytes: number): DeletionPredicate | undefined {
  if (retentionBytes < 0) return undefined
  let excess = log.size - retentionBytes
  if (excess < 0) return undefined
  return (segment) => {
    if (excess - segment.size < 0) return false
    excess -= segment.size
    return true
  }
}

/** Segments wholly below the log start offset (after `deleteRecords` or a retention move) go. */
export function logStartOffsetPredicate(log: PartitionLog): DeletionPredicate {
  return (_segment, next) => next.baseOffset <= log.logStartOffset
}

export interface DeletionEffects {
  /** Disposes of a segment's files (rename to `.deleted`, unlink later). */
  retire(segment: LogSegment): void
  onDeleted(event: SegmentDeletedEvent): void
}

/**
 * Deletes the oldest segments that `shouldDelete` accepts, under the global rules above. Returns the
 * deleted segments. Assumes: called under the partition's cleaner lock (no compaction is replacing
 * these segments) and synchronous from the walk to the removal, so appends cannot interleave.
 */
export function deleteOldSegments(log: PartitionLog, shouldDelete: DeletionPredicate, reason: DeletionReason, effects: DeletionEffects): LogSegment[] {
  const segments = log.segmentList
  const highWatermark = log.highWatermark
  let count = 0
  for (let i = 0; i < segments.length - 1; i++) {
    const next = segments[i + 1]!
    // The segment's offsets end below next.baseOffset: all must be below the high watermark.
    if (next.baseOffset > highWatermark) break
    if (!shouldDelete(segments[i]!, next)) break
    count++
  }
  if (count === 0) return []
  const sizes = segments.slice(0, count).map((s) => s.size)
  const removed = log.removeOldestSegments(count, (s) => effects.retire(s))
  removed.forEach((s, i) =>
    effects.onDeleted({ topic: log.topic, partition: log.partition, baseOffset: s.baseOffset, reason, bytes: sizes[i]! }),
  )
  return removed
}

/**
 * One retention pass over a partition, in Kafka's order: time, then size (only with the "delete"
 * policy), then the log start offset (every policy). Returns the deleted segments.
 */
export function applyRetention(log: PartitionLog, config: RetentionConfig, now: number, fs: FileSystem, effects: DeletionEffects): LogSegment[] {
  const deleted: LogSegment[] = []
  if (config.cleanupPolicy.includes('delete')) {
    const byTime = retentionMsPredicate(config.retentionMs, now, fs)
    if (byTime !== undefined) deleted.push(...deleteOldSegments(log, byTime, 'retention-ms', effects))
    const bySize = retentionBytesPredicate(log, config.retentionBytes)
    if (bySize !== undefined) deleted.push(...deleteOldSegments(log, bySize, 'retention-bytes', effects))
  }
  deleted.push(...deleteOldSegments(log, logStartOffsetPredicate(log), 'log-start-offset', effects))
  return deleted
}
