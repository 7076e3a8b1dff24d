/**
 * Loading a partition directory (Kafka's LogLoader.load), as numbered passes. Each pass says what it
 * trusts and what it reads; the report lists every piece of damage found and what was done about it.
 *
 *   Pass 1  Remove debris of interrupted work (`.tmp` and `.deleted` files), then settle interrupted
 *           segment swaps (the cleaner's protocol, cleaner/swap.ts): if any `.cleaned` file is left,
 *           the swap never committed, so every `.swap` file at or above the lowest `.cleaned` offset
 *           is deleted with the `.cleaned` files (roll back); every `.swap` segment left after that
 *           was committed, so it replaces the live segments in its offset range (roll forward).
 *   Pass 2  Find segments: every `<20 digits>.log`; index files without a `.log` are deleted.
 *   Pass 3  Open segments reading file lengths only. An index whose length is not a whole number of
 *           entries, or a missing `.index` on a non-empty segment, marks the segment for a rebuild.
 *   Pass 4  Recover: after a clean shutdown nothing is scanned (the recovery point is the log end).
 *           Otherwise every segment from the one holding the recovery point onwards is scanned: each
 *           batch is CRC-checked, the segment is truncated at the first invalid or torn batch, its
 *           indexes are rebuilt, and every later segment is deleted (the log must stay contiguous).
 *           Segments before the recovery point are only scanned if pass 3 marked their index.
 *   Pass 5  Establish the log end offset and log start offset; create an empty segment if none.
 *
 * Open time after a clean shutdown is therefore proportional to the number of segments, never to the
 * number of records: pass 3 stats files, and no pass reads `.log` data.
 */
import { readBaseOffset, readLastOffset } from '../codec/record-batch'
import type { ErrorContext } from '../errors'
import { joinPath, type FileSystem } from '../io/file-system'
import { assert } from '../util/assert'
import type { Offset } from '../util/types'
import { scanBatches } from './batch-scanner'
import {
  CLEANED_SUFFIX,
  DELETED_SUFFIX,
  INDEX_SUFFIX,
  LOG_SUFFIX,
  SEGMENT_FILE_SUFFIXES,
  SWAP_SUFFIX,
  TIME_INDEX_SUFFIX,
  TMP_SUFFIX,
  offsetFromFileName,
  segmentPath,
} from './file-names'
import { LogSegment, type SegmentConfig } from './segment'

export interface LoadOptions {
  fs: FileSystem
  dir: string
  config: SegmentConfig
  context: ErrorContext
  /** Offset up to which the log is known to be durable and valid (from the checkpoint), if known. */
  recoveryPoint: Offset | undefined
  /** Whether the previous process closed the log cleanly (the clean-shutdown marker). */
  hadCleanShutdown: boolean
  /** Checkpointed log start offset, if any. */
  logStartOffset: Offset | undefined
  /** What the last clean close recorded about this log's end, if it recorded anything. */
  cleanShutdownState?: CleanShutdownState | undefined
}

/**
 * The end of a cleanly closed log as its close left it: with it, a clean open can check the last
 * segment against the checkpoint by its file length alone, reading no log data.
 */
export interface CleanShutdownState {
  logEndOffset: Offset
  segmentBaseOffset: Offset
  segmentSize: number
}

export interface RecoveryReport {
  /** Damage found and what was done, one line each (empty after a clean open of a healthy log). */
  problems: string[]
  /** Segments whose `.log` was scanned. */
  segmentsRecovered: number
  /** Bytes cut from the end of `.log` files. */
  bytesTruncated: number
  cleanShutdown: boolean
}

export interface LoadedLog {
  segments: LogSegment[]
  logEndOffset: Offset
  logStartOffset: Offset
  report: RecoveryReport
}

