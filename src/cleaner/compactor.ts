/**
 * One compaction round of one partition (Kafka's `Cleaner.doClean`):
 *
 *   1. Map: walk the dirty section [firstDirtyOffset, firstUncleanableOffset) and record each key's
 *      latest offset in the bounded offset map. If the map fills up, the round ends where it stopped
 *      (`endOffset`, possibly inside a segment); the rest stays dirty for the next round.
 *   2. Group: the segments holding offsets below `endOffset` (clean and dirty), from the first, are
 *      grouped so that each group's segments fit one segment (`segmentBytes`, `segmentIndexBytes`, and
 *      relative offsets within int32): small segments merge on rewrite.
 *   3. Clean: each group is rewritten into one `.cleaned` segment (batch-filter.ts decides what each
 *      batch keeps; indexes are built as it is written), then swapped in (swap.ts).
 *
 * Batches that must stay even when all their records go, kept as empty batches (Kafka's RETAIN_EMPTY):
 * - the last batch of each group, so that the new segment ends at the old group's last offset: that
 *   is what makes a `.swap` segment name the exact range it replaces (swap.ts), and it keeps the log
 *   end of a segment where it was (Kafka keeps the last batch of a round for the same reason);
 * - the last batch of each producer id in the range cleaned, so that the producer's last offset and
 *   sequence survive a rebuild of producer state from the log. Kafka keeps it only while the producer
 *   is active; kafkalite keeps it for every producer id seen in the range (at most one 61-byte batch
 *   per producer id), which keeps more than Kafka, never less.
 *
 * The round shares the event loop with appends and reads, and gives it back often (slice-budget.ts):
 * every step is short (a batch, or RECORDS_PER_CHECK records of a larger one, mapped or filtered; a
 * bounded number of offset-map slots emptied or rehashed; a read of `chunkBytes`; a write of at most
 * 256 KiB), and after any step, once the slice has run for `sliceBudgetMs` (0.2 ms by default), it
 * awaits `budget.next()`, which yields (setImmediate) and throws CleaningAborted when the round must
 * stop. An append arriving meanwhile waits at most about one slice. Appends only touch the active
 * segment, which is never cleaned, and the segment objects are swapped synchronously, so appends and
 * reads between slices see a whole log.
 * The round also keeps its garbage low (reused batch facts and views, no BigInt or boxed timestamp per
 * record): young-generation GC pauses land on appends as much as on the cleaner.
 *
 * Why not a worker thread: it would take the work off the loop entirely, but needs its own file
 * handles, the codecs (zstd's WebAssembly, native lz4 and snappy) loaded again, a second bundle entry,
 * and the in-memory file system could not follow it (tests and MemoryFileSystem users would keep this
 * path anyway). Measured on the benchmark (1M records, 100k keys, 8 MiB segments, appends at 2000/s),
 * slicing by time keeps the append p99 during a pass at 0.5–1.1× the idle p99 (it was 6–60× in the
 * same interleaved runs, with slices of one 512 KiB chunk that took 1–2 ms each, unsliced map work of
 * 20–40 ms and the GCs above) at the same CPU cost per byte; a yield costs a few microseconds.
 */
import {
  PRODUCER_ID_OFFSET,
  RECORD_BATCH_OVERHEAD,
  batchSizeAt,
  readBaseOffset,
  readInt64Number,
  readLastOffset,
  readMaxTimestamp,
  validateBatch,
} from '../codec/record-batch'
import type { ErrorContext } from '../errors/index'
import type { FileSystem } from '../io/file-system'
import type { PartitionLog } from '../storage/partition-log'
import type { AppendedBatch, LogSegment } from '../storage/segment'
import type { Offset, Position } from '../util/types'
import { BatchFilter, emptyBatchFor, type FilterContext, type FilterOutcome, type FilterStats } from './batch-filter'
import type { CleanableRange, CompactionConfig } from './cleanable'
import { CleaningAborted } from './cleaner-state'
import type { FileDeleter } from './file-deleter'
import type { OffsetMap } from './offset-map'
import { RecordCursor, batchFacts, emptyFacts, recordsOf, type RecordsView } from './record-cursor'
import { ChunkBuffer, SegmentReader } from './segment-reader'
import { RECORDS_PER_CHECK, type SliceBudget } from './slice-budget'
import { discardUncommitted, swapSegments } from './swap'

