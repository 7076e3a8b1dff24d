/**
 * The log of one partition: an ordered chain of segments, the last of which (the active segment)
 * takes appends (Kafka's UnifiedLog + LocalLog, for one process).
 *
 * Invariants:
 * - Segments are sorted by base offset, never empty as a list, and only the last one is written.
 * - logStartOffset ≤ highWatermark ≤ logEndOffset, and recoveryPoint ≤ logEndOffset.
 * - Everything below `recoveryPoint` is fsynced. In 'fsync' durability the high watermark equals the
 *   recovery point, so a reader never sees a record that a machine crash could take back; in 'none'
 *   durability it equals the log end offset.
 * - The high watermark is always at a batch boundary; `hwMark` is the (segment, byte position) where
 *   it falls, so a read bounds itself by bytes without looking at offsets.
 *
 * - Producer state (producer-state.ts) describes exactly the batches below the log end offset: appends
 *   check and update it, `roll` and `close` snapshot it, open and `truncateTo` reload it.
 *
 * Concurrency: one writer. `append`, `truncateTo`, `roll` and `read` are synchronous, so no reader can
 * observe a half-applied append and no two appends interleave. The only awaits are fsyncs; a flush
 * captures (offset, segment, position) before it awaits and publishes only that afterwards, so appends
 * that land during an fsync wait for the next one (group commit).
 */
import { decodeRecords, forEachBatch, setBaseOffset, setLogAppendTime } from '../codec/record-batch'
import { ClosedError, IoError, KafkaliteError, OffsetOutOfRangeError, type ErrorContext } from '../errors'
import type { Clock, TimerHandle } from '../io/clock'
import { dirname, type FileSystem } from '../io/file-system'
import { assert } from '../util/assert'
import type { Offset, Position } from '../util/types'
import { validateAppend } from './append-validation'
import { FlushWaiters } from './flush-waiters'
import type { LogConfig } from './log-config'
import { CLEANED_SUFFIX } from './file-names'
import { deleteSegmentFiles, loadLog, type CleanShutdownState, type RecoveryReport } from './recovery'
import { ProducerStateManager, type BatchMetadata } from './producer-state'
import { LogSegment, type AppendedBatch, type SegmentConfig } from './segment'

export interface PartitionLogOptions {
  fs: FileSystem
  clock: Clock
  dir: string
  topic: string
  partition: number
  config: LogConfig
  recoveryPoint?: Offset | undefined
  logStartOffset?: Offset | undefined
  hadCleanShutdown?: boolean
  /** What the last clean close recorded (`cleanShutdownState` of the closed log), if known. */
  cleanShutdownState?: CleanShutdownState | undefined
  /** Closed segments kept open (handle + loaded indexes) for reads; older ones are released. */
  maxOpenSegments?: number
}

export interface AppendOptions {
  /** Decode every record to validate it (default true). The library's own producer passes false. */
  deepValidation?: boolean
}

export interface AppendResult {
  baseOffset: Offset
  lastOffset: Offset
  recordCount: number
  /** The broker time stamped on the batches when the topic uses LogAppendTime, else -1. */
  logAppendTime: number
  /**
   * True when the append was a retry of an idempotent producer's batch that is already in the log:
   * nothing was written, and the offsets (and LogAppendTime) are those of the original batch.
   */
  duplicate?: true
}

export interface ReadResult {
  /** Whole record batches (Kafka's fetch semantics: starting at the batch that holds the offset). */
  records: Buffer
  highWatermark: Offset
  logStartOffset: Offset
  logEndOffset: Offset
}

export interface ReadOptions {
  /** Read up to the log end rather than the high watermark (internal use: cleaner, tooling). */
  uncommitted?: boolean
  /**
   * Read into this caller-owned buffer: `records` is then a view of it, valid until the next read into
   * the same buffer (LogSegment.readFrom). Batches that must be returned but do not fit in it come in a
   * new Buffer.
   */
  buffer?: Buffer | undefined
}

const NO_READ_OPTIONS: ReadOptions = Object.freeze({})
/** An empty read result's bytes; a zero-length Buffer, so sharing it is safe. */
const EMPTY = Buffer.alloc(0)
const ignoreBatch = (): void => {}

interface HighWatermarkMark {
  offset: Offset
  segment: LogSegment
  position: Position
}