export function loadLog(options: LoadOptions): LoadedLog {
  const { fs, dir, config, context } = options
  const report: RecoveryReport = { problems: [], segmentsRecovered: 0, bytesTruncated: 0, cleanShutdown: options.hadCleanShutdown }
  fs.mkdirp(dir)

  // Pass 1: debris and interrupted swaps.
  removeDebris(fs, dir)
  discardUncommittedSwaps(fs, dir, report)
  completeSwaps(fs, dir, report)

  // Pass 2: segments are the `.log` files; orphaned indexes go.
  const names = fs.readdir(dir)
  const baseOffsets = names
    .filter((n) => n.endsWith(LOG_SUFFIX) && offsetFromFileName(n) !== undefined)
    .map((n) => offsetFromFileName(n)!)
    .sort((a, b) => a - b)
  const bases = new Set(baseOffsets)
  for (const n of names) {
    if ((n.endsWith(INDEX_SUFFIX) || n.endsWith(TIME_INDEX_SUFFIX)) && !bases.has(offsetFromFileName(n) ?? -1)) {
      fs.unlink(joinPath(dir, n))
      report.problems.push(`deleted orphaned index ${n}`)
    }
  }

  // Pass 3: open by length only; find indexes that must be rebuilt.
  const segments = baseOffsets.map((base) => LogSegment.open(fs, dir, base, config, context))
  const needsRebuild = new Set<LogSegment>()
  for (const [i, s] of segments.entries()) {
    const problem = indexProblem(fs, s, i === segments.length - 1)
    if (problem !== undefined) {
      needsRebuild.add(s)
      report.problems.push(`segment ${s.baseOffset}: ${problem}; rebuilding its indexes`)
    }
  }

  // Pass 4: recover what the recovery point does not vouch for. A clean shutdown vouches for the
  // whole log only if its end checks out (see verifyCleanEnd); otherwise the last segment is recovered.
  let clean = options.hadCleanShutdown && options.recoveryPoint !== undefined
  if (options.hadCleanShutdown && options.recoveryPoint === undefined) {
    report.problems.push('clean-shutdown marker present but no recovery point: recovering every segment')
  }
  let recoveryPoint = options.recoveryPoint ?? 0
  let logEndOffset: Offset | undefined
  if (clean && segments.length > 0) {
    const last = segments[segments.length - 1]!
    logEndOffset = verifyCleanEnd(last, recoveryPoint, options.cleanShutdownState, report)
    if (logEndOffset === undefined) {
      clean = false
      recoveryPoint = Math.min(recoveryPoint, last.baseOffset)
    }
  }
  let firstToRecover = segments.length
  if (!clean) {
    firstToRecover = segments.findIndex((_, i) => i === segments.length - 1 || segments[i + 1]!.baseOffset > recoveryPoint)
    if (firstToRecover < 0) firstToRecover = segments.length
  }
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!
    if (i < firstToRecover && !needsRebuild.has(s)) continue
    const result = s.recover()
    report.segmentsRecovered++
    if (result.truncatedBytes > 0 || result.problem !== undefined) {
      report.bytesTruncated += result.truncatedBytes
      report.problems.push(`segment ${s.baseOffset}: ${result.problem ?? 'invalid tail'}; truncated ${result.truncatedBytes} bytes`)
      // Everything after a damaged segment is unreachable: the log must be contiguous.
      const dropped = segments.splice(i + 1)
      for (const d of dropped) {
        deleteSegmentFiles(fs, d)
        report.problems.push(`segment ${d.baseOffset}: deleted, it followed damaged segment ${s.baseOffset}`)
      }
      logEndOffset = result.lastOffset !== undefined ? result.lastOffset + 1 : s.baseOffset
      break
    }
    if (i === segments.length - 1) logEndOffset = result.lastOffset !== undefined ? result.lastOffset + 1 : s.baseOffset
  }

  // Pass 5: the offsets that bound the log.
  if (segments.length === 0) {
    const start = options.logStartOffset ?? 0
    segments.push(LogSegment.create(fs, dir, start, config, context))
    logEndOffset = start
  }
  assert(logEndOffset !== undefined, 'recovery establishes the log end offset')
  const firstBase = segments[0]!.baseOffset
  let logStartOffset = Math.max(options.logStartOffset ?? firstBase, firstBase)
  if (logStartOffset > logEndOffset) {
    report.problems.push(`log start offset ${logStartOffset} is past the log end ${logEndOffset}: using ${logEndOffset}`)
    logStartOffset = logEndOffset
  }
  return { segments, logEndOffset, logStartOffset, report }
}