const INT32_MAX = 0x7fffffff
export const DEFAULT_CHUNK_BYTES = 128 * 1024

export interface CompactionInput {
  log: PartitionLog
  config: CompactionConfig
  range: CleanableRange
  map: OffsetMap
  fs: FileSystem
  deleter: FileDeleter
  now: number
  /** When to yield to the event loop; its `next()` throws CleaningAborted when the round must stop. */
  budget: SliceBudget
  /** Bytes read at a time (one positional read; more for a larger batch). */
  chunkBytes?: number
}

export interface CompactionResult {
  /** The first offset not cleaned by this round: the next round's firstDirtyOffset. */
  endOffset: Offset
  /** The map filled up before the dirty section ended (more rounds are needed). */
  mapFull: boolean
  keysMapped: number
  groups: number
  segmentsBefore: number
  segmentsAfter: number
  bytesBefore: number
  bytesAfter: number
  recordsRead: number
  recordsKept: number
  earliestDeleteHorizonMs: number | undefined
}

/** Producer id → last offset of its last batch in the range being cleaned. */
type ProducerLastOffsets = Map<number, Offset>

export async function compactOnce(input: CompactionInput): Promise<CompactionResult> {
  const { log, range, map } = input
  const context: ErrorContext = { topic: log.topic, partition: log.partition }
  const producers: ProducerLastOffsets = new Map()
  const chunks = new ChunkBuffer(input.chunkBytes ?? DEFAULT_CHUNK_BYTES)
  const mapFull = await buildOffsetMap(input, producers, chunks)
  const endOffset = Math.min(Math.max(map.latestOffset + 1, range.firstDirtyOffset), range.firstUncleanableOffset)
  const toClean = log.segmentList.filter((s) => s.baseOffset < endOffset)
  await surveyProducers(input, chunks, toClean, producers)
  const stats: FilterStats = { recordsRead: 0, recordsKept: 0, earliestDeleteHorizonMs: undefined }
  const filter: FilterContext = {
    map,
    mappedUpTo: endOffset - 1,
    now: input.now,
    deleteRetentionMs: input.config.deleteRetentionMs,
    maxDecompressedBytes: input.config.maxDecompressedBatchBytes,
    context,
  }
  const groups = groupSegmentsBySize(toClean, input.config, range.firstUncleanableOffset)
  const result: CompactionResult = {
    endOffset,
    mapFull,
    keysMapped: map.size,
    groups: groups.length,
    segmentsBefore: toClean.length,
    segmentsAfter: 0,
    bytesBefore: 0,
    bytesAfter: 0,
    recordsRead: 0,
    recordsKept: 0,
    earliestDeleteHorizonMs: undefined,
  }
  for (const group of groups) {
    const before = groupFingerprint(log, group)
    const cleaned = await cleanGroup(input, chunks, group, filter, producers, stats)
    if (cleaned === undefined) continue
    result.bytesBefore += before.sizes.reduce((n, size) => n + size, 0)
    result.bytesAfter += cleaned.size
    result.segmentsAfter++
    await swapSegments(log, group, [cleaned], {
      fs: input.fs,
      deleter: input.deleter,
      fileDeleteDelayMs: input.config.fileDeleteDelayMs,
      ensureUnchanged: () => ensureStillInLog(log, group, before),
    })
    await input.budget.next()
  }
  result.recordsRead = stats.recordsRead
  result.recordsKept = stats.recordsKept
  result.earliestDeleteHorizonMs = stats.earliestDeleteHorizonMs
  return result
}

/**
 * What a visit of one batch tells `forEachBatch`: go on with the next batch, stop the walk, or call the
 * visit again for the same batch in the next slice (a large batch is mapped or filtered in parts).
 */
type Visited = 'next' | 'stop' | 'again'

/**
 * Reads `segment` from `position` chunk by chunk and calls `visit(buf, pos, size, filePosition)` for
 * each batch, ending the slice after any batch once its time is spent, and whenever `visit` asks to be
 * called again. `ready`, if given, is asked before each visit whether it may go now; while it says no,
 * the slice ends and it is asked again in the next (the offset map's pending work runs that way).
 * Stops early (returning false) when `visit` says 'stop'. A chunk stays valid across the awaits: only
 * the next read reuses its buffer.
 */
