/**
 * Which part of a compacted partition a round may clean, and whether it is worth cleaning now (Kafka's
 * `LogCleanerManager.cleanableOffsets` and `LogToClean`).
 *
 *   [logStartOffset … firstDirtyOffset)        the clean section: compacted by earlier rounds
 *   [firstDirtyOffset … firstUncleanableOffset) the dirty section this round may compact
 *   [firstUncleanableOffset … logEndOffset)    never touched by this round
 *
 * `firstDirtyOffset` comes from the cleaner checkpoint, reset to the log start offset when missing or
 * outside the log. `firstUncleanableOffset` is a segment base offset, the lowest of:
 * - the active segment's (it is never compacted);
 * - the first segment not wholly below the high watermark (its records may be unreadable, or not yet
 *   on disk);
 * - with `minCompactionLagMs > 0`, the first dirty segment holding a record younger than the lag
 *   (records are protected for at least that long; like Kafka, at segment granularity).
 *
 * The dirty ratio is cleanable bytes / (clean + cleanable bytes), counted in whole segments (a segment
 * straddling a boundary counts on both sides, as in Kafka). A partition is cleaned when the ratio
 * exceeds `minCleanableDirtyRatio`, when its oldest dirty record is older than `maxCompactionLagMs`
 * (and there is something to clean), or when a tombstone's delete horizon has passed (kafkalite adds
 * this so that tombstones go on time on a quiet partition; Kafka waits for new dirty data).
 */
import type { TopicConfig } from '../config/topic-config'
import { RECORD_BATCH_OVERHEAD, readMaxTimestamp } from '../codec/record-batch'
import type { PartitionLog } from '../storage/partition-log'
import type { LogSegment } from '../storage/segment'
import type { Offset } from '../util/types'

export type CompactionConfig = Pick<
  TopicConfig,
  | 'cleanupPolicy'
  | 'deleteRetentionMs'
  | 'minCompactionLagMs'
  | 'maxCompactionLagMs'
  | 'minCleanableDirtyRatio'
  | 'segmentBytes'
  | 'segmentIndexBytes'
  | 'fileDeleteDelayMs'
  | 'maxDecompressedBatchBytes'
>

export interface CleanableRange {
  firstDirtyOffset: Offset
  firstUncleanableOffset: Offset
  cleanBytes: number
  cleanableBytes: number
  dirtyRatio: number
  /** The oldest dirty record is older than maxCompactionLagMs. */
  needCompactionNow: boolean
}

export function cleanableRange(log: PartitionLog, config: CompactionConfig, checkpointed: Offset | undefined, now: number): CleanableRange {
  const segments = log.segmentList
  const start = log.logStartOffset
  const firstDirtyOffset = checkpointed === undefined || checkpointed < start || checkpointed > log.logEndOffset ? start : checkpointed
  let firstUncleanableOffset = uncleanableBoundary(segments, log.highWatermark)
  if (config.minCompactionLagMs > 0) {
    for (const s of segments) {
      if (s.baseOffset >= firstUncleanableOffset) break
      if (endOf(segments, s) > firstDirtyOffset && s.largestTimestamp > now - config.minCompactionLagMs) {
        firstUncleanableOffset = s.baseOffset
        break
      }
    }
  }
  firstUncleanableOffset = Math.max(firstUncleanableOffset, firstDirtyOffset)
  const cleanBytes = bytesOverlapping(segments, start, firstDirtyOffset)
  const cleanableBytes = bytesOverlapping(segments, firstDirtyOffset, firstUncleanableOffset)
  const total = cleanBytes + cleanableBytes
  const dirtyRatio = total === 0 ? 0 : cleanableBytes / total
  let needCompactionNow = false
  if (cleanableBytes > 0 && config.maxCompactionLagMs < Number.MAX_SAFE_INTEGER) {
    const earliest = firstDirtyBatchTimestamp(segments, firstDirtyOffset, firstUncleanableOffset)
    needCompactionNow = earliest !== undefined && earliest > 0 && now - earliest >= config.maxCompactionLagMs
  }
  return { firstDirtyOffset, firstUncleanableOffset, cleanBytes, cleanableBytes, dirtyRatio, needCompactionNow }
}

/** Whether a round should run now (see the module comment). */
export function shouldClean(range: CleanableRange, config: CompactionConfig, nextDeleteHorizonMs: number | undefined, now: number): boolean {
  if (range.cleanableBytes > 0 && (range.needCompactionNow || range.dirtyRatio > config.minCleanableDirtyRatio)) return true
  return nextDeleteHorizonMs !== undefined && now >= nextDeleteHorizonMs && range.cleanBytes > 0
}

/** Base offset of the first segment that is active or not wholly below the high watermark. */
function uncleanableBoundary(segments: readonly LogSegment[], highWatermark: Offset): Offset {
  for (let i = 0; i < segments.length - 1; i++) {
    if (segments[i + 1]!.baseOffset > highWatermark) return segments[i]!.baseOffset
  }
  return segments[segments.length - 1]!.baseOffset
}

/** The exclusive upper bound of a segment's offsets: the next segment's base (or infinity). */
function endOf(segments: readonly LogSegment[], s: LogSegment): Offset {
  const i = segments.indexOf(s)
  return i + 1 < segments.length ? segments[i + 1]!.baseOffset : Number.MAX_SAFE_INTEGER
}

/** Total size of the segments holding offsets in [from, to). */
function bytesOverlapping(segments: readonly LogSegment[], from: Offset, to: Offset): number {
  let total = 0
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!
    const end = i + 1 < segments.length ? segments[i + 1]!.baseOffset : Number.MAX_SAFE_INTEGER
    if (s.baseOffset < to && end > from) total += s.size
  }
  return total
}

/** The max timestamp of the first dirty batch (Kafka's `getFirstBatchTimestamp` of the first dirty segment). */
function firstDirtyBatchTimestamp(segments: readonly LogSegment[], firstDirty: Offset, uncleanable: Offset): number | undefined {
  for (const s of segments) {
    if (s.baseOffset >= uncleanable) return undefined
    const loc = s.translateOffset(firstDirty)
    if (loc === undefined) continue
    return readMaxTimestamp(s.read(loc.position, RECORD_BATCH_OVERHEAD), 0)
  }
  return undefined
}