export class PartitionLog {
  readonly topic: string
  readonly partition: number
  readonly dir: string
  readonly recoveryReport: RecoveryReport
  private readonly fs: FileSystem
  private readonly clock: Clock
  private config: LogConfig
  private readonly segmentConfig: SegmentConfig
  private segments: LogSegment[]
  private _logEndOffset: Offset
  private _logStartOffset: Offset
  private _recoveryPoint: Offset
  private hw: HighWatermarkMark
  private closed = false
  /** Set synchronously when close() starts: from then on nothing may change the log. */
  private closing = false
  /** The close in progress (or done): a second close() returns it. */
  private closingDone: Promise<void> = Promise.resolve()
  /** Bumped by every truncation, so a flush that spanned one knows its captured mark may be stale. */
  private truncations = 0
  /** Group-commit rounds started so far (a flush-everything waiter waits for a round that starts later). */
  private roundsStarted = 0
  /**
   * The log end offset at open. Everything below it was on disk before this process appended anything;
   * a failed fsync may cut what this process appended, never that.
   */
  private readonly openedLogEndOffset: Offset
  private readonly context: ErrorContext
  private readonly maxOpenSegments: number
  private readonly openSegments: LogSegment[] = []
  // Flushing state (group commit).
  private flushing: Promise<void> | undefined
  private flushAgain = false
  private readonly flushWaiters = new FlushWaiters()
  private unflushedSegments = new Set<LogSegment>()
  /** Segment files were created, renamed or deleted since the directory was last fsynced. */
  private directoryDirty = false
  private unflushedRecords = 0
  private flushTimer: TimerHandle | undefined
  private readonly hwListeners = new Set<(highWatermark: Offset) => void>()
  /** Idempotent producers' last batches, for deduplication and sequence checks. */
  readonly producerState: ProducerStateManager

  private constructor(options: PartitionLogOptions) {
    this.fs = options.fs
    this.clock = options.clock
    this.dir = options.dir
    this.topic = options.topic
    this.partition = options.partition
    this.config = options.config
    this.context = { topic: options.topic, partition: options.partition }
    this.maxOpenSegments = options.maxOpenSegments ?? 8
    const problems: string[] = []
    // Segments read the live config (updateConfig may change the index settings at run time).
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this
    this.segmentConfig = {
      get indexIntervalBytes() {
        return self.config.indexIntervalBytes
      },
      get segmentIndexBytes() {
        return self.config.segmentIndexBytes
      },
      onIndexProblem: (message) => problems.push(message),
    }
    const loaded = loadLog({
      fs: this.fs,
      dir: this.dir,
      config: this.segmentConfig,
      context: this.context,
      recoveryPoint: options.recoveryPoint,
      hadCleanShutdown: options.hadCleanShutdown ?? false,
      logStartOffset: options.logStartOffset,
      cleanShutdownState: options.cleanShutdownState,
    })
    this.segments = loaded.segments
    this._logEndOffset = loaded.logEndOffset
    this._logStartOffset = loaded.logStartOffset
    this.recoveryReport = loaded.report
    problems.push(...loaded.report.problems)
    loaded.report.problems = problems
    // What survived recovery is on disk but past the checkpointed recovery point it may not be fsynced
    // (a process crash leaves it in the page cache); open() fsyncs it before it is served as durable.
    this._recoveryPoint = Math.min(options.recoveryPoint ?? 0, loaded.logEndOffset)
    this.openedLogEndOffset = loaded.logEndOffset
    const active = this.activeSegment
    this.hw = { offset: this._logEndOffset, segment: active, position: active.size }
    if (this._recoveryPoint < this._logEndOffset) {
      for (const s of this.segments.slice(this.segmentIndexFor(this._recoveryPoint))) this.unflushedSegments.add(s)
      // Their names may be in the page cache only, too (segments rolled after the last directory fsync).
      this.directoryDirty = true
    }
    this.producerState = new ProducerStateManager(this.fs, this.dir, this.context, () => ({
      segments: this.segments,
      logEndOffset: this._logEndOffset,
    }))
  }

  /**
   * Opens (or creates) the log in `dir`, running recovery (see recovery.ts). After an unclean
   * shutdown, the surviving data is fsynced before the log is returned, so the high watermark can
   * start at the log end offset.
   */
  static async open(options: PartitionLogOptions): Promise<PartitionLog> {
    const existed = options.fs.exists(options.dir)
    const namesBefore = existed ? options.fs.readdir(options.dir).join('/') : ''
    const log = new PartitionLog(options)
    // After recovery, so that the state matches the log that survived (snapshots past its end are stale).
    log.recoveryReport.problems.push(...log.producerState.load().problems)
    // Names created, renamed or deleted by opening (a new directory and its first segment, recovery's
    // repairs) must be durable before any data in them is called durable. A clean open changes no name
    // and costs no fsync, which matters with many partitions (__consumer_offsets has 50).
    if (!existed) await options.fs.syncDir(dirname(options.dir))
    if (!existed || options.fs.readdir(options.dir).join('/') !== namesBefore) await options.fs.syncDir(options.dir)
    if (log._recoveryPoint < log._logEndOffset) await log.flush()
    return log
  }