/**
 * What is wrong with a segment's indexes, judged from file lengths, plus a content check for the
 * active segment (it is appended to at once, so it must be right before the first append; closed
 * segments are checked lazily on first use, see LogSegment.checkIndexes).
 */
/**
 * The log end offset of a cleanly closed log, or undefined if its last segment must be recovered.
 * With the state its close recorded, the check is by file length (no log data read): the last segment
 * must be the one recorded, with the recorded length, and the checkpoint must name the recorded end.
 * Without it (a directory closed by an older writer), the last segment's tail is walked from its last
 * index entry as Kafka does, and must end exactly at the end of the file.
 */
function verifyCleanEnd(last: LogSegment, recoveryPoint: Offset, state: CleanShutdownState | undefined, report: RecoveryReport): Offset | undefined {
  if (state !== undefined) {
    if (state.segmentBaseOffset === last.baseOffset && state.segmentSize === last.size && state.logEndOffset === recoveryPoint) return recoveryPoint
    report.problems.push(
      `the last segment ${last.baseOffset} (${last.size} bytes, recovery point ${recoveryPoint}) is not what the clean close recorded ` +
        `(segment ${state.segmentBaseOffset}, ${state.segmentSize} bytes, log end ${state.logEndOffset}): recovering it`,
    )
    return undefined
  }
  const tail = last.readTail()
  const logEndOffset = tail.lastOffset === undefined ? last.baseOffset : tail.lastOffset + 1
  if (tail.complete && logEndOffset === recoveryPoint) return logEndOffset
  report.problems.push(
    `the last segment ${last.baseOffset} ends ${tail.complete ? `at offset ${logEndOffset}` : 'in a torn batch'}, ` +
      `not at the checkpointed recovery point ${recoveryPoint}: recovering it`,
  )
  return undefined
}

function indexProblem(fs: FileSystem, s: LogSegment, isActive: boolean): string | undefined {
  if (s.size > 0 && !fs.exists(s.offsetIndex.file.path)) return 'missing .index'
  if (s.size > 0 && !fs.exists(s.timeIndex.file.path)) return 'missing .timeindex'
  try {
    void s.offsetIndex.entries
    void s.timeIndex.entries
    if (isActive) s.sanityCheckIndexes()
  } catch (e) {
    return (e as Error).message
  }
  return undefined
}

function removeDebris(fs: FileSystem, dir: string): void {
  for (const n of fs.readdir(dir)) {
    if (n.endsWith(TMP_SUFFIX) || n.endsWith(DELETED_SUFFIX)) fs.unlink(joinPath(dir, n))
  }
}

/**
 * The cleaner renames every `.cleaned` file of a swap to `.swap` in descending offset order and only
 * then fsyncs the directory and touches the old segments (Kafka's `LocalLog.replaceSegments`). So a
 * `.cleaned` file left over means the renames stopped part-way: the `.swap` files at or above the
 * lowest `.cleaned` offset belong to that unfinished swap (or to an unfinished split) and go with the
 * `.cleaned` files, and the old segments, which were not touched yet, stay (Kafka's
 * `removeTempFilesAndCollectSwapFiles`). `.swap` files go first so that a crash during this step
 * leaves the same decision for the next open.
 */
function discardUncommittedSwaps(fs: FileSystem, dir: string, report: RecoveryReport): void {
  const names = fs.readdir(dir)
  const cleaned = names.filter((n) => n.endsWith(CLEANED_SUFFIX))
  if (cleaned.length === 0) return
  const minCleaned = Math.min(...cleaned.map((n) => offsetFromFileName(n) ?? 0))
  const discarded = names.filter((n) => n.endsWith(SWAP_SUFFIX) && (offsetFromFileName(n) ?? 0) >= minCleaned)
  for (const n of [...discarded, ...cleaned]) fs.unlink(joinPath(dir, n))
  report.problems.push(`discarded an uncommitted segment swap (${cleaned.length} .cleaned and ${discarded.length} .swap files from offset ${minCleaned})`)
}