async function forEachBatch(
  input: CompactionInput,
  chunks: ChunkBuffer,
  segment: LogSegment,
  position: Position,
  visit: (buf: Buffer, pos: Position, size: number, filePosition: Position) => Visited,
  ready?: () => boolean,
): Promise<boolean> {
  const budget = input.budget
  const reader = new SegmentReader(input.fs, segment, chunks, position)
  try {
    for (let chunk = reader.next(); chunk !== undefined; chunk = reader.next()) {
      const buf = chunk.buf
      for (let pos = 0; pos < buf.length; ) {
        const size = batchSizeAt(buf, pos)
        for (;;) {
          if (ready !== undefined) while (!ready()) await budget.next()
          const visited = visit(buf, pos, size, chunk.position + pos)
          if (visited === 'next') break
          if (visited === 'stop') return false
          // 'again' with time left: the offset map wants its pending work done first (`ready`).
          if (budget.due()) await budget.next()
        }
        pos += size
        if (budget.due()) await budget.next()
      }
    }
    return true
  } finally {
    reader.close()
  }
}

/**
 * Step 1 (Kafka's `buildOffsetMap`). Returns whether the map filled up. Batches of the dirty section
 * also feed `producers`.
 */
async function buildOffsetMap(input: CompactionInput, producers: ProducerLastOffsets, chunks: ChunkBuffer): Promise<boolean> {
  const { log, map, range } = input
  const start = range.firstDirtyOffset
  map.clear()
  const mapReady = (): boolean => !map.hasPendingWork || map.work(input.budget.due)
  const records = new RecordCursor()
  // Reused for every batch (see batchFacts).
  const facts = emptyFacts()
  let view: RecordsView | undefined
  const context: ErrorContext = { topic: log.topic, partition: log.partition }
  const due = input.budget.due
  // Whether `records` is in the middle of the batch being visited (it was visited, and asked again).
  let inBatch = false
  const mapBatch = (buf: Buffer, pos: Position, size: number): Visited => {
    const lastOffset = readLastOffset(buf, pos)
    if (lastOffset < start) return 'next'
    if (!inBatch) {
      batchFacts(buf, pos, facts)
      if (!facts.isControl && facts.count > 0) {
        view = recordsOf(buf, pos, size, input.config.maxDecompressedBatchBytes, context, view)
        records.reset(view, facts)
        inBatch = true
      }
    }
    if (inBatch) {
      const r = records
      let checked = 0
      while (r.next()) {
        if (r.keyStart >= 0 && r.offset >= start && !map.put(r.data, r.keyStart, r.keyEnd, r.offset)) return 'stop'
        // A key may have started a grow of the map: the next visit runs it first (see `ready`).
        if (++checked === RECORDS_PER_CHECK) {
          checked = 0
          if (due() || map.hasPendingWork) return 'again'
        }
      }
      inBatch = false
    }
    noteProducer(buf, pos, lastOffset, producers)
    map.updateLatestOffset(lastOffset)
    return 'next'
  }
  const segments = log.segmentList.slice()
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!
    const segmentEnd = i + 1 < segments.length ? segments[i + 1]!.baseOffset : Number.MAX_SAFE_INTEGER
    if (segment.baseOffset >= range.firstUncleanableOffset) break
    if (segmentEnd <= start) continue
    const position = segment.baseOffset >= start ? 0 : (segment.translateOffset(start)?.position ?? segment.size)
    const complete = await forEachBatch(input, chunks, segment, position, mapBatch, mapReady)
    if (!complete) return true
  }
  return false
}

/** Producers' last batches in the clean part of the range (the dirty part was seen by the map pass). */
async function surveyProducers(
  input: CompactionInput,
  chunks: ChunkBuffer,
  segments: readonly LogSegment[],
  producers: ProducerLastOffsets,
): Promise<void> {
  const firstDirtyOffset = input.range.firstDirtyOffset
  const surveyBatch = (buf: Buffer, pos: Position): Visited => {
    const lastOffset = readLastOffset(buf, pos)
    if (lastOffset >= firstDirtyOffset) return 'stop'
    if (!producers.has(readProducerId(buf, pos))) noteProducer(buf, pos, lastOffset, producers)
    return 'next'
  }
  for (const segment of segments) {
    if (segment.baseOffset >= firstDirtyOffset) return
    if (!(await forEachBatch(input, chunks, segment, 0, surveyBatch))) return
  }
}

