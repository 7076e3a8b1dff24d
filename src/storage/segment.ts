/**
 * One log segment: a `.log` file of whole batches plus its `.index` and `.timeindex` (Kafka's
 * LogSegment). The segment knows bytes and offsets; the partition log decides when to roll, what is
 * visible (the high watermark) and how segments chain.
 *
 * Invariants:
 * - `.log` holds only complete batches in offset order, all with offsets in
 *   [baseOffset, baseOffset + 2^31 − 1] (relative offsets fit the index's int32).
 * - `size` is the length of `.log` as this process wrote it; bytes past it (a torn tail) do not exist
 *   for readers and are cut off by recovery.
 * - Index entries are appended per batch under Kafka's rule: an entry pair is added for a batch when
 *   more than `indexIntervalBytes` bytes were appended since the last entry (strict `>`, so the first
 *   batch of a segment is never indexed).
 *
 * Concurrency: mutated only by the partition's single writer; readers call the read methods between
 * awaits, and all of them are synchronous, so a reader never observes a half-applied append.
 */
import { readBaseOffset, readLastOffset, readMaxTimestamp, validateBatch } from '../codec/record-batch'
import type { ErrorContext } from '../errors'
import type { FileHandle, FileSystem } from '../io/file-system'
import type { Offset, Position } from '../util/types'
import { scanBatches } from './batch-scanner'
import { INDEX_SUFFIX, LOG_SUFFIX, TIME_INDEX_SUFFIX, segmentPath } from './file-names'
import { OffsetIndex } from './offset-index'
import { TimeIndex } from './time-index'

export const NO_TIMESTAMP = -1
const INT32_MAX = 0x7fffffff

export interface SegmentConfig {
  readonly indexIntervalBytes: number
  readonly segmentIndexBytes: number
  /** Told when an index turned out to be damaged on first load and was rebuilt from `.log`. */
  readonly onIndexProblem?: (message: string) => void
}

/** Where a batch sits in a segment. */
export interface BatchLocation {
  position: Position
  size: number
  baseOffset: Offset
  lastOffset: Offset
}

export interface RecoveryResult {
  validBytes: number
  truncatedBytes: number
  /** Last offset of the last valid batch, or undefined if the segment holds no valid batch. */
  lastOffset: Offset | undefined
  /** Why the scan stopped before the end of the file, if it did. */
  problem?: string
}

export class LogSegment {
  readonly offsetIndex: OffsetIndex
  readonly timeIndex: TimeIndex
  readonly logPath: string
  private handle: FileHandle | undefined
  private bytesSinceLastIndexEntry = 0
  private indexesChecked = false
  private maxTimestamp: number | undefined
  private offsetOfMaxTimestamp: Offset = -1
  /** Clock time of the first append to this segment since it was created or opened (for segmentMs). */
  rollingBasedTime: number | undefined

  private constructor(
    private readonly fs: FileSystem,
    readonly dir: string,
    readonly baseOffset: Offset,
    private readonly config: SegmentConfig,
    public size: number,
    private readonly context: ErrorContext,
  ) {
    this.logPath = segmentPath(dir, baseOffset, LOG_SUFFIX)
    this.offsetIndex = new OffsetIndex(fs, segmentPath(dir, baseOffset, INDEX_SUFFIX), baseOffset, config.segmentIndexBytes)
    this.timeIndex = new TimeIndex(fs, segmentPath(dir, baseOffset, TIME_INDEX_SUFFIX), baseOffset, config.segmentIndexBytes)
  }

  /** Creates an empty segment (its `.log` exists afterwards, empty). */
  static create(fs: FileSystem, dir: string, baseOffset: Offset, config: SegmentConfig, context: ErrorContext): LogSegment {
    const segment = new LogSegment(fs, dir, baseOffset, config, 0, context)
    const h = segment.log()
    if (h.size() !== 0) h.truncate(0)
    segment.offsetIndex.file.reset()
    segment.timeIndex.reset()
    return segment
  }

  /** Opens an existing segment reading only file lengths (no log data). */
  static open(fs: FileSystem, dir: string, baseOffset: Offset, config: SegmentConfig, context: ErrorContext): LogSegment {
    const size = fs.stat(segmentPath(dir, baseOffset, LOG_SUFFIX)).size
    return new LogSegment(fs, dir, baseOffset, config, size, context)
  }

  /** The largest timestamp in the segment (from the time index's last entry on a loaded segment), or -1. */
  get largestTimestamp(): number {
    if (this.maxTimestamp === undefined) {
      const last = this.timeIndex.lastEntry()
      this.maxTimestamp = last?.timestamp ?? NO_TIMESTAMP
      this.offsetOfMaxTimestamp = last?.offset ?? -1
    }
    return this.maxTimestamp
  }