  get logStartOffset(): Offset {
    return this._logStartOffset
  }

  get logEndOffset(): Offset {
    return this._logEndOffset
  }

  get highWatermark(): Offset {
    return this.hw.offset
  }

  get recoveryPoint(): Offset {
    return this._recoveryPoint
  }

  get segmentCount(): number {
    return this.segments.length
  }

  get activeSegment(): LogSegment {
    return this.segments[this.segments.length - 1]!
  }

  /** Total bytes in `.log` files. */
  get size(): number {
    let total = 0
    for (const s of this.segments) total += s.size
    return total
  }

  /** The segments, oldest first (read-only view for cleaners and describe). */
  get segmentList(): readonly LogSegment[] {
    return this.segments
  }

  get logConfig(): LogConfig {
    return this.config
  }

  updateConfig(config: LogConfig): void {
    this.config = config
  }

  /**
   * Appends one or more complete record batches. Validates all of them first (nothing is written if
   * any is bad), assigns offsets from the log end offset by rewriting each batch's baseOffset in place
   * (as a broker does; the caller's buffer is modified), stamps LogAppendTime when the topic says so,
   * rolls the active segment if needed, and writes the batches with one write. On return the bytes
   * are in the OS (acks 1); `flushUpTo(lastOffset)` waits for them to be fsynced (acks all).
   *
   * Batches with a producer id (idempotent producers) are checked against the producer state first
   * (producer-state.ts `checkAppend`): a fenced epoch or a sequence gap is a typed error and nothing is
   * written; a retry of a batch already in the log writes nothing and returns the original batch's
   * offsets with `duplicate: true`. Batches without a producer id cost one branch here.
   *
   * Assumes: called by the partition's single writer; synchronous, so it cannot interleave.
   */
  append(data: Buffer, options: AppendOptions = {}): AppendResult {
    this.ensureWritable()
    const validated = validateAppend(
      data,
      {
        maxMessageBytes: this.config.maxMessageBytes,
        deep: options.deepValidation ?? true,
        maxDecompressedBatchBytes: this.config.maxDecompressedBatchBytes,
      },
      this.context,
    )
    let fromProducers = false
    for (const v of validated) if (v.header.producerId >= 0) fromProducers = true
    if (fromProducers) {
      const duplicate = this.producerState.checkAppend(validated.map((v) => v.header))
      if (duplicate !== undefined) return this.duplicateResult(duplicate)
    }
    const now = this.clock.now()
    const logAppendTime = this.config.messageTimestampType === 'LogAppendTime' ? now : -1
    let next = this._logEndOffset
    let recordCount = 0
    let totalBytes = 0
    const batches: AppendedBatch[] = []
    for (const v of validated) {
      setBaseOffset(data, v.start, next)
      if (logAppendTime >= 0) setLogAppendTime(data, v.start, logAppendTime)
      const lastOffset = next + v.header.lastOffsetDelta
      batches.push({
        start: v.start,
        size: v.size,
        baseOffset: next,
        lastOffset,
        maxTimestamp: logAppendTime >= 0 ? logAppendTime : v.header.maxTimestamp,
      })
      recordCount += v.header.recordsCount
      totalBytes += v.size
      next = lastOffset + 1
    }
    const baseOffset = this._logEndOffset
    const lastOffset = next - 1
    let maxTimestamp = -1
    for (const b of batches) if (b.maxTimestamp > maxTimestamp) maxTimestamp = b.maxTimestamp
    let segment: LogSegment
    try {
      segment = this.maybeRoll(totalBytes, lastOffset, maxTimestamp, now)
      segment.append(data, batches, now)
    } catch (e) {
      throw this.withContext(e)
    }
    this._logEndOffset = next
    if (fromProducers) {
      for (let i = 0; i < batches.length; i++) {
        const b = batches[i]!
        this.producerState.onBatchAppended(validated[i]!.header, b.baseOffset, b.lastOffset, b.maxTimestamp)
      }
    }
    this.unflushedSegments.add(segment)
    this.unflushedRecords += recordCount
    this.afterAppend()
    return { baseOffset, lastOffset, recordCount, logAppendTime }
  }

  private duplicateResult(original: BatchMetadata): AppendResult {
    return {
      baseOffset: original.firstOffset,
      lastOffset: original.lastOffset,
      recordCount: original.lastOffset - original.firstOffset + 1,
      logAppendTime: this.config.messageTimestampType === 'LogAppendTime' ? original.maxTimestamp : -1,
      duplicate: true,
    }
  }

  /** An I/O failure, with this partition and its log end offset as context. */
  private withContext(e: unknown): unknown {
    return e instanceof IoError ? e.withContext({ ...this.context, offset: this._logEndOffset }) : e
  }