function readProducerId(buf: Buffer, pos: Position): number {
  return readInt64Number(buf, pos + PRODUCER_ID_OFFSET)
}

function noteProducer(buf: Buffer, pos: Position, lastOffset: Offset, producers: ProducerLastOffsets): void {
  const producerId = readProducerId(buf, pos)
  if (producerId < 0) return
  const known = producers.get(producerId)
  if (known === undefined || lastOffset > known) producers.set(producerId, lastOffset)
}

/**
 * Step 2 (Kafka's `groupSegmentsBySize`): consecutive segments while their `.log` sizes fit
 * `segmentBytes`, each index's size fits `segmentIndexBytes`, and the group's offsets stay within
 * int32 of its base (bounded by the next segment's base offset, or the first uncleanable offset).
 */
export function groupSegmentsBySize(segments: readonly LogSegment[], config: Pick<CompactionConfig, 'segmentBytes' | 'segmentIndexBytes'>, firstUncleanableOffset: Offset): LogSegment[][] {
  const groups: LogSegment[][] = []
  let i = 0
  while (i < segments.length) {
    const first = segments[i]!
    const group = [first]
    let logBytes = first.size
    let indexBytes = first.offsetIndex.file.sizeInBytes
    let timeIndexBytes = first.timeIndex.file.sizeInBytes
    i++
    while (i < segments.length) {
      const s = segments[i]!
      const lastOffsetBound = (i + 1 < segments.length ? segments[i + 1]!.baseOffset : firstUncleanableOffset) - 1
      const fits =
        logBytes + s.size <= config.segmentBytes &&
        indexBytes + s.offsetIndex.file.sizeInBytes <= config.segmentIndexBytes &&
        timeIndexBytes + s.timeIndex.file.sizeInBytes <= config.segmentIndexBytes &&
        (s.size === 0 || lastOffsetBound - first.baseOffset <= INT32_MAX)
      if (!fits) break
      group.push(s)
      logBytes += s.size
      indexBytes += s.offsetIndex.file.sizeInBytes
      timeIndexBytes += s.timeIndex.file.sizeInBytes
      i++
    }
    groups.push(group)
  }
  return groups
}

/**
 * Step 3 for one group: writes the kept batches into a new `.cleaned` segment at the group's base
 * offset. Returns undefined (and writes nothing) for a group without batches. On any failure the
 * `.cleaned` files are removed before the error propagates.
 */
async function cleanGroup(
  input: CompactionInput,
  chunks: ChunkBuffer,
  group: readonly LogSegment[],
  filter: FilterContext,
  producers: ProducerLastOffsets,
  stats: FilterStats,
): Promise<LogSegment | undefined> {
  const cleaned = input.log.createCleanedSegment(group[0]!.baseOffset)
  const writer = new SegmentWriter(cleaned, input.now)
  // The header of the group's last batch so far (copied: the chunk buffer is reused), and whether that
  // batch was written.
  const lastHeader = Buffer.alloc(RECORD_BATCH_OVERHEAD)
  let lastWritten: boolean | undefined
  // Where a corrupt batch sits, for the error (one object for the group, not one per batch).
  const where: ErrorContext = { ...filter.context, position: 0 }
  const batchFilter = new BatchFilter(filter, stats)
  const due = input.budget.due
  // Whether `batchFilter` is in the middle of the batch being visited (it was visited, and asked again).
  let inBatch = false
  const cleanBatch = (buf: Buffer, pos: Position, size: number, position: Position): Visited => {
    if (!inBatch) {
      where.position = position
      validateBatch(buf, pos, where)
      const outcome = batchFilter.begin(buf, pos, size)
      if (outcome !== undefined) {
        write(buf, pos, size, outcome)
        return 'next'
      }
      inBatch = true
    }
    if (!batchFilter.advance(due)) return 'again'
    inBatch = false
    write(buf, pos, size, batchFilter.finish())
    return 'next'
  }
  const write = (buf: Buffer, pos: Position, size: number, outcome: FilterOutcome): void => {
    lastWritten = true
    if (outcome.kind === 'keep') writer.add(buf, pos, size)
    else if (outcome.kind === 'rewrite') writer.addBuffer(outcome.batch)
    else if (isLastOfProducer(buf, pos, producers)) writer.addBuffer(emptyBatchFor(buf, pos))
    else lastWritten = false
    buf.copy(lastHeader, 0, pos, pos + RECORD_BATCH_OVERHEAD)
    writer.flushIfFull()
  }
  try {
    for (const segment of group) await forEachBatch(input, chunks, segment, 0, cleanBatch)
    if (lastWritten === undefined) {
      discardUncommitted(input.fs, [cleaned])
      return undefined
    }
    if (!lastWritten) writer.addBuffer(emptyBatchFor(lastHeader, 0))
    writer.finish()
    return cleaned
  } catch (e) {
    if (e instanceof CleaningAborted || isTypedError(e)) discardUncommitted(input.fs, [cleaned])
    throw e
  }
}