  get indexIsFull(): boolean {
    return this.offsetIndex.file.isFull || this.timeIndex.file.isFull
  }

  /** Whether a batch with this last offset can go in this segment (relative offsets are int32). */
  canHoldOffset(lastOffset: Offset): boolean {
    return lastOffset - this.baseOffset <= INT32_MAX && lastOffset >= this.baseOffset
  }

  /**
   * Appends whole batches `data[from, from+length)` at the end of `.log`. The caller has validated
   * them and assigned offsets; `batches` describes each one (start within `data`, size, last offset,
   * max timestamp) so that the index can be maintained per batch as Kafka's recovery would.
   */
  append(data: Buffer, batches: readonly AppendedBatch[], now: number): void {
    if (batches.length === 0) return
    const first = batches[0]!
    const last = batches[batches.length - 1]!
    const from = first.start
    const length = last.start + last.size - from
    this.log().write(data, from, length, this.size)
    let position = this.size
    for (const b of batches) {
      this.indexBatch(b.lastOffset, b.maxTimestamp, position, b.size)
      position += b.size
    }
    this.size = position
    if (this.rollingBasedTime === undefined) this.rollingBasedTime = now
  }

  private indexBatch(lastOffset: Offset, maxTimestamp: number, position: Position, size: number): void {
    if (maxTimestamp > this.largestTimestamp) {
      this.maxTimestamp = maxTimestamp
      this.offsetOfMaxTimestamp = lastOffset
    }
    if (this.bytesSinceLastIndexEntry > this.config.indexIntervalBytes) {
      this.offsetIndex.append(lastOffset, position)
      this.timeIndex.maybeAppend(this.largestTimestamp, this.offsetOfMaxTimestamp)
      this.bytesSinceLastIndexEntry = 0
    }
    this.bytesSinceLastIndexEntry += size
  }

  /** Reads `length` bytes at `position` (fewer at the end of the file). */
  read(position: Position, length: number): Buffer {
    const n = Math.max(0, Math.min(length, this.size - position))
    const out = Buffer.allocUnsafe(n)
    const got = n === 0 ? 0 : this.log().read(out, 0, n, position)
    return got === n ? out : out.subarray(0, got)
  }

  /**
   * The first batch whose last offset is ≥ `offset`, searching below byte `limit` (Kafka's
   * `translateOffset`): start at the index entry at or below the offset, then walk headers.
   */
  translateOffset(offset: Offset, limit: Position = this.size): BatchLocation | undefined {
    this.checkIndexes()
    const start = this.offsetIndex.lookup(offset).position
    let found: BatchLocation | undefined
    scanBatches(this.log(), start, limit, 'header', (chunk, at, position, size) => {
      const lastOffset = readLastOffset(chunk, at)
      if (lastOffset < offset) return true
      found = { position, size, baseOffset: readBaseOffset(chunk, at), lastOffset }
      return false
    })
    return found
  }

  /**
   * The first batch at or after `startOffset` whose max timestamp is ≥ `timestamp`, below `limit`.
   */
  findBatchByTimestamp(timestamp: number, startOffset: Offset, limit: Position): BatchLocation | undefined {
    this.checkIndexes()
    const fromIndex = this.timeIndex.lookup(timestamp)
    const from = Math.max(startOffset, fromIndex?.offset ?? this.baseOffset)
    const start = this.offsetIndex.lookup(from).position
    let found: BatchLocation | undefined
    scanBatches(this.log(), start, limit, 'header', (chunk, at, position, size) => {
      const lastOffset = readLastOffset(chunk, at)
      if (lastOffset < startOffset || readMaxTimestamp(chunk, at) < timestamp) return true
      found = { position, size, baseOffset: readBaseOffset(chunk, at), lastOffset }
      return false
    })
    return found
  }