  private afterAppend(): void {
    if (this.config.durability === 'none') {
      this.advanceHighWatermark({ offset: this._logEndOffset, segment: this.activeSegment, position: this.activeSegment.size })
      if (this.unflushedRecords >= this.config.flushMessages) this.scheduleFlush()
      else if (this.config.flushMs < Number.MAX_SAFE_INTEGER && this.flushTimer === undefined) {
        this.flushTimer = this.clock.setTimeout(() => {
          this.flushTimer = undefined
          if (!this.closed) this.scheduleFlush()
        }, this.config.flushMs)
      }
    } else {
      this.scheduleFlush()
    }
  }

  /**
   * Rolls the active segment when the append would not fit (Kafka's `maybeRoll`): the segment is full
   * (`segmentBytes`), old (`segmentMs`), its index is full, or the append's offsets would overflow its
   * int32 relative offsets. An empty segment is never rolled, so an append larger than segmentBytes
   * still goes somewhere.
   */
  private maybeRoll(appendBytes: number, lastOffset: Offset, maxTimestamp: number, now: number): LogSegment {
    const active = this.activeSegment
    if (active.size === 0) return active
    const full = active.size + appendBytes > this.config.segmentBytes
    const old = active.timeWaitedForRoll(now, maxTimestamp) > this.config.segmentMs
    if (full || old || active.indexIsFull || !active.canHoldOffset(lastOffset)) return this.roll()
    return active
  }

  /**
   * Starts a new active segment at the log end offset, and snapshots the producer state there (as Kafka
   * does at every roll), so that a reload only replays the active segment. Assumes: single writer, no await.
   */
  roll(): LogSegment {
    this.ensureWritable()
    const active = this.activeSegment
    if (active.size === 0) return active
    active.onBecomeInactive()
    this.unflushedSegments.add(active)
    const next = LogSegment.create(this.fs, this.dir, this._logEndOffset, this.segmentConfig, this.context)
    this.segments.push(next)
    this.directoryDirty = true
    this.noteOpen(active)
    this.producerState.takeSnapshot(this._logEndOffset)
    return next
  }

  /** Rolls the active segment if it is older than segmentMs (so that retention can expire it). */
  maybeRollIdle(now: number = this.clock.now()): boolean {
    const active = this.activeSegment
    if (this.closing || this.closed) return false
    if (active.size > 0 && active.timeWaitedForRoll(now, now) > this.config.segmentMs) {
      this.roll()
      return true
    }
    return false
  }

  /**
   * Reads whole batches starting with the batch that holds `fromOffset`, up to `maxBytes` (but always
   * at least one whole batch, as Kafka's fetch does since KIP-74), never past the high watermark.
   * Reads from one segment per call; an empty result at an offset below the high watermark cannot
   * happen (the next segment is tried when a segment has nothing at or after the offset).
   *
   * With `options.buffer` the bytes land in the caller's buffer (see ReadOptions.buffer).
   *
   * Assumes: no await inside, so the segment list and the high watermark are stable during the call.
   */
  read(fromOffset: Offset, maxBytes: number, options: ReadOptions = NO_READ_OPTIONS): ReadResult {
    this.ensureOpen()
    if (!Number.isSafeInteger(fromOffset) || fromOffset < this._logStartOffset || fromOffset > this._logEndOffset) {
      throw new OffsetOutOfRangeError(
        `Offset ${fromOffset} is out of range [${this._logStartOffset}, ${this._logEndOffset}] for ${this.topic}-${this.partition}`,
        { ...this.context, offset: fromOffset, logStartOffset: this._logStartOffset, logEndOffset: this._logEndOffset },
      )
    }
    const maxOffset = options.uncommitted ? this._logEndOffset : this.hw.offset
    if (fromOffset >= maxOffset) return this.result(EMPTY)
    for (let i = this.segmentIndexFor(fromOffset); i < this.segments.length; i++) {
      const segment = this.segments[i]!
      const limit = options.uncommitted ? segment.size : this.readLimit(segment)
      if (limit <= 0) {
        // An empty closed segment (compaction can leave one) is skipped; at the limit, nothing more to read.
        const belowLimit = options.uncommitted ? i < this.segments.length - 1 : segment.baseOffset < this.hw.segment.baseOffset
        if (belowLimit) continue
        return this.result(EMPTY)
      }
      this.noteOpen(segment)
      const bytes = segment.readFrom(fromOffset, maxBytes, limit, options.buffer)
      if (bytes === undefined) continue
      // Whole batches only: forEachBatch stops before a batch cut off by maxBytes.
      return this.result(bytes.subarray(0, forEachBatch(bytes, ignoreBatch)))
    }
    return this.result(EMPTY)
  }