function isTypedError(e: unknown): boolean {
  return e instanceof Error && typeof (e as { code?: unknown }).code === 'string'
}

function isLastOfProducer(buf: Buffer, pos: Position, producers: ProducerLastOffsets): boolean {
  const producerId = readProducerId(buf, pos)
  return producerId >= 0 && producers.get(producerId) === readLastOffset(buf, pos)
}

/** What must not change while a group is cleaned: its segments' sizes and the segment that follows it. */
interface GroupFingerprint {
  sizes: number[]
  next: LogSegment | undefined
}

function groupFingerprint(log: PartitionLog, group: readonly LogSegment[]): GroupFingerprint {
  const segments = log.segmentList
  return { sizes: group.map((s) => s.size), next: segments[segments.indexOf(group[group.length - 1]!) + 1] }
}

/**
 * The round's group still sits in the log, unchanged. Retention and deleteRecords wait for the
 * cleaner lock, but `truncateTo` is synchronous and takes no lock: it may drop the group's segments,
 * cut one of them (the segments after the cut point go, and the one holding it becomes the active
 * segment and shrinks), or cut exactly at the group's end (the segment after the group goes, and the
 * group's last segment becomes active and takes appends). A cleaned copy would then hold truncated
 * records, so the round stops.
 */
function ensureStillInLog(log: PartitionLog, group: readonly LogSegment[], before: GroupFingerprint): void {
  const segments = log.segmentList
  const first = segments.indexOf(group[0]!)
  const changed =
    log.isClosed ||
    first < 0 ||
    group.some((s, i) => segments[first + i] !== s || s.size !== before.sizes[i]) ||
    segments[first + group.length] !== before.next ||
    group.includes(log.activeSegment)
  if (changed) throw new CleaningAborted(`the segments of ${log.topic}-${log.partition} changed during the round`)
}

/**
 * Buffers kept batches and appends them to the cleaned segment 128–256 KiB at a time (a write that
 * size is a few tens of microseconds: it fits in a slice), so that the segment's indexes are built
 * exactly as for appended data (LogSegment.append).
 */
class SegmentWriter {
  private static readonly FLUSH_BYTES = 256 * 1024
  private buf = Buffer.allocUnsafe(SegmentWriter.FLUSH_BYTES)
  private used = 0
  private batches: AppendedBatch[] = []

  constructor(
    private readonly segment: LogSegment,
    private readonly now: number,
  ) {}

  add(src: Buffer, pos: Position, size: number): void {
    if (this.used + size > this.buf.length) {
      this.flush()
      if (size > this.buf.length) this.buf = Buffer.allocUnsafe(size)
    }
    src.copy(this.buf, this.used, pos, pos + size)
    this.batches.push({
      start: this.used,
      size,
      baseOffset: readBaseOffset(src, pos),
      lastOffset: readLastOffset(src, pos),
      maxTimestamp: readMaxTimestamp(src, pos),
    })
    this.used += size
  }

  addBuffer(batch: Buffer): void {
    this.add(batch, 0, batch.length)
  }

  flushIfFull(): void {
    if (this.used >= SegmentWriter.FLUSH_BYTES / 2) this.flush()
  }

  /** Appends what is buffered and writes the final time-index entry (the segment is closed). */
  finish(): void {
    this.flush()
    this.segment.onBecomeInactive()
  }

  private flush(): void {
    if (this.batches.length === 0) return
    this.segment.append(this.buf, this.batches, this.now)
    this.batches = []
    this.used = 0
  }
}
