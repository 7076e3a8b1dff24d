/**
 * Crash-safe replacement of a run of segments by compacted ones (Kafka's `LocalLog.replaceSegments`,
 * with an fsync between the steps that must not be reordered on disk):
 *
 *   1. The new segments were written as `<base>.log.cleaned` (+ `.index.cleaned`, `.timeindex.cleaned`);
 *      fsync all their files.
 *   2. Rename every `.cleaned` file to `.swap`, segments in descending offset order, indexes before
 *      `.log`; fsync the directory.                                  ── the commit point ──
 *   3. Rename the old segments' files to `.deleted`; rename the `.swap` files to their live names
 *      (indexes before `.log`); swap the segment objects in the PartitionLog. One synchronous step:
 *      a reader sees the old segments or the new ones, never a mix, and never an error (the old
 *      objects' paths follow their files, so even a reopen of an old file in between would work).
 *   4. fsync the directory.
 *   5. Unlink the `.deleted` files after `fileDeleteDelayMs`.
 *
 * Recovery (storage/recovery.ts, pass 1) settles a crash at any point:
 * - before the commit point, some `.cleaned` file is left (step 2 renames the lowest segment's `.log`
 *   last, and the directory fsync makes all renames durable together): the `.swap` files at or above
 *   the lowest `.cleaned` offset are deleted with the `.cleaned` files; the old segments were not
 *   touched: the log is the old one;
 * - after it, no `.cleaned` file is left and every new segment is `.swap` or live: each `.swap`
 *   replaces the live segments in its offset range (the old ones, whether still live or `.deleted`):
 *   the log is the new one.
 * A new segment's offset range is exactly its old segments' range because the compactor ends it with
 * a batch whose last offset is theirs (compactor.ts), so completion deletes exactly the segments it
 * replaces, including the old one that shares its base offset.
 *
 * Assumes: the caller holds the partition's cleaner lock (retention and deleteRecords do not touch
 * these segments meanwhile); appends and reads may run during the awaits, and so may a truncation,
 * which `ensureUnchanged` catches before step 3.
 */
import { isKafkaliteError } from '../errors/index'
import type { FileSystem } from '../io/file-system'
import { CLEANED_SUFFIX, DELETED_SUFFIX, SWAP_SUFFIX } from '../storage/file-names'
import type { PartitionLog } from '../storage/partition-log'
import type { LogSegment } from '../storage/segment'
import { assert } from '../util/assert'
import { CleaningAborted } from './cleaner-state'
import type { FileDeleter } from './file-deleter'

export interface SwapOptions {
  fs: FileSystem
  deleter: FileDeleter
  fileDeleteDelayMs: number
  /** Called after the commit point; a swap that committed is always finished, abort or not. */
  onCommitted?: () => void
  /**
   * Throws (CleaningAborted) if the old segments changed since they were cleaned (a truncation: see
   * compactor.ts). Checked after every await before step 3, synchronously with the step that follows.
   */
  ensureUnchanged?: () => void
}

export async function swapSegments(log: PartitionLog, oldSegments: readonly LogSegment[], cleaned: readonly LogSegment[], options: SwapOptions): Promise<void> {
  const { fs, deleter } = options
  assert(oldSegments.length > 0 && cleaned.length > 0, 'a swap replaces at least one segment with at least one')
  // Steps 1 and 2: anything failing here leaves the old segments in place.
  // A truncation during the directory fsync is the one change that undoes a commit point: the old
  // segments no longer hold what the `.swap` files replace, so they are discarded like `.cleaned` ones
  // (a crash before that discard lets recovery complete the swap; the engine should pause cleaning
  // around truncations to close that window).
  try {
    options.ensureUnchanged?.()
    for (const s of cleaned) await s.flushWithIndexes()
    options.ensureUnchanged?.()
    for (const s of [...cleaned].reverse()) s.changeFileSuffixes(CLEANED_SUFFIX, SWAP_SUFFIX)
    await fs.syncDir(log.dir)
    options.ensureUnchanged?.()
  } catch (e) {
    if (isKafkaliteError(e) || e instanceof CleaningAborted) discardUncommitted(fs, cleaned)
    throw e
  }
  options.onCommitted?.()
  // Step 3, synchronous from the first rename to the object swap.
  for (const s of oldSegments) deleter.prepareNames(s)
  for (const s of oldSegments) s.changeFileSuffixes('', DELETED_SUFFIX)
  for (const s of cleaned) s.changeFileSuffixes(SWAP_SUFFIX, '')
  if (!log.isClosed) log.replaceSegments(oldSegments, cleaned)
  for (const s of oldSegments) s.close()
  // New segments keep no handle: the log reopens them on demand (and bounds how many stay open).
  for (const s of cleaned) s.release()
  // Steps 4 and 5.
  await fs.syncDir(log.dir)
  deleter.schedule(
    oldSegments.flatMap((s) => s.files()),
    options.fileDeleteDelayMs,
  )
}

/**
 * Undoes steps 1-2 after a failure before the commit point: `.swap` files first, then `.cleaned`, so
 * that a crash in the middle still leaves a state recovery rolls back. Best effort: what cannot be
 * deleted now is deleted by the next open.
 */
export function discardUncommitted(fs: FileSystem, cleaned: readonly LogSegment[]): void {
  const files = cleaned.flatMap((s) => {
    // Unwritten index entries of files about to go are dropped: writing them at close could fail (a
    // full disk, often why the round failed) and leave the files behind.
    s.discardPendingIndexEntries()
    s.close()
    return s.files()
  })
  const ordered = [...files.filter((p) => p.endsWith(SWAP_SUFFIX)), ...files.filter((p) => !p.endsWith(SWAP_SUFFIX))]
  for (const p of ordered) {
    try {
      fs.unlink(p)
    } catch (e) {
      if (!isKafkaliteError(e)) throw e
    }
  }
}
