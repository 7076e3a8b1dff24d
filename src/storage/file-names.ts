/**
 * The one module that owns file names and suffixes in a partition directory (Kafka's LogFileUtils).
 *
 * A segment is named by its base offset, zero-padded to 20 digits, plus a suffix:
 *   00000000000000001234.log        concatenated RecordBatch v2 batches (checksummed per batch)
 *   00000000000000001234.index      sparse offset index (rebuilt from .log on recovery)
 *   00000000000000001234.timeindex  sparse time index (rebuilt from .log on recovery)
 *   00000000000000001234.snapshot   producer state as of offset 1234 (exclusive)
 * Temporary suffixes appended to a full name mark files in flight:
 *   .cleaned  a compacted segment being written        (deleted on recovery)
 *   .swap     a compacted segment about to go live      (completed on recovery)
 *   .deleted  a segment waiting for fileDeleteDelayMs  (deleted on recovery)
 *   .tmp      a checkpoint being replaced               (deleted on recovery)
 */
import { joinPath } from '../io/file-system'
import type { Offset } from '../util/types'

export const LOG_SUFFIX = '.log'
export const INDEX_SUFFIX = '.index'
export const TIME_INDEX_SUFFIX = '.timeindex'
export const TXN_INDEX_SUFFIX = '.txnindex'
export const SNAPSHOT_SUFFIX = '.snapshot'
export const CLEANED_SUFFIX = '.cleaned'
export const SWAP_SUFFIX = '.swap'
export const DELETED_SUFFIX = '.deleted'
export const TMP_SUFFIX = '.tmp'

export const SEGMENT_FILE_SUFFIXES = [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX] as const

const OFFSET_DIGITS = 20
const OFFSET_NAME = /^(\d{20})\./

/** `1234` → `00000000000000001234` (Kafka's `filenamePrefixFromOffset`). */
export function offsetToName(offset: Offset): string {
  return String(offset).padStart(OFFSET_DIGITS, '0')
}

export function segmentFileName(baseOffset: Offset, suffix: string): string {
  return offsetToName(baseOffset) + suffix
}

export function segmentPath(dir: string, baseOffset: Offset, suffix: string): string {
  return joinPath(dir, segmentFileName(baseOffset, suffix))
}

/** The base offset a file name starts with, or undefined for names that are not ours. */
export function offsetFromFileName(name: string): Offset | undefined {
  const m = OFFSET_NAME.exec(name)
  return m ? Number(m[1]) : undefined
}

/** Partition directories are `<topic>-<partition>`; the parser splits at the last '-' as Kafka does. */
export function partitionDirName(topic: string, partition: number): string {
  return `${topic}-${partition}`
}

export function parsePartitionDirName(name: string): { topic: string; partition: number } | undefined {
  const i = name.lastIndexOf('-')
  if (i <= 0) return undefined
  const partition = Number(name.slice(i + 1))
  if (!Number.isInteger(partition) || partition < 0 || String(partition) !== name.slice(i + 1)) return undefined
  return { topic: name.slice(0, i), partition }
}
