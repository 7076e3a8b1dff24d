/**
 * The cleaner's public shapes: what the engine hands in (CleanerHost, CleanableLog, CleanerOptions) and
 * what it gets back (run reports, per-partition descriptions). The behaviour is in cleaner-manager.ts.
 */
import type { Clock } from '../io/clock'
import type { FileSystem } from '../io/file-system'
import type { PartitionLog } from '../storage/partition-log'
import type { Offset } from '../util/types'
import type { CompactionConfig } from './cleanable'
import type { CleanerState } from './cleaner-state'
import type { RetentionConfig, SegmentDeletedEvent } from './retention'

export type CleanerTopicConfig = RetentionConfig & CompactionConfig

/** One partition as the engine hands it over: its log and its topic's current config. */
export interface CleanableLog {
  log: PartitionLog
  config: Readonly<CleanerTopicConfig>
}

/** What the cleaner needs from the engine. */
export interface CleanerHost {
  readonly fs: FileSystem
  readonly clock: Clock
  /** Data directory root, for `cleaner-offset-checkpoint`; omitted, the checkpoint stays in memory. */
  readonly dataDir?: string
  /** The open partitions now (called at the start of every pass; a closed log is skipped). */
  logs(): Iterable<CleanableLog>
  /** Makes the current log start offsets durable (the engine's log-start-offset-checkpoint). */
  checkpointLogStartOffsets?(): Promise<void>
}

export interface CleanerOptions {
  /** Memory of the key → offset map (engine: logCleanerDedupeBufferSize). Default 128 MiB. */
  dedupeBufferSize?: number
  /** How full the map may get (engine: logCleanerIoBufferLoadFactor). Default 0.9. */
  loadFactor?: number
  /** Compact topics whose policy includes "compact" (engine: logCleanerEnable). Default true. */
  compactionEnabled?: boolean
  /** Period of the background pass started by `start()`. Default 15000 (Kafka's log.cleaner.backoff.ms). */
  intervalMs?: number
  /** Bytes a round reads from a segment at a time (one positional read). Default 128 KiB. */
  chunkBytes?: number
  /**
   * Milliseconds of synchronous work after which a round yields to the event loop (slice-budget.ts).
   * Default 0.2. 0 yields after every step (every batch): tests use it to stop a round anywhere.
   */
  sliceBudgetMs?: number
  /** How a round yields between slices. Default: `setImmediate`. Tests inject a gate. */
  yieldSlice?: () => Promise<void>
}

export interface CompactionSummary {
  topic: string
  partition: number
  firstDirtyOffset: Offset
  /** The next round's first dirty offset. */
  endOffset: Offset
  mapFull: boolean
  keysMapped: number
  segmentsBefore: number
  segmentsAfter: number
  bytesBefore: number
  bytesAfter: number
  recordsRead: number
  recordsKept: number
  /** Wall-clock duration of the round (performance.now), for throughput figures. */
  durationMs: number
}

export interface CleanerError {
  topic: string
  partition: number
  error: Error
}

export interface CleanerRunReport {
  /** Idle active segments rolled because they were older than segmentMs. */
  rolled: number
  deleted: SegmentDeletedEvent[]
  compactions: CompactionSummary[]
  errors: CleanerError[]
  /** A round stopped because the offset map was full: another pass will continue it. */
  moreWork: boolean
}

/** The cleaner's view of one partition, for `describeTopic`. */
export interface PartitionCleanerDescription {
  cleanerState: CleanerState
  /** Cleanable / (clean + cleanable) bytes; 0 for a partition that is not compacted. */
  dirtyRatio: number
  firstDirtyOffset: Offset
  lastCleanTimeMs: number | null
  /** Bytes compaction removed since the cleaner started. */
  bytesReclaimed: number
  /** Bytes retention deleted since the cleaner started. */
  bytesDeleted: number
  compactionRounds: number
  lastError: string | null
}