  private result(records: Buffer): ReadResult {
    return { records, highWatermark: this.hw.offset, logStartOffset: this._logStartOffset, logEndOffset: this._logEndOffset }
  }

  /** The byte position up to which `segment` may be read by consumers (the high watermark). */
  private readLimit(segment: LogSegment): Position {
    if (segment === this.hw.segment) return this.hw.position
    return segment.baseOffset < this.hw.segment.baseOffset ? segment.size : 0
  }

  /** Index of the segment whose range holds `offset` (the last segment with baseOffset ≤ offset). */
  private segmentIndexFor(offset: Offset): number {
    let lo = 0
    let hi = this.segments.length - 1
    let found = 0
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      if (this.segments[mid]!.baseOffset <= offset) {
        found = mid
        lo = mid + 1
      } else hi = mid - 1
    }
    return found
  }

  /**
   * The earliest offset whose record timestamp is ≥ `timestamp`, with that record's timestamp (Kafka's
   * ListOffsets by time), or undefined when every record is older. Only committed data is considered.
   */
  offsetForTimestamp(timestamp: number): { offset: Offset; timestamp: number } | undefined {
    this.ensureOpen()
    for (let i = this.segmentIndexFor(this._logStartOffset); i < this.segments.length; i++) {
      const segment = this.segments[i]!
      const limit = this.readLimit(segment)
      if (limit <= 0) break
      // -1 means unknown (no timestamped batch indexed), not old: such a segment is searched.
      const largest = segment === this.activeSegment ? Number.MAX_SAFE_INTEGER : segment.largestTimestamp
      if (largest >= 0 && largest < timestamp) continue
      this.noteOpen(segment)
      let from = this._logStartOffset
      for (;;) {
        const loc = segment.findBatchByTimestamp(timestamp, from, limit)
        if (loc === undefined) break
        const batch = segment.read(loc.position, loc.size)
        const records = decodeRecords(batch, 0, { maxDecompressedBytes: this.config.maxDecompressedBatchBytes }, this.context)
        for (const r of records) {
          if (r.offset >= this._logStartOffset && r.timestamp >= timestamp) return { offset: r.offset, timestamp: r.timestamp }
        }
        from = loc.lastOffset + 1
      }
    }
    return undefined
  }

  /**
   * Removes every record at or after `offset` (the batch containing `offset` goes entirely, since a
   * batch is the unit of storage; the log end offset becomes that batch's base offset). Used to undo
   * writes that must not survive. Assumes: single writer, no await.
   */
  truncateTo(offset: Offset): void {
    this.ensureWritable()
    if (!Number.isSafeInteger(offset) || offset < this._logStartOffset) {
      throw new OffsetOutOfRangeError(`Cannot truncate ${this.topic}-${this.partition} to ${offset}: below the log start offset ${this._logStartOffset}`, {
        ...this.context,
        offset,
      })
    }
    if (offset >= this._logEndOffset) return
    this.truncations++
    this.directoryDirty = true
    while (this.segments.length > 1 && this.activeSegment.baseOffset >= offset) {
      const dropped = this.segments.pop()!
      this.forget(dropped)
      deleteSegmentFiles(this.fs, dropped)
    }
    const active = this.activeSegment
    const cutAt = active.truncateTo(offset)
    this._logEndOffset = Math.max(this._logStartOffset, Math.min(offset, cutAt ?? offset))
    if (active.baseOffset > this._logEndOffset) {
      // Everything went: start over with an empty segment at the new end.
      this.segments.pop()
      this.forget(active)
      deleteSegmentFiles(this.fs, active)
      this.segments.push(LogSegment.create(this.fs, this.dir, this._logEndOffset, this.segmentConfig, this.context))
    }
    // The cut itself must reach the disk before close() calls the log clean.
    this.unflushedSegments.add(this.activeSegment)
    this._recoveryPoint = Math.min(this._recoveryPoint, this._logEndOffset)
    // The high watermark only ever moves down here: below the cut everything it covered is still there.
    if (this.hw.offset > this._logEndOffset) {
      this.hw = { offset: this._logEndOffset, segment: this.activeSegment, position: this.activeSegment.size }
    } else if (!this.segments.includes(this.hw.segment)) {
      this.rebaseHighWatermark([this.hw.segment])
    }
    this.rejectWaitersFrom(this._logEndOffset, 'truncated')
    // The removed batches must not be recognised as duplicates of a retry: reload from a snapshot at or
    // below the new end (later ones are deleted) plus the log after it.
    this.producerState.truncateAndReload()
  }

  /**
   * Advances the log start offset (deleteRecords, retention). Records below it become unreadable at
   * once; whole segments below it are deleted by the cleaner. Assumes: single writer, no await.
   */
  advanceLogStartOffset(offset: Offset): void {
    this.ensureWritable()
    if (offset <= this._logStartOffset) return
    assert(offset <= this.hw.offset, `log start offset ${offset} past the high watermark ${this.hw.offset}`)
    this._logStartOffset = offset
  }

  /**
   * Removes the given segments, which must be the oldest ones and not the active one (the cleaner's
   * retention path, cleaner/retention.ts, enforces its rules before calling), and moves the log start
   * offset up to the first remaining segment. `deleteFiles` disposes of each removed segment's files:
   * by default they are deleted at once; the cleaner renames them to `.deleted` instead.
   * Assumes: single writer, no await.
   */
  removeOldestSegments(count: number, deleteFiles: (segment: LogSegment) => void = (s) => deleteSegmentFiles(this.fs, s)): LogSegment[] {
    assert(count < this.segments.length, 'the active segment is never deleted')
    const removed = this.segments.splice(0, count)
    this.directoryDirty = true
    for (const s of removed) {
      this.forget(s)
      deleteFiles(s)
    }
    const firstBase = this.segments[0]!.baseOffset
    if (this._logStartOffset < firstBase) this._logStartOffset = firstBase
    this.rebaseHighWatermark(removed)
    return removed
  }

  /**
   * Creates an empty segment named `<base>.log.cleaned` (with `.cleaned` indexes) using this log's
   * segment settings: the cleaner writes a replacement segment into it, then swaps it in with
   * `changeFileSuffixes` and `replaceSegments` (Kafka's `createNewCleanedSegment`). The log does not
   * know the segment until it is swapped in.
   */
  createCleanedSegment(baseOffset: Offset): LogSegment {
    this.ensureOpen()
    return LogSegment.create(this.fs, this.dir, baseOffset, this.segmentConfig, this.context, CLEANED_SUFFIX)
  }

  /**
   * Replaces a contiguous run of closed segments with others holding the same offset range
   * (compaction; the new segments' files already carry their live names). Synchronous, so a reader
   * sees either the old segments or the new ones, never a mix. Assumes: single writer, no await.
   */
  replaceSegments(oldSegments: readonly LogSegment[], newSegments: readonly LogSegment[]): void {
    const first = this.segments.indexOf(oldSegments[0]!)
    assert(first >= 0, 'replaced segments belong to the log')
    for (let i = 0; i < oldSegments.length; i++) assert(this.segments[first + i] === oldSegments[i], 'replaced segments are contiguous')
    assert(!oldSegments.includes(this.activeSegment), 'the active segment is never replaced')
    this.segments.splice(first, oldSegments.length, ...newSegments)
    this.directoryDirty = true
    for (const s of oldSegments) this.forget(s)
    this.rebaseHighWatermark(oldSegments)
  }

  /**
   * The high-watermark mark names a segment object. When that segment was removed or replaced (it
   * can be: a mark taken at the end of a segment just before a roll names the closed segment, which
   * retention and compaction may then touch), the mark is moved to the live segment holding the same
   * offset, at the start of the batch that holds it, so read limits stay right.
   */
  private rebaseHighWatermark(gone: readonly LogSegment[]): void {
    if (!gone.includes(this.hw.segment)) return
    const segment = this.segments[this.segmentIndexFor(this.hw.offset)]!
    const position = this.hw.offset <= segment.baseOffset ? 0 : (segment.translateOffset(this.hw.offset)?.position ?? segment.size)
    this.hw = { offset: this.hw.offset, segment, position }
  }

  /**
   * Resolves once every record below `offset + 1` is fsynced, starting a flush if none is running.
   * Concurrent callers share fsyncs (group commit).
   */
  flushUpTo(offset: Offset): Promise<void> {
    if (offset < this._recoveryPoint) return Promise.resolve()
    if (this.closed) return Promise.reject(new ClosedError(`Partition ${this.topic}-${this.partition}`, this.context))
    if (offset >= this._logEndOffset) {
      // Not (or no longer) in the log: a truncation after a failed fsync may have cut it, and a later
      // record at the same offset must never acknowledge it.
      return Promise.reject(
        new OffsetOutOfRangeError(`Offset ${offset} of ${this.topic}-${this.partition} is not in the log (log end ${this._logEndOffset})`, {
          ...this.context,
          offset,
        }),
      )
    }
    return this.waitForRound(offset, 0)
  }

  /**
   * fsyncs everything written so far, including truncations and segment files created or deleted
   * since the last round, even when no record is pending.
   */
  flush(): Promise<void> {
    if (this._logEndOffset > this._recoveryPoint) return this.flushUpTo(this._logEndOffset - 1)
    if (this.unflushedSegments.size === 0 && !this.directoryDirty) return this.flushing ?? Promise.resolve()
    return this.waitForRound(-1, this.roundsStarted + 1)
  }

  private waitForRound(offset: Offset, minRound: number): Promise<void> {
    const waiting = this.flushWaiters.wait(offset, minRound)
    this.scheduleFlush()
    return waiting
  }

  /** Fails every flush waiter whose offset is at or past `offset` (those records are gone). */
  private rejectWaitersFrom(offset: Offset, why: string): void {
    this.flushWaiters.rejectFrom(
      offset,
      (o) => new OffsetOutOfRangeError(`Offset ${o} of ${this.topic}-${this.partition} was ${why} before it was fsynced`, { ...this.context, offset: o }),
    )
  }

  private scheduleFlush(): void {
    if (this.flushing !== undefined) {
      this.flushAgain = true
      return
    }
    this.flushing = this.runFlushes()
  }

  /**
   * Runs group-commit rounds until nobody asked for another. `flushing` is cleared (in `finally`) in
   * the same synchronous step as the final check, so a request that arrives after the check starts a
   * new run instead of being lost, and a throw can never leave it set.
   */
  private async runFlushes(): Promise<void> {
    try {
      for (;;) {
        this.flushAgain = false
        await this.flushOnce()
        if (!this.flushAgain || this.closed) return
      }
    } finally {
      this.flushing = undefined
    }
  }

  /**
   * One group-commit round: capture the log end (offset, segment, position), fsync every segment
   * written since the last round, then publish the captured point as the recovery point (and, in
   * 'fsync' durability, as the high watermark). Appends that land during the await are covered by
   * the next round, never by this one.
   */
  private async flushOnce(): Promise<void> {
    const round = ++this.roundsStarted
    const active = this.activeSegment
    const mark: HighWatermarkMark = { offset: this._logEndOffset, segment: active, position: active.size }
    const truncationsBefore = this.truncations
    const segments = [...this.unflushedSegments]
    this.unflushedSegments = new Set()
    this.unflushedRecords = 0
    if (this.flushTimer !== undefined) {
      this.flushTimer.cancel()
      this.flushTimer = undefined
    }
    const syncDirectory = this.directoryDirty
    this.directoryDirty = false
    try {
      await Promise.all([
        ...segments.map((s) => s.flush(s !== active || this.closing)),
        syncDirectory ? this.fs.syncDir(this.dir) : undefined,
      ])
    } catch (e) {
      this.directoryDirty ||= syncDirectory
      this.onFlushFailure(e, segments)
      return
    }
    if (this.truncations !== truncationsBefore) {
      // The log was cut while this round waited: its mark may name offsets and bytes that are gone,
      // so it publishes nothing; the next round (the cut re-marked the active segment) does.
      this.flushAgain = true
      return
    }
    if (mark.offset > this._recoveryPoint) this._recoveryPoint = mark.offset
    const advanced = this.config.durability === 'fsync' && this.moveHighWatermark(mark)
    if (this.flushWaiters.settle(this._recoveryPoint, round)) this.flushAgain = true
    if (advanced) this.notifyHighWatermark()
  }

  /**
   * A failed fsync means the OS may already have dropped the dirty pages (Linux marks them clean), so
   * nothing past the recovery point can be trusted. Waiters are failed; in 'fsync' durability the
   * unflushed tail, which no reader has seen, is cut so that it is never served as if it were durable.
   */
  private onFlushFailure(error: unknown, segments: LogSegment[]): void {
    const failure =
      error instanceof KafkaliteError ? error : new IoError('fsync', this.dir, (error as NodeJS.ErrnoException)?.code ?? 'EIO', error)
    const err = this.withContext(failure)
    this.flushWaiters.rejectAll(err)
    for (const s of segments) this.unflushedSegments.add(s)
    if (this.config.durability === 'fsync' && !this.closed && !this.closing) {
      try {
        // Only what this process appended can be cut: data found at open was there before we came.
        this.truncateTo(Math.max(this._recoveryPoint, this.openedLogEndOffset, this._logStartOffset))
      } catch {
        // Recovery on the next open cuts whatever could not be cut now.
      }
    }
  }

  /** In 'none' durability, appends publish the log end at once. */
  private advanceHighWatermark(mark: HighWatermarkMark): void {
    if (this.moveHighWatermark(mark)) this.notifyHighWatermark()
  }

  /** Moves the high watermark forward to `mark` (never back, never past the log end); true if it moved. */
  private moveHighWatermark(mark: HighWatermarkMark): boolean {
    assert(mark.offset <= this._logEndOffset, `high watermark ${mark.offset} past the log end ${this._logEndOffset}`)
    if (mark.offset < this.hw.offset || (mark.offset === this.hw.offset && mark.segment === this.hw.segment)) return false
    this.hw = mark
    return true
  }

  /**
   * Tells listeners (waiting consumers) the high watermark moved. A throwing listener is a bug in the
   * layer above; it must not break group commit, so it is reported as a process warning instead.
   */
  private notifyHighWatermark(): void {
    const offset = this.hw.offset
    for (const listener of this.hwListeners) {
      try {
        listener(offset)
      } catch (e) {
        process.emitWarning(`kafkalite: a high-watermark listener of ${this.topic}-${this.partition} threw: ${(e as Error)?.stack ?? e}`)
      }
    }
  }

  /** Calls `listener` whenever the high watermark advances (consumers waiting for data). */
  onHighWatermark(listener: (highWatermark: Offset) => void): () => void {
    this.hwListeners.add(listener)
    return () => this.hwListeners.delete(listener)
  }

  /** Keeps the most recently read closed segments open; releases the least recently used beyond the cap. */
  private noteOpen(segment: LogSegment): void {
    if (segment === this.activeSegment) return
    const i = this.openSegments.indexOf(segment)
    if (i >= 0) this.openSegments.splice(i, 1)
    this.openSegments.push(segment)
    while (this.openSegments.length > this.maxOpenSegments) this.openSegments.shift()!.release()
  }

  private forget(segment: LogSegment): void {
    const i = this.openSegments.indexOf(segment)
    if (i >= 0) this.openSegments.splice(i, 1)
    this.unflushedSegments.delete(segment)
  }

  /**
   * Flushes everything, snapshots the producer state at the log end (so a clean reopen reads no log
   * data), writes the final time-index entry of the active segment, and closes files. Idempotent. After
   * close the recovery point equals the log end offset, which the engine writes to its checkpoint along
   * with the clean-shutdown marker.
   */
  async close(): Promise<void> {
    if (this.closed || this.closing) return this.closingDone
    this.closing = true
    this.closingDone = this.closeNow()
    return this.closingDone
  }


  /**
   * From the first line on, `closing` refuses appends, truncations and rolls, so the loop below ends
   * with nothing unflushed: the recovery point equals the log end offset, the final time-index entry
   * and the truncations are on disk, and only then is the log closed.
   */
  private async closeNow(): Promise<void> {
    this.flushTimer?.cancel()
    // Writing the active segment's pending index entries can fail (a full disk). The records still
    // matter more than their index: the entries are dropped (the file keeps a valid prefix), the log
    // is still fsynced and closed, and close then rejects, so the engine records no clean shutdown and
    // the next open recovers (and re-indexes) this segment.
    let indexFailure: unknown
    try {
      this.activeSegment.onBecomeInactive()
    } catch (e) {
      indexFailure = e
      this.activeSegment.discardPendingIndexEntries()
    }
    this.unflushedSegments.add(this.activeSegment)
    while (this._recoveryPoint < this._logEndOffset || this.unflushedSegments.size > 0 || this.directoryDirty || this.flushing) {
      await this.flush()
      await this.flushing
    }
    await this.producerState.takeSnapshotDurably(this._logEndOffset)
    const dirtyTail = this.activeSegment.hasDirtyTail
    if (dirtyTail) {
      try {
        this.activeSegment.discardTail()
        await this.activeSegment.flush()
      } catch (e) {
        this.finishClose()
        throw this.withContext(e)
      }
    }
    this.finishClose()
    if (indexFailure !== undefined) throw this.withContext(indexFailure)
  }

  private finishClose(): void {
    this.closed = true
    for (const s of this.segments) s.close()
    this.flushWaiters.rejectAll(new ClosedError(`Partition ${this.topic}-${this.partition}`, this.context))
    this.hwListeners.clear()
  }

  /**
   * What the next open needs to trust this log's end without reading it; defined once the log is
   * closed cleanly (the engine records it with the clean-shutdown marker).
   */
  get cleanShutdownState(): CleanShutdownState | undefined {
    if (!this.closed) return undefined
    const active = this.activeSegment
    return { logEndOffset: this._logEndOffset, segmentBaseOffset: active.baseOffset, segmentSize: active.size }
  }

  get isClosed(): boolean {
    return this.closed
  }

  private ensureOpen(): void {
    if (this.closed) throw new ClosedError(`Partition ${this.topic}-${this.partition}`, this.context)
  }

  /** Changes (append, truncate, roll) are refused from the moment close() starts. */
  private ensureWritable(): void {
    if (this.closed || this.closing) throw new ClosedError(`Partition ${this.topic}-${this.partition}`, this.context)
  }
}