/**
 * A `.swap` segment is a compacted replacement that was fully written and fsynced before it was
 * renamed to `.swap`, and its swap committed (see above). The cleaner ends every replacement segment
 * with a batch whose last offset is the last offset of the old segments it replaces (keeping that
 * batch empty if compaction removed all its records), so the swap's own offset range
 * [base, last offset] names exactly the live segments it replaces: those whose base offset lies in it,
 * including the old segment with the same base offset. Completing the swap deletes them (some may
 * already be `.deleted` and gone) and renames the swap files to live names, `.log` last.
 *
 * The indexes of a completed swap are kept only when both came through the swap: if one is missing
 * (renamed before the crash, then deleted above with the old segment's files), both are deleted so
 * that pass 3 rebuilds them from `.log`. An index `.swap` without its `.log.swap` cannot come from an
 * in-order crash; it is treated the same way.
 */
function completeSwaps(fs: FileSystem, dir: string, report: RecoveryReport): void {
  const swapLogs = fs
    .readdir(dir)
    .filter((n) => n.endsWith(LOG_SUFFIX + SWAP_SUFFIX))
    .map((n) => offsetFromFileName(n)!)
    .sort((a, b) => a - b)
  for (const base of swapLogs) {
    const lastOffset = lastOffsetOfFile(fs, segmentPath(dir, base, LOG_SUFFIX + SWAP_SUFFIX), base)
    for (const n of fs.readdir(dir)) {
      const o = offsetFromFileName(n)
      if (o === undefined || !n.endsWith(LOG_SUFFIX) || o < base || o > lastOffset) continue
      for (const suffix of SEGMENT_FILE_SUFFIXES) {
        const p = segmentPath(dir, o, suffix)
        if (fs.exists(p)) fs.unlink(p)
      }
    }
    for (const suffix of [...SEGMENT_FILE_SUFFIXES.filter((x) => x !== LOG_SUFFIX), LOG_SUFFIX]) {
      const p = segmentPath(dir, base, suffix + SWAP_SUFFIX)
      if (fs.exists(p)) fs.rename(p, segmentPath(dir, base, suffix))
    }
    if (!fs.exists(segmentPath(dir, base, INDEX_SUFFIX)) || !fs.exists(segmentPath(dir, base, TIME_INDEX_SUFFIX))) dropIndexes(fs, dir, base)
    report.problems.push(`completed an interrupted segment swap at ${base} (offsets ${base}..${lastOffset})`)
  }
  for (const n of fs.readdir(dir)) {
    if (!n.endsWith(SWAP_SUFFIX)) continue
    const base = offsetFromFileName(n)
    fs.unlink(joinPath(dir, n))
    if (base !== undefined) dropIndexes(fs, dir, base)
    report.problems.push(`deleted ${n}, an index swap without its log; the segment's indexes will be rebuilt`)
  }
}

/** The last offset of the batches in a `.log` file at or above `base` (`base` if it holds none). */
function lastOffsetOfFile(fs: FileSystem, path: string, base: Offset): Offset {
  const h = fs.open(path, 'r')
  let lastOffset = base
  try {
    scanBatches(h, 0, h.size(), 'header', (chunk, at) => {
      if (readBaseOffset(chunk, at) >= base) lastOffset = readLastOffset(chunk, at)
    })
  } finally {
    h.close()
  }
  return lastOffset
}

/** Deletes a segment's indexes so that pass 3 finds `.index` missing and rebuilds both. */
function dropIndexes(fs: FileSystem, dir: string, base: Offset): void {
  for (const suffix of [INDEX_SUFFIX, TIME_INDEX_SUFFIX]) {
    const p = segmentPath(dir, base, suffix)
    if (fs.exists(p)) fs.unlink(p)
  }
}

export function deleteSegmentFiles(fs: FileSystem, segment: LogSegment): void {
  // Closing writes pending index entries; for files about to go that is a write that can only fail.
  segment.discardPendingIndexEntries()
  segment.close()
  for (const p of segment.files()) fs.unlink(p)
}