  /**
   * Rebuilds the indexes from `.log` and truncates the file after the last valid batch (Kafka's
   * `LogSegment.recover`). A batch is valid when its size, magic and CRC-32C check, its offsets lie in
   * this segment and follow the previous batch. Reads the whole segment.
   */
  recover(expectedStartOffset: Offset = this.baseOffset): RecoveryResult {
    this.offsetIndex.file.reset()
    this.timeIndex.reset()
    this.bytesSinceLastIndexEntry = 0
    this.maxTimestamp = NO_TIMESTAMP
    this.offsetOfMaxTimestamp = -1
    const fileSize = this.log().size()
    let nextOffset = expectedStartOffset
    let lastOffset: Offset | undefined
    let problem: string | undefined
    const end = scanBatches(this.log(), 0, fileSize, 'whole', (chunk, at, position, size) => {
      try {
        validateBatch(chunk, at, { ...this.context, position })
      } catch (e) {
        problem = (e as Error).message
        return false
      }
      const base = readBaseOffset(chunk, at)
      const last = readLastOffset(chunk, at)
      if (base < nextOffset || last < base || !this.canHoldOffset(last)) {
        problem = `batch at position ${position} has offsets ${base}..${last}, expected ≥ ${nextOffset}`
        return false
      }
      this.indexBatch(last, readMaxTimestamp(chunk, at), position, size)
      nextOffset = last + 1
      lastOffset = last
      return true
    })
    if (problem === undefined && end.reason === 'invalid-size') problem = `invalid batch size at position ${end.position}`
    if (problem === undefined && end.reason === 'partial') problem = `partial batch at position ${end.position}`
    const validBytes = end.position
    if (validBytes < fileSize) this.log().truncate(validBytes)
    this.size = validBytes
    this.timeIndex.maybeAppend(this.largestTimestamp, this.offsetOfMaxTimestamp)
    this.indexesChecked = true
    return { validBytes, truncatedBytes: fileSize - validBytes, lastOffset, ...(problem !== undefined && { problem }) }
  }

  /** The last offset in the segment, found by walking from the last index entry (reads log data). */
  readLastOffset(): Offset | undefined {
    this.checkIndexes()
    const start = this.offsetIndex.lookup(Number.MAX_SAFE_INTEGER).position
    let lastOffset: Offset | undefined
    scanBatches(this.log(), start, this.size, 'header', (chunk, at) => {
      lastOffset = readLastOffset(chunk, at)
    })
    return lastOffset
  }

  /**
   * Cuts every batch whose last offset is ≥ `offset` (the batch containing `offset` goes entirely).
   * Returns the base offset of the first batch removed, or undefined if nothing was cut.
   */
  truncateTo(offset: Offset): Offset | undefined {
    const loc = this.translateOffset(offset)
    if (loc === undefined) return undefined
    this.offsetIndex.truncateTo(loc.baseOffset)
    this.timeIndex.truncateTo(loc.baseOffset)
    this.log().truncate(loc.position)
    this.size = loc.position
    this.maxTimestamp = undefined
    this.bytesSinceLastIndexEntry = 0
    if (loc.position === 0) this.rollingBasedTime = undefined
    return loc.baseOffset
  }

  /** Cuts any bytes of `.log` past `size` (the remains of a failed write). */
  discardTail(): void {
    if (this.log().size() > this.size) this.log().truncate(this.size)
  }

  /** Called when the segment stops being the active one: writes the final time-index entry. */
  onBecomeInactive(): void {
    if (this.largestTimestamp >= 0) this.timeIndex.maybeAppend(this.largestTimestamp, this.offsetOfMaxTimestamp)
  }

  /** fsync of `.log` (indexes are derived and rebuilt on recovery, so they are not synced). */
  async flush(): Promise<void> {
    await this.log().sync()
  }

  /** Drops cached index buffers and the file handle (a closed segment not read lately). */
  release(): void {
    this.handle?.close()
    this.handle = undefined
    this.offsetIndex.file.unload()
    this.timeIndex.file.unload()
    this.indexesChecked = false
  }

  close(): void {
    this.release()
  }

  sanityCheckIndexes(): void {
    this.offsetIndex.sanityCheck(this.size)
    this.timeIndex.sanityCheck()
    this.indexesChecked = true
  }

  /**
   * Checks the indexes the first time they are used after being loaded (their content, which the
   * length check at open cannot see) and rebuilds them from `.log` if they are damaged, so a garbage
   * index can cost a scan but never a wrong answer.
   */
  private checkIndexes(): void {
    if (this.indexesChecked) return
    try {
      this.sanityCheckIndexes()
    } catch (e) {
      const result = this.recover()
      this.config.onIndexProblem?.(
        `segment ${this.baseOffset}: ${(e as Error).message}; indexes rebuilt` +
          (result.truncatedBytes > 0 ? `, ${result.truncatedBytes} invalid bytes cut (${result.problem})` : ''),
      )
    }
  }

  /** All files of this segment that exist. */
  files(): string[] {
    return [this.logPath, this.offsetIndex.file.path, this.timeIndex.file.path].filter((p) => this.fs.exists(p))
  }

  get isOpen(): boolean {
    return this.handle !== undefined
  }

  private log(): FileHandle {
    if (this.handle === undefined) this.handle = this.fs.open(this.logPath, 'rw')
    return this.handle
  }
}

/** A validated batch inside an append buffer. */
export interface AppendedBatch {
  start: number
  size: number
  baseOffset: Offset
  lastOffset: Offset
  maxTimestamp: number
}

