/**
 * Loading a partition directory (Kafka's LogLoader.load), as numbered passes. Each pass says what it
 * trusts and what it reads; the report lists every piece of damage found and what was done about it.
 *
 *   Pass 1  Remove debris of interrupted work: `.tmp`, `.cleaned` and `.deleted` files; then finish
 *           interrupted segment swaps (compaction's `.swap` files) or discard incomplete ones.
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

  // Pass 4: recover what the recovery point does not vouch for.
  const clean = options.hadCleanShutdown && options.recoveryPoint !== undefined
  if (options.hadCleanShutdown && options.recoveryPoint === undefined) {
    report.problems.push('clean-shutdown marker present but no recovery point: recovering every segment')
  }
  const recoveryPoint = clean ? options.recoveryPoint! : (options.recoveryPoint ?? 0)
  let logEndOffset: Offset | undefined
  let firstToRecover = segments.length
  if (!clean) {
    firstToRecover = segments.findIndex((s, i) => i === segments.length - 1 || segments[i + 1]!.baseOffset > recoveryPoint)
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
  const last = segments[segments.length - 1]!
  if (logEndOffset === undefined) {
    // Clean shutdown: the checkpointed recovery point is the log end offset. Trust it only if it is
    // consistent with the last segment; otherwise read the segment's tail.
    logEndOffset = clean && recoveryPoint >= last.baseOffset && (last.size > 0 || recoveryPoint === last.baseOffset) ? recoveryPoint : undefined
    if (logEndOffset === undefined) {
      report.problems.push(`recovery point ${recoveryPoint} does not match the last segment ${last.baseOffset}: reading its tail`)
      const tail = last.readLastOffset()
      logEndOffset = tail === undefined ? last.baseOffset : tail + 1
    }
  }
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
function indexProblem(fs: FileSystem, s: LogSegment, isActive: boolean): string | undefined {
  if (s.size > 0 && !fs.exists(s.offsetIndex.file.path)) return 'missing .index'
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
    if (n.endsWith(TMP_SUFFIX) || n.endsWith(CLEANED_SUFFIX) || n.endsWith(DELETED_SUFFIX)) fs.unlink(joinPath(dir, n))
  }
}

/**
 * A `.swap` segment is a compacted replacement that was fully written and fsynced before it was
 * renamed to `.swap`; the old segments it covers may or may not have been retired yet. Completing the
 * swap means deleting every live segment whose base offset falls in the swap's offset range, then
 * renaming the swap files to their live names. (Kafka also discards swaps at or above the lowest
 * `.cleaned` offset; pass 1 deletes `.cleaned` files first, and the cleaner only renames to `.swap`
 * after every `.cleaned` file of the group exists, so a swap set is always complete here.)
 */
function completeSwaps(fs: FileSystem, dir: string, report: RecoveryReport): void {
  const swapLogs = fs
    .readdir(dir)
    .filter((n) => n.endsWith(LOG_SUFFIX + SWAP_SUFFIX))
    .map((n) => offsetFromFileName(n)!)
    .sort((a, b) => a - b)
  for (const base of swapLogs) {
    const swapPath = segmentPath(dir, base, LOG_SUFFIX + SWAP_SUFFIX)
    const h = fs.open(swapPath, 'r')
    let lastOffset = base
    try {
      scanBatches(h, 0, h.size(), 'header', (chunk, at) => {
        if (readBaseOffset(chunk, at) >= base) lastOffset = readLastOffset(chunk, at)
      })
    } finally {
      h.close()
    }
    for (const n of fs.readdir(dir)) {
      const o = offsetFromFileName(n)
      if (o === undefined || !n.endsWith(LOG_SUFFIX) || o < base || o > lastOffset) continue
      for (const suffix of SEGMENT_FILE_SUFFIXES) {
        const p = segmentPath(dir, o, suffix)
        if (fs.exists(p)) fs.unlink(p)
      }
    }
    for (const suffix of SEGMENT_FILE_SUFFIXES) {
      const p = segmentPath(dir, base, suffix + SWAP_SUFFIX)
      if (fs.exists(p)) fs.rename(p, segmentPath(dir, base, suffix))
    }
    report.problems.push(`completed an interrupted segment swap at ${base} (offsets ${base}..${lastOffset})`)
  }
}

export function deleteSegmentFiles(fs: FileSystem, segment: LogSegment): void {
  segment.close()
  for (const p of segment.files()) fs.unlink(p)
}
