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
import { RECORD_BATCH_OVERHEAD, batchSizeAt, readBaseOffset, readLastOffset, readMaxTimestamp, validateBatch } from '../codec/record-batch'
import type { ErrorContext } from '../errors'
import type { FileHandle, FileSystem } from '../io/file-system'
import { assert } from '../util/assert'
import type { Offset, Position } from '../util/types'
import { SCAN_CHUNK_BYTES, scanBatches } from './batch-scanner'
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
  private _logPath: string
  private handle: FileHandle | undefined
  private bytesSinceLastIndexEntry = 0
  private indexesChecked = false
  private maxTimestamp: number | undefined
  private offsetOfMaxTimestamp: Offset = -1
  /**
   * What segmentMs counts from: the first batch's max timestamp (Kafka's rollingBasedTimestamp), or,
   * when batches carry no timestamp, the clock time of the first append (`rollingBaseIsClock`).
   */
  private rollingBase: number | undefined
  private rollingBaseIsClock = false
  /** A failed write left bytes past `size` that could not be cut yet; cut them before the next write. */
  private tailDirty = false

  private constructor(
    private readonly fs: FileSystem,
    readonly dir: string,
    readonly baseOffset: Offset,
    private readonly config: SegmentConfig,
    public size: number,
    private readonly context: ErrorContext,
    fileSuffix: string,
  ) {
    this._logPath = segmentPath(dir, baseOffset, LOG_SUFFIX + fileSuffix)
    this.offsetIndex = new OffsetIndex(fs, segmentPath(dir, baseOffset, INDEX_SUFFIX + fileSuffix), baseOffset, config.segmentIndexBytes)
    this.timeIndex = new TimeIndex(fs, segmentPath(dir, baseOffset, TIME_INDEX_SUFFIX + fileSuffix), baseOffset, config.segmentIndexBytes)
  }

  /**
   * Creates an empty segment (its `.log` exists afterwards, empty). `fileSuffix` is appended to every
   * file name: the cleaner writes a replacement segment as `<base>.log.cleaned` (file-names.ts).
   */
  static create(fs: FileSystem, dir: string, baseOffset: Offset, config: SegmentConfig, context: ErrorContext, fileSuffix = ''): LogSegment {
    const segment = new LogSegment(fs, dir, baseOffset, config, 0, context, fileSuffix)
    const h = segment.log()
    if (h.size() !== 0) h.truncate(0)
    segment.offsetIndex.file.reset()
    segment.timeIndex.reset()
    return segment
  }

  /** Opens an existing segment reading only file lengths (no log data). */
  static open(fs: FileSystem, dir: string, baseOffset: Offset, config: SegmentConfig, context: ErrorContext): LogSegment {
    const size = fs.stat(segmentPath(dir, baseOffset, LOG_SUFFIX)).size
    return new LogSegment(fs, dir, baseOffset, config, size, context, '')
  }

  /** The `.log` file's current name (see `changeFileSuffixes`). */
  get logPath(): string {
    return this._logPath
  }

  /**
   * The largest timestamp in the segment, or -1 when it holds no timestamped batch. On a segment not
   * appended to since open it comes from the time index's last entry (the final entry written when the
   * segment was rolled or closed); an entry that cannot be right (older than the index's first entry,
   * as a zero-filled tail after a crash would read) makes the segment rebuild its indexes first.
   */
  get largestTimestamp(): number {
    if (this.maxTimestamp === undefined) {
      let last
      try {
        last = this.timeIndex.lastEntry()
      } catch (e) {
        this.rebuildIndexes((e as Error).message)
        return this.maxTimestamp ?? NO_TIMESTAMP
      }
      this.maxTimestamp = last?.timestamp ?? NO_TIMESTAMP
      this.offsetOfMaxTimestamp = last?.offset ?? -1
    }
    return this.maxTimestamp
  }

  /**
   * How long this segment has been open for appends, as segmentMs counts it (Kafka's
   * `timeWaitedForRoll`): the incoming batch's max timestamp minus the first batch's, so that record
   * time, not wall time, decides (an idle check passes the clock's time as `messageTimestamp`). After
   * a reopen, the first batch's header is read once, lazily, at the first check (Kafka's
   * `loadFirstBatchTimestamp`), so a process restarting more often than segmentMs still rolls.
   */
  timeWaitedForRoll(now: number, messageTimestamp: number): number {
    if (this.size === 0) return 0
    if (this.rollingBase === undefined) {
      const header = this.read(0, RECORD_BATCH_OVERHEAD)
      const ts = header.length === RECORD_BATCH_OVERHEAD ? readMaxTimestamp(header, 0) : NO_TIMESTAMP
      this.rollingBaseIsClock = ts < 0
      this.rollingBase = ts >= 0 ? ts : now
    }
    return (this.rollingBaseIsClock ? now : messageTimestamp) - this.rollingBase
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
    if (this.tailDirty) this.discardTail()
    const saved = this.indexState()
    try {
      this.log().write(data, from, length, this.size)
      let position = this.size
      for (const b of batches) {
        this.indexBatch(b.lastOffset, b.maxTimestamp, position, b.size)
        position += b.size
      }
      if (this.size === 0) {
        this.rollingBaseIsClock = first.maxTimestamp < 0
        this.rollingBase = first.maxTimestamp >= 0 ? first.maxTimestamp : now
      }
      this.size = position
    } catch (e) {
      // Nothing of a failed append may remain: not its index entries (the next append would find its
      // own offsets already indexed) and not its bytes (cut now, or before the next write).
      this.restoreIndexState(saved)
      this.tailDirty = true
      try {
        this.discardTail()
      } catch {
        // Still failing (the disk is full, say): the bytes lie past `size`, unseen by readers, and are
        // cut before the next write; close refuses to call the log clean while they remain.
      }
      throw e
    }
  }

  private indexState(): IndexState {
    return {
      offsetEntries: this.offsetIndex.entries,
      timeEntries: this.timeIndex.entries,
      maxTimestamp: this.maxTimestamp,
      offsetOfMaxTimestamp: this.offsetOfMaxTimestamp,
      bytesSinceLastIndexEntry: this.bytesSinceLastIndexEntry,
    }
  }

  private restoreIndexState(saved: IndexState): void {
    this.offsetIndex.file.forgetEntriesAfter(saved.offsetEntries)
    this.timeIndex.forgetEntriesAfter(saved.timeEntries)
    this.maxTimestamp = saved.maxTimestamp
    this.offsetOfMaxTimestamp = saved.offsetOfMaxTimestamp
    this.bytesSinceLastIndexEntry = saved.bytesSinceLastIndexEntry
  }

  /** Whether the file holds bytes past `size` that a failed write left and that are not cut yet. */
  get hasDirtyTail(): boolean {
    return this.tailDirty
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
   * The bytes of a fetch: from the first batch whose last offset is ≥ `offset` (below byte `limit`), up
   * to `maxBytes` of them but at least that whole batch; the caller cuts them to whole batches. Undefined
   * if no batch below `limit` reaches `offset`.
   *
   * One read in the common case. The batch sought starts a little after the index entry at or below
   * `offset` (entries name a batch's last offset, so the entry's batch usually precedes it, and entries
   * are at most about `indexIntervalBytes` apart), so one read of `maxBytes` plus a slack of
   * SCAN_CHUNK_BYTES from the entry covers both the header walk and the result, which is a view of that
   * read (one read per fetch, instead of a walk buffer and a second read). If the batch starts more than
   * the slack past the entry, the fetch returns what was read from it (whole batches, still at least
   * one, at most `maxBytes`); if the walk does not find the batch in what was read, it falls back to
   * `translateOffset` and a second read.
   *
   * With `into`, the bytes are read into that caller-owned buffer (at most its length of them) and the
   * result is a view of it: no allocation and no fresh pages per fetch, which is most of what a fetch
   * costs beyond the read itself. A batch that must be returned but does not fit in `into` is read into
   * a new Buffer instead.
   */
  readFrom(offset: Offset, maxBytes: number, limit: Position, into?: Buffer): Buffer | undefined {
    this.checkIndexes()
    const start = this.offsetIndex.lookup(offset).position
    if (start >= limit) return undefined
    const bytes = this.readInto(start, Math.min(limit - start, maxBytes + SCAN_CHUNK_BYTES), 0, into)
    for (let at = 0; at + RECORD_BATCH_OVERHEAD <= bytes.length; ) {
      const size = batchSizeAt(bytes, at)
      if (size < RECORD_BATCH_OVERHEAD || at + size > bytes.length) break
      if (readLastOffset(bytes, at) >= offset) return bytes.subarray(at, at + Math.max(size, Math.min(maxBytes, bytes.length - at)))
      at += size
    }
    const loc = this.translateOffset(offset, limit)
    return loc === undefined ? undefined : this.readInto(loc.position, Math.max(loc.size, Math.min(maxBytes, limit - loc.position)), loc.size, into)
  }

  /**
   * Up to `length` bytes at `position`: into `into` (a view of it, cut to its length) when it can hold
   * at least `atLeast` bytes, otherwise into a new Buffer (`read`).
   */
  private readInto(position: Position, length: number, atLeast: number, into: Buffer | undefined): Buffer {
    if (into === undefined || atLeast > into.length) return this.read(position, length)
    const n = Math.max(0, Math.min(length, into.length, this.size - position))
    const got = n === 0 ? 0 : this.log().read(into, 0, n, position)
    return into.subarray(0, got)
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
    this.writeFinalIndexEntries() // as at a roll
    this.indexesChecked = true
    return { validBytes, truncatedBytes: fileSize - validBytes, lastOffset, ...(problem !== undefined && { problem }) }
  }

  /**
   * The last offset in the segment, found by walking batch headers from the last index entry to the
   * end of the file (Kafka's `readNextOffset`; reads at most about indexIntervalBytes of log data), and
   * whether that walk ended exactly at the end of the file (false: a torn or invalid tail).
   */
  readTail(): { lastOffset: Offset | undefined; complete: boolean } {
    this.checkIndexes()
    const start = this.offsetIndex.lookup(Number.MAX_SAFE_INTEGER).position
    let lastOffset: Offset | undefined
    const end = scanBatches(this.log(), start, this.size, 'header', (chunk, at) => {
      lastOffset = readLastOffset(chunk, at)
    })
    return { lastOffset, complete: end.reason === 'end' }
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
    this.recomputeMaxTimestamp()
    this.bytesSinceLastIndexEntry = 0
    if (loc.position === 0) this.rollingBase = undefined
    return loc.baseOffset
  }

  /** Cuts any bytes of `.log` past `size` (the remains of a failed write). */
  discardTail(): void {
    if (this.log().size() > this.size) this.log().truncate(this.size)
    this.tailDirty = false
  }

  /**
   * After a truncation the largest timestamp may lie in a batch past the last time-index entry, so
   * the remaining batches' headers are walked (truncation is rare and cuts the active segment).
   */
  private recomputeMaxTimestamp(): void {
    let maxTimestamp = NO_TIMESTAMP
    let offsetOfMax = -1
    scanBatches(this.log(), 0, this.size, 'header', (chunk, at) => {
      const ts = readMaxTimestamp(chunk, at)
      if (ts > maxTimestamp) {
        maxTimestamp = ts
        offsetOfMax = readLastOffset(chunk, at)
      }
    })
    this.maxTimestamp = maxTimestamp
    this.offsetOfMaxTimestamp = offsetOfMax
  }

  /** Called when the segment stops being the active one: writes the final time-index entry. */
  onBecomeInactive(): void {
    this.writeFinalIndexEntries()
  }

  /**
   * Appends the final time-index entry (the segment's largest timestamp), then writes every index entry
   * still pending in memory (see sparse-index.ts). A segment without timestamped batches (an empty
   * active segment, say) gets no final entry: the time index would take (-1, baseOffset - 1), which
   * every later check reads as corrupt.
   */
  private writeFinalIndexEntries(): void {
    if (this.largestTimestamp >= 0) this.timeIndex.maybeAppend(this.largestTimestamp, this.offsetOfMaxTimestamp)
    this.offsetIndex.file.writePending()
    this.timeIndex.file.writePending()
  }

  /** Drops the index entries not written yet, unwritten: the segment's files are about to be deleted. */
  discardPendingIndexEntries(): void {
    this.offsetIndex.file.discardPending()
    this.timeIndex.file.discardPending()
  }

  /**
   * fsync of `.log`, and of the indexes when `withIndexes`. The active segment's indexes need no
   * fsync: recovery rebuilds the indexes of every segment from the recovery point on. A rolled segment's
   * indexes do, before the recovery point moves past it, because recovery then trusts them.
   */
  async flush(withIndexes = false): Promise<void> {
    if (withIndexes) await this.flushWithIndexes()
    else await this.log().sync()
  }

  /**
   * fsync of `.log` and both indexes. The cleaner's replacement segments need it: they go live below
   * the recovery point, where recovery trusts indexes instead of rebuilding them.
   */
  async flushWithIndexes(): Promise<void> {
    await Promise.all([this.log().sync(), this.offsetIndex.file.sync(), this.timeIndex.file.sync()])
  }

  /**
   * Renames every file of the segment from `<name><oldSuffix>` to `<name><newSuffix>` (Kafka's
   * `changeFileSuffixes`; the cleaner's `.cleaned` → `.swap` → live and live → `.deleted` steps). The
   * indexes go first and `.log` last, so a `.log` with the new suffix means the whole segment has it;
   * recovery relies on that (recovery.ts, pass 1). Open handles keep working across a rename (POSIX, and
   * MemoryFileSystem), and later opens use the new names, so a reader of this object is unaffected.
   */
  changeFileSuffixes(oldSuffix: string, newSuffix: string): void {
    const rename = (path: string): string => {
      assert(path.endsWith(oldSuffix), `segment file ${path} does not end with ${JSON.stringify(oldSuffix)}`)
      return path.slice(0, path.length - oldSuffix.length) + newSuffix
    }
    this.offsetIndex.file.renameTo(rename(this.offsetIndex.file.path))
    this.timeIndex.file.renameTo(rename(this.timeIndex.file.path))
    const logPath = rename(this._logPath)
    if (this.fs.exists(this._logPath)) this.fs.rename(this._logPath, logPath)
    this._logPath = logPath
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
      this.rebuildIndexes((e as Error).message)
    }
  }

  /** Rebuilds damaged indexes from `.log` and reports it (the damage costs a scan, never a wrong answer). */
  private rebuildIndexes(reason: string): void {
    const result = this.recover()
    this.config.onIndexProblem?.(
      `segment ${this.baseOffset}: ${reason}; indexes rebuilt` +
        (result.truncatedBytes > 0 ? `, ${result.truncatedBytes} invalid bytes cut (${result.problem})` : ''),
    )
  }


  /** All files of this segment that exist. */
  files(): string[] {
    return [this.logPath, this.offsetIndex.file.path, this.timeIndex.file.path].filter((p) => this.fs.exists(p))
  }

  get isOpen(): boolean {
    return this.handle !== undefined
  }

  private log(): FileHandle {
    if (this.handle === undefined) this.handle = this.fs.open(this._logPath, 'rw')
    return this.handle
  }
}

interface IndexState {
  offsetEntries: number
  timeEntries: number
  maxTimestamp: number | undefined
  offsetOfMaxTimestamp: Offset
  bytesSinceLastIndexEntry: number
}

/** A validated batch inside an append buffer. */
export interface AppendedBatch {
  start: number
  size: number
  baseOffset: Offset
  lastOffset: Offset
  maxTimestamp: number
}

